"""Push and pull OCI artifacts: files with their own media types, an artifactType, annotations.

The manifest follows the OCI image-spec 1.1 artifact guidance (the layout `oras push
--artifact-type` writes): an image manifest with `artifactType`, the empty config
`application/vnd.oci.empty.v1+json`, one layer per file titled by
`org.opencontainers.image.title`, and manifest annotations. ORAS (`oras pull`, oras-py)
pulls it back by those titles.

Why not oras-py for the push: its `push()` (0.2.43) cannot set `artifactType` (the manifest
is built inside the call), returns a `requests.Response` instead of the manifest digest, and
reads files relative to the working directory. The push is a few blob uploads and one
manifest PUT, so it goes through relkit's own registry adapter, which also gives the same
auth, insecure-registry rules and one-line errors as image resolution.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import field
from pathlib import Path
from typing import Any, Literal

from relkit.adapters.registry import (
    OCI_EMPTY_JSON,
    OCI_MANIFEST,
    NotFoundError,
    Reference,
    RegistryClient,
    digest_of,
    empty_config_descriptor,
)
from relkit.core.errors import RelkitError, UsageError
from relkit.core.records import record

__all__ = [
    "ANNOTATION_CREATED",
    "ANNOTATION_REVISION",
    "ANNOTATION_SOURCE",
    "ANNOTATION_TITLE",
    "ANNOTATION_VERSION",
    "ArtifactFile",
    "ArtifactState",
    "PulledArtifact",
    "PushedArtifact",
    "artifact_reference",
    "artifact_state",
    "build_manifest",
    "pull_artifact",
    "push_artifact",
]

ANNOTATION_TITLE = "org.opencontainers.image.title"
ANNOTATION_VERSION = "org.opencontainers.image.version"
ANNOTATION_REVISION = "org.opencontainers.image.revision"
ANNOTATION_SOURCE = "org.opencontainers.image.source"
ANNOTATION_CREATED = "org.opencontainers.image.created"


ArtifactState = Literal["absent", "same", "different"]


@record
class ArtifactFile:
    """One file of an artifact: its bytes come from `path`, its layer title is `name`."""

    path: Path
    media_type: str
    name: str | None = None  # default: path.name
    annotations: Mapping[str, str] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return self.name or self.path.name


@record
class PushedArtifact:
    """What was pushed: `reference` is `oci://host/repo:tag@sha256:...`."""

    reference: str
    digest: str  # manifest digest
    layer_digests: tuple[str, ...]
    manifest: bytes


@record
class PulledArtifact:
    digest: str
    artifact_type: str | None
    annotations: Mapping[str, str]
    files: tuple[Path, ...]


def _tagged(ref: str) -> Reference:
    parsed = Reference.parse(ref)
    if parsed.tag is None or parsed.digest is not None:
        raise UsageError(
            f"{ref!r} needs a tag and no digest to push an artifact",
            hint="use oci://host/repo:tag, e.g. oci://ghcr.io/acme/bundles/app:1.2.0",
        )
    return parsed


def artifact_reference(ref: Reference, digest: str) -> str:
    return f"oci://{ref.with_digest(digest)}"


def build_manifest(
    layers: Sequence[tuple[ArtifactFile, str, int]],
    *,
    artifact_type: str,
    annotations: Mapping[str, str] | None = None,
) -> bytes:
    """The artifact manifest for `(file, digest, size)` layers (pure, deterministic).

    Annotations are sorted by key, so the same inputs always give the same digest.
    """
    manifest: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": empty_config_descriptor(),
        "layers": [
            {
                "mediaType": file.media_type,
                "digest": digest,
                "size": size,
                "annotations": dict(
                    sorted({**file.annotations, ANNOTATION_TITLE: file.title}.items())
                ),
            }
            for file, digest, size in layers
        ],
    }
    if annotations:
        manifest["annotations"] = dict(sorted(annotations.items()))
    return json.dumps(manifest, separators=(",", ":"), ensure_ascii=False).encode()


def _check_titles(files: Sequence[ArtifactFile]) -> None:
    seen: set[str] = set()
    for file in files:
        if not _safe_title(file.title):
            raise UsageError(f"artifact file name {file.title!r} must be a plain file name")
        if file.title in seen:
            raise UsageError(f"artifact file name {file.title!r} appears twice")
        seen.add(file.title)


def push_artifact(
    ref: str,
    files: Sequence[ArtifactFile],
    *,
    artifact_type: str,
    annotations: Mapping[str, str] | None = None,
    client: RegistryClient | None = None,
) -> PushedArtifact:
    """Upload every file as a blob, then the manifest under the tag; return its digest."""
    target = _tagged(ref)
    if not files:
        raise UsageError(f"nothing to push to {ref}: the artifact has no files")
    _check_titles(files)
    active = client or RegistryClient()
    try:
        layers: list[tuple[ArtifactFile, str, int]] = []
        contents: list[bytes] = []
        for file in files:
            try:
                data = file.path.read_bytes()
            except OSError as exc:
                raise RelkitError(
                    f"cannot read artifact file {file.path}: {exc.strerror}"
                ) from None
            contents.append(data)
            layers.append((file, digest_of(data), len(data)))
        manifest = build_manifest(layers, artifact_type=artifact_type, annotations=annotations)
        # Blobs first: a manifest may only reference blobs the registry already has.
        active.push_blob(target, OCI_EMPTY_JSON)
        for data in contents:
            active.push_blob(target, data)
        digest = active.push_manifest(target, manifest, OCI_MANIFEST)
    finally:
        if client is None:
            active.close()
    return PushedArtifact(
        reference=artifact_reference(target, digest),
        digest=digest,
        layer_digests=tuple(layer_digest for _, layer_digest, _ in layers),
        manifest=manifest,
    )


def artifact_state(
    ref: str,
    expected: str | Sequence[str],
    *,
    client: RegistryClient | None = None,
) -> ArtifactState:
    """Compare what the registry has under `ref` with what we would push.

    `expected` is the manifest digest we would push (`"sha256:..."`) or the ordered layer
    digests (content identity when the manifest carries run-dependent annotations).
    """
    target = Reference.parse(ref)
    active = client or RegistryClient()
    try:
        try:
            manifest = active.get_manifest(target)
        except NotFoundError:
            return "absent"
    finally:
        if client is None:
            active.close()
    if isinstance(expected, str):
        return "same" if manifest.digest == expected else "different"
    layers = tuple(layer.get("digest") for layer in manifest.json.get("layers") or [])
    return "same" if layers == tuple(expected) else "different"


def pull_artifact(
    ref: str, destination: Path, *, client: RegistryClient | None = None
) -> PulledArtifact:
    """Download every titled layer of an artifact into `destination` (digests checked)."""
    target = Reference.parse(ref)
    active = client or RegistryClient()
    try:
        manifest = active.get_manifest(target)
        if manifest.is_index:
            raise RelkitError(f"{ref} is an image index, not an artifact manifest")
        data = manifest.json
        destination.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        for layer in data.get("layers") or []:
            title = (layer.get("annotations") or {}).get(ANNOTATION_TITLE)
            if not isinstance(title, str) or not _safe_title(title):
                # Never let a registry choose a path outside `destination`.
                raise RelkitError(f"{ref} has a layer with an unsafe or missing title {title!r}")
            path = destination / title
            if path in written or path.is_symlink():
                raise RelkitError(f"{ref} has a duplicate or unsafe layer title {title!r}")
            # Streamed to disk, stopped at the descriptor's size, digest-checked on the way.
            active.download_blob(target, str(layer.get("digest")), path, size=_size(ref, layer))
            written.append(path)
    finally:
        if client is None:
            active.close()
    artifact_type = data.get("artifactType") or (data.get("config") or {}).get("mediaType")
    return PulledArtifact(
        digest=manifest.digest,
        artifact_type=str(artifact_type) if artifact_type else None,
        annotations=dict(data.get("annotations") or {}),
        files=tuple(written),
    )


def _size(ref: str, layer: Mapping[str, Any]) -> int:
    size = layer.get("size")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise RelkitError(f"{ref} has a layer without a valid size")
    return size


def _safe_title(title: str) -> bool:
    return bool(title) and title not in (".", "..") and "/" not in title and "\\" not in title
