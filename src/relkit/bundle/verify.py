"""Verify a bundle as a self-hoster would: signature, SHA256SUMS, digest pins, version.

The archive file is read once; every check runs on those bytes and the report carries the
checked contents, so `bundle extract` unpacks exactly what was verified, whatever happens
to the file on disk meanwhile (issue 9 §1).

Order matters: the signature is checked over the archive bytes before anything inside the
archive is parsed, so nothing untrusted is interpreted until the publisher is established.
Then every member is checked for safety (see `extract`), every file against SHA256SUMS,
every compose image for a digest pin that `digests.txt` also lists, and last that the file
name, the archive's own version and the signer's tag agree (see `naming`).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from relkit.adapters import oci_artifact
from relkit.adapters.registry import Reference, RegistryClient
from relkit.bundle.compose import check_bundle_compose
from relkit.bundle.extract import (
    ArchiveContents,
    load_archive,
    parse_archive,
    read_regular_file,
)
from relkit.bundle.naming import archive_version, check_names_agree
from relkit.bundle.publish import ARTIFACT_TYPE
from relkit.bundle.reference import is_pinned
from relkit.bundle.sums import DIGESTS_FILE, SUMS_FILE, check_sha256sums, parse_digests
from relkit.core.errors import RelkitError, UsageError
from relkit.core.records import record
from relkit.signing.facade import (
    DEFAULT_RELEASE_WORKFLOW,
    GITHUB_ACTIONS_ISSUER,
    KEY_SUFFIX,
    KEYLESS_SUFFIX,
    release_workflow_identity,
    release_workflow_identity_regexp,
    verify_blob_keyless,
    verify_blob_with_key,
)
from relkit.signing.identity import (
    SourceRequirement,
    VerifiedIdentity,
    certificate_tag,
    github_source,
)

__all__ = ["SignaturePolicy", "VerifyReport", "verify_bundle", "verify_oci_bundle"]

# A .sig is under 100 bytes, a Sigstore bundle a few KiB (certificate, log entry, proof).
MAX_SIGNATURE_BYTES = 1 << 20


@record
class SignaturePolicy:
    """Who must have signed: a public key, or a keyless identity + issuer, or nobody."""

    key: Path | None = None
    identity: str | None = None
    identity_regexp: str | None = None
    issuer: str = GITHUB_ACTIONS_ISSUER
    trust_config: Path | None = None
    unsigned: bool = False  # explicit opt-out: only SHA256SUMS and pins are checked
    # --repo: the run must be in that repository, for that tag (issue 9 item 2).
    source: SourceRequirement | None = None

    @classmethod
    def for_repo(
        cls,
        repo: str,
        *,
        workflow: str = DEFAULT_RELEASE_WORKFLOW,
        tag: str | None = None,
        issuer: str = GITHUB_ACTIONS_ISSUER,
        trust_config: Path | None = None,
    ) -> SignaturePolicy:
        """`--repo owner/name`: that repository's release workflow, at `tag` or any tag."""
        source = github_source(repo, tag)
        if tag is not None:
            identity = release_workflow_identity(repo, workflow, tag)
            return cls(identity=identity, issuer=issuer, trust_config=trust_config, source=source)
        regexp = release_workflow_identity_regexp(repo, workflow)
        return cls(identity_regexp=regexp, issuer=issuer, trust_config=trust_config, source=source)

    def check(self) -> None:
        chosen = [self.key is not None, bool(self.identity or self.identity_regexp), self.unsigned]
        if sum(chosen) != 1:
            raise UsageError(
                "say who must have signed the bundle: one of --key, --repo/--identity,"
                " or --unsigned",
                hint="e.g. relkit verify B.tar.gz --repo owner/name",
            )
        if self.identity and self.identity_regexp:
            raise UsageError("give either an exact identity or an identity regexp, not both")

    @property
    def suffix(self) -> str:
        return KEY_SUFFIX if self.key is not None else KEYLESS_SUFFIX


@record
class VerifyReport:
    """What was verified, one human-readable line per check."""

    archive: Path
    checks: tuple[str, ...]
    pins: tuple[str, ...]
    contents: ArchiveContents  # what was checked: `bundle extract` writes exactly this
    version: str  # the version the archive declares, agreed on by every name it goes by
    # oci:// only: the digest of the manifest that was pulled and verified. Anything read
    # about the artifact afterwards (its referrers) is read by this digest, never by the tag
    # again: a registry may move the tag between two reads.
    manifest_digest: str | None = None


def _check_signature(
    data: bytes, archive_name: str, policy: SignaturePolicy, sig_path: Path
) -> tuple[str, VerifiedIdentity | None]:
    if policy.unsigned:
        return "signature: not checked (--unsigned)", None
    content = read_regular_file(
        sig_path,
        limit=MAX_SIGNATURE_BYTES,
        what="signature file",
        missing=RelkitError(
            f"signature file {sig_path.name} not found next to {archive_name}",
            hint="download it with the bundle, or point --signature at it",
        ),
    )
    if policy.key is not None:
        try:
            public_key = policy.key.read_bytes()
        except OSError as exc:
            raise UsageError(f"cannot read public key {policy.key}: {exc.strerror}") from None
        verify_blob_with_key(data, content, public_key)
        line = f"signature: {sig_path.name} is a valid ECDSA P-256 signature by {policy.key.name}"
        return line, None
    verified = verify_blob_keyless(
        data,
        content,
        identity=policy.identity,
        identity_regexp=policy.identity_regexp,
        issuer=policy.issuer,
        trust_config=policy.trust_config,
        source=policy.source,
    )
    line = (
        f"signature: {sig_path.name} signed by {verified.identity} (issuer {verified.issuer},"
        f" transparency log index {verified.log_index})"
    )
    if verified.source_repository and verified.source_ref:
        # Read from the certificate: who ran the workflow, not only which workflow file.
        line += f" in a run of {verified.source_repository} for {verified.source_ref}"
    return line, verified


def _signed_tag(verified: VerifiedIdentity | None) -> str | None:
    """The tag whose release run signed: the Source Repository Ref, else the SAN's ref."""
    if verified is None:
        return None
    tag = certificate_tag(verified)
    if tag is None and "@refs/tags/" in verified.identity:
        tag = verified.identity.rsplit("@refs/tags/", 1)[1] or None
    return tag


def _check_pins(files: dict[str, bytes]) -> tuple[str, list[str]]:
    # Everything docker compose would load: one compose file, no overrides, literal images.
    compose = check_bundle_compose(files)
    compose_name, images = compose.file_name, compose.images
    if DIGESTS_FILE not in files:
        raise RelkitError(f"the bundle has no {DIGESTS_FILE}")
    listed = set(parse_digests(files[DIGESTS_FILE].decode("utf-8", "replace")))
    for image in images:
        if not is_pinned(image.reference):
            raise RelkitError(
                f"{compose_name}: service {image.service!r} image {image.reference} is not"
                " pinned by digest"
            )
        if image.reference not in listed:
            raise RelkitError(
                f"{compose_name}: service {image.service!r} image {image.reference} is not"
                f" listed in {DIGESTS_FILE}"
            )
    used = {image.reference for image in images}
    unused = sorted(listed - used)
    if unused:
        raise RelkitError(f"{DIGESTS_FILE} lists {unused[0]}, which {compose_name} does not use")
    line = (
        f"images: all {len(images)} service image(s) in {compose_name} are pinned by digest"
        f" and match {DIGESTS_FILE}"
    )
    return line, sorted(used)


def verify_bundle(
    archive: Path,
    policy: SignaturePolicy,
    *,
    signature: Path | None = None,
    expected_tag: str | None = None,
) -> VerifyReport:
    """Check signature, archive safety, SHA256SUMS, pins and version; raise on a mismatch.

    `expected_tag` (`--tag`): the archive must hold that release, whoever signed it.
    """
    policy.check()
    data = load_archive(archive)  # the one and only read of the archive file
    sig_path = signature or archive.with_name(archive.name + policy.suffix)
    return _verify_bytes(archive, data, policy, sig_path, expected_tag=expected_tag)


def _verify_bytes(
    archive: Path,
    data: bytes,
    policy: SignaturePolicy,
    sig_path: Path,
    *,
    registry_tag: str | None = None,
    expected_tag: str | None = None,
) -> VerifyReport:
    signature_line, verified = _check_signature(data, archive.name, policy, sig_path)
    checks = [signature_line]
    contents = parse_archive(data, archive.name)
    checks.append(
        f"archive: {len(contents.files)} files under {contents.top}/, no links, devices or"
        " unsafe paths"
    )
    if SUMS_FILE not in contents.files:
        raise RelkitError(f"the bundle has no {SUMS_FILE}")
    sums_text = contents.files[SUMS_FILE].decode("utf-8", "replace")
    checked = check_sha256sums(sums_text, contents.files)
    checks.append(f"{SUMS_FILE}: all {len(checked)} files match, none unlisted")
    pins_line, pins = _check_pins(contents.files)
    checks.append(pins_line)
    found = archive_version(contents.top, archive.name)
    checks.append(
        check_names_agree(
            found,
            file_name=archive.name,
            certificate_tag=_signed_tag(verified),
            registry_tag=registry_tag,
            expected_tag=expected_tag,
        )
    )
    return VerifyReport(archive, tuple(checks), tuple(pins), contents, found.version)


def verify_oci_bundle(
    reference: str,
    policy: SignaturePolicy,
    *,
    client: RegistryClient | None = None,
    expected_tag: str | None = None,
) -> VerifyReport:
    """Pull a bundle artifact (`oci://host/repo:tag`) and verify it like a downloaded one.

    The layers land in a private temporary directory and the archive is read from it once;
    the report carries the checked contents, so nothing pulled is read again.
    """
    policy.check()
    parsed = Reference.parse(reference)
    with tempfile.TemporaryDirectory(prefix="relkit-verify-") as scratch:
        pulled = oci_artifact.pull_artifact(reference, Path(scratch), client=client)
        archives = [path for path in pulled.files if path.name.endswith(".tar.gz")]
        if pulled.artifact_type != ARTIFACT_TYPE or len(archives) != 1:
            raise RelkitError(
                f"{reference} is not a relkit bundle artifact",
                hint="point at the bundle's oci:// reference, e.g. oci://host/path/NAME:VERSION",
            )
        archive = archives[0]
        data = load_archive(archive)
        sig_path = archive.with_name(archive.name + policy.suffix)
        report = _verify_bytes(
            archive, data, policy, sig_path, registry_tag=parsed.tag, expected_tag=expected_tag
        )
    pulled_line = f"pulled: {reference} (manifest {pulled.digest})"
    return VerifyReport(
        report.archive,
        (pulled_line, *report.checks),
        report.pins,
        report.contents,
        report.version,
        manifest_digest=pulled.digest,
    )
