"""Attestations: in-toto statements signed as DSSE envelopes inside Sigstore bundles (v0.3).

Signing goes through sigstore-python's DSSE support (`Signer.sign_dsse` for keyless,
`sigstore.dsse` for key mode), never a hand-made PAE:

keyless  a Fulcio certificate for an ephemeral key, the envelope logged in Rekor (a `dsse`
         entry); the bundle is what `cosign verify-attestation` / `verify-blob-attestation
         --new-bundle-format` and `gh attestation verify` read.
key      ECDSA P-256 / SHA-256 over the DSSE PAE with the release key, as `cosign attest
         --key` signs; the bundle carries the envelope and a `publicKey` hint (base64 of
         the SHA-256 of the public key's DER), no certificate and no log entry. The
         signature is plain ECDSA over PAE bytes, so `openssl dgst -sha256 -verify` checks it.

Verifying returns the statement only after the signature, the signer and the payload type
are checked; the caller then matches the statement's subjects against the artifact.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import Certificate
from sigstore.errors import Error as SigstoreError
from sigstore.errors import VerificationError
from sigstore.models import Bundle
from sigstore.sign import SigningContext
from sigstore.verify import Verifier
from sigstore.verify.policy import Identity, OIDCIssuer, VerificationPolicy

from relkit.core.errors import RelkitError, UsageError
from relkit.core.records import record
from relkit.core.structured import load_json
from relkit.signing.identity import SourceRequirement, check_source, read_certificate
from relkit.signing.keyless import (
    first_line,
    identity_token_for,
    load_trust_config,
    prefer_rekor_v1,
    signing_errors,
)
from relkit.signing.keys import _load_private_key, _load_public_key
from relkit.signing.provenance import IN_TOTO_PAYLOAD_TYPE, IN_TOTO_STATEMENT_V1
from sigstore import dsse

__all__ = [
    "BUNDLE_MEDIA_TYPE",
    "AttestationSigner",
    "KeyAttestationSigner",
    "KeylessAttestationSigner",
    "VerifiedAttestation",
    "bundle_content",
    "identity_policy",
    "parse_bundle_json",
    "public_key_hint",
    "statement_bytes",
    "verify_attestation_keyless",
    "verify_attestation_with_key",
]

_log = logging.getLogger(__name__)

BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
# A Sigstore bundle is a few KiB; anything much larger read from outside is refused.
MAX_BUNDLE_BYTES = 4 * 1024 * 1024


def statement_bytes(statement: Mapping[str, Any]) -> bytes:
    """The exact payload bytes signed for a statement (compact, keys sorted: deterministic)."""
    return json.dumps(statement, separators=(",", ":"), sort_keys=True).encode("utf-8")


def _statement(statement: Mapping[str, Any]) -> dsse.Statement:
    try:
        return dsse.Statement(statement_bytes(statement))
    except SigstoreError as exc:
        raise RelkitError(f"not a valid in-toto statement: {first_line(exc)}") from None


class AttestationSigner:
    """Signs statements into Sigstore bundle JSON; `kind` is 'keyless' or 'key'."""

    kind: str = ""

    def sign(self, statements: Sequence[Mapping[str, Any]]) -> list[str]:
        raise NotImplementedError


@dataclass(frozen=True)
class KeylessAttestationSigner(AttestationSigner):
    """Sigstore keyless: one Fulcio certificate for all statements of a run."""

    identity_token: str | None = field(repr=False)
    trust_config: Path | None = None
    kind: str = "keyless"

    def sign(self, statements: Sequence[Mapping[str, Any]]) -> list[str]:
        token_text = self.identity_token
        token = identity_token_for(token_text, "keyless attestation")
        parsed = [_statement(statement) for statement in statements]
        # Rekor v1 while it lasts: its `dsse` entries verify with every cosign that reads
        # bundles (the same choice as for blob signatures).
        config = prefer_rekor_v1(load_trust_config(self.trust_config))
        with signing_errors(token_text, "keyless attestation"):
            context = SigningContext.from_trust_config(config)
            with context.signer(token, cache=True) as signer:
                bundles = [signer.sign_dsse(statement).to_json() for statement in parsed]
        _log.info("attested %d statement(s) as %s", len(bundles), token.identity)
        return bundles


def public_key_hint(public_key: ec.EllipticCurvePublicKey) -> str:
    """Base64 of the SHA-256 of the key's DER SubjectPublicKeyInfo (a bundle's key hint)."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


@dataclass(frozen=True)
class KeyAttestationSigner(AttestationSigner):
    """ECDSA P-256 with the release key; the bundle names the key by hint only."""

    private_key_pem: bytes = field(repr=False)
    password: bytes | None = field(default=None, repr=False)
    kind: str = "key"

    def sign(self, statements: Sequence[Mapping[str, Any]]) -> list[str]:
        key = _load_private_key(self.private_key_pem, self.password)
        hint = public_key_hint(key.public_key())
        bundles = []
        for statement in statements:
            envelope = dsse._sign(key, _statement(statement))
            bundle = {
                "mediaType": BUNDLE_MEDIA_TYPE,
                "verificationMaterial": {"publicKey": {"hint": hint}, "tlogEntries": []},
                "dsseEnvelope": json.loads(envelope.to_json()),
            }
            bundles.append(json.dumps(bundle, separators=(",", ":")))
        return bundles


@record
class VerifiedAttestation:
    """A statement whose signature checked out, and who signed it."""

    statement: dict[str, Any]
    signer: str  # certificate identity (keyless) or "key <hint>"
    issuer: str | None  # OIDC issuer (keyless only)
    source_repository: str | None = None  # Fulcio source repository extension (keyless)
    source_ref: str | None = None  # Fulcio source ref extension (keyless)

    @property
    def predicate_type(self) -> str:
        return str(self.statement.get("predicateType", ""))


def parse_bundle_json(text: str | bytes, where: str) -> dict[str, Any]:
    """A Sigstore bundle read from outside: bounded, JSON, the v0.3 media type."""
    if len(text) > MAX_BUNDLE_BYTES:
        raise RelkitError(f"{where}: Sigstore bundle is larger than 4 MiB")
    try:
        data = load_json(text, source=f"{where}: Sigstore bundle")  # bounded depth
    except ValueError:
        raise RelkitError(f"{where}: Sigstore bundle is not JSON") from None
    if not isinstance(data, dict) or not str(data.get("mediaType", "")).startswith(
        "application/vnd.dev.sigstore.bundle"
    ):
        raise RelkitError(f"{where}: not a Sigstore bundle (no bundle mediaType)")
    return data


def bundle_content(bundle: Mapping[str, Any]) -> str:
    """'dsse-envelope' or 'message-signature': cosign's dev.sigstore.bundle.content value."""
    return "dsse-envelope" if "dsseEnvelope" in bundle else "message-signature"


class _IdentityRegexp:
    """Certificate identity by regexp (cosign's --certificate-identity-regexp), plus issuer."""

    def __init__(self, pattern: str, issuer: str) -> None:
        self._pattern = re.compile(pattern)
        self._issuer = OIDCIssuer(issuer)

    def verify(self, cert: Certificate) -> None:
        self._issuer.verify(cert)
        if not any(self._pattern.search(san) for san in read_certificate(cert).identities):
            raise VerificationError(
                f"certificate identity does not match {self._pattern.pattern!r}"
            )


def identity_policy(
    *, identity: str | None, identity_regexp: str | None, issuer: str
) -> VerificationPolicy:
    """The keyless signer policy: an exact identity or a regexp, and the OIDC issuer."""
    if (identity is None) == (identity_regexp is None):
        raise UsageError("give exactly one of the expected identity or identity regexp")
    if identity is not None:
        return Identity(identity=identity, issuer=issuer)
    assert identity_regexp is not None
    try:
        return _IdentityRegexp(identity_regexp, issuer)
    except re.error as exc:
        raise UsageError(f"identity regexp {identity_regexp!r} is invalid: {exc}") from None


def _decoded_statement(payload_type: str, payload: bytes, where: str) -> dict[str, Any]:
    if payload_type != IN_TOTO_PAYLOAD_TYPE:
        raise RelkitError(
            f"{where}: DSSE payload type is {payload_type!r}, not an in-toto statement"
        )
    try:
        statement = load_json(payload, source=f"{where}: the signed statement")
    except ValueError:
        raise RelkitError(f"{where}: the signed statement is not JSON") from None
    if not isinstance(statement, dict) or statement.get("_type") != IN_TOTO_STATEMENT_V1:
        raise RelkitError(f"{where}: the signed payload is not an in-toto Statement v1")
    return statement


def verify_attestation_keyless(
    bundle_json: str | bytes,
    policy: VerificationPolicy,
    *,
    trust_config: Path | None,
    where: str,
    source: SourceRequirement | None = None,
) -> VerifiedAttestation:
    """Check a keyless DSSE bundle (chain, SCT, Rekor entry, signer) and return its statement."""
    raw = parse_bundle_json(bundle_json, where)
    if "dsseEnvelope" not in raw:
        raise RelkitError(f"{where}: the Sigstore bundle holds no DSSE envelope (no attestation)")
    try:
        bundle = Bundle.from_json(bundle_json)
    except (SigstoreError, ValueError) as exc:
        raise RelkitError(f"{where}: the Sigstore bundle is malformed: {first_line(exc)}") from None
    verifier = Verifier(trusted_root=load_trust_config(trust_config).trusted_root)
    try:
        payload_type, payload = verifier.verify_dsse(bundle, policy)
    except VerificationError as exc:
        raise RelkitError(f"{where}: attestation verification failed: {first_line(exc)}") from None
    except SigstoreError as exc:
        raise RelkitError(f"{where}: attestation verification failed: {first_line(exc)}") from None
    statement = _decoded_statement(payload_type, payload, where)
    facts = read_certificate(bundle.signing_certificate)
    if source is not None:
        # Fulcio's source repository / ref extensions: who ran the workflow, not only which
        # workflow file (a reusable workflow is called from other repositories too).
        check_source(facts, source)
    return VerifiedAttestation(
        statement=statement,
        signer=facts.identities[0] if facts.identities else "(no identity)",
        issuer=facts.issuer,
        source_repository=facts.source_repository,
        source_ref=facts.source_ref,
    )


def verify_attestation_with_key(
    bundle_json: str | bytes, public_key_pem: bytes, *, where: str
) -> VerifiedAttestation:
    """Check a key-mode DSSE bundle's signature with the publisher's public key."""
    raw = parse_bundle_json(bundle_json, where)
    envelope_json = raw.get("dsseEnvelope")
    if not isinstance(envelope_json, dict):
        raise RelkitError(f"{where}: the Sigstore bundle holds no DSSE envelope (no attestation)")
    key = _load_public_key(public_key_pem)
    try:
        envelope = dsse.Envelope._from_json(json.dumps(envelope_json))
        payload = dsse._verify(key, envelope)
    except VerificationError:
        raise RelkitError(
            f"{where}: attestation signature does not match the public key",
            hint="it was signed with another key, or the statement was changed",
        ) from None
    except (SigstoreError, ValueError) as exc:
        raise RelkitError(f"{where}: malformed DSSE envelope: {first_line(exc)}") from None
    statement = _decoded_statement(envelope._inner.payload_type, payload, where)
    return VerifiedAttestation(
        statement=statement, signer=f"key {public_key_hint(key)}", issuer=None
    )
