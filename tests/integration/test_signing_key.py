"""Key-based signing: relkit signs, relkit AND openssl verify; every bad input is refused."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from relkit.core.config import SigningConfig
from relkit.core.errors import ConfigError, RelkitError
from relkit.signing.facade import (
    KEY_SUFFIX,
    generate_key_pair,
    public_key_pem,
    sign_blob_with_key,
    sign_file,
    signer_for,
    verify_blob_with_key,
)
from tests.fixtures.sigstore import SigningKeyPair

BLOB = b"relkit bundle bytes\n" * 1000


def _openssl_verify(tmp_path: Path, public_pem: Path, sig_b64: bytes, blob: Path) -> bool:
    """Independent check: openssl over the base64-decoded DER signature."""
    der = tmp_path / "sig.der"
    der.write_bytes(base64.b64decode(sig_b64))
    result = subprocess.run(
        [
            "openssl",
            "dgst",
            "-sha256",
            "-verify",
            str(public_pem),
            "-signature",
            str(der),
            str(blob),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode == 0 and "Verified OK" in result.stdout


def _pem(key: object, password: bytes | None = None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    assert isinstance(
        key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def test_signature_verifies_with_relkit_and_openssl(
    tmp_path: Path, signing_key_pair: SigningKeyPair
) -> None:
    blob = tmp_path / "bundle.tar.gz"
    blob.write_bytes(BLOB)
    signature = sign_blob_with_key(blob, signing_key_pair.private_pem, None)

    # cosign's .sig format: one base64 line of an ASN.1 DER ECDSA signature, no newline.
    assert b"\n" not in signature
    assert base64.b64decode(signature)[0] == 0x30  # DER SEQUENCE
    verify_blob_with_key(blob, signature, signing_key_pair.public_pem)
    verify_blob_with_key(BLOB, signature.decode() + "\n", signing_key_pair.public_pem)
    assert _openssl_verify(tmp_path, signing_key_pair.public_path, signature, blob)


def test_openssl_made_key_and_signature_interoperate(tmp_path: Path) -> None:
    """A key made by openssl (SEC1 'EC PRIVATE KEY') signs; openssl's own signature verifies."""
    key = tmp_path / "ec.pem"
    pub = tmp_path / "ec.pub"
    subprocess.run(
        ["openssl", "ecparam", "-genkey", "-name", "prime256v1", "-noout", "-out", str(key)],
        check=True,
    )
    subprocess.run(
        ["openssl", "ec", "-in", str(key), "-pubout", "-out", str(pub)],
        check=True,
        capture_output=True,
    )
    blob = tmp_path / "blob"
    blob.write_bytes(BLOB)

    ours = sign_blob_with_key(blob, key.read_bytes(), None)
    assert _openssl_verify(tmp_path, pub, ours, blob)

    theirs = tmp_path / "openssl.der"
    subprocess.run(
        ["openssl", "dgst", "-sha256", "-sign", str(key), "-out", str(theirs), str(blob)],
        check=True,
    )
    verify_blob_with_key(blob, base64.b64encode(theirs.read_bytes()), pub.read_bytes())
    assert public_key_pem(key.read_bytes(), None) == pub.read_bytes()


def test_tampered_blob_is_rejected(tmp_path: Path, signing_key_pair: SigningKeyPair) -> None:
    signature = sign_blob_with_key(BLOB, signing_key_pair.private_pem, None)
    tampered = tmp_path / "tampered"
    tampered.write_bytes(BLOB + b"x")
    with pytest.raises(RelkitError, match="signature does not match"):
        verify_blob_with_key(tampered, signature, signing_key_pair.public_pem)
    assert not _openssl_verify(tmp_path, signing_key_pair.public_path, signature, tampered)


def test_wrong_key_is_rejected(tmp_path: Path, signing_key_pair: SigningKeyPair) -> None:
    signature = sign_blob_with_key(BLOB, signing_key_pair.private_pem, None)
    _, other_public = generate_key_pair()
    with pytest.raises(RelkitError, match="signature does not match") as info:
        verify_blob_with_key(BLOB, signature, other_public)
    assert info.value.hint and "another key" in info.value.hint


def test_garbage_signature_and_public_key_are_refused(signing_key_pair: SigningKeyPair) -> None:
    with pytest.raises(RelkitError, match="not valid base64"):
        verify_blob_with_key(BLOB, "not base64 !!", signing_key_pair.public_pem)
    with pytest.raises(RelkitError, match="signature does not match"):
        verify_blob_with_key(BLOB, base64.b64encode(b"0" * 70), signing_key_pair.public_pem)
    with pytest.raises(RelkitError, match="not a PEM public key"):
        verify_blob_with_key(BLOB, b"AAAA", b"-----BEGIN PUBLIC KEY-----\nxx\n")


def test_encrypted_key_with_and_without_password(tmp_path: Path) -> None:
    password = b"correct horse battery staple"
    private_pem, public_pem = generate_key_pair(password)
    assert b"ENCRYPTED PRIVATE KEY" in private_pem

    signature = sign_blob_with_key(BLOB, private_pem, password)
    verify_blob_with_key(BLOB, signature, public_pem)
    assert public_key_pem(private_pem, password) == public_pem

    with pytest.raises(RelkitError, match="encrypted but no password") as missing:
        sign_blob_with_key(BLOB, private_pem, None)
    with pytest.raises(RelkitError, match="wrong password") as wrong:
        sign_blob_with_key(BLOB, private_pem, b"wrong password value")
    plain, _ = generate_key_pair()
    with pytest.raises(RelkitError, match="key is not encrypted"):
        sign_blob_with_key(BLOB, plain, password)
    for error in (missing.value, wrong.value):
        assert "correct horse" not in str(error)
        assert "wrong password value" not in str(error)


@pytest.mark.parametrize(
    ("key", "described"),
    [
        (ec.generate_private_key(ec.SECP384R1()), "curve secp384r1"),
        (ec.generate_private_key(ec.SECP256K1()), "curve secp256k1"),
        (rsa.generate_private_key(public_exponent=65537, key_size=2048), "RSA key (2048 bits)"),
        (ed25519.Ed25519PrivateKey.generate(), "Ed25519 key"),
    ],
    ids=["p384", "secp256k1", "rsa", "ed25519"],
)
def test_non_p256_keys_are_refused_without_leaking_them(key: object, described: str) -> None:
    pem = _pem(key)
    with pytest.raises(RelkitError, match="ECDSA P-256 only") as info:
        sign_blob_with_key(BLOB, pem, None)
    text = str(info.value)
    assert described in text
    _assert_no_key_material(text, pem)


def _assert_no_key_material(text: str, pem: bytes) -> None:
    body = b"".join(line for line in pem.splitlines() if not line.startswith(b"-----"))
    assert "BEGIN" not in text
    # No 16-character run of the base64 key body appears in the message.
    for start in range(0, len(body) - 16, 8):
        assert body[start : start + 16].decode() not in text


def test_malformed_key_error_does_not_echo_the_key() -> None:
    pem = (
        b"-----BEGIN PRIVATE KEY-----\n"
        b"U0VDUkVUU0VDUkVUU0VDUkVUU0VDUkVUU0VDUkVU\n"
        b"-----END PRIVATE KEY-----\n"
    )
    with pytest.raises(RelkitError, match="not a PEM private key") as info:
        sign_blob_with_key(BLOB, pem, None)
    _assert_no_key_material(str(info.value), pem)
    with pytest.raises(RelkitError, match="cosign's own encrypted format"):
        sign_blob_with_key(BLOB, b"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n", None)


def test_sign_file_with_key_from_env(tmp_path: Path, signing_key_pair: SigningKeyPair) -> None:
    blob = tmp_path / "shop-1.2.3.tar.gz"
    blob.write_bytes(BLOB)
    # CI secrets often hold the PEM with literal "\n" sequences; both forms must work.
    flattened = signing_key_pair.private_pem.decode().replace("\n", "\\n")
    env = {"RELKIT_SIGNING_KEY": flattened}

    produced = sign_file(blob, SigningConfig(mode="key"), env=env)

    assert produced == tmp_path / "shop-1.2.3.tar.gz.sig"
    assert produced.suffix == KEY_SUFFIX
    verify_blob_with_key(blob, produced.read_bytes(), signing_key_pair.public_pem)
    # Only the signature was added: no temporary file is left behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "keys",
        "shop-1.2.3.tar.gz",
        "shop-1.2.3.tar.gz.sig",
    ]
    assert _openssl_verify(tmp_path, signing_key_pair.public_path, produced.read_bytes(), blob)


def test_sign_file_with_encrypted_key_file(tmp_path: Path) -> None:
    private_pem, public_pem = generate_key_pair(b"s3cret-pass")
    key_file = tmp_path / "release.key"
    key_file.write_bytes(private_pem)
    blob = tmp_path / "blob"
    blob.write_bytes(BLOB)
    config = SigningConfig(mode="key", key_file=str(key_file), key_password_env="KEY_PASS")

    produced = sign_file(blob, config, env={"KEY_PASS": "s3cret-pass"})

    assert produced is not None
    verify_blob_with_key(blob, produced.read_bytes(), public_pem)
    with pytest.raises(RelkitError, match="encrypted but no password"):
        sign_file(blob, config, env={})


def test_sign_file_failures_name_the_setting(tmp_path: Path) -> None:
    blob = tmp_path / "blob"
    blob.write_bytes(BLOB)
    with pytest.raises(RelkitError, match="RELKIT_SIGNING_KEY is not set"):
        sign_file(blob, SigningConfig(mode="key"), env={})
    with pytest.raises(ConfigError, match="signing.key_file .*missing.pem: cannot read"):
        sign_file(blob, SigningConfig(mode="key", key_file=str(tmp_path / "missing.pem")), env={})
    with pytest.raises(RelkitError, match="no such file"):
        sign_file(tmp_path / "absent", SigningConfig(mode="none"), env={})
    assert sign_file(blob, SigningConfig(mode="none"), env={}) is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blob"]


def test_signer_repr_hides_the_key() -> None:
    private_pem, _ = generate_key_pair(b"pw-value")
    env = {"RELKIT_SIGNING_KEY": private_pem.decode(), "RELKIT_SIGNING_KEY_PASSWORD": "pw-value"}
    signer = signer_for(SigningConfig(mode="key"), env=env)
    assert signer is not None
    _assert_no_key_material(repr(signer), private_pem)
    assert "pw-value" not in repr(signer)


def test_signer_for_checks_the_key_before_anything_is_signed(tmp_path: Path) -> None:
    private_pem, _ = generate_key_pair(b"pass-one")
    env = {"RELKIT_SIGNING_KEY": private_pem.decode(), "RELKIT_SIGNING_KEY_PASSWORD": "pass-two"}
    with pytest.raises(RelkitError, match="wrong password") as info:
        signer_for(SigningConfig(mode="key"), env=env)
    assert "pass-two" not in str(info.value) and "pass-one" not in str(info.value)
    assert list(tmp_path.iterdir()) == []
