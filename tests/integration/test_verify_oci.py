"""`relkit verify oci://…` for a chart (signature + provenance referrers) and `--images`."""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest

from relkit.adapters.helm import HELM_CHART_LAYER, HELM_CONFIG
from relkit.adapters.oci_referrers import attach_bundle
from relkit.adapters.registry import OCI_MANIFEST, Reference, RegistryClient, digest_of
from relkit.cli import main
from relkit.signing.attest import KeylessAttestationSigner
from relkit.signing.provenance import (
    COSIGN_SIGN_PREDICATE,
    Subject,
    build_source,
    in_toto_statement,
    slsa_provenance,
)
from tests.fixtures.registry import RegistryServer
from tests.fixtures.sigstore import SigstoreServices, TokenFactory

COMMIT = "c" * 40


def _push_chart(registry: RegistryServer) -> tuple[str, Reference]:
    """A Helm-shaped chart artifact (Helm's config and layer media types)."""
    repository = f"charts/{secrets.token_hex(4)}/shop"
    ref = Reference(registry.host, repository, "1.2.3")
    config = json.dumps({"name": "shop", "version": "1.2.3", "apiVersion": "v2"}).encode()
    layer = b"chart bytes " + secrets.token_bytes(8)
    with RegistryClient() as client:
        client.push_blob(ref, config)
        client.push_blob(ref, layer)
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": HELM_CONFIG, "digest": digest_of(config), "size": len(config)},
            "layers": [
                {"mediaType": HELM_CHART_LAYER, "digest": digest_of(layer), "size": len(layer)}
            ],
        }
        digest = client.push_manifest(ref, json.dumps(manifest).encode(), OCI_MANIFEST)
    return f"oci://{ref}", Reference(registry.host, repository, None, digest)


def _attach(
    subject: Reference, token: str, services: SigstoreServices, *, about: str | None = None
) -> None:
    assert subject.digest is not None
    named = Subject.of(subject.name, about or subject.digest)
    source = build_source(
        {
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKFLOW_REF": "acme/shop/.github/workflows/release.yml@refs/tags/v1.2.3",
            "GITHUB_RUN_ID": "7",
            "GITHUB_REPOSITORY": "acme/shop",
            "GITHUB_REF": "refs/tags/v1.2.3",
            "GITHUB_SHA": COMMIT,
        },
        repository="acme/shop",
        tag="v1.2.3",
        commit=COMMIT,
    )
    statements = [
        in_toto_statement([named], COSIGN_SIGN_PREDICATE, {}),
        slsa_provenance([named], source, relkit_version="0"),
    ]
    bundles = KeylessAttestationSigner(token, services.trust_config).sign(statements)
    with RegistryClient() as client:
        for statement, bundle in zip(statements, bundles, strict=True):
            attach_bundle(
                client,
                subject,
                bundle.encode(),
                predicate_type=statement["predicateType"],
                created="2026-11-01T00:00:00Z",
            )


def _verify(url: str, services: SigstoreServices, *extra: str) -> list[str]:
    return [url, "--trust-config", str(services.trust_config), *extra]


def test_a_chart_verifies_from_the_registry(
    registry: RegistryServer,
    sigstore_services: SigstoreServices,
    oidc_token: TokenFactory,
    capsys: Any,
) -> None:
    url, subject = _push_chart(registry)
    _attach(subject, oidc_token(), sigstore_services)
    args = _verify(url, sigstore_services, "--repo", "acme/shop", "--tag", "v1.2.3")
    assert main(["verify", *args]) == 0
    out = capsys.readouterr().out
    assert "signature: signed by https://github.com/acme/shop/.github/workflows/release.yml" in out
    assert "run in https://github.com/acme/shop for refs/tags/v1.2.3" in out
    assert (
        f"provenance: source https://github.com/acme/shop ref refs/tags/v1.2.3 commit {COMMIT}"
        in out
    )
    assert "not checked:" in out


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("unsigned", "has no signature attached"),
        ("other-repo", "no valid signature"),
        ("other-digest", "about other digests"),
    ],
)
def test_a_chart_that_does_not_verify_is_refused_in_one_line(
    case: str,
    expected: str,
    registry: RegistryServer,
    sigstore_services: SigstoreServices,
    oidc_token: TokenFactory,
    capsys: Any,
) -> None:
    url, subject = _push_chart(registry)
    if case == "other-repo":
        _attach(subject, oidc_token(repo="evil/shop"), sigstore_services)
    elif case == "other-digest":
        _attach(subject, oidc_token(), sigstore_services, about="sha256:" + "0" * 64)
    assert main(["verify", *_verify(url, sigstore_services, "--repo", "acme/shop")]) == 1
    err = capsys.readouterr().err
    assert expected in err
    assert len([line for line in err.splitlines() if line.startswith("relkit: error")]) == 1
