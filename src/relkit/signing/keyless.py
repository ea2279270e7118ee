"""Sigstore keyless signing and verification with sigstore-python.

Signing: an OIDC identity token (explicit, or GitHub Actions' ambient one) buys a
short-lived Fulcio certificate for an ephemeral key; the signature is logged in Rekor and
everything a verifier needs is written as one Sigstore bundle (format v0.3, JSON), the
`NAME.sigstore.json` that `cosign verify-blob --bundle` also reads.

Trust: Sigstore's public-good instance (fetched and verified over TUF) unless a
ClientTrustConfig JSON file (trusted root + signing config) names a private instance; the
tests use one pointing at a local Fulcio/Rekor.

The identity token is a bearer secret: it is never logged, and any text that could echo it
(a server's error body) has it masked before it reaches a `RelkitError`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cryptography.x509 import Certificate

# Private modules, but these are the exceptions sigstore-python's public `Signer` lets
# escape for a refused certificate request or log entry; the version is pinned.
from sigstore._internal.fulcio.client import ExpiredCertificate, FulcioClientError
from sigstore._internal.rekor import RekorClientError
from sigstore.errors import Error as SigstoreError
from sigstore.errors import VerificationError
from sigstore.hashes import Hashed
from sigstore.models import Bundle, ClientTrustConfig
from sigstore.oidc import ExpiredIdentity, IdentityToken
from sigstore.sign import SigningContext
from sigstore.verify import Verifier
from sigstore.verify.policy import Identity, OIDCIssuer, VerificationPolicy
from sigstore_models.common.v1 import HashAlgorithm

from relkit.core.errors import RelkitError, UsageError
from relkit.core.structured import DocumentError, load_json
from relkit.signing.identity import (
    CertificateFacts,
    SourceRequirement,
    VerifiedIdentity,
    check_source,
    read_certificate,
)
from relkit.signing.keys import sha256_of

__all__ = [
    "SIGSTORE_AUDIENCE",
    "first_line",
    "identity_token_for",
    "load_trust_config",
    "prefer_rekor_v1",
    "sign_blob_keyless",
    "signing_errors",
    "verify_blob_keyless",
]

_log = logging.getLogger(__name__)

SIGSTORE_AUDIENCE = "sigstore"  # the `aud` Fulcio expects in an identity token

_MAX_REASON = 200


def load_trust_config(trust_config: Path | None) -> ClientTrustConfig:
    """The trust config in `trust_config`, or public-good Sigstore's (over TUF) if None."""
    if trust_config is None:
        try:
            return ClientTrustConfig.production()
        except (SigstoreError, OSError) as exc:
            raise RelkitError(
                f"cannot fetch the Sigstore public-good trust root: {first_line(exc)}",
                hint="check network access to tuf-repo-cdn.sigstore.dev",
            ) from None
    try:
        return ClientTrustConfig.from_json(trust_config.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read trust config {trust_config}: {exc.strerror}") from None
    except (SigstoreError, ValueError) as exc:
        raise UsageError(
            f"trust config {trust_config} is not a Sigstore ClientTrustConfig: {first_line(exc)}",
            hint="expected JSON with mediaType application/vnd.dev.sigstore.clienttrustconfig"
            ".v0.1+json, a trustedRoot and a signingConfig",
        ) from None


def prefer_rekor_v1(config: ClientTrustConfig) -> ClientTrustConfig:
    """Log to a Rekor v1 instance when the signing config offers one.

    Rekor v1 entries verify with every cosign release that reads Sigstore bundles (2.4+);
    Rekor v2 entries need a much newer one. Self-hosters run whatever cosign they have, so
    v1 while it lasts.
    """
    config.force_tlog_version = 1
    try:
        config.signing_config  # noqa: B018 - raises when no v1 log is configured
    except SigstoreError:
        config.force_tlog_version = None
    return config


def _hashed(data: bytes | Path) -> Hashed:
    # Pre-hash so large files are streamed rather than read into memory.
    return Hashed(algorithm=HashAlgorithm.SHA2_256, digest=sha256_of(data))


def first_line(exc: BaseException, secret: str = "") -> str:
    # Some sigstore errors carry no text and keep the reason (an HTTP status) in the cause.
    text = str(exc).strip() or str(exc.__cause__ or "").strip() or type(exc).__name__
    # Mask before cutting, so a cut can never leave part of the secret behind.
    line = _masked(text, secret).splitlines()[0]
    # Some reasons embed whole reprs (inclusion proofs, checkpoints); keep the line readable.
    return line if len(line) <= _MAX_REASON else line[: _MAX_REASON - 3] + "..."


def _masked(text: str, secret: str) -> str:
    return text.replace(secret, "***") if secret else text


def identity_token_for(token_text: str | None, action: str) -> IdentityToken:
    """The OIDC token that `action` ('keyless signing', …) signs with, or a one-line error."""
    if not token_text:
        raise RelkitError(
            f"{action} needs an OIDC identity token, and none was found",
            hint="in GitHub Actions grant the job 'permissions: id-token: write'; "
            "elsewhere use signing.mode = 'key'",
        )
    try:
        return IdentityToken(token_text, client_id=SIGSTORE_AUDIENCE)
    except SigstoreError as exc:
        raise RelkitError(
            f"the OIDC identity token was refused: {first_line(exc, token_text)}",
            hint="the token must be a JWT for audience 'sigstore' that has not expired",
        ) from None


@contextmanager
def signing_errors(
    secret: str | None, action: str, *, fulcio_hint: str | None = None
) -> Iterator[None]:
    """What sigstore-python raises while signing, as one-line errors with `secret` masked."""
    secret = secret or ""
    try:
        yield
    except (ExpiredIdentity, ExpiredCertificate):
        raise RelkitError(
            "the OIDC identity token expired before signing finished",
            hint="request a fresh token and retry",
        ) from None
    except FulcioClientError as exc:
        raise RelkitError(
            f"Fulcio refused the signing certificate: {first_line(exc, secret)}", hint=fulcio_hint
        ) from None
    except RekorClientError as exc:
        raise RelkitError(f"Rekor refused the log entry: {first_line(exc, secret)}") from None
    except (SigstoreError, OSError) as exc:
        raise RelkitError(
            f"{action} failed: {first_line(exc, secret)}",
            hint="check network access to the Fulcio and Rekor of the trust config",
        ) from None


def sign_blob_keyless(
    data: bytes | Path, *, identity_token: str | None, trust_config: Path | None
) -> str:
    """Sign `data` with Sigstore; return the bundle JSON (v0.3) to write as `X.sigstore.json`.

    `identity_token` is a raw OIDC JWT with audience `sigstore`; callers that want the
    ambient GitHub Actions token fetch it first (`relkit.signing.ambient`).
    """
    token = identity_token_for(identity_token, "keyless signing")
    config = prefer_rekor_v1(load_trust_config(trust_config))
    with signing_errors(
        identity_token,
        "keyless signing",
        fulcio_hint="check the token's issuer and audience are accepted by this Fulcio",
    ):
        context = SigningContext.from_trust_config(config)
        with context.signer(token, cache=True) as signer:
            bundle = signer.sign_artifact(_hashed(data))
    _log.info("signed with Sigstore as %s (issuer %s)", token.identity, token.issuer)
    return bundle.to_json()


class _IdentityRegexp:
    """Match the certificate identity with a regexp, like cosign's --certificate-identity-regexp.

    Like cosign (Go's regexp.MatchString) the search is unanchored: anchor with ^...$.
    """

    def __init__(self, pattern: str, issuer: str) -> None:
        self._pattern = re.compile(pattern)
        self._issuer = OIDCIssuer(issuer)

    def verify(self, cert: Certificate) -> None:
        self._issuer.verify(cert)
        try:
            identities = read_certificate(cert).identities
        except RelkitError as exc:
            raise VerificationError(exc.message) from None
        if not any(self._pattern.search(san) for san in identities):
            raise VerificationError(
                f"certificate identity does not match {self._pattern.pattern!r}"
            )


def _parse_bundle(bundle_json: str | bytes) -> tuple[Bundle, dict[str, Any]]:
    hint = "pass the NAME.sigstore.json written next to the signed file"
    try:
        raw = load_json(bundle_json, source="the Sigstore bundle")  # bounded depth/size
        bundle = Bundle.from_json(bundle_json)
    except DocumentError as exc:
        # Too big, too deep or not JSON: still "malformed", still the loader's exit code.
        raise DocumentError(
            f"the Sigstore bundle is malformed ({exc.message})", hint=hint
        ) from None
    except (SigstoreError, ValueError) as exc:
        raise RelkitError(
            f"the Sigstore bundle is malformed: {first_line(exc)}", hint=hint
        ) from None
    return bundle, raw


def verify_blob_keyless(
    data: bytes | Path,
    bundle_json: str | bytes,
    *,
    identity: str | None = None,
    identity_regexp: str | None = None,
    issuer: str,
    trust_config: Path | None = None,
    source: SourceRequirement | None = None,
) -> VerifiedIdentity:
    """Verify a Sigstore bundle over `data` for an expected signer; raise `RelkitError` if not.

    Give exactly one of `identity` (exact certificate identity) or `identity_regexp`.
    Checks the certificate chain to the trust root, its SCT, the Rekor entry and inclusion
    proof, the identity and issuer, the signature over `data`, and with `source` the
    repository and ref of the run the certificate was issued to. What is returned is read
    from the (now trusted) certificate, not echoed from the expectations.
    """
    if (identity is None) == (identity_regexp is None):
        raise UsageError("give exactly one of the expected identity or identity regexp")
    if identity_regexp is not None:
        try:
            policy: VerificationPolicy = _IdentityRegexp(identity_regexp, issuer)
        except re.error as exc:
            raise UsageError(f"identity regexp {identity_regexp!r} is invalid: {exc}") from None
    else:
        assert identity is not None
        policy = Identity(identity=identity, issuer=issuer)
    bundle, raw = _parse_bundle(bundle_json)
    verifier = Verifier(trusted_root=load_trust_config(trust_config).trusted_root)
    try:
        verifier.verify_artifact(_hashed(data), bundle, policy)
    except VerificationError as exc:
        raise RelkitError(
            f"Sigstore bundle verification failed: {first_line(exc)}",
            hint=_verification_hint(str(exc)),
        ) from None
    except SigstoreError as exc:
        raise RelkitError(f"Sigstore bundle verification failed: {first_line(exc)}") from None
    facts = read_certificate(bundle.signing_certificate)
    if facts.issuer != issuer:
        # sigstore-python checks the v1 issuer extension; the v2 one must agree too.
        raise RelkitError(
            f"Sigstore bundle verification failed: the certificate's issuer is {facts.issuer},"
            f" not {issuer}",
            hint="the signing certificate was issued for a different OIDC issuer",
        )
    if source is not None:
        check_source(facts, source)
    entry = raw["verificationMaterial"]["tlogEntries"][0]
    return VerifiedIdentity(
        identity=_matching_identity(facts, identity, identity_regexp),
        issuer=facts.issuer,
        log_index=int(entry["logIndex"]),
        integrated_time=int(entry.get("integratedTime", 0)),
        source_repository=facts.source_repository,
        source_ref=facts.source_ref,
    )


def _matching_identity(
    facts: CertificateFacts, identity: str | None, identity_regexp: str | None
) -> str:
    """The certificate's SAN that the policy accepted (verification guarantees one)."""
    if identity is not None:
        return next(san for san in facts.identities if san == identity)
    assert identity_regexp is not None
    pattern = re.compile(identity_regexp)
    return next(san for san in facts.identities if pattern.search(san))


def _verification_hint(reason: str) -> str:
    lowered = reason.lower()
    if "oidcissuer" in lowered:
        return "the signing certificate was issued for a different OIDC issuer"
    if "sans do not match" in lowered or "identity does not match" in lowered:
        return "the file was signed by a different identity than the one expected"
    if "signature is invalid" in lowered or "digest mismatch" in lowered:
        return "the file was changed after signing"
    return "the bundle or the file was changed, or it comes from another Sigstore instance"
