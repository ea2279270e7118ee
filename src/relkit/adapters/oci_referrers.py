"""Sigstore bundles attached to OCI artifacts as OCI 1.1 referrers (cosign's BUNDLE_SPEC).

Layout (sigstore/cosign `specs/BUNDLE_SPEC.md`): the bundle JSON is one blob; a manifest
with `artifactType` `application/vnd.dev.sigstore.bundle.v0.3+json`, the empty config, that
blob as its single layer (titled `sha256-<hex>.sigstore.json`) and `subject` = the artifact's
manifest. Annotations say what is inside: `dev.sigstore.bundle.content` (`dsse-envelope`),
`dev.sigstore.bundle.predicateType` and `org.opencontainers.image.created`.

Registries with the referrers API (OCI distribution-spec 1.1) index the manifest when it is
pushed and answer `OCI-Subject` to say so. Registries without it (CNCF Distribution 2.8, the
Debian `docker-registry`, many mirrors) get the referrers tag schema instead: an image index
under the tag `sha256-<hex>` of the subject listing every referrer, updated by the client.
Reading follows the same order: `GET /v2/NAME/referrers/DIGEST`, and on 404 the tag.

Everything read back is checked before use: a listed referrer must be a manifest whose own
`subject` is the artifact asked about (anyone who can push can write the tag-schema index),
with one Sigstore-bundle layer; blobs are checked against their digests and bounded.

This module reaches into `RegistryClient`'s request plumbing (`_send`, `_errors`): the
referrers endpoint and the `OCI-Subject` answer header are not part of its public surface,
and keeping them here leaves registry.py untouched.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import field
from typing import Any

from relkit.adapters.registry import (
    OCI_EMPTY_JSON,
    OCI_INDEX,
    OCI_MANIFEST,
    Manifest,
    NotFoundError,
    Reference,
    RegistryClient,
    _RequestFailed,
    digest_of,
    empty_config_descriptor,
)
from relkit.core.errors import RelkitError
from relkit.core.records import record
from relkit.core.structured import load_json

__all__ = [
    "ANNOTATION_BUNDLE_CONTENT",
    "ANNOTATION_CREATED",
    "ANNOTATION_PREDICATE_TYPE",
    "SIGSTORE_BUNDLE_ARTIFACT_TYPE",
    "AttachedBundle",
    "Referrer",
    "attach_bundle",
    "fetch_bundles",
    "list_referrers",
    "referrer_manifest",
    "referrers_tag",
]

SIGSTORE_BUNDLE_ARTIFACT_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
ANNOTATION_BUNDLE_CONTENT = "dev.sigstore.bundle.content"
ANNOTATION_PREDICATE_TYPE = "dev.sigstore.bundle.predicateType"
ANNOTATION_CREATED = "org.opencontainers.image.created"
_ANNOTATION_TITLE = "org.opencontainers.image.title"

_MAX_INDEX_BYTES = 4 * 1024 * 1024
_MAX_BUNDLE_BYTES = 4 * 1024 * 1024
_MAX_REFERRERS = 1000


@record
class Referrer:
    """One entry of a referrers index: a manifest that names our artifact as its subject."""

    digest: str
    artifact_type: str | None
    annotations: Mapping[str, str] = field(default_factory=dict)
    media_type: str = OCI_MANIFEST
    size: int = 0

    @property
    def predicate_type(self) -> str | None:
        return self.annotations.get(ANNOTATION_PREDICATE_TYPE)

    def descriptor(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "mediaType": self.media_type,
            "digest": self.digest,
            "size": self.size,
        }
        if self.artifact_type:
            entry["artifactType"] = self.artifact_type
        if self.annotations:
            entry["annotations"] = dict(sorted(self.annotations.items()))
        return entry


@record
class AttachedBundle:
    """A Sigstore bundle read from a referrer, and the referrer it came from."""

    referrer: Referrer
    bundle: bytes


def referrers_tag(digest: str) -> str:
    """The referrers tag schema's tag for a subject: `sha256:<hex>` → `sha256-<hex>`."""
    algorithm, _, hex_part = digest.partition(":")
    return f"{algorithm}-{hex_part}"


def _subject_ref(reference: Reference) -> Reference:
    if reference.digest is None:
        raise RelkitError(f"{reference}: referrers need the subject's digest")
    return reference


def referrer_manifest(
    subject: Manifest, bundle: bytes, *, predicate_type: str | None, created: str
) -> bytes:
    """The referrer manifest for `bundle` about `subject` (pure and deterministic)."""
    layer_digest = digest_of(bundle)
    annotations = {
        ANNOTATION_BUNDLE_CONTENT: "dsse-envelope" if predicate_type else "message-signature",
        ANNOTATION_CREATED: created,
    }
    if predicate_type:
        annotations[ANNOTATION_PREDICATE_TYPE] = predicate_type
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": SIGSTORE_BUNDLE_ARTIFACT_TYPE,
        "config": empty_config_descriptor(),
        "layers": [
            {
                "mediaType": SIGSTORE_BUNDLE_ARTIFACT_TYPE,
                "digest": layer_digest,
                "size": len(bundle),
                "annotations": {_ANNOTATION_TITLE: f"{referrers_tag(layer_digest)}.sigstore.json"},
            }
        ],
        "subject": {
            "mediaType": subject.media_type,
            "digest": subject.digest,
            "size": len(subject.content),
        },
        "annotations": dict(sorted(annotations.items())),
    }
    return json.dumps(manifest, separators=(",", ":")).encode()


def _parse_index(content: bytes, where: str) -> list[Referrer]:
    if len(content) > _MAX_INDEX_BYTES:
        raise RelkitError(f"{where}: referrers index is larger than 4 MiB")
    try:
        data = load_json(content, source=f"{where}: referrers index")  # bounded depth
    except ValueError:
        raise RelkitError(f"{where}: referrers index is not JSON") from None
    manifests = data.get("manifests") if isinstance(data, dict) else None
    if not isinstance(manifests, list) or len(manifests) > _MAX_REFERRERS:
        raise RelkitError(f"{where}: referrers index has no valid manifests list")
    found: list[Referrer] = []
    for entry in manifests:
        if not isinstance(entry, dict) or not isinstance(entry.get("digest"), str):
            raise RelkitError(f"{where}: referrers index has an entry without a digest")
        annotations = entry.get("annotations")
        found.append(
            Referrer(
                digest=entry["digest"],
                artifact_type=entry.get("artifactType")
                if isinstance(entry.get("artifactType"), str)
                else None,
                annotations={
                    str(k): str(v) for k, v in (annotations or {}).items() if isinstance(v, str)
                }
                if isinstance(annotations, dict)
                else {},
                media_type=str(entry.get("mediaType") or OCI_MANIFEST),
                size=int(entry["size"]) if isinstance(entry.get("size"), int) else 0,
            )
        )
    return found


def _referrers_api(client: RegistryClient, subject: Reference) -> list[Referrer] | None:
    """The referrers API's answer, or None when the registry has no such API (404)."""
    assert subject.digest is not None
    where = f"referrers of {subject}"
    try:
        with client._errors(subject, what=where):
            try:
                response = client._send("GET", subject, f"/referrers/{subject.digest}")
            except _RequestFailed as exc:
                # The spec's signal for "no referrers API": 404. Some registries that predate
                # it answer 400 or 405 for the unknown route; treat those the same way.
                if exc.response.status_code in (400, 404, 405):
                    return None
                raise
    except NotFoundError:
        return None
    return _parse_index(response.content, where)


def _tag_schema_index(client: RegistryClient, subject: Reference) -> Manifest | None:
    assert subject.digest is not None
    try:
        tagged = Reference(subject.registry, subject.repository, referrers_tag(subject.digest))
        return client.get_manifest(tagged)
    except NotFoundError:
        return None


def list_referrers(client: RegistryClient, subject: Reference) -> tuple[list[Referrer], str]:
    """Every referrer of `subject` and where they came from: 'api' or 'tag-schema'."""
    subject = _subject_ref(subject)
    listed = _referrers_api(client, subject)
    if listed is not None:
        return listed, "api"
    index = _tag_schema_index(client, subject)
    if index is None:
        return [], "tag-schema"
    return _parse_index(index.content, f"referrers tag of {subject}"), "tag-schema"


def _checked_bundle(client: RegistryClient, subject: Reference, referrer: Referrer) -> bytes:
    """The bundle blob of a referrer, after checking the referrer really is about `subject`."""
    manifest = client.get_manifest(subject.with_digest(referrer.digest))
    where = f"referrer {referrer.digest} of {subject.name}"
    data = manifest.json
    pointed = (data.get("subject") or {}).get("digest") if isinstance(data, dict) else None
    if pointed != subject.digest:
        raise RelkitError(
            f"{where} points at another manifest ({pointed or 'no subject'}), not {subject.digest}",
            hint="the referrers index was tampered with or is stale; remove the entry",
        )
    layers = [
        layer
        for layer in data.get("layers") or []
        if isinstance(layer, dict) and layer.get("mediaType") == SIGSTORE_BUNDLE_ARTIFACT_TYPE
    ]
    if len(layers) != 1:
        raise RelkitError(f"{where} does not hold exactly one Sigstore bundle layer")
    size = layers[0].get("size")
    if not isinstance(size, int) or size > _MAX_BUNDLE_BYTES:
        raise RelkitError(f"{where}: the Sigstore bundle layer is missing a size or too large")
    # The descriptor's size bounds the download: a registry sending more is cut off there.
    return client.get_blob(subject, str(layers[0].get("digest")), size=size)


def fetch_bundles(
    client: RegistryClient, subject: Reference, *, predicate_type: str | None = None
) -> list[AttachedBundle]:
    """The Sigstore bundles attached to `subject` (optionally of one predicate type)."""
    referrers, _ = list_referrers(client, subject)
    wanted = [
        r
        for r in referrers
        if r.artifact_type == SIGSTORE_BUNDLE_ARTIFACT_TYPE
        and (predicate_type is None or r.predicate_type == predicate_type)
    ]
    return [AttachedBundle(r, _checked_bundle(client, subject, r)) for r in wanted]


def attach_bundle(
    client: RegistryClient,
    subject: Reference,
    bundle: bytes,
    *,
    predicate_type: str | None,
    created: str,
) -> str:
    """Push `bundle` as a referrer of `subject`; returns the referrer manifest's digest.

    Idempotent: pushing the same bundle twice gives the same manifest, and the tag-schema
    index never lists a digest twice.
    """
    subject = _subject_ref(subject)
    subject_manifest = client.get_manifest(subject)
    content = referrer_manifest(
        subject_manifest, bundle, predicate_type=predicate_type, created=created
    )
    digest = digest_of(content)
    target = subject.with_digest(digest)
    client.push_blob(subject, OCI_EMPTY_JSON)
    client.push_blob(subject, bundle)
    with client._errors(target, what=f"referrer manifest {digest} of {subject.name}"):
        response = client._send(
            "PUT",
            Reference(subject.registry, subject.repository, None, digest),
            f"/manifests/{digest}",
            push=True,
            ok=(201,),
            headers={"Content-Type": OCI_MANIFEST},
            content=content,
        )
    if response.headers.get("OCI-Subject") == subject.digest:
        return digest  # the registry indexed it (referrers API)
    data = json.loads(content)
    _add_to_tag_schema(
        client,
        subject,
        Referrer(
            digest=digest,
            artifact_type=SIGSTORE_BUNDLE_ARTIFACT_TYPE,
            annotations=data["annotations"],
            size=len(content),
        ),
    )
    return digest


def _add_to_tag_schema(client: RegistryClient, subject: Reference, referrer: Referrer) -> None:
    assert subject.digest is not None
    existing = _tag_schema_index(client, subject)
    entries: list[dict[str, Any]] = []
    if existing is not None:
        data = existing.json
        entries = [e for e in data.get("manifests") or [] if isinstance(e, dict)]
        if any(e.get("digest") == referrer.digest for e in entries):
            return
    entries.append(referrer.descriptor())
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}
    client.push_manifest(
        Reference(subject.registry, subject.repository, referrers_tag(subject.digest), None),
        json.dumps(index, separators=(",", ":")).encode(),
        OCI_INDEX,
    )
