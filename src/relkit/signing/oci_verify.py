"""Verify what relkit attached to an OCI artifact: its signature and its SLSA provenance.

For `relkit verify oci://REGISTRY/charts/NAME:VERSION --repo OWNER/NAME [--tag T]` (and the
provenance of a bundle artifact, when present). The referrers of the artifact's manifest are
read (referrers API, else the `sha256-<hex>` tag), every Sigstore bundle is verified with the
caller's signer policy (keyless identity + issuer + Fulcio source extensions, or a public
key), and its statement must name the manifest's digest. The result says who signed (read
from the certificate) and what the provenance claims (source repository, ref, commit), and
what was not checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from relkit.adapters.helm import HELM_CONFIG
from relkit.adapters.oci_referrers import AttachedBundle, fetch_bundles
from relkit.adapters.registry import Reference, RegistryClient
from relkit.core.errors import RelkitError
from relkit.core.records import record
from relkit.signing.attest import (
    VerifiedAttestation,
    identity_policy,
    verify_attestation_keyless,
    verify_attestation_with_key,
)
from relkit.signing.identity import SourceRequirement
from relkit.signing.provenance import COSIGN_SIGN_PREDICATE, SLSA_PROVENANCE_V1, subject_digests

__all__ = ["AttestationPolicy", "OciVerification", "is_helm_chart", "verify_oci_attestations"]


@record
class AttestationPolicy:
    """Who must have signed: a key, or a keyless identity (exact or regexp) and issuer."""

    key: Path | None
    identity: str | None
    identity_regexp: str | None
    issuer: str
    trust_config: Path | None
    source: SourceRequirement | None


@record
class OciVerification:
    manifest_digest: str
    lines: tuple[str, ...]


def is_helm_chart(manifest: Mapping[str, Any]) -> bool:
    return (manifest.get("config") or {}).get("mediaType") == HELM_CONFIG


def _verify(bundle: AttachedBundle, policy: AttestationPolicy, where: str) -> VerifiedAttestation:
    if policy.key is not None:
        try:
            public = policy.key.read_bytes()
        except OSError as exc:
            raise RelkitError(f"cannot read public key {policy.key}: {exc.strerror}") from None
        return verify_attestation_with_key(bundle.bundle, public, where=where)
    return verify_attestation_keyless(
        bundle.bundle,
        identity_policy(
            identity=policy.identity,
            identity_regexp=policy.identity_regexp,
            issuer=policy.issuer,
        ),
        trust_config=policy.trust_config,
        where=where,
        source=policy.source,
    )


def _first_valid(
    bundles: list[AttachedBundle], policy: AttestationPolicy, digest: str, what: str, ref: str
) -> VerifiedAttestation:
    if not bundles:
        raise RelkitError(
            f"{ref} has no {what} attached",
            hint="it was published without signing, or by a tool that stores it elsewhere",
        )
    reason = ""
    for bundle in bundles:
        where = f"{what} {bundle.referrer.digest}"
        try:
            verified = _verify(bundle, policy, where)
            if digest not in subject_digests(verified.statement):
                raise RelkitError(f"{where} is about other digests, not {digest}")
            return verified
        except RelkitError as exc:
            reason = reason or exc.message
    raise RelkitError(f"{ref}: no valid {what}: {reason}")


def _signer_line(kind: str, verified: VerifiedAttestation) -> str:
    text = f"{kind}: signed by {verified.signer}"
    if verified.issuer:
        text += f" (issuer {verified.issuer})"
    if verified.source_repository:
        text += f", run in {verified.source_repository} for {verified.source_ref or '?'}"
    return text


def _provenance_line(statement: Mapping[str, Any]) -> str:
    predicate = statement.get("predicate") or {}
    build = predicate.get("buildDefinition") or {} if isinstance(predicate, dict) else {}
    external = build.get("externalParameters") or {} if isinstance(build, dict) else {}
    workflow = external.get("workflow") if isinstance(external, dict) else None
    source = workflow if isinstance(workflow, dict) else external
    deps = build.get("resolvedDependencies") or [] if isinstance(build, dict) else []
    commit = next(
        (
            d["digest"]["gitCommit"]
            for d in deps
            if isinstance(d, dict)
            and isinstance(d.get("digest"), dict)
            and isinstance(d["digest"].get("gitCommit"), str)
        ),
        "?",
    )
    repository = source.get("repository", "?") if isinstance(source, dict) else "?"
    ref = source.get("ref", "?") if isinstance(source, dict) else "?"
    build_type = build.get("buildType", "?") if isinstance(build, dict) else "?"
    return f"provenance: source {repository} ref {ref} commit {commit} (build type {build_type})"


def verify_oci_attestations(
    reference: str,
    policy: AttestationPolicy,
    *,
    client: RegistryClient,
    require_provenance: bool = True,
) -> OciVerification:
    """Verify the signature and provenance referrers of the artifact at `reference`."""
    ref = Reference.parse(reference)
    digest = client.resolve_digest(ref)
    subject = Reference(ref.registry, ref.repository, None, digest)
    lines = [f"artifact: {ref} (manifest {digest})"]
    signatures = fetch_bundles(client, subject, predicate_type=COSIGN_SIGN_PREDICATE)
    provenances = fetch_bundles(client, subject, predicate_type=SLSA_PROVENANCE_V1)
    if signatures or require_provenance:
        signed = _first_valid(signatures, policy, digest, "signature", reference)
        lines.append(_signer_line("signature", signed))
    if provenances or require_provenance:
        verified = _first_valid(provenances, policy, digest, "provenance", reference)
        lines.append(_signer_line("provenance", verified))
        lines.append(_provenance_line(verified.statement))
    lines.append(
        "not checked: that the source commit is what you expect (compare it with the tag),"
        " and the SBOM's content"
    )
    return OciVerification(digest, tuple(lines))
