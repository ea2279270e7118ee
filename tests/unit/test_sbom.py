"""The bundle SBOM: CycloneDX 1.6 JSON that validates, lists images and files, deterministic."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from relkit.bundle.sbom import bundle_sbom, image_purl
from relkit.core.model import ImagePin
from tests.schemas import cyclonedx_errors

WEB = "sha256:" + "a" * 64
DB = "sha256:" + "b" * 64
ARCHIVE = "sha256:" + "d" * 64


def _sbom() -> str:
    return bundle_sbom(
        name="shop",
        version="1.2.3",
        commit="c" * 40,
        repository="acme/shop",
        archive_digest=ARCHIVE,
        created=datetime(2026, 11, 1, 12, 0, tzinfo=UTC),
        pins=[
            ImagePin("127.0.0.1:5000/acme/web:1.2.3", WEB),
            ImagePin("postgres:16", DB),
            ImagePin("127.0.0.1:5000/acme/web:1.2.3", WEB),  # two services, one image
        ],
        files={"compose.yaml": "1" * 64, "README.md": "2" * 64},
    )


def test_the_sbom_is_valid_cyclonedx_1_6() -> None:
    document = json.loads(_sbom())
    assert cyclonedx_errors(document) == []
    assert document["specVersion"] == "1.6"


def test_every_pinned_image_is_a_container_with_an_oci_purl() -> None:
    document = json.loads(_sbom())
    containers = [c for c in document["components"] if c["type"] == "container"]
    assert sorted(c["purl"] for c in containers) == [
        f"pkg:oci/postgres@sha256:{'b' * 64}?repository_url=docker.io/library/postgres&tag=16",
        f"pkg:oci/web@sha256:{'a' * 64}?repository_url=127.0.0.1:5000/acme/web&tag=1.2.3",
    ]


def test_files_carry_their_hashes_and_the_bundle_its_version_and_commit() -> None:
    document = json.loads(_sbom())
    files = {c["name"]: c["hashes"][0] for c in document["components"] if c["type"] == "file"}
    assert files == {
        "README.md": {"alg": "SHA-256", "content": "2" * 64},
        "compose.yaml": {"alg": "SHA-256", "content": "1" * 64},
    }
    root = document["metadata"]["component"]
    assert (root["name"], root["version"]) == ("shop", "1.2.3")
    assert root["pedigree"]["commits"][0]["uid"] == "c" * 40
    assert root["hashes"] == [{"alg": "SHA-256", "content": "d" * 64}]


def test_the_sbom_is_deterministic() -> None:
    assert _sbom() == _sbom()


def test_a_schema_violation_is_detected() -> None:
    document = json.loads(_sbom())
    document["components"][0]["type"] = "not-a-type"
    assert cyclonedx_errors(document)


def test_image_purl_without_tag() -> None:
    purl = image_purl(ImagePin("ghcr.io/acme/api", WEB))
    assert purl.to_string() == f"pkg:oci/api@sha256:{'a' * 64}?repository_url=ghcr.io/acme/api"
