"""Sigstore bundles as OCI referrers on the real registry (Distribution: tag-schema fallback)."""

from __future__ import annotations

import json
import secrets

import pytest

from relkit.adapters.oci_referrers import (
    SIGSTORE_BUNDLE_ARTIFACT_TYPE,
    attach_bundle,
    fetch_bundles,
    list_referrers,
    referrers_tag,
)
from relkit.adapters.registry import OCI_INDEX, OCI_MANIFEST, Reference, RegistryClient
from relkit.core.errors import RelkitError
from tests.fixtures.registry import RegistryServer, push_test_image

SLSA = "https://slsa.dev/provenance/v1"
CREATED = "2026-11-01T12:00:00Z"


def _bundle(tag: str) -> bytes:
    return json.dumps(
        {"mediaType": SIGSTORE_BUNDLE_ARTIFACT_TYPE, "dsseEnvelope": {"payload": tag}}
    ).encode()


def _subject(registry: RegistryServer) -> Reference:
    repository = f"referrers/{secrets.token_hex(4)}"
    digest = push_test_image(registry.host, repository, "1.0.0")
    return Reference(registry.host, repository, None, digest)


def test_a_bundle_is_attached_with_the_tag_schema_and_read_back(registry: RegistryServer) -> None:
    subject = _subject(registry)
    with RegistryClient() as client:
        assert list_referrers(client, subject) == ([], "tag-schema")
        digest = attach_bundle(client, subject, _bundle("a"), predicate_type=SLSA, created=CREATED)
        referrers, source = list_referrers(client, subject)
        assert source == "tag-schema"  # Distribution 2.8 has no referrers API
        assert [r.digest for r in referrers] == [digest]
        assert referrers[0].artifact_type == SIGSTORE_BUNDLE_ARTIFACT_TYPE
        assert referrers[0].annotations == {
            "dev.sigstore.bundle.content": "dsse-envelope",
            "dev.sigstore.bundle.predicateType": SLSA,
            "org.opencontainers.image.created": CREATED,
        }
        # The layout of cosign's BUNDLE_SPEC: subject, artifactType, one bundle layer.
        manifest = client.get_manifest(subject.with_digest(digest)).json
        assert manifest["mediaType"] == OCI_MANIFEST
        assert manifest["artifactType"] == SIGSTORE_BUNDLE_ARTIFACT_TYPE
        assert manifest["subject"]["digest"] == subject.digest
        assert manifest["config"]["mediaType"] == "application/vnd.oci.empty.v1+json"
        [layer] = manifest["layers"]
        assert layer["mediaType"] == SIGSTORE_BUNDLE_ARTIFACT_TYPE
        assert layer["annotations"]["org.opencontainers.image.title"].endswith(".sigstore.json")
        index = client.get_manifest(
            Reference(subject.registry, subject.repository, referrers_tag(subject.digest or ""))
        )
        assert index.media_type == OCI_INDEX
        [attached] = fetch_bundles(client, subject, predicate_type=SLSA)
        assert attached.bundle == _bundle("a")
        assert fetch_bundles(client, subject, predicate_type="https://other") == []


def test_attaching_twice_lists_the_referrer_once_and_keeps_others(registry: RegistryServer) -> None:
    subject = _subject(registry)
    with RegistryClient() as client:
        first = attach_bundle(client, subject, _bundle("a"), predicate_type=SLSA, created=CREATED)
        again = attach_bundle(client, subject, _bundle("a"), predicate_type=SLSA, created=CREATED)
        other = attach_bundle(
            client,
            subject,
            _bundle("b"),
            predicate_type="https://cyclonedx.org/bom",
            created=CREATED,
        )
        assert first == again
        referrers, _ = list_referrers(client, subject)
        assert [r.digest for r in referrers] == [first, other]


def test_a_referrer_pointing_at_another_manifest_is_refused(registry: RegistryServer) -> None:
    subject = _subject(registry)
    with RegistryClient() as client:
        # A referrer of another artifact, listed (by a hostile writer) in our subject's index.
        foreign = attach_bundle(client, subject, _bundle("x"), predicate_type=SLSA, created=CREATED)
        manifest = json.loads(client.get_manifest(subject.with_digest(foreign)).content)
        manifest["subject"]["digest"] = push_test_image(registry.host, subject.repository, "other")
        content = json.dumps(manifest, separators=(",", ":")).encode()
        rogue = client.push_manifest(
            Reference(subject.registry, subject.repository, "rogue"), content, OCI_MANIFEST
        )
        index = {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": rogue,
                    "size": len(content),
                    "artifactType": SIGSTORE_BUNDLE_ARTIFACT_TYPE,
                    "annotations": {"dev.sigstore.bundle.predicateType": SLSA},
                }
            ],
        }
        client.push_manifest(
            Reference(subject.registry, subject.repository, referrers_tag(subject.digest or "")),
            json.dumps(index).encode(),
            OCI_INDEX,
        )
        with pytest.raises(RelkitError, match="points at another manifest") as caught:
            fetch_bundles(client, subject, predicate_type=SLSA)
        assert "\n" not in str(caught.value)


def test_referrers_need_a_digest(registry: RegistryServer) -> None:
    with RegistryClient() as client, pytest.raises(RelkitError, match="digest"):
        list_referrers(client, Reference(registry.host, "x/y", "1.0.0"))


def test_a_referrer_blob_larger_than_its_descriptor_is_cut_off() -> None:
    """A registry that serves 64 MiB for a 200-byte Sigstore bundle layer is stopped early."""
    import hashlib
    import json as json_module

    from relkit.adapters.oci_referrers import Referrer, _checked_bundle
    from relkit.adapters.registry import DockerConfig
    from tests.fixtures.registry import Answer, HostileServer, SeenRequest, zeros

    subject_digest = "sha256:" + "a" * 64
    blob_digest = "sha256:" + "b" * 64
    manifest = json_module.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "artifactType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "config": {
                "mediaType": "application/vnd.oci.empty.v1+json",
                "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
                "size": 2,
            },
            "layers": [
                {
                    "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
                    "digest": blob_digest,
                    "size": 200,
                }
            ],
            "subject": {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": subject_digest,
                "size": 100,
            },
        }
    ).encode()
    manifest_digest = "sha256:" + hashlib.sha256(manifest).hexdigest()

    def answer(request: SeenRequest) -> Answer:
        if request.path.endswith(f"/manifests/{manifest_digest}"):
            return Answer(
                200,
                {
                    "Content-Type": "application/vnd.oci.image.manifest.v1+json",
                    "Docker-Content-Digest": manifest_digest,
                },
                manifest,
            )
        if request.path.endswith(f"/blobs/{blob_digest}"):
            return Answer(200, {"Content-Type": "application/octet-stream"}, zeros(64 << 20))
        return Answer(200, {}, b"{}")

    with HostileServer(answer) as server:
        client = RegistryClient(DockerConfig({}))
        subject = Reference.parse(f"{server.host}/acme/chart@{subject_digest}")
        referrer = Referrer(digest=manifest_digest, artifact_type=None)
        try:
            with pytest.raises(RelkitError):
                _checked_bundle(client, subject, referrer)
        finally:
            client.close()
    assert server.sent < 16 << 20  # stopped near the 200-byte descriptor, not at 64 MiB
