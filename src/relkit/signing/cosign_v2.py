"""cosign v2's tag-based signatures (`sha256-<hex>.sig` / `.att`), verified without cosign.

cosign before v3 stores an image's signatures as an OCI image tagged `sha256-<hex>.sig`
(attestations: `.att`) in the image's repository (sigstore/cosign `specs/SIGNATURE_SPEC.md`).
Each layer is one signature:

    .sig  blob = "simple signing" JSON naming the image digest
          (critical.image.docker-manifest-digest), signature over the blob's bytes
    .att  blob = a DSSE envelope around an in-toto statement, signature inside it

with annotations `dev.cosignproject.cosign/signature` (base64), `dev.sigstore.cosign/
certificate` (the Fulcio leaf, PEM), `dev.sigstore.cosign/chain` and `dev.sigstore.cosign/
bundle`: the Rekor entry as {SignedEntryTimestamp, Payload{body, integratedTime, logIndex,
logID}}. That entry carries a signed entry timestamp (SET), not an inclusion proof, so
sigstore-python cannot load it as a bundle; this module checks it itself:

1. the leaf certificate chains to a Fulcio CA of the trusted root, was valid when Rekor
   logged the entry, and is for code signing;
2. the SET is Rekor's ECDSA signature over the RFC 8785 canonical JSON of
   {body, integratedTime, logID, logIndex}, made with a Rekor key of the trusted root;
3. the logged body is about this signature: same certificate, same signature (`.sig`) or
   same payload hash (`.att`);
4. the signature verifies with the leaf's key over the blob (`.sig`) or the DSSE PAE (`.att`);
5. the payload names the image digest the caller asked about.

The caller then applies its identity policy to the returned certificate.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import UTC, datetime
from typing import Any

import rfc8785
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

# Private, but the keyring is how sigstore-python itself checks SETs; the version is pinned.
from sigstore._internal.trust import KeyringPurpose
from sigstore._utils import KeyID
from sigstore.errors import Error as SigstoreError
from sigstore.errors import VerificationError
from sigstore.models import TrustedRoot

from relkit.core.errors import RelkitError
from relkit.core.records import record
from relkit.core.structured import load_json
from relkit.signing.provenance import IN_TOTO_PAYLOAD_TYPE, subject_digests
from sigstore import dsse

__all__ = [
    "ANNOTATION_BUNDLE",
    "ANNOTATION_CERTIFICATE",
    "ANNOTATION_CHAIN",
    "ANNOTATION_SIGNATURE",
    "DSSE_LAYER",
    "SIMPLE_SIGNING_LAYER",
    "V2Signature",
    "verify_v2_layer",
]

SIMPLE_SIGNING_LAYER = "application/vnd.dev.cosign.simplesigning.v1+json"
DSSE_LAYER = "application/vnd.dsse.envelope.v1+json"
ANNOTATION_SIGNATURE = "dev.cosignproject.cosign/signature"
ANNOTATION_CERTIFICATE = "dev.sigstore.cosign/certificate"
ANNOTATION_CHAIN = "dev.sigstore.cosign/chain"
ANNOTATION_BUNDLE = "dev.sigstore.cosign/bundle"


@record
class V2Signature:
    """A verified cosign v2 signature: its certificate, and the statement for `.att`."""

    certificate: x509.Certificate
    statement: dict[str, Any] | None  # `.att` only
    integrated_time: int


def _b64(text: object, what: str, where: str) -> bytes:
    try:
        return base64.b64decode(str(text), validate=True)
    except (binascii.Error, ValueError):
        raise RelkitError(f"{where}: {what} is not base64") from None


def _json(data: bytes, what: str, where: str) -> Any:
    try:
        return load_json(data, source=f"{where}: {what}")  # bounded depth and size
    except ValueError:
        raise RelkitError(f"{where}: {what} is not JSON") from None


def _check_chain(leaf: x509.Certificate, root: TrustedRoot, at: datetime, where: str) -> None:
    """The leaf chains to a Fulcio CA of the trusted root and was valid at `at`."""
    if not leaf.not_valid_before_utc <= at <= leaf.not_valid_after_utc:
        raise RelkitError(f"{where}: the certificate was not valid when Rekor logged it")
    try:
        usage = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is None or ExtendedKeyUsageOID.CODE_SIGNING not in usage:
        raise RelkitError(f"{where}: the certificate is not for code signing")
    authorities = root.get_fulcio_certs()
    current = leaf
    for _ in range(len(authorities) + 1):
        issuer = next(
            (ca for ca in authorities if ca.subject == current.issuer and _issued_by(current, ca)),
            None,
        )
        if issuer is None:
            raise RelkitError(
                f"{where}: the certificate does not chain to a Fulcio CA of the trusted root"
            )
        if issuer.subject == issuer.issuer:
            return  # reached a trusted root
        current = issuer
    raise RelkitError(f"{where}: the certificate chain is too long")


def _issued_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _check_set(bundle: dict[str, Any], root: TrustedRoot, where: str) -> tuple[dict[str, Any], int]:
    """Verify the SET; return (the logged body, integrated time)."""
    payload = bundle.get("Payload")
    if not isinstance(payload, dict):
        raise RelkitError(f"{where}: the Rekor bundle has no Payload")
    try:
        canonical = rfc8785.dumps(
            {
                "body": str(payload["body"]),
                "integratedTime": int(payload["integratedTime"]),
                "logID": str(payload["logID"]),
                "logIndex": int(payload["logIndex"]),
            }
        )
        log_id = bytes.fromhex(str(payload["logID"]))
    except (KeyError, ValueError, TypeError, rfc8785.CanonicalizationError):
        raise RelkitError(f"{where}: the Rekor bundle's Payload is incomplete") from None
    signature = _b64(bundle.get("SignedEntryTimestamp"), "the SignedEntryTimestamp", where)
    try:
        root.rekor_keyring(KeyringPurpose.VERIFY).verify(
            key_id=KeyID(log_id), signature=signature, data=canonical
        )
    except (VerificationError, SigstoreError):
        raise RelkitError(
            f"{where}: the signed entry timestamp does not verify with Rekor's key",
            hint="the Rekor entry was forged or comes from another Sigstore instance",
        ) from None
    body = _json(_b64(payload["body"], "the Rekor entry body", where), "the Rekor body", where)
    if not isinstance(body, dict):
        raise RelkitError(f"{where}: the Rekor entry body is not an object")
    return body, int(payload["integratedTime"])


def _logged_certificate(spec: dict[str, Any]) -> bytes | None:
    """The PEM of the certificate a hashedrekord / dsse / intoto entry names, if any."""
    key = (spec.get("signature") or {}).get("publicKey") if isinstance(spec, dict) else None
    if isinstance(key, dict) and key.get("content"):
        return base64.b64decode(str(key["content"]))
    for item in spec.get("signatures") or []:  # dsse
        if isinstance(item, dict) and item.get("verifier"):
            return base64.b64decode(str(item["verifier"]))
    content = spec.get("content") or {}
    for item in (content.get("envelope") or {}).get("signatures") or []:  # intoto 0.0.2
        if isinstance(item, dict) and item.get("publicKey"):
            return base64.b64decode(str(item["publicKey"]))
    return None


def _same_certificate(pem: bytes | None, leaf: x509.Certificate) -> bool:
    if pem is None:
        return False
    try:
        logged = x509.load_pem_x509_certificate(pem)
    except ValueError:
        return False
    return logged == leaf


def verify_v2_layer(
    layer: dict[str, Any], blob: bytes, image_digest: str, root: TrustedRoot, where: str
) -> V2Signature:
    """Check one `.sig` / `.att` layer about `image_digest`; see the module docstring."""
    annotations = layer.get("annotations") or {}
    media_type = layer.get("mediaType")
    if media_type not in (SIMPLE_SIGNING_LAYER, DSSE_LAYER):
        raise RelkitError(f"{where}: unknown cosign layer type {media_type!r}")
    pem = str(annotations.get(ANNOTATION_CERTIFICATE) or "")
    if not pem:
        raise RelkitError(f"{where}: no certificate (key-signed cosign signatures are not read)")
    try:
        leaf = x509.load_pem_x509_certificate(pem.encode())
    except ValueError:
        raise RelkitError(f"{where}: the certificate is not PEM") from None
    rekor = _json(str(annotations.get(ANNOTATION_BUNDLE) or "").encode(), "the Rekor bundle", where)
    if not isinstance(rekor, dict):
        raise RelkitError(f"{where}: no Rekor bundle (the signature was never logged)")
    body, integrated = _check_set(rekor, root, where)
    _check_chain(leaf, root, datetime.fromtimestamp(integrated, UTC), where)
    raw_spec = body.get("spec")
    spec: dict[str, Any] = raw_spec if isinstance(raw_spec, dict) else {}
    if not _same_certificate(_logged_certificate(spec), leaf):
        raise RelkitError(f"{where}: the Rekor entry is about another certificate")
    public_key = leaf.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise RelkitError(f"{where}: the certificate's key is not ECDSA")
    if media_type == SIMPLE_SIGNING_LAYER:
        _check_simple_signing(annotations, spec, blob, image_digest, public_key, where)
        return V2Signature(leaf, None, integrated)
    statement = _check_attestation(spec, blob, image_digest, public_key, where)
    return V2Signature(leaf, statement, integrated)


def _check_simple_signing(
    annotations: dict[str, Any],
    spec: dict[str, Any],
    blob: bytes,
    image_digest: str,
    key: ec.EllipticCurvePublicKey,
    where: str,
) -> None:
    signature_b64 = str(annotations.get(ANNOTATION_SIGNATURE) or "")
    signature = _b64(signature_b64, "the signature", where)
    logged = spec.get("signature") or {}
    logged_hash = ((spec.get("data") or {}).get("hash") or {}).get("value")
    if logged.get("content") != signature_b64 or logged_hash != hashlib.sha256(blob).hexdigest():
        raise RelkitError(f"{where}: the Rekor entry is about another signature or payload")
    try:
        key.verify(signature, blob, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise RelkitError(f"{where}: the signature does not match its payload") from None
    payload = _json(blob, "the signed payload", where)
    critical = payload.get("critical") if isinstance(payload, dict) else None
    named = ((critical or {}).get("image") or {}).get("docker-manifest-digest")
    if named != image_digest:
        raise RelkitError(
            f"{where}: the signature is about {named or 'nothing'}, not {image_digest}"
        )


def _check_attestation(
    spec: dict[str, Any],
    blob: bytes,
    image_digest: str,
    key: ec.EllipticCurvePublicKey,
    where: str,
) -> dict[str, Any]:
    try:
        envelope = dsse.Envelope._from_json(blob)
        payload = dsse._verify(key, envelope)
    except VerificationError:
        raise RelkitError(f"{where}: the attestation's signature does not match") from None
    except (SigstoreError, ValueError):
        raise RelkitError(f"{where}: the attestation is not a DSSE envelope") from None
    payload_hash = spec.get("payloadHash") or (spec.get("content") or {}).get("payloadHash") or {}
    if payload_hash.get("value") != hashlib.sha256(payload).hexdigest():
        raise RelkitError(f"{where}: the Rekor entry is about another attestation")
    if envelope._inner.payload_type != IN_TOTO_PAYLOAD_TYPE:
        raise RelkitError(f"{where}: the attestation is not an in-toto statement")
    statement = _json(payload, "the attested statement", where)
    if not isinstance(statement, dict) or image_digest not in subject_digests(statement):
        raise RelkitError(f"{where}: the attestation is not about {image_digest}")
    return statement


def certificate_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()
