"""Attestations stored through GitHub's attestations API (the fake); failure only warns."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from relkit.adapters.github import GitHubClient
from relkit.release.steps.attest import store_on_github
from relkit.signing.attest import KeylessAttestationSigner
from relkit.signing.provenance import Subject, build_source, slsa_provenance
from tests.fakes.github_server import FakeGitHub
from tests.fixtures.sigstore import SigstoreServices, TokenFactory

DIGEST = hashlib.sha256(b"bundle").hexdigest()


def _bundle(tmp_path: Path, sigstore: SigstoreServices, token: str) -> Path:
    source = build_source({}, repository="acme/shop", tag="v1.2.3", commit="c" * 40)
    statement = slsa_provenance([Subject("shop.tar.gz", DIGEST)], source, relkit_version="0")
    [text] = KeylessAttestationSigner(token, sigstore.trust_config).sign([statement])
    path = tmp_path / "shop-1.2.3.intoto.sigstore.json"
    path.write_text(text)
    return path


def _client(fake: FakeGitHub) -> GitHubClient:
    return GitHubClient(fake.token, api_url=fake.api_url, retries=0, backoff_s=0)


def test_keyless_attestations_are_stored_once(
    fake_github: FakeGitHub,
    sigstore_services: SigstoreServices,
    oidc_token: TokenFactory,
    tmp_path: Path,
) -> None:
    repo = fake_github.create_repo("acme/shop")
    path = _bundle(tmp_path, sigstore_services, oidc_token())
    client = _client(fake_github)
    assert store_on_github(client, "acme/shop", [path]) == []
    assert list(repo.attestations.values()) == [json.loads(path.read_text())]
    assert client.list_attestations("acme/shop", f"sha256:{DIGEST}") == [
        json.loads(path.read_text())
    ]
    # A re-run finds it and stores nothing twice.
    assert store_on_github(client, "acme/shop", [path]) == []
    assert len(repo.attestations) == 1


def test_a_failure_to_store_is_a_one_line_warning(
    fake_github: FakeGitHub,
    sigstore_services: SigstoreServices,
    oidc_token: TokenFactory,
    tmp_path: Path,
) -> None:
    repo = fake_github.create_repo("acme/shop")
    path = _bundle(tmp_path, sigstore_services, oidc_token())
    fake_github.inject("500", "POST", "/repos/acme/shop/attestations")
    warnings = store_on_github(_client(fake_github), "acme/shop", [path])
    assert len(warnings) == 1 and "\n" not in warnings[0]
    assert warnings[0].startswith("warning: shop-1.2.3.intoto.sigstore.json not stored")
    assert repo.attestations == {}
    assert fake_github.token not in warnings[0]


def test_a_bundle_github_refuses_is_a_warning(fake_github: FakeGitHub, tmp_path: Path) -> None:
    fake_github.create_repo("acme/shop")
    path = tmp_path / "x.intoto.sigstore.json"
    path.write_text(json.dumps({"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"}))
    warnings = store_on_github(_client(fake_github), "acme/shop", [path])
    assert len(warnings) == 1
