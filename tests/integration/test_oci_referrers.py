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
from relkit.errors import RelkitError
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
