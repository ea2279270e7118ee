"""OCI artifacts pushed with relkit, read back with relkit and with ORAS (oras-py)."""

from __future__ import annotations

import json
from pathlib import Path

import oras.client
import pytest

from relkit.adapters.oci_artifact import (
    ANNOTATION_REVISION,
    ANNOTATION_TITLE,
    ANNOTATION_VERSION,
    ArtifactFile,
    artifact_state,
    pull_artifact,
    push_artifact,
)
from relkit.adapters.registry import OCI_EMPTY_CONFIG, OCI_MANIFEST, DockerConfig, RegistryClient
from relkit.core.errors import RelkitError, UsageError
from tests.fixtures.registry import RegistryServer

BUNDLE_TYPE = "application/vnd.relkit.bundle.v1"
TAR_GZ = "application/vnd.relkit.bundle.layer.v1.tar+gzip"
SIG = "application/vnd.relkit.signature.v1"


def _files(tmp_path: Path, content: bytes = b"bundle bytes") -> list[ArtifactFile]:
    archive = tmp_path / "app-1.0.0.tar.gz"
    archive.write_bytes(content)
    sums = tmp_path / "SHA256SUMS"
    sums.write_text("abc  app-1.0.0.tar.gz\n")
    return [
        ArtifactFile(archive, TAR_GZ),
        ArtifactFile(sums, "text/plain", annotations={"io.relkit.kind": "sums"}),
    ]


ANNOTATIONS = {
    ANNOTATION_VERSION: "1.0.0",
    ANNOTATION_REVISION: "0123456789abcdef0123456789abcdef01234567",
    "io.relkit.digests": "web=sha256:" + "a" * 64,
}


def test_push_writes_oci_artifact_manifest(registry: RegistryServer, tmp_path: Path) -> None:
    ref = registry.oci("bundles/app:1.0.0")
    with registry.client() as client:
        pushed = push_artifact(
            ref, _files(tmp_path), artifact_type=BUNDLE_TYPE, annotations=ANNOTATIONS, client=client
        )
        stored = client.get_manifest(f"{registry.host}/bundles/app:1.0.0")
    assert pushed.digest == stored.digest
    assert pushed.reference == f"oci://{registry.host}/bundles/app:1.0.0@{pushed.digest}"
    manifest = stored.json
    assert manifest["mediaType"] == OCI_MANIFEST
    assert manifest["artifactType"] == BUNDLE_TYPE
    assert manifest["config"]["mediaType"] == OCI_EMPTY_CONFIG
    assert manifest["annotations"] == ANNOTATIONS
    assert [layer["mediaType"] for layer in manifest["layers"]] == [TAR_GZ, "text/plain"]
    assert [layer["annotations"][ANNOTATION_TITLE] for layer in manifest["layers"]] == [
        "app-1.0.0.tar.gz",
        "SHA256SUMS",
    ]
    assert manifest["layers"][1]["annotations"]["io.relkit.kind"] == "sums"
    assert pushed.layer_digests == tuple(layer["digest"] for layer in manifest["layers"])


def test_push_is_deterministic_and_state_tracks_content(
    registry: RegistryServer, tmp_path: Path
) -> None:
    ref = registry.oci("bundles/state:1.0.0")
    files = _files(tmp_path)
    with registry.client() as client:
        assert artifact_state(ref, "sha256:" + "0" * 64, client=client) == "absent"
        first = push_artifact(
            ref, files, artifact_type=BUNDLE_TYPE, annotations=ANNOTATIONS, client=client
        )
        assert artifact_state(ref, first.digest, client=client) == "same"
        assert artifact_state(ref, list(first.layer_digests), client=client) == "same"
        again = push_artifact(
            ref, files, artifact_type=BUNDLE_TYPE, annotations=ANNOTATIONS, client=client
        )
        assert again.digest == first.digest

        changed = tmp_path / "changed"
        changed.mkdir()
        other = push_artifact(
            registry.oci("bundles/state:scratch"),
            _files(changed, b"other bytes"),
            artifact_type=BUNDLE_TYPE,
            client=client,
        )
        assert artifact_state(ref, other.digest, client=client) == "different"
        assert artifact_state(ref, list(other.layer_digests), client=client) == "different"


def test_pull_back_with_relkit(registry: RegistryServer, tmp_path: Path) -> None:
    ref = registry.oci("bundles/pull:1.0.0")
    src = tmp_path / "src"
    src.mkdir()
    with registry.client() as client:
        pushed = push_artifact(
            ref, _files(src), artifact_type=BUNDLE_TYPE, annotations=ANNOTATIONS, client=client
        )
        pulled = pull_artifact(ref, tmp_path / "out", client=client)
    assert pulled.digest == pushed.digest
    assert pulled.artifact_type == BUNDLE_TYPE
    assert pulled.annotations == ANNOTATIONS
    assert sorted(p.name for p in pulled.files) == ["SHA256SUMS", "app-1.0.0.tar.gz"]
    assert (tmp_path / "out" / "app-1.0.0.tar.gz").read_bytes() == b"bundle bytes"


def test_oras_pulls_what_relkit_pushed_with_docker_config_auth(
    auth_registry: RegistryServer, docker_config: Path, tmp_path: Path
) -> None:
    ref = auth_registry.oci("bundles/app:2.0.0")
    src = tmp_path / "src"
    src.mkdir()
    # No explicit credentials: relkit reads $DOCKER_CONFIG/config.json.
    with RegistryClient() as client:
        push_artifact(ref, _files(src), artifact_type=BUNDLE_TYPE, client=client)
    # The real ORAS Python client, reading the same Docker config. Its default "token"
    # backend mistakes an htpasswd Basic realm for a token URL, hence "basic".
    oras_client = oras.client.OrasClient(
        hostname=auth_registry.host, insecure=True, auth_backend="basic"
    )
    out = tmp_path / "oras-out"
    files = oras_client.pull(
        target=f"{auth_registry.host}/bundles/app:2.0.0",
        outdir=str(out),
        config_path=str(docker_config / "config.json"),
    )
    assert sorted(Path(f).name for f in files) == ["SHA256SUMS", "app-1.0.0.tar.gz"]
    assert (out / "app-1.0.0.tar.gz").read_bytes() == b"bundle bytes"


def test_push_without_credentials_to_auth_registry_fails_one_line(
    auth_registry: RegistryServer, tmp_path: Path
) -> None:
    ref = auth_registry.oci("bundles/denied:1.0.0")
    with RegistryClient(DockerConfig({})) as client, pytest.raises(RelkitError) as caught:
        push_artifact(ref, _files(tmp_path), artifact_type=BUNDLE_TYPE, client=client)
    assert caught.value.message.startswith(f"registry {auth_registry.host} requires authentication")
    with auth_registry.client() as client:
        assert client.list_tags(f"{auth_registry.host}/bundles/denied") == []


def test_push_to_unreachable_registry(unreachable_registry: str, tmp_path: Path) -> None:
    with RegistryClient(DockerConfig({})) as client, pytest.raises(RelkitError) as caught:
        push_artifact(
            f"oci://{unreachable_registry}/bundles/app:1.0.0",
            _files(tmp_path),
            artifact_type=BUNDLE_TYPE,
            client=client,
        )
    assert "is not reachable" in caught.value.message
    assert unreachable_registry in caught.value.message


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("oci://127.0.0.1:5000/bundles/app", "needs a tag"),
        (f"oci://127.0.0.1:5000/bundles/app:1.0@sha256:{'a' * 64}", "needs a tag"),
    ],
)
def test_push_needs_a_tag(ref: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=message):
        push_artifact(ref, _files(tmp_path), artifact_type=BUNDLE_TYPE)


def test_unsafe_layer_titles_are_refused_on_pull(registry: RegistryServer, tmp_path: Path) -> None:
    # A hostile artifact whose layer title escapes the destination directory.
    with registry.client() as client:
        name = f"{registry.host}/bundles/evil"
        blob = client.push_blob(name, b"x")
        client.push_blob(name, b"{}")
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_EMPTY_CONFIG, "digest": _empty_digest(), "size": 2},
            "layers": [
                {
                    "mediaType": "text/plain",
                    "digest": blob,
                    "size": 1,
                    "annotations": {ANNOTATION_TITLE: "../escape.txt"},
                }
            ],
        }
        client.push_manifest(f"{name}:1.0.0", json.dumps(manifest).encode(), OCI_MANIFEST)
        with pytest.raises(RelkitError, match="unsafe"):
            pull_artifact(f"oci://{name}:1.0.0", tmp_path / "out", client=client)
    assert not (tmp_path / "escape.txt").exists()


def _empty_digest() -> str:
    from relkit.adapters.registry import digest_of

    return digest_of(b"{}")


def test_pull_never_writes_through_a_symlink(registry: RegistryServer, tmp_path: Path) -> None:
    ref = registry.oci("bundles/links:1.0.0")
    src = tmp_path / "src"
    src.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    out = tmp_path / "out"
    out.mkdir()
    (out / "SHA256SUMS").symlink_to(victim)
    with registry.client() as client:
        push_artifact(ref, _files(src), artifact_type=BUNDLE_TYPE, client=client)
        with pytest.raises(RelkitError, match="unsafe layer title 'SHA256SUMS'"):
            pull_artifact(ref, out, client=client)
    assert victim.read_text() == "keep me"
