"""DSSE attestations in Sigstore bundles: keyless against the local Sigstore, key mode.

Independent checks: sigstore-js verifies the keyless bundles; openssl verifies the key-mode
signature over the DSSE PAE (rebuilt here from the DSSE spec, as a verifier would).
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from relkit.core.errors import RelkitError
from relkit.signing.attest import (
    KeyAttestationSigner,
    KeylessAttestationSigner,
    identity_policy,
    statement_bytes,
    verify_attestation_keyless,
    verify_attestation_with_key,
)
from relkit.signing.identity import GITHUB_ACTIONS_ISSUER, github_source
from relkit.signing.keys import generate_key_pair
from relkit.signing.provenance import (
    IN_TOTO_PAYLOAD_TYPE,
    Subject,
    build_source,
    slsa_provenance,
)
from tests.fixtures.sigstore import SigningKeyPair, SigstoreServices, TokenFactory
from tests.schemas import slsa_errors

IDENTITY = "https://github.com/acme/shop/.github/workflows/release.yml@refs/tags/v1.2.3"


def _statement() -> dict[str, object]:
    source = build_source({}, repository="acme/shop", tag="v1.2.3", commit="c" * 40)
    subjects = [Subject("shop-1.2.3.tgz", hashlib.sha256(b"chart").hexdigest())]
    return slsa_provenance(subjects, source, relkit_version="0.1.0")


def _pae(payload_type: str, payload: bytes) -> bytes:
    # DSSE v1 PAE, written out from the spec to check relkit's signature independently.
    kind = payload_type.encode()
    return b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(payload), payload)


def test_keyless_attestation_verifies_with_relkit_and_sigstore_js(
    sigstore_services: SigstoreServices, oidc_token: TokenFactory, tmp_path: Path
) -> None:
    statement = _statement()
    signer = KeylessAttestationSigner(oidc_token(), sigstore_services.trust_config)
    [bundle_json] = signer.sign([statement])
    bundle = json.loads(bundle_json)
    assert bundle["mediaType"] == "application/vnd.dev.sigstore.bundle.v0.3+json"
    assert bundle["dsseEnvelope"]["payloadType"] == IN_TOTO_PAYLOAD_TYPE
    assert bundle["verificationMaterial"]["tlogEntries"][0]["kindVersion"]["kind"] == "dsse"

    verified = verify_attestation_keyless(
        bundle_json,
        identity_policy(identity=IDENTITY, identity_regexp=None, issuer=GITHUB_ACTIONS_ISSUER),
        trust_config=sigstore_services.trust_config,
        where="test",
    )
    assert verified.statement == statement
    assert slsa_errors(verified.statement) == []
    assert (verified.signer, verified.issuer) == (IDENTITY, GITHUB_ACTIONS_ISSUER)

    path = tmp_path / "att.sigstore.json"
    path.write_text(bundle_json)
    ok, line = sigstore_services.verify_with_sigstore_js(
        path, None, identity_regexp="^https://github.com/acme/shop/", issuer=GITHUB_ACTIONS_ISSUER
    )
    assert ok, line
    _, identity, payload_type, payload = line.split(" ")
    assert (identity, payload_type) == (IDENTITY, IN_TOTO_PAYLOAD_TYPE)
    assert json.loads(base64.b64decode(payload)) == statement


def test_keyless_attestation_from_a_foreign_identity_is_refused(
    sigstore_services: SigstoreServices, oidc_token: TokenFactory
) -> None:
    signer = KeylessAttestationSigner(oidc_token(repo="evil/shop"), sigstore_services.trust_config)
    [bundle_json] = signer.sign([_statement()])
    with pytest.raises(RelkitError, match="attestation verification failed") as caught:
        verify_attestation_keyless(
            bundle_json,
            identity_policy(identity=IDENTITY, identity_regexp=None, issuer=GITHUB_ACTIONS_ISSUER),
            trust_config=sigstore_services.trust_config,
            where="oci://x",
        )
    assert "\n" not in str(caught.value)


def test_keyless_attestation_with_a_changed_statement_is_refused(
    sigstore_services: SigstoreServices, oidc_token: TokenFactory
) -> None:
    signer = KeylessAttestationSigner(oidc_token(), sigstore_services.trust_config)
    [bundle_json] = signer.sign([_statement()])
    bundle = json.loads(bundle_json)
    forged = dict(_statement(), subject=[{"name": "x", "digest": {"sha256": "0" * 64}}])
    bundle["dsseEnvelope"]["payload"] = base64.b64encode(statement_bytes(forged)).decode()
    with pytest.raises(RelkitError, match="attestation verification failed"):
        verify_attestation_keyless(
            json.dumps(bundle),
            identity_policy(
                identity=None, identity_regexp="^https://", issuer=GITHUB_ACTIONS_ISSUER
            ),
            trust_config=sigstore_services.trust_config,
            where="test",
        )


def test_key_mode_attestation_is_checkable_with_openssl(
    signing_key_pair: SigningKeyPair, tmp_path: Path
) -> None:
    statement = _statement()
    [bundle_json] = KeyAttestationSigner(signing_key_pair.private_pem).sign([statement])
    bundle = json.loads(bundle_json)
    assert "certificate" not in bundle["verificationMaterial"]
    assert bundle["verificationMaterial"]["publicKey"]["hint"]
    envelope = bundle["dsseEnvelope"]
    payload = base64.b64decode(envelope["payload"])
    (tmp_path / "pae.bin").write_bytes(_pae(envelope["payloadType"], payload))
    (tmp_path / "sig.der").write_bytes(base64.b64decode(envelope["signatures"][0]["sig"]))
    result = subprocess.run(
        [
            "openssl",
            "dgst",
            "-sha256",
            "-verify",
            str(signing_key_pair.public_path),
            "-signature",
            str(tmp_path / "sig.der"),
            str(tmp_path / "pae.bin"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Verified OK" in result.stdout

    verified = verify_attestation_with_key(bundle_json, signing_key_pair.public_pem, where="t")
    assert verified.statement == statement


def test_key_mode_attestation_with_another_key_is_refused(
    signing_key_pair: SigningKeyPair,
) -> None:
    [bundle_json] = KeyAttestationSigner(signing_key_pair.private_pem).sign([_statement()])
    _, other_public = generate_key_pair()
    with pytest.raises(RelkitError, match="does not match the public key"):
        verify_attestation_with_key(bundle_json, other_public, where="t")


@pytest.mark.parametrize(
    "text",
    [b"not json", b"[]", b'{"mediaType": "text/plain"}', b"{" + b" " * (5 << 20) + b"}"],
)
def test_hostile_bundles_are_refused_in_one_line(
    text: bytes, signing_key_pair: SigningKeyPair
) -> None:
    with pytest.raises(RelkitError) as caught:
        verify_attestation_with_key(text, signing_key_pair.public_pem, where="bundle")
    assert "\n" not in str(caught.value)


def test_a_message_signature_bundle_is_not_an_attestation(signing_key_pair: SigningKeyPair) -> None:
    bundle = {"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "messageSignature": {}}
    with pytest.raises(RelkitError, match="no DSSE envelope"):
        verify_attestation_with_key(json.dumps(bundle), signing_key_pair.public_pem, where="b")


def test_keyless_attestation_from_another_repository_fails_the_source_check(
    sigstore_services: SigstoreServices, oidc_token: TokenFactory
) -> None:
    # The workflow identity alone would match (a regexp over any repository); Fulcio's
    # source repository extension says who ran it.
    signer = KeylessAttestationSigner(oidc_token(repo="evil/shop"), sigstore_services.trust_config)
    [bundle_json] = signer.sign([_statement()])
    policy = identity_policy(
        identity=None, identity_regexp="^https://github.com/", issuer=GITHUB_ACTIONS_ISSUER
    )
    verified = verify_attestation_keyless(
        bundle_json, policy, trust_config=sigstore_services.trust_config, where="t"
    )
    assert verified.source_repository == "https://github.com/evil/shop"
    with pytest.raises(RelkitError) as caught:
        verify_attestation_keyless(
            bundle_json,
            policy,
            trust_config=sigstore_services.trust_config,
            where="t",
            source=github_source("acme/shop"),
        )
    assert "\n" not in str(caught.value)
