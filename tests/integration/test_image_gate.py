"""The signed-image gate on the real registry and the local Sigstore, in both layouts.

Images are signed here with the same libraries relkit uses: cosign v3 layout (DSSE bundles
as referrers) with relkit's attestation signer, cosign v2 layout (`sha256-<hex>.sig` /
`.att` tags with a Rekor SET) from sigstore-python bundles rewritten into cosign's
annotations, as cosign v2 writes them.
"""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from relkit.adapters.oci_referrers import attach_bundle
from relkit.adapters.registry import (
    OCI_MANIFEST,
    Reference,
    RegistryClient,
    digest_of,
    resolve_many,
)
from relkit.cli import build_parser
from relkit.commands._verify_supply import image_gate_lines
from relkit.core.config import BundleConfig, ImagesConfig, RelkitConfig
from relkit.core.errors import RelkitError, UsageError
from relkit.core.model import ImagePin
from relkit.release.plan import build_plan
from relkit.signing.attest import KeylessAttestationSigner
from relkit.signing.cosign_v2 import (
    ANNOTATION_BUNDLE,
    ANNOTATION_CERTIFICATE,
    ANNOTATION_SIGNATURE,
    DSSE_LAYER,
    SIMPLE_SIGNING_LAYER,
)
from relkit.signing.image_gate import check_images
from relkit.signing.keyless import sign_blob_keyless
from relkit.signing.provenance import (
    COSIGN_SIGN_PREDICATE,
    Subject,
    build_source,
    in_toto_statement,
    slsa_provenance,
)
from tests.fixtures.registry import RegistryServer, push_test_image
from tests.fixtures.sigstore import SigstoreServices, TokenFactory

BUILD = ".github/workflows/build.yml"
POLICY = ImagesConfig(
    verify=True,
    identity=f"https://github.com/acme/shop/{BUILD}@refs/heads/main",
    source_repository="acme/shop",
    source_ref="refs/heads/main",
)


def _token(oidc_token: TokenFactory, repo: str = "acme/shop") -> str:
    return oidc_token(repo=repo, ref="refs/heads/main", workflow=BUILD)


def _image(registry: RegistryServer) -> ImagePin:
    reference = f"{registry.host}/gate/{secrets.token_hex(4)}:1.0.0"
    name, _, tag = reference.rpartition(":")
    return ImagePin(reference, push_test_image(registry.host, name.split("/", 1)[1], tag))


def _subject(pin: ImagePin) -> Reference:
    ref = Reference.parse(pin.reference)
    return Reference(ref.registry, ref.repository, None, pin.digest)


def _statements(pin: ImagePin) -> tuple[dict[str, Any], dict[str, Any]]:
    subject = Subject.of(_subject(pin).name, pin.digest)
    source = build_source({}, repository="acme/shop", tag="refs/heads/main", commit="c" * 40)
    return (
        in_toto_statement([subject], COSIGN_SIGN_PREDICATE, {}),
        slsa_provenance([subject], source, relkit_version="0"),
    )


def _sign_v3(pin: ImagePin, token: str, services: SigstoreServices, *, provenance: bool) -> None:
    signature, slsa = _statements(pin)
    wanted = [signature, slsa] if provenance else [signature]
    bundles = KeylessAttestationSigner(token, services.trust_config).sign(wanted)
    with RegistryClient() as client:
        for statement, bundle in zip(wanted, bundles, strict=True):
            attach_bundle(
                client,
                _subject(pin),
                bundle.encode(),
                predicate_type=statement["predicateType"],
                created="2026-11-01T00:00:00Z",
            )


def _rekor_annotation(entry: dict[str, Any]) -> str:
    return json.dumps(
        {
            "SignedEntryTimestamp": entry["inclusionPromise"]["signedEntryTimestamp"],
            "Payload": {
                "body": entry["canonicalizedBody"],
                "integratedTime": int(entry["integratedTime"]),
                "logIndex": int(entry["logIndex"]),
                "logID": base64.b64decode(entry["logId"]["keyId"]).hex(),
            },
        }
    )


def _pem(bundle: dict[str, Any]) -> str:
    der = base64.b64decode(bundle["verificationMaterial"]["certificate"]["rawBytes"])
    return x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM).decode()


def _push_v2(pin: ImagePin, suffix: str, layers: list[tuple[bytes, dict[str, str], str]]) -> None:
    subject = _subject(pin)
    config = b"{}"
    with RegistryClient() as client:
        client.push_blob(subject, config)
        for blob, _, _ in layers:
            client.push_blob(subject, blob)
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": digest_of(config),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": media_type,
                    "digest": digest_of(blob),
                    "size": len(blob),
                    "annotations": annotations,
                }
                for blob, annotations, media_type in layers
            ],
        }
        tag = f"{pin.digest.replace(':', '-')}.{suffix}"
        client.push_manifest(
            Reference(subject.registry, subject.repository, tag),
            json.dumps(manifest).encode(),
            OCI_MANIFEST,
        )


def _sign_v2(
    pin: ImagePin,
    token: str,
    services: SigstoreServices,
    *,
    provenance: bool,
    tamper_set: bool = False,
) -> None:
    payload = json.dumps(
        {
            "critical": {
                "identity": {"docker-reference": _subject(pin).name},
                "image": {"docker-manifest-digest": pin.digest},
                "type": "cosign container image signature",
            },
            "optional": None,
        }
    ).encode()
    bundle = json.loads(
        sign_blob_keyless(payload, identity_token=token, trust_config=services.trust_config)
    )
    entry = bundle["verificationMaterial"]["tlogEntries"][0]
    if tamper_set:
        entry["integratedTime"] = str(int(entry["integratedTime"]) + 1)
    annotations = {
        ANNOTATION_SIGNATURE: bundle["messageSignature"]["signature"],
        ANNOTATION_CERTIFICATE: _pem(bundle),
        ANNOTATION_BUNDLE: _rekor_annotation(entry),
    }
    _push_v2(pin, "sig", [(payload, annotations, SIMPLE_SIGNING_LAYER)])
    if provenance:
        _, slsa = _statements(pin)
        [text] = KeylessAttestationSigner(token, services.trust_config).sign([slsa])
        att = json.loads(text)
        envelope = json.dumps(att["dsseEnvelope"]).encode()
        annotations = {
            ANNOTATION_SIGNATURE: "",
            ANNOTATION_CERTIFICATE: _pem(att),
            ANNOTATION_BUNDLE: _rekor_annotation(att["verificationMaterial"]["tlogEntries"][0]),
        }
        _push_v2(pin, "att", [(envelope, annotations, DSSE_LAYER)])


def _check(pin: ImagePin, services: SigstoreServices, policy: ImagesConfig = POLICY) -> Any:
    with RegistryClient() as client:
        return check_images([pin], policy, client=client, trust_config=services.trust_config)


def _require_provenance() -> ImagesConfig:
    return POLICY.model_copy(update={"require_provenance": True})


def test_cosign_v3_referrers_signature_and_provenance_pass(
    registry: RegistryServer, sigstore_services: SigstoreServices, oidc_token: TokenFactory
) -> None:
    pin = _image(registry)
    _sign_v3(pin, _token(oidc_token), sigstore_services, provenance=True)
    [verdict] = _check(pin, sigstore_services, _require_provenance())
    assert (verdict.layout, verdict.provenance) == ("referrers", True)
    assert verdict.signer == POLICY.identity


def test_cosign_v2_tag_signature_and_attestation_pass(
    registry: RegistryServer, sigstore_services: SigstoreServices, oidc_token: TokenFactory
) -> None:
    pin = _image(registry)
    _sign_v2(pin, _token(oidc_token), sigstore_services, provenance=True)
    [verdict] = _check(pin, sigstore_services, _require_provenance())
    assert (verdict.layout, verdict.provenance) == ("cosign-v2", True)
    assert verdict.issuer == POLICY.issuer


def test_an_unsigned_image_fails_naming_it(
    registry: RegistryServer, sigstore_services: SigstoreServices
) -> None:
    pin = _image(registry)
    with pytest.raises(RelkitError) as caught:
        _check(pin, sigstore_services)
    assert str(caught.value).startswith(f"image {pin.pinned} is not signed")
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("layout", ["v3", "v2"])
def test_a_foreign_signature_fails(
    layout: str,
    registry: RegistryServer,
    sigstore_services: SigstoreServices,
    oidc_token: TokenFactory,
) -> None:
    pin = _image(registry)
    token = _token(oidc_token, repo="evil/shop")
    if layout == "v3":
        _sign_v3(pin, token, sigstore_services, provenance=False)
    else:
        _sign_v2(pin, token, sigstore_services, provenance=False)
    with pytest.raises(RelkitError, match=f"image {pin.pinned} is not signed") as caught:
        _check(pin, sigstore_services)
    assert "\n" not in str(caught.value)
    # The reason names what differs: the signer, not a format problem.
    assert "evil/shop" in str(caught.value) or "identity" in str(caught.value).split(":", 1)[1]


def test_a_forged_signed_entry_timestamp_fails(
    registry: RegistryServer, sigstore_services: SigstoreServices, oidc_token: TokenFactory
) -> None:
    pin = _image(registry)
    _sign_v2(pin, _token(oidc_token), sigstore_services, provenance=False, tamper_set=True)
    with pytest.raises(RelkitError, match="signed entry timestamp does not verify"):
        _check(pin, sigstore_services)


def test_missing_provenance_fails_when_required(
    registry: RegistryServer, sigstore_services: SigstoreServices, oidc_token: TokenFactory
) -> None:
    pin = _image(registry)
    _sign_v3(pin, _token(oidc_token), sigstore_services, provenance=False)
    assert _check(pin, sigstore_services)[0].provenance is False
    with pytest.raises(RelkitError, match="has no SLSA provenance"):
        _check(pin, sigstore_services, _require_provenance())


def test_the_policy_needs_one_identity() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        ImagesConfig(verify=True)


def test_the_release_plan_refuses_an_unsigned_image_and_accepts_a_signed_one(
    make_repo: Any,
    registry: RegistryServer,
    sigstore_services: SigstoreServices,
    oidc_token: TokenFactory,
) -> None:
    signed, unsigned = _image(registry), _image(registry)
    _sign_v3(signed, _token(oidc_token), sigstore_services, provenance=False)
    compose = (
        "services:\n"
        f"  web:\n    image: {signed.reference}\n"
        f"  worker:\n    image: {unsigned.reference}\n"
    )
    repo = make_repo(
        [
            {"commit": "feat: app", "files": {"bundles/app/compose.yaml": compose}},
            {"tag": "v1.0.0", "annotated": True, "message": "v1.0.0"},
        ]
    )
    config = RelkitConfig(bundles=[BundleConfig(name="app", path="bundles/app")], images=POLICY)
    env = {"RELKIT_SIGSTORE_TRUST_CONFIG": str(sigstore_services.trust_config)}
    with pytest.raises(RelkitError, match=f"image {unsigned.pinned} is not signed"):
        build_plan(repo.path, config, "v1.0.0", env=env, resolver=resolve_many)
    _sign_v2(unsigned, _token(oidc_token), sigstore_services, provenance=False)
    plan = build_plan(repo.path, config, "v1.0.0", env=env, resolver=resolve_many)
    assert {pin.digest for pin in plan.images} == {signed.digest, unsigned.digest}


def test_verify_images_option_checks_every_pin(
    registry: RegistryServer, sigstore_services: SigstoreServices, oidc_token: TokenFactory
) -> None:
    signed, unsigned = _image(registry), _image(registry)
    token = oidc_token(repo="acme/shop", ref="refs/heads/main", workflow=BUILD)
    _sign_v2(signed, token, sigstore_services, provenance=False)
    argv = ["verify", "b.tar.gz", "--repo", "acme/shop", "--images"]
    argv += ["--trust-config", str(sigstore_services.trust_config)]
    args = build_parser(argv).parse_args(argv)
    [line] = image_gate_lines(args, (signed.pinned,))
    assert line == f"image: {signed.pinned} signed by {POLICY.identity} (cosign-v2)"
    with pytest.raises(RelkitError, match=f"image {unsigned.pinned} is not signed"):
        image_gate_lines(args, (signed.pinned, unsigned.pinned))
    without_repo = ["verify", "b.tar.gz", "--key", "k.pem", "--images"]
    with pytest.raises(UsageError, match="--images needs the images' signer"):
        image_gate_lines(build_parser(without_repo).parse_args(without_repo), (signed.pinned,))
