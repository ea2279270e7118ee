"""Publish a Helm chart to an OCI registry at the release version, once.

Copy the chart to a work dir (the user's tree is never edited), set `version`/`appVersion`
and optionally the image digest in values.yaml (format-preserving edits: comments and
layout stay), update dependencies, lint, package into dist/ as `NAME-VERSION.tgz`, and
push unless the registry already holds this chart version.

Idempotency rests on a reproducible package. Helm (v4 SDK) writes each file's mtime into
the tgz and the archive's mtime into the manifest's `org.opencontainers.image.created`, so
every file and the archive get one fixed time (the tagged commit's): the same chart then
gives byte-identical archives and the same manifest digest. Registries may still hold an
archive of the same chart that differs in bytes (another Helm version, a `Chart.lock`
`generated:` stamp), so "same" falls back to comparing the files inside the archives.
"""

from __future__ import annotations

import gzip
import io
import os
import shutil
import tarfile
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from relkit.adapters.helm import HELM_CHART_LAYER, HELM_CONFIG, HelmBackend, helm_backend
from relkit.adapters.registry import (
    NotFoundError,
    Reference,
    RegistryClient,
    digest_of,
    split_oci_url,
)
from relkit.core.config import ChartConfig, PromoteEdit
from relkit.core.dist_files import write_atomic
from relkit.core.errors import ConfigError, RelkitError
from relkit.core.model import Artifact, ImagePin, StepOutcome, StepRecord, Version
from relkit.core.structured import DocumentError, load_yaml
from relkit.promote.edits import apply_edit

__all__ = [
    "DEFAULT_SOURCE_TIME",
    "chart_oci_tag",
    "chart_reference",
    "describe_chart",
    "publish_chart",
    "set_chart_versions",
    "set_values_key",
]

# 1980-01-01T00:00:00Z: the oldest time every archive format accepts; used when the caller
# gives no commit time, so packages stay reproducible anyway.
DEFAULT_SOURCE_TIME = 315532800

# A chart archive is small; refuse to inflate a hostile "chart" beyond this when comparing.
_MAX_CHART_BYTES = 64 * 1024 * 1024

ChartState = Literal["absent", "same", "different"]


# --------------------------------------------------------------------------- pure edits


def chart_oci_tag(version: str) -> str:
    """Helm stores `+build` versions under `_build` tags (`+` is not allowed in OCI tags)."""
    return version.replace("+", "_")


def chart_reference(registry: str, name: str, version: str) -> Reference:
    """`oci://host/path` + chart name + version → the tagged OCI reference Helm pushes to."""
    host, path = split_oci_url(registry)
    repository = f"{path}/{name}" if path else name
    return Reference.parse(f"{host}/{repository}:{chart_oci_tag(version)}")


def set_chart_versions(
    text: str, *, version: str | None, app_version: str | None, file: str = "Chart.yaml"
) -> str:
    """Set `version` / `appVersion` in Chart.yaml text, keeping comments and layout."""
    data = _safe_load(text, file)
    for key, value in (("version", version), ("appVersion", app_version)):
        if value is None:
            continue
        if key in data:
            text = apply_edit(text, PromoteEdit(file=file, kind="yaml", key=key), value).text
        else:
            # Absent key: append it (quoted, so `1.10` never becomes a float).
            text = text.rstrip("\n") + f'\n{key}: "{value}"\n'
    return text


def set_values_key(text: str, key: str, value: str, *, file: str = "values.yaml") -> str:
    """Set one dotted key (e.g. `image.digest`) in values.yaml text, keeping the rest."""
    try:
        return apply_edit(text, PromoteEdit(file=file, kind="yaml", key=key), value).text
    except RelkitError as exc:
        raise ConfigError(
            f"charts[].image_values_key {key!r}: {exc.message}",
            hint=f"add {key} to the chart's values.yaml (e.g. an empty string) or fix the key",
        ) from None


def _safe_load(text: str, file: str) -> dict[str, Any]:
    try:
        data = load_yaml(text, source=file)  # bounded depth, aliases, size
    except DocumentError as exc:
        raise RelkitError(exc.message, hint="fix the chart") from None
    if not isinstance(data, dict):
        raise RelkitError(f"{file}: expected a mapping at the top level", hint="fix the chart")
    return data


# --------------------------------------------------------------------------- chart content


def chart_files(archive: bytes) -> dict[str, bytes]:
    """The regular files of a chart tgz, by path; `Chart.lock`'s `generated:` stamp dropped.

    This is the chart's content identity: independent of mtimes, owners and compression.
    """
    files: dict[str, bytes] = {}
    total = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
            for member in tar:
                if not member.isfile():
                    continue
                total += member.size
                if total > _MAX_CHART_BYTES:
                    raise RelkitError("chart archive is larger than 64 MiB uncompressed")
                handle = tar.extractfile(member)
                data = handle.read() if handle is not None else b""
                if member.name.endswith("/Chart.lock"):
                    data = b"".join(
                        line
                        for line in data.splitlines(keepends=True)
                        if not line.startswith(b"generated:")
                    )
                files[member.name] = data
    except (tarfile.TarError, gzip.BadGzipFile, EOFError, OSError) as exc:
        raise RelkitError(f"chart archive is not a valid tgz: {type(exc).__name__}") from None
    return files


def _remote_state(
    client: RegistryClient, ref: Reference, archive: bytes
) -> tuple[ChartState, str | None]:
    """Compare the chart version in the registry with our archive: (state, manifest digest)."""
    try:
        manifest = client.get_manifest(ref)
    except NotFoundError:
        return "absent", None
    data = manifest.json
    layers = [
        layer for layer in data.get("layers") or [] if layer.get("mediaType") == HELM_CHART_LAYER
    ]
    config_type = (data.get("config") or {}).get("mediaType")
    if config_type != HELM_CONFIG or len(layers) != 1:
        return "different", manifest.digest  # something that is not a Helm chart
    layer_digest = str(layers[0].get("digest"))
    if layer_digest == digest_of(archive):
        return "same", manifest.digest
    remote = client.get_blob(ref, layer_digest, size=layers[0].get("size"))
    same = chart_files(remote) == chart_files(archive)
    return ("same" if same else "different"), manifest.digest


# --------------------------------------------------------------------------- the step


def _chart_dir(chart: ChartConfig, root: Path | None) -> Path:
    path = Path(chart.path)
    if not path.is_absolute():
        path = (root or Path.cwd()) / path
    if not (path / "Chart.yaml").is_file():
        raise ConfigError(
            f"charts[].path {chart.path!r}: no Chart.yaml in {path}",
            hint="point charts[].path at the chart directory",
        )
    return path


def _stamp(tree: Path, epoch: int) -> None:
    for path in [tree, *tree.rglob("*")]:
        os.utime(path, (epoch, epoch), follow_symlinks=False)


def _epoch(source_time: datetime | None) -> int:
    return int(source_time.timestamp()) if source_time is not None else DEFAULT_SOURCE_TIME


def _local_dependencies(chart_dir: Path, data: dict[str, Any]) -> list[Path]:
    """Directories of `file://` dependencies, resolved against the chart directory."""
    found: list[Path] = []
    for dep in data.get("dependencies") or []:
        repository = str(dep.get("repository") or "") if isinstance(dep, dict) else ""
        if repository.startswith("file://"):
            found.append((chart_dir / repository[len("file://") :]).resolve())
    return found


def _copy_chart(source: Path, data: dict[str, Any], work_root: Path) -> Path:
    """Copy the chart, and the `file://` dependencies it points at, under `work_root`.

    Relative `file://../lib` links must keep working in the copy, so the chart and its
    local dependencies are copied at the same positions relative to their common parent.
    """
    if work_root.exists():
        shutil.rmtree(work_root)
    source = source.resolve()
    # Dependencies inside the chart directory come along with it.
    outside = [
        d for d in _local_dependencies(source, data) if d.is_dir() and not d.is_relative_to(source)
    ]
    base = Path(os.path.commonpath([source, *outside])) if outside else source.parent
    ignore = shutil.ignore_patterns(".git")
    for directory in [source, *outside]:
        target = work_root / directory.relative_to(base)
        if target.exists():
            continue  # nested in a directory already copied
        # symlinks=False: a chart's symlinks are followed, so the package holds real files.
        shutil.copytree(directory, target, symlinks=False, ignore=ignore)
    return work_root / source.relative_to(base)


def _prepare(
    chart: ChartConfig,
    version: Version,
    source: Path,
    work_root: Path,
    image_pin: ImagePin | None,
    epoch: int,
) -> tuple[Path, str]:
    """Copy the chart into `work_root` and apply the release edits; returns (dir, name)."""
    original = (source / "Chart.yaml").read_text(encoding="utf-8")
    data = _safe_load(original, f"{chart.path}/Chart.yaml")
    name = str(data.get("name") or "")
    if not name:
        raise RelkitError(f"{chart.path}/Chart.yaml has no name", hint="set name: in Chart.yaml")
    work = _copy_chart(source, data, work_root)
    text = set_chart_versions(
        original,
        version=str(version) if chart.set_version else None,
        app_version=chart.app_version(str(version)) if chart.set_app_version else None,
        file=f"{chart.path}/Chart.yaml",
    )
    (work / "Chart.yaml").write_text(text, encoding="utf-8")
    if image_pin is not None:
        (work / "values.yaml").write_text(_pinned_values(chart, work, image_pin), encoding="utf-8")
    _stamp(work_root, epoch)
    return work, name


def _pinned_values(chart: ChartConfig, chart_dir: Path, image_pin: ImagePin) -> str:
    """values.yaml of `chart_dir` with the image digest written at `image_values_key`.

    The dry run and `relkit check` call it too, so a key the values file does not have
    fails the pull request, not the release."""
    if not chart.image_values_key:
        raise ConfigError(
            f"charts[{chart.path}]: an image to pin is given but image_values_key is not set",
            hint='set charts[].image_values_key, e.g. "image.digest"',
        )
    values = chart_dir / "values.yaml"
    if not values.is_file():
        raise ConfigError(f"charts[{chart.path}]: image_values_key set but no values.yaml")
    return set_values_key(
        values.read_text(encoding="utf-8"),
        chart.image_values_key,
        image_pin.digest,
        file=f"{chart.path}/values.yaml",
    )


def _has_dependencies(chart_dir: Path) -> bool:
    data = _safe_load((chart_dir / "Chart.yaml").read_text(encoding="utf-8"), "Chart.yaml")
    return bool(data.get("dependencies"))


def publish_chart(
    chart: ChartConfig,
    version: Version,
    *,
    workdir: Path,
    dist_dir: Path,
    image_pin: ImagePin | None,
    force: bool,
    root: Path | None = None,
    source_time: datetime | None = None,
    client: RegistryClient | None = None,
    helm: HelmBackend | None = None,
) -> StepRecord:
    """Package and push one chart at `version`; see the module docstring for the rules.

    `root` resolves a relative `chart.path` (default: the working directory);
    `source_time` (the tagged commit's time) is stamped on every packaged file.
    """
    source = _chart_dir(chart, root)
    epoch = _epoch(source_time)
    backend = helm or helm_backend(chart.helm)
    work_root = workdir / "charts" / source.name
    work, name = _prepare(chart, version, source, work_root, image_pin, epoch)
    if _has_dependencies(work):
        backend.dependency_update(work)
        _stamp(work_root, epoch)  # downloaded subcharts get fresh mtimes
    findings = backend.lint(work)
    warnings = [f for f in findings if f.severity == "warning"]

    package_dir = workdir / "charts-packaged"
    if package_dir.exists():
        shutil.rmtree(package_dir)
    archive = backend.package(work, package_dir)
    os.utime(archive, (epoch, epoch))  # Helm's manifest "created" annotation reads it
    data = archive.read_bytes()
    ref = chart_reference(chart.registry, name, str(version))
    oci = f"oci://{ref.name}:{ref.tag}"

    active = client or RegistryClient()
    try:
        state, remote_digest = _remote_state(active, ref, data)
        if state == "different" and not force:
            raise RelkitError(
                f"chart {name} {version} already exists in {oci} with different content;"
                " released chart versions are immutable",
                hint="release a new version, or re-run with --force to overwrite it",
            )
        if state == "same" and remote_digest is not None:
            outcome, digest = StepOutcome.ALREADY_DONE, remote_digest
            detail = f"{oci} already holds this chart ({digest})"
        else:
            backend.push(archive, chart.registry)
            after, pushed_digest = _remote_state(active, ref, data)
            if after != "same" or pushed_digest is None:
                raise RelkitError(f"after pushing {oci} the registry holds other content")
            outcome, digest = StepOutcome.DONE, pushed_digest
            verb = "overwrote (--force)" if state == "different" else "pushed"
            detail = f"{verb} {oci} ({digest})"
    finally:
        if client is None:
            active.close()

    dist_file = dist_dir / archive.name
    write_atomic(dist_file, archive)  # a killed run never leaves a truncated chart
    if warnings:
        detail += f"; lint: {len(warnings)} warning(s): " + "; ".join(str(w) for w in warnings)
    artifact = Artifact(
        kind="chart",
        name=name,
        path=str(dist_file),
        digest=digest,
        reference=f"{oci}@{digest}",
    )
    return StepRecord("chart", outcome, detail, artifacts=(artifact,))


def chart_push_reference(chart: ChartConfig, version: Version, *, root: Path | None) -> Reference:
    """The tagged reference `publish_chart` pushes `chart` to (reads Chart.yaml's name)."""
    source = _chart_dir(chart, root)
    data = _safe_load((source / "Chart.yaml").read_text(encoding="utf-8"), "Chart.yaml")
    return chart_reference(chart.registry, str(data.get("name") or source.name), str(version))


def describe_chart(
    chart: ChartConfig,
    version: Version,
    *,
    image_pin: ImagePin | None,
    force: bool = False,
    root: Path | None = None,
    dist_dir: Path | None = None,
) -> list[str]:
    """What `publish_chart` would do, for --dry-run (reads the chart, no remote calls)."""
    source = _chart_dir(chart, root)
    data = _safe_load((source / "Chart.yaml").read_text(encoding="utf-8"), "Chart.yaml")
    name = str(data.get("name") or source.name)
    ref = chart_reference(chart.registry, name, str(version))
    app_version = chart.app_version(str(version))
    if chart.set_version and chart.set_app_version and app_version != str(version):
        setting = f" and set version to {version} and appVersion to {app_version}"
    else:
        wanted = (("version", chart.set_version), ("appVersion", chart.set_app_version))
        edits = [key for key, on in wanted if on]
        shown = app_version if edits == ["appVersion"] else version
        setting = f" and set {'/'.join(edits)} to {shown}" if edits else ""
    actions = [f"copy chart {chart.path} to a work dir{setting}"]
    if image_pin is not None:
        _pinned_values(chart, source, image_pin)  # the key must exist: fail now, not at release
        actions.append(f"set values.yaml {chart.image_values_key} to {image_pin.digest}")
    if data.get("dependencies"):
        actions.append("update chart dependencies")
    target = (dist_dir or Path("dist")) / f"{name}-{version}.tgz"
    actions.append(f"helm lint and package {target} (helm {chart.helm})")
    conflict = "overwrite" if force else "fail"
    actions.append(
        f"push to oci://{ref.name}:{ref.tag} unless already there with the same content"
        f" ({conflict} if it holds different content)"
    )
    return actions
