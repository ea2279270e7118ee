"""Verify a bundle as a self-hoster would: signature, SHA256SUMS, digest pins.

Order matters: the signature is checked over the archive bytes before anything inside the
archive is parsed, so nothing untrusted is interpreted until the publisher is established.
Then every member is checked for safety (see `extract`), every file against SHA256SUMS,
and every compose image for a digest pin that `digests.txt` also lists.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from relkit.adapters import oci_artifact
from relkit.adapters.registry import RegistryClient
from relkit.adapters.signing import (
    DEFAULT_RELEASE_WORKFLOW,
    GITHUB_ACTIONS_ISSUER,
    KEY_SUFFIX,
    KEYLESS_SUFFIX,
    release_workflow_identity,
    release_workflow_identity_regexp,
    verify_blob_keyless,
    verify_blob_with_key,
)
from relkit.bundle.compose import check_bundle_compose
from relkit.bundle.extract import read_archive
from relkit.bundle.publish import ARTIFACT_TYPE
from relkit.bundle.reference import is_pinned
from relkit.bundle.sums import DIGESTS_FILE, SUMS_FILE, check_sha256sums, parse_digests
from relkit.errors import RelkitError, UsageError
from relkit.signing.identity import SourceRequirement, github_source

__all__ = ["SignaturePolicy", "VerifyReport", "verify_bundle", "verify_oci_bundle"]


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class VerifyReport:
    """What was verified, one human-readable line per check."""

    archive: Path
    checks: tuple[str, ...]
    pins: tuple[str, ...]


def _check_signature(archive: Path, policy: SignaturePolicy, signature: Path | None) -> str:
    if policy.unsigned:
        return "signature: not checked (--unsigned)"
    sig_path = signature or archive.with_name(archive.name + policy.suffix)
    if not sig_path.is_file():
        raise RelkitError(
            f"signature file {sig_path.name} not found next to {archive.name}",
            hint="download it with the bundle, or point --signature at it",
        )
    content = sig_path.read_bytes()
    if policy.key is not None:
        try:
            public_key = policy.key.read_bytes()
        except OSError as exc:
            raise UsageError(f"cannot read public key {policy.key}: {exc.strerror}") from None
        verify_blob_with_key(archive, content, public_key)
        return f"signature: {sig_path.name} is a valid ECDSA P-256 signature by {policy.key.name}"
    verified = verify_blob_keyless(
        archive,
        content,
        identity=policy.identity,
        identity_regexp=policy.identity_regexp,
        issuer=policy.issuer,
        trust_config=policy.trust_config,
        source=policy.source,
    )
    return (
        f"signature: {sig_path.name} signed by {verified.identity} (issuer {verified.issuer},"
        f" transparency log index {verified.log_index})"
    )


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
    archive: Path, policy: SignaturePolicy, *, signature: Path | None = None
) -> VerifyReport:
    """Check signature, archive safety, SHA256SUMS and pins; raise on the first mismatch."""
    policy.check()
    if not archive.is_file():
        raise UsageError(f"bundle archive {archive} does not exist")
    checks = [_check_signature(archive, policy, signature)]
    contents = read_archive(archive)
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
    return VerifyReport(archive, tuple(checks), tuple(pins))


def verify_oci_bundle(
    reference: str,
    policy: SignaturePolicy,
    *,
    client: RegistryClient | None = None,
    keep_in: Path | None = None,
) -> VerifyReport:
    """Pull a bundle artifact (`oci://host/repo:tag`) and verify it like a downloaded one.

    The pulled files are kept in `keep_in` when given (to extract afterwards), else discarded.
    """
    policy.check()
    with tempfile.TemporaryDirectory(prefix="relkit-verify-") as scratch:
        target = keep_in or Path(scratch)
        pulled = oci_artifact.pull_artifact(reference, target, client=client)
        archives = [path for path in pulled.files if path.name.endswith(".tar.gz")]
        if pulled.artifact_type != ARTIFACT_TYPE or len(archives) != 1:
            raise RelkitError(
                f"{reference} is not a relkit bundle artifact",
                hint="point at the bundle's oci:// reference, e.g. oci://host/path/NAME:VERSION",
            )
        report = verify_bundle(archives[0], policy)
    pulled_line = f"pulled: {reference} (manifest {pulled.digest})"
    return VerifyReport(report.archive, (pulled_line, *report.checks), report.pins)
