"""The signed-image gate: every image a release pins must carry a signature (and, when
required, SLSA provenance) from the configured identity.

Both layouts found in registries are read, for each image digest:

- cosign v3 / Sigstore bundles as OCI referrers (`specs/BUNDLE_SPEC.md`): a DSSE bundle with
  predicate `https://sigstore.dev/cosign/sign/v1` is the signature, one with
  `https://slsa.dev/provenance/v1` the provenance; verified by sigstore-python;
- cosign v2's tags `sha256-<hex>.sig` / `.att` (`specs/SIGNATURE_SPEC.md`): verified by
  `relkit.signing.cosign_v2` (SET against Rekor's key, chain to Fulcio, payload).

Whichever layout, the certificate must show the expected identity (exact or regexp), the
OIDC issuer and, when configured, Fulcio's source repository / ref extensions, and the
signed statement must name the image's digest. The first image that fails stops the check
with one line naming it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from sigstore.models import TrustedRoot

from relkit.adapters.oci_referrers import fetch_bundles
from relkit.adapters.registry import NotFoundError, Reference, RegistryClient
from relkit.core.config import ImagesConfig
from relkit.core.errors import RelkitError
from relkit.core.model import ImagePin
from relkit.core.records import record
from relkit.signing.attest import identity_policy, verify_attestation_keyless
from relkit.signing.cosign_v2 import verify_v2_layer
from relkit.signing.identity import CertificateFacts, read_certificate
from relkit.signing.keyless import load_trust_config
from relkit.signing.provenance import (
    COSIGN_SIGN_PREDICATE,
    SLSA_PROVENANCE_V1,
    subject_digests,
)

__all__ = ["ImageVerdict", "check_images", "check_signer"]

_MAX_LAYER = 4 * 1024 * 1024


@record
class ImageVerdict:
    """What the gate established for one image."""

    image: str  # name:tag@sha256:…
    signer: str
    issuer: str | None
    layout: str  # "referrers" (cosign v3) | "cosign-v2"
    provenance: bool  # a verified SLSA provenance from the same policy was found


def check_signer(facts: CertificateFacts, policy: ImagesConfig) -> str:
    """The identity that satisfies `policy`, or `RelkitError` saying what differs."""
    if facts.issuer != policy.issuer:
        raise RelkitError(f"signed via issuer {facts.issuer or '(none)'}, not {policy.issuer}")
    if policy.identity is not None:
        matched = [i for i in facts.identities if i == policy.identity]
    else:
        pattern = re.compile(policy.identity_regexp or "")
        matched = [i for i in facts.identities if pattern.search(i)]
    if not matched:
        shown = facts.identities[0] if facts.identities else "(no identity)"
        raise RelkitError(f"signed by {shown}, not the expected identity")
    if policy.source_repository is not None:
        wanted = f"https://github.com/{policy.source_repository}"
        if facts.source_repository != wanted:
            raise RelkitError(
                f"signed by a run in {facts.source_repository or '(unknown repository)'},"
                f" not in {wanted}"
            )
    if policy.source_ref is not None and facts.source_ref != policy.source_ref:
        raise RelkitError(
            f"signed by a run for {facts.source_ref or '(unknown ref)'}, not {policy.source_ref}"
        )
    return matched[0]


def _subject(pin: ImagePin) -> Reference:
    ref = Reference.parse(pin.reference)
    return Reference(ref.registry, ref.repository, None, pin.digest)


def _from_referrers(
    client: RegistryClient,
    pin: ImagePin,
    predicate: str,
    policy: ImagesConfig,
    trust_config: Path | None,
) -> tuple[tuple[str, str | None] | None, str | None]:
    """((signer, issuer) of the first valid bundle, or None; the first failure reason)."""
    subject = _subject(pin)
    sigstore_policy = identity_policy(
        identity=policy.identity, identity_regexp=policy.identity_regexp, issuer=policy.issuer
    )
    reason: str | None = None
    for attached in fetch_bundles(client, subject, predicate_type=predicate):
        try:
            verified = verify_attestation_keyless(
                attached.bundle, sigstore_policy, trust_config=trust_config, where="referrer"
            )
            if pin.digest not in subject_digests(verified.statement):
                raise RelkitError("its statement is about another digest")
            facts = CertificateFacts(
                identities=(verified.signer,),
                issuer=verified.issuer,
                source_repository=verified.source_repository,
                source_ref=verified.source_ref,
            )
            return (check_signer(facts, policy), verified.issuer), None
        except RelkitError as exc:
            reason = reason or exc.message
    return None, reason


def _from_v2_tag(
    client: RegistryClient,
    pin: ImagePin,
    suffix: str,
    policy: ImagesConfig,
    root: TrustedRoot,
) -> tuple[tuple[str, str | None] | None, str | None]:
    subject = _subject(pin)
    tag = f"{pin.digest.replace(':', '-')}.{suffix}"
    try:
        manifest = client.get_manifest(Reference(subject.registry, subject.repository, tag))
    except NotFoundError:
        return None, None
    reason: str | None = None
    for layer in manifest.json.get("layers") or []:
        where = f"{tag} layer"
        try:
            if not isinstance(layer, dict) or not isinstance(layer.get("size"), int):
                raise RelkitError(f"{where}: malformed descriptor")
            if layer["size"] > _MAX_LAYER:
                raise RelkitError(f"{where}: larger than 4 MiB")
            blob = client.get_blob(subject, str(layer.get("digest")))
            verified = verify_v2_layer(layer, blob, pin.digest, root, where)
            if suffix == "att":
                statement = verified.statement or {}
                if statement.get("predicateType") != SLSA_PROVENANCE_V1:
                    continue
            facts = read_certificate(verified.certificate)
            return (check_signer(facts, policy), facts.issuer), None
        except RelkitError as exc:
            reason = reason or exc.message
    return None, reason


def check_images(
    pins: Sequence[ImagePin],
    policy: ImagesConfig,
    *,
    client: RegistryClient,
    trust_config: Path | None,
) -> list[ImageVerdict]:
    """Verify every pinned image against `policy`; the first failure is a `RelkitError`."""
    root = load_trust_config(trust_config).trusted_root
    verdicts: list[ImageVerdict] = []
    for pin in pins:
        signed, reason = _from_referrers(client, pin, COSIGN_SIGN_PREDICATE, policy, trust_config)
        layout = "referrers"
        if signed is None:
            signed, v2_reason = _from_v2_tag(client, pin, "sig", policy, root)
            layout = "cosign-v2"
            reason = reason or v2_reason
        if signed is None:
            why = f": {reason}" if reason else " (no Sigstore bundle referrer, no cosign .sig tag)"
            raise RelkitError(
                f"image {pin.pinned} is not signed by the expected identity{why}",
                hint="sign it in the image's build workflow (cosign sign), or fix [images]",
            )
        provenance = False
        if policy.require_provenance:
            found, why_not = _from_referrers(client, pin, SLSA_PROVENANCE_V1, policy, trust_config)
            if found is None:
                found, v2_why = _from_v2_tag(client, pin, "att", policy, root)
                why_not = why_not or v2_why
            if found is None:
                detail = f": {why_not}" if why_not else ""
                raise RelkitError(
                    f"image {pin.pinned} has no SLSA provenance from the expected identity{detail}",
                    hint="attest it in the build (cosign attest / actions/attest-build-provenance)"
                    " or set images.require_provenance = false",
                )
            provenance = True
        verdicts.append(ImageVerdict(pin.pinned, signed[0], signed[1], layout, provenance))
    return verdicts
