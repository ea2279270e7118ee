"""`relkit verify oci://…:TAG` reads the tag once: the provenance it prints is about the
manifest it read (a bundle: whose bytes it pulled and verified), even when the registry
moves the tag meanwhile."""

from __future__ import annotations

import http.server
import json
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from relkit.adapters.helm import HELM_CONFIG
from relkit.adapters.oci_referrers import attach_bundle
from relkit.adapters.registry import OCI_MANIFEST, Reference, RegistryClient, digest_of
from relkit.bundle.publish import publish_bundle
from relkit.cli import main
from relkit.signing.attest import KeyAttestationSigner
from relkit.signing.provenance import (
    COSIGN_SIGN_PREDICATE,
    Subject,
    build_source,
    in_toto_statement,
    slsa_provenance,
)
from tests.fixtures.registry import RegistryServer
from tests.fixtures.sigstore import SigningKeyPair
from tests.integration.test_bundle import _config, _key_signing, _plan, _project, _push_images

REPOSITORY = "it/pinned/acme"
TAG = "1.2.0"
PULLED_COMMIT = "a" * 40
OTHER_COMMIT = "b" * 40


def _attest(subject: Reference, commit: str, keys: SigningKeyPair) -> None:
    """Key-signed signature + SLSA provenance referrers naming `subject`'s digest."""
    assert subject.digest is not None
    named = Subject.of(subject.name, subject.digest)
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKFLOW_REF": "acme/shop/.github/workflows/release.yml@refs/tags/v1.2.0",
        "GITHUB_RUN_ID": "7",
        "GITHUB_REPOSITORY": "acme/shop",
        "GITHUB_REF": "refs/tags/v1.2.0",
        "GITHUB_SHA": commit,
    }
    source = build_source(env, repository="acme/shop", tag="v1.2.0", commit=commit)
    statements = [
        in_toto_statement([named], COSIGN_SIGN_PREDICATE, {}),
        slsa_provenance([named], source, relkit_version="0"),
    ]
    bundles = KeyAttestationSigner(keys.private_pem).sign(statements)
    with RegistryClient() as client:
        for statement, bundle in zip(statements, bundles, strict=True):
            attach_bundle(
                client,
                subject,
                bundle.encode(),
                predicate_type=statement["predicateType"],
                created="2026-11-01T00:00:00Z",
            )


def _push_other(
    registry: RegistryServer, repository: str = REPOSITORY, *, config_type: str = ""
) -> Reference:
    """Another manifest in `repository`: what the tag is moved to (a chart with
    `config_type` Helm's)."""
    ref = Reference(registry.host, repository, f"other-{secrets.token_hex(4)}")
    config = b"{}"
    layer = b"other " + secrets.token_bytes(8)
    with RegistryClient() as client:
        client.push_blob(ref, config)
        client.push_blob(ref, layer)
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": "application/vnd.example.other",
            "config": {
                "mediaType": config_type or "application/vnd.oci.empty.v1+json",
                "digest": digest_of(config),
                "size": len(config),
            },
            "layers": [{"mediaType": "text/plain", "digest": digest_of(layer), "size": len(layer)}],
        }
        digest = client.push_manifest(ref, json.dumps(manifest).encode(), OCI_MANIFEST)
    return Reference(registry.host, repository, None, digest)


class _TagMover:
    """A registry in front of the real one that moves `repository:tag` to `moved_to` once
    relkit has read something (the first blob, or the tag itself with `after_tag_read`):
    what a hostile or racing registry can do between two reads."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.repository, self.tag, self.moved_to = REPOSITORY, TAG, ""
        self.after_tag_read = False
        self.moved = False
        self.tag_reads_after_move = 0

    def path(self, path: str) -> str:
        if path.split("?", 1)[0] == f"/v2/{self.repository}/manifests/{self.tag}":
            if self.moved:
                self.tag_reads_after_move += 1
                return f"/v2/{self.repository}/manifests/{self.moved_to}"
            self.moved = self.after_tag_read
        if "/blobs/" in path:
            self.moved = True
        return path


@pytest.fixture
def tag_mover(registry: RegistryServer) -> Iterator[tuple[str, _TagMover]]:
    mover = _TagMover(registry.url)

    class Proxy(http.server.BaseHTTPRequestHandler):
        def _forward(self, method: str) -> None:
            headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
            upstream = httpx.request(
                method, f"{mover.upstream}{mover.path(self.path)}", headers=headers
            )
            self.send_response(upstream.status_code)
            for name in ("Docker-Content-Digest", "Content-Type", "Link", "OCI-Subject"):
                if name in upstream.headers:
                    self.send_header(name, upstream.headers[name])
            self.send_header("Content-Length", str(len(upstream.content)))
            self.end_headers()
            if method == "GET":
                self.wfile.write(upstream.content)

        def do_GET(self) -> None:
            self._forward("GET")

        def do_HEAD(self) -> None:
            self._forward("HEAD")

        def log_message(self, format: str, *args: object) -> None:
            pass

    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=proxy.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"127.0.0.1:{proxy.server_address[1]}", mover
    finally:
        proxy.shutdown()
        proxy.server_close()


def test_provenance_is_read_for_the_pulled_manifest_not_the_moved_tag(
    registry: RegistryServer,
    signing_key_pair: SigningKeyPair,
    tag_mover: tuple[str, _TagMover],
    tmp_path: Path,
    capsys: Any,
) -> None:
    _push_images(registry)
    with registry.client() as client:
        publish_bundle(
            _config(registry, "it/pinned"),
            _plan(TAG),
            repo_root=_project(tmp_path, registry.host),
            dist_dir=tmp_path / "dist",
            signing=_key_signing(signing_key_pair),
            env={},
            client=client,
        )
        pulled = client.resolve_digest(f"{registry.host}/{REPOSITORY}:{TAG}")
    other = _push_other(registry)
    _attest(Reference(registry.host, REPOSITORY, None, pulled), PULLED_COMMIT, signing_key_pair)
    _attest(other, OTHER_COMMIT, signing_key_pair)
    proxy, mover = tag_mover
    assert other.digest is not None
    mover.moved_to = other.digest

    url = f"oci://{proxy}/{REPOSITORY}:{TAG}"
    assert main(["verify", url, "--key", str(signing_key_pair.public_path)]) == 0
    out = capsys.readouterr().out
    assert mover.moved  # the bundle's bytes were downloaded, then the tag moved
    assert f"(manifest {pulled})" in out
    assert f"commit {PULLED_COMMIT}" in out
    assert OTHER_COMMIT not in out and other.digest not in out
    assert mover.tag_reads_after_move == 0  # the tag is never looked up again


def test_a_charts_attestations_are_those_of_the_manifest_it_read(
    registry: RegistryServer,
    signing_key_pair: SigningKeyPair,
    tag_mover: tuple[str, _TagMover],
    capsys: Any,
) -> None:
    repository = f"charts/{secrets.token_hex(4)}/shop"
    chart = _push_other(registry, repository, config_type=HELM_CONFIG)
    other = _push_other(registry, repository, config_type=HELM_CONFIG)
    assert chart.digest is not None and other.digest is not None
    with RegistryClient() as client:  # the chart's tag, as `helm push` leaves it
        manifest = client.get_manifest(chart)
        client.push_manifest(chart.with_tag("1.2.3"), manifest.content, OCI_MANIFEST)
    _attest(chart, PULLED_COMMIT, signing_key_pair)
    _attest(other, OTHER_COMMIT, signing_key_pair)
    proxy, mover = tag_mover
    mover.repository, mover.tag, mover.moved_to = repository, "1.2.3", other.digest
    mover.after_tag_read = True

    url = f"oci://{proxy}/{repository}:1.2.3"
    assert main(["verify", url, "--key", str(signing_key_pair.public_path)]) == 0
    out = capsys.readouterr().out
    assert mover.moved  # the tag was read, then moved
    assert f"(manifest {chart.digest})" in out
    assert f"commit {PULLED_COMMIT}" in out
    assert OTHER_COMMIT not in out and other.digest not in out
    assert mover.tag_reads_after_move == 0
