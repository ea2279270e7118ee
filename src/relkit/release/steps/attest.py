"""Pipeline step "attest": provenance, SBOM and signatures for what chart and bundle published.

After the chart and bundle steps, relkit knows every file and OCI manifest it published. This
step makes, signs (one DSSE envelope each, `signing.mode` keyless or key) and publishes:

- one SLSA Provenance v1 statement whose subjects are the chart package(s), the bundle
  tarball(s) and their OCI manifests → `NAME-VERSION.intoto.sigstore.json` in dist/ (a
  release asset) and a referrer of every OCI manifest;
- per bundle, its CycloneDX SBOM → `B-VERSION.cdx.json`, attested with predicate
  `https://cyclonedx.org/bom` → `B-VERSION.cdx.intoto.sigstore.json` and a referrer of the
  bundle's manifest;
- per OCI artifact, a cosign v3 style signature (predicate `https://sigstore.dev/cosign/sign/v1`
  over the manifest digest) as a referrer, which `cosign verify` looks for.

Idempotent: a referrer already attached with the same predicate type is reused, not signed
again; an existing one that does not name this release's digests is refused (nothing is
published). Everything is signed before anything is pushed, and dist/ is written last.
"""

from __future__ import annotations

import base64
import json
import logging
from datetime import UTC
from pathlib import Path
from typing import Any

from relkit import __version__
from relkit.adapters.github import GitHubClient
from relkit.adapters.oci_referrers import attach_bundle, fetch_bundles
from relkit.adapters.registry import Reference, RegistryClient
from relkit.bundle.build import bundle_top
from relkit.bundle.publish import TRUST_CONFIG_ENV
from relkit.bundle.reference import split_digest
from relkit.bundle.sbom import SBOM_SUFFIX, bundle_sbom
from relkit.bundle.sums import parse_digests, parse_sha256sums
from relkit.core.dist_files import write_atomic
from relkit.core.errors import RelkitError
from relkit.core.model import Artifact, ImagePin, StepOutcome, StepRecord
from relkit.core.records import record
from relkit.core.structured import load_json
from relkit.release.pipeline import Step, StepContext
from relkit.signing.attest import (
    AttestationSigner,
    KeyAttestationSigner,
    KeylessAttestationSigner,
    parse_bundle_json,
)
from relkit.signing.facade import KeylessSigner, KeySigner, signer_for
from relkit.signing.keys import sha256_of
from relkit.signing.provenance import (
    COSIGN_SIGN_PREDICATE,
    CYCLONEDX_PREDICATE,
    IN_TOTO_PAYLOAD_TYPE,
    SLSA_PROVENANCE_V1,
    Subject,
    build_source,
    in_toto_statement,
    slsa_provenance,
    subject_digests,
)

__all__ = [
    "ATTESTATION_SUFFIX",
    "STEP",
    "describe",
    "provenance_asset_name",
    "run",
    "store_on_github",
]

_log = logging.getLogger(__name__)

ATTESTATION_SUFFIX = ".intoto.sigstore.json"


@record
class _Published:
    """One published thing: a dist/ file and, when pushed, its OCI manifest."""

    kind: str  # chart | bundle
    file: Path
    oci: Reference | None  # host/repo@sha256:manifest


@record
class _Wanted:
    """A statement to sign, the OCI manifests it attaches to, and its dist/ file (if any)."""

    statement: dict[str, Any]
    targets: tuple[Reference, ...]
    asset: str | None


def provenance_asset_name(context: StepContext) -> str:
    """`NAME-VERSION.intoto.sigstore.json`; NAME is the repository's name, else the first
    artifact's."""
    name = (context.plan.repository or "").rsplit("/", 1)[-1]
    if not name:
        first = [*context.artifacts("chart"), *context.artifacts("bundle")]
        name = first[0].name.split("-", 1)[0] if first else "release"
    return f"{name}-{context.plan.version}{ATTESTATION_SUFFIX}"


def _oci(reference: str | None) -> Reference | None:
    if not reference:
        return None
    ref = Reference.parse(reference)
    return Reference(ref.registry, ref.repository, None, ref.digest) if ref.digest else None


def _published(context: StepContext) -> list[_Published]:
    found = []
    for kind in ("chart", "bundle"):
        for artifact in context.artifacts(kind):
            if artifact.path and Path(artifact.path).is_file():
                found.append(_Published(kind, Path(artifact.path), _oci(artifact.reference)))
    return found


def _sidecar(context: StepContext, kind: str, archive: Path, suffix: str) -> Path | None:
    top = archive.name.removesuffix(".tar.gz")
    for artifact in context.artifacts(kind):
        if artifact.path and Path(artifact.path).name == f"{top}.{suffix}":
            return Path(artifact.path)
    return None


def _sbom_text(context: StepContext, bundle: _Published) -> str | None:
    """The bundle's SBOM from its SHA256SUMS and digests.txt; None if they are missing."""
    sums = _sidecar(context, "sums", bundle.file, "SHA256SUMS")
    digests = _sidecar(context, "digests", bundle.file, "digests.txt")
    if sums is None or digests is None:
        return None
    top = bundle.file.name.removesuffix(".tar.gz")
    name = top.removesuffix(f"-{context.plan.version}")
    pins = []
    for pinned in parse_digests(digests.read_text(encoding="utf-8"), digests.name):
        reference, digest = split_digest(pinned)
        assert digest is not None  # parse_digests accepts pinned references only
        pins.append(ImagePin(reference, digest))
    return bundle_sbom(
        name=name or top,
        version=str(context.plan.version),
        commit=context.plan.commit,
        repository=context.plan.repository,
        archive_digest=f"sha256:{sha256_of(bundle.file).hex()}",
        created=context.plan.committed_at.astimezone(UTC),
        pins=pins,
        files=parse_sha256sums(sums.read_text(encoding="utf-8"), sums.name),
    )


def _file_subject(item: _Published) -> Subject:
    return Subject(item.file.name, sha256_of(item.file).hex())


def _oci_subject(ref: Reference) -> Subject:
    assert ref.digest is not None
    return Subject.of(ref.name, ref.digest)


def _wanted(context: StepContext, sboms: dict[str, str]) -> list[_Wanted]:
    published = _published(context)
    oci = [item.oci for item in published if item.oci is not None]
    subjects = [_file_subject(item) for item in published] + [_oci_subject(r) for r in oci]
    source = build_source(
        context.env,
        repository=context.plan.repository,
        tag=context.plan.tag,
        commit=context.plan.commit,
    )
    wanted = [
        _Wanted(
            slsa_provenance(subjects, source, relkit_version=__version__),
            tuple(oci),
            provenance_asset_name(context),
        )
    ]
    for item in published:
        sbom = sboms.get(item.file.name)
        if sbom is not None:
            bundle_subjects = [_file_subject(item)]
            if item.oci is not None:
                bundle_subjects.append(_oci_subject(item.oci))
            wanted.append(
                _Wanted(
                    in_toto_statement(bundle_subjects, CYCLONEDX_PREDICATE, json.loads(sbom)),
                    (item.oci,) if item.oci is not None else (),
                    item.file.name.removesuffix(".tar.gz") + f".cdx{ATTESTATION_SUFFIX}",
                )
            )
    for ref in oci:
        wanted.append(
            _Wanted(in_toto_statement([_oci_subject(ref)], COSIGN_SIGN_PREDICATE, {}), (ref,), None)
        )
    return wanted


def _signer(context: StepContext) -> tuple[AttestationSigner | None, str]:
    """The attestation signer for `signing.mode`, or (None, why nothing is signed)."""
    trust = context.env.get(TRUST_CONFIG_ENV)
    signer = signer_for(
        context.config.signing, env=context.env, trust_config=Path(trust) if trust else None
    )
    if isinstance(signer, KeySigner):
        return KeyAttestationSigner(signer.private_key_pem, signer.password), ""
    if isinstance(signer, KeylessSigner):
        if not signer.identity_token and context.env.get("GITHUB_ACTIONS") != "true":
            # Keyless needs an OIDC token; outside Actions there is none to take (a chart-only
            # release from a laptop signed nothing before either). Inside Actions a missing
            # token is an error with the permission hint, raised by the signer.
            return None, "keyless signing needs GitHub Actions' OIDC token: not in Actions"
        return KeylessAttestationSigner(signer.identity_token, signer.trust_config), ""
    return None, "signing.mode is 'none'"


def _statement_of(bundle: bytes, where: str) -> dict[str, Any]:
    """The statement inside a bundle we are about to reuse (its signature was made by us
    or will be checked by verifiers; here we only match what it is about)."""
    raw = parse_bundle_json(bundle, where)
    envelope = raw.get("dsseEnvelope")
    if not isinstance(envelope, dict) or envelope.get("payloadType") != IN_TOTO_PAYLOAD_TYPE:
        raise RelkitError(f"{where}: the attached bundle holds no in-toto attestation")
    try:
        statement = load_json(
            base64.b64decode(str(envelope.get("payload", "")), validate=True),
            source=f"{where}: the attached attestation's payload",
        )
    except ValueError:
        raise RelkitError(f"{where}: the attached attestation's payload is not JSON") from None
    if not isinstance(statement, dict):
        raise RelkitError(f"{where}: the attached attestation's payload is not a statement")
    return statement


def _existing(client: RegistryClient, wanted: _Wanted) -> tuple[bytes | None, list[Reference]]:
    """(a bundle already attached that says all we would say, targets still missing one).

    An attached attestation of the same predicate type that covers this release's subjects
    is reused. One that names the target but not all of our subjects (a provenance of an
    earlier build of the same chart) is left alone and a new one is added next to it. One
    that does not even name the target's digest is foreign: refused.
    """
    predicate = str(wanted.statement["predicateType"])
    ours = subject_digests(wanted.statement)
    found: bytes | None = None
    missing: list[Reference] = []
    for target in wanted.targets:
        covering: bytes | None = None
        for attached in fetch_bundles(client, target, predicate_type=predicate):
            where = f"{predicate} attestation {attached.referrer.digest} of {target}"
            named = subject_digests(_statement_of(attached.bundle, where))
            if target.digest not in named:
                raise RelkitError(
                    f"{where} is about other digests, not {target.digest}",
                    hint="a foreign attestation is attached: remove that referrer",
                )
            if ours <= named and covering is None:
                covering = attached.bundle
        if covering is None:
            missing.append(target)
        found = found or covering
    return found, missing


def _write_atomically(target: Path, content: bytes) -> None:
    # A temporary name the next run's sweep recognises if this one is killed (issue 12 §4).
    write_atomic(target, content)


def _dist_bundle(context: StepContext, wanted: _Wanted) -> bytes | None:
    """A dist/ attestation from an earlier run that is about exactly these subjects."""
    if wanted.asset is None:
        return None
    path = context.dist_dir / wanted.asset
    if not path.is_file():
        return None
    data = path.read_bytes()
    try:
        statement = _statement_of(data, str(path))
    except RelkitError:
        return None  # unreadable leftovers are replaced
    same = subject_digests(statement) == subject_digests(wanted.statement)
    return (
        data
        if same and statement.get("predicateType") == wanted.statement["predicateType"]
        else None
    )


def run(context: StepContext) -> StepRecord:
    signer, why_not = _signer(context)
    if signer is None:
        return StepRecord("attest", StepOutcome.SKIPPED, why_not)
    if not _published(context):
        return StepRecord("attest", StepOutcome.SKIPPED, "no chart or bundle was published")
    sboms = {
        item.file.name: text
        for item in _published(context)
        if item.kind == "bundle" and (text := _sbom_text(context, item)) is not None
    }
    wanted = _wanted(context, sboms)
    created = context.plan.committed_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    client = RegistryClient()
    try:
        # 1. Look: what is attached already, and is it about this release?
        reuse: list[bytes | None] = []
        missing: list[list[Reference]] = []
        for item in wanted:
            found, lacking = _existing(client, item) if item.targets else (None, [])
            if found is None and not item.targets:
                found = _dist_bundle(context, item)
            reuse.append(found)
            missing.append(lacking)
        # 2. Sign what is new, all before anything is pushed.
        to_sign = [i for i, item in enumerate(wanted) if reuse[i] is None]
        signed = signer.sign([wanted[i].statement for i in to_sign]) if to_sign else []
        bundles = list(reuse)
        for index, text in zip(to_sign, signed, strict=True):
            bundles[index] = text.encode("utf-8")
        # 3. Attach to every manifest still missing one, then write dist/.
        attached = 0
        for item, lacking, bundle in zip(wanted, missing, bundles, strict=True):
            assert bundle is not None
            for target in lacking:
                attach_bundle(
                    client,
                    target,
                    bundle,
                    predicate_type=str(item.statement["predicateType"]),
                    created=created,
                )
                attached += 1
    finally:
        client.close()
    artifacts: list[Artifact] = []
    written = 0
    for item, bundle in zip(wanted, bundles, strict=True):
        if item.asset is None:
            continue
        assert bundle is not None
        asset = context.dist_dir / item.asset
        if not asset.is_file() or asset.read_bytes() != bundle:
            _write_atomically(asset, bundle)
            written += 1
        is_provenance = item.statement["predicateType"] == SLSA_PROVENANCE_V1
        kind = "provenance" if is_provenance else "sbom-attestation"
        artifacts.append(Artifact(kind, item.asset, path=str(asset)))
    for name, text in sboms.items():
        path = context.dist_dir / (name.removesuffix(".tar.gz") + SBOM_SUFFIX)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            _write_atomically(path, text.encode("utf-8"))
            written += 1
        artifacts.insert(0, Artifact("sbom", path.name, path=str(path)))
    done = bool(to_sign or attached or written)
    detail = (
        f"signed {len(to_sign)} attestation(s) ({signer.kind}), attached {attached} referrer(s)"
        if done
        else f"{len(wanted)} attestation(s) already published"
    )
    return StepRecord(
        "attest",
        StepOutcome.DONE if done else StepOutcome.ALREADY_DONE,
        detail,
        artifacts=tuple(artifacts),
    )


def store_on_github(client: GitHubClient, repo: str, bundles: list[Path]) -> list[str]:
    """Store attestation bundles with GitHub's attestations API; returns warning lines.

    Failure here never fails the release (the attestations are already release assets and
    referrers): each problem becomes one warning. A bundle GitHub already holds for the same
    subject is not stored twice.
    """
    warnings: list[str] = []
    for path in bundles:
        try:
            bundle = parse_bundle_json(path.read_bytes(), path.name)
            digests = sorted(subject_digests(_statement_of(path.read_bytes(), path.name)))
            stored = client.list_attestations(repo, digests[0]) if digests else []
            if any(existing == bundle for existing in stored):
                continue
            client.create_attestation(repo, bundle)
        except (RelkitError, OSError) as exc:
            message = exc.message if isinstance(exc, RelkitError) else str(exc.strerror)
            warnings.append(f"warning: {path.name} not stored in GitHub attestations: {message}")
    for line in warnings:
        _log.warning("%s", line)
    return warnings


def describe(context: StepContext) -> list[str]:
    mode = context.config.signing.mode
    if mode == "none":
        return ["nothing: signing.mode is 'none'"]
    if not context.config.charts and not context.config.bundles:
        return ["nothing: no charts or bundles configured"]
    lines = [
        f"sign SLSA provenance of the chart and bundle files and manifests ({mode})"
        f" into {provenance_asset_name(context)}",
    ]
    if context.config.bundles:
        names = ", ".join(bundle_top(b, context.plan) + SBOM_SUFFIX for b in context.config.bundles)
        lines.append(f"write each bundle's CycloneDX SBOM ({names}) and attest it")
    lines.append(
        "attach signature, provenance and SBOM attestations to the OCI manifests as referrers"
        " (skip those already attached)"
    )
    return lines


STEP = Step(
    name="attest",
    summary="SLSA provenance, SBOM and signatures as release assets and OCI referrers",
    run=run,
    describe=describe,
)
