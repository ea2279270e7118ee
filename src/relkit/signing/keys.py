"""Key-based signing: ECDSA P-256 over SHA-256, the format `cosign sign-blob --key` writes.

A `.sig` file holds the base64 of the ASN.1 DER ECDSA signature, with no trailing newline,
so `cosign verify-blob --key pub.pem --signature X.sig X` and
`openssl dgst -sha256 -verify pub.pem -signature <(base64 -d X.sig) X` both accept it.

Keys are standard PEM (PKCS#8 or SEC1 "EC PRIVATE KEY", optionally encrypted). Cosign's own
"ENCRYPTED SIGSTORE PRIVATE KEY" format (scrypt + NaCl secretbox) is refused with a hint:
the `cryptography` package cannot open it and we do not want a second crypto stack.

Key material and passwords never reach an error message: every error below is built from
fixed text, never from the key bytes or from the exception a parser raised over them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

from relkit.core.errors import RelkitError

__all__ = [
    "generate_key_pair",
    "public_key_pem",
    "sha256_of",
    "sign_blob_with_key",
    "verify_blob_with_key",
]

_CHUNK = 1 << 20
_P256_HINT = (
    "create one with: openssl ecparam -genkey -name prime256v1 -noout"
    " | openssl pkcs8 -topk8 -nocrypt"
)


def sha256_of(data: bytes | Path) -> bytes:
    """SHA-256 of bytes, or of a file read in chunks (bundles can be large)."""
    if isinstance(data, bytes):
        return hashlib.sha256(data).digest()
    digest = hashlib.sha256()
    try:
        with data.open("rb") as handle:
            for chunk in iter(lambda: handle.read(_CHUNK), b""):
                digest.update(chunk)
    except OSError as exc:
        raise RelkitError(f"cannot read {data}: {exc.strerror}") from None
    return digest.digest()


def _load_private_key(private_key_pem: bytes, password: bytes | None) -> ec.EllipticCurvePrivateKey:
    if b"SIGSTORE PRIVATE KEY" in private_key_pem:
        raise RelkitError(
            "signing key is in cosign's own encrypted format, which relkit cannot read",
            hint="use a standard PEM EC P-256 key (PKCS#8); cosign verify-blob --key accepts "
            "its public half",
        )
    try:
        key = serialization.load_pem_private_key(private_key_pem, password=password)
    except TypeError:
        # cryptography raises TypeError both for "encrypted but no password" and for
        # "password given but the key is not encrypted"; tell them apart by the PEM header.
        if password is None:
            raise RelkitError(
                "signing key is encrypted but no password was given",
                hint="set the password environment variable (signing.key_password_env)",
            ) from None
        raise RelkitError(
            "a signing key password was given but the key is not encrypted",
            hint="unset the password environment variable or encrypt the key",
        ) from None
    except ValueError:
        # Wrong password and malformed PEM both land here; cryptography cannot say which.
        if password is not None:
            raise RelkitError(
                "cannot load the signing key: wrong password or not a PEM private key",
                hint="check the key password",
            ) from None
        raise RelkitError(
            "cannot load the signing key: not a PEM private key",
            hint="expected a PEM EC P-256 private key (PKCS#8 or SEC1)",
        ) from None
    except UnsupportedAlgorithm:
        raise RelkitError("signing key uses an unsupported algorithm", hint=_P256_HINT) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise RelkitError(
            f"signing key is {_describe(key)}, but relkit signs with ECDSA P-256 only",
            hint=_P256_HINT,
        )
    return key


def _load_public_key(public_key_pem: bytes) -> ec.EllipticCurvePublicKey:
    try:
        key = serialization.load_pem_public_key(public_key_pem)
    except (ValueError, UnsupportedAlgorithm):
        raise RelkitError(
            "cannot load the public key: not a PEM public key",
            hint="expected -----BEGIN PUBLIC KEY----- (e.g. from: relkit or openssl ec -pubout)",
        ) from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise RelkitError(
            f"public key is {_describe(key)}, but relkit verifies ECDSA P-256 only",
            hint="use the public half of the P-256 signing key",
        )
    return key


def _describe(key: object) -> str:
    """A safe, key-free description of a key's type for error messages."""
    curve = getattr(key, "curve", None)
    if curve is not None:
        return f"an EC key on curve {curve.name}"
    size = getattr(key, "key_size", None)
    kind = type(key).__name__.lstrip("_").replace("PrivateKey", "").replace("PublicKey", "")
    return f"a {kind} key" + (f" ({size} bits)" if size else "")


def sign_blob_with_key(data: bytes | Path, private_key_pem: bytes, password: bytes | None) -> bytes:
    """Sign `data` (bytes or a file); return the base64 DER signature (a cosign `.sig`)."""
    key = _load_private_key(private_key_pem, password)
    digest = sha256_of(data)
    signature = key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
    return base64.b64encode(signature)


def verify_blob_with_key(
    data: bytes | Path, signature_b64: bytes | str, public_key_pem: bytes
) -> None:
    """Check a cosign-style base64 signature over `data`; raise `RelkitError` if it fails."""
    key = _load_public_key(public_key_pem)
    raw = (
        signature_b64.encode("ascii", "replace")
        if isinstance(signature_b64, str)
        else signature_b64
    )
    try:
        signature = base64.b64decode(b"".join(raw.split()), validate=True)
    except (binascii.Error, ValueError):
        raise RelkitError(
            "signature is not valid base64", hint="pass the .sig file written by relkit or cosign"
        ) from None
    try:
        key.verify(signature, sha256_of(data), ec.ECDSA(utils.Prehashed(hashes.SHA256())))
    except InvalidSignature:
        raise RelkitError(
            "signature does not match the data and public key",
            hint="the file was changed after signing, or it was signed with another key",
        ) from None


def public_key_pem(private_key_pem: bytes, password: bytes | None) -> bytes:
    """The PEM (SubjectPublicKeyInfo) public half of a P-256 private key."""
    key = _load_private_key(private_key_pem, password)
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def generate_key_pair(password: bytes | None = None) -> tuple[bytes, bytes]:
    """A fresh P-256 key pair as (PKCS#8 private PEM, public PEM); encrypted if `password`."""
    key = ec.generate_private_key(ec.SECP256R1())
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public
