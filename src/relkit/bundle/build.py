"""Build a self-host bundle: pin every image by digest, add digests.txt, README and
SHA256SUMS, and write a reproducible `NAME-VERSION.tar.gz` to dist/.

Nothing lands in dist/ until everything has succeeded: files are written to a scratch
directory inside dist/ and moved into place at the end, so a failure (unknown image,
registry down, malformed YAML) leaves dist/ as it was.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from relkit.adapters.git_tree import export_tree
from relkit.adapters.registry import Reference
from relkit.bundle.archive import BundleFile, build_tar_gz, collect_tree
from relkit.bundle.compose import ComposeImage, find_compose_file, parse_compose, pin_compose
from relkit.bundle.interpolate import parse_env_file
from relkit.bundle.reference import is_pinned, split_digest
from relkit.bundle.sums import DIGESTS_FILE, SUMS_FILE, render_digests, render_sha256sums
from relkit.core.config import BundleConfig, SigningConfig
from relkit.core.dist_files import scratch_dir
from relkit.core.errors import RelkitError, UsageError
from relkit.core.model import ImagePin, ReleasePlan
from relkit.core.paths import dir_inside, read_inside
from relkit.core.records import record
from relkit.history.templating import TemplateRenderer
from relkit.signing.identity import (
    DEFAULT_RELEASE_WORKFLOW,
    GITHUB_ACTIONS_ISSUER,
    release_workflow_identity,
)

__all__ = [
    "ENV_EXAMPLE",
    "BuiltBundle",
    "PinnedCompose",
    "Resolver",
    "build_bundle",
    "bundle_top",
    "pin_bundle_images",
    "release_image_references",
    "render_readme",
]

ENV_EXAMPLE = ".env.example"
README = "README.md"

Resolver = Callable[[Iterable[str]], Mapping[str, str]]
"""{reference: sha256 digest} for many references at once (`registry.resolve_many`)."""


@record
class BuiltBundle:
    """A built bundle in dist/: the archive, its side files, and the images it pins."""

    name: str
    version: str
    archive: Path
    sha256sums: Path
    digests: Path
    pins: tuple[ImagePin, ...]
    digest: str  # sha256:… of the archive bytes

    @property
    def top(self) -> str:
        return f"{self.name}-{self.version}"


@record
class PinnedCompose:
    """The compose file with its images pinned, and the pins."""

    file_name: str
    text: str
    pins: tuple[ImagePin, ...]


def bundle_top(bundle: BundleConfig, plan: ReleasePlan) -> str:
    """`NAME-VERSION`: the archive's top directory and file name stem."""
    return f"{bundle.name}-{plan.version}"


def release_image_references(bundle: BundleConfig, plan: ReleasePlan) -> list[str]:
    """`bundle.images` with `{version}` / `{tag}` filled in from the plan."""
    references = []
    for template in bundle.images:
        rendered = template.replace("{version}", str(plan.version)).replace("{tag}", plan.tag)
        if "{" in rendered or "}" in rendered:
            raise UsageError(
                f"bundle {bundle.name}: image {template!r} has an unknown placeholder",
                hint="only {version} and {tag} are filled in",
            )
        references.append(rendered)
    return references


def _targets(
    bundle: BundleConfig, images: tuple[ComposeImage, ...], release: list[str], source: str
) -> dict[str, str]:
    """service → reference to resolve. Release images replace the compose tag."""
    targets = {image.service: image.reference for image in images}
    for reference in release:
        # Compare normalized names: "nginx" and "docker.io/library/nginx" are one repository.
        wanted = Reference.parse(reference).name
        users = [i for i in images if Reference.parse(i.reference).name == wanted]
        if not users:
            raise UsageError(
                f"bundle {bundle.name}: release image {reference} is not used by any service"
                f" in {source}",
                hint="check bundles[].images against the compose file's image: values",
            )
        for image in users:
            targets[image.service] = reference
    return targets


def pin_bundle_images(
    bundle: BundleConfig, plan: ReleasePlan, source_dir: Path, resolver: Resolver
) -> PinnedCompose:
    """Resolve every service image and return the compose text pinned by digest.

    Images already pinned (`name:tag@sha256:…`) are checked against the registry and left
    as written; everything else is rewritten to `name:tag@sha256:…`.
    """
    compose_path = find_compose_file(source_dir)
    source = f"{bundle.path.rstrip('/')}/{compose_path.name}"
    # Through the path rule: a compose.yaml linked outside the bundle is refused, not read.
    text = _read_inside(source_dir, compose_path.name, source)
    env_text = (
        _read_inside(source_dir, ENV_EXAMPLE, ENV_EXAMPLE)
        if (source_dir / ENV_EXAMPLE).exists()
        else None
    )
    env = parse_env_file(env_text, ENV_EXAMPLE) if env_text is not None else {}
    images = parse_compose(text, source, env)
    targets = _targets(bundle, images, release_image_references(bundle, plan), source)

    # A pinned reference is checked by its tag (does the tag still point there?); one
    # without tag (`name@sha256:…`) by the digest itself (does it exist?).
    queries: dict[str, str] = {}
    for service, reference in targets.items():
        name, digest = split_digest(reference)
        if digest is not None and not is_pinned(reference):
            raise UsageError(f"{source}: service {service!r}: {reference!r} has a bad digest")
        has_tag = ":" in name.rsplit("/", 1)[-1]
        queries[service] = name if digest is None or has_tag else reference
    resolved = resolver(sorted(set(queries.values())))

    pins: list[ImagePin] = []
    rewrites: dict[str, str] = {}
    by_service = {image.service: image for image in images}
    for service, reference in sorted(targets.items()):
        name, pinned_digest = split_digest(reference)
        digest = resolved.get(queries[service])
        if digest is None:
            raise RelkitError(f"{source}: service {service!r}: image {reference} did not resolve")
        if pinned_digest is not None and pinned_digest != digest:
            raise RelkitError(
                f"{source}: service {service!r}: image {name} is pinned to {pinned_digest}"
                f" but the registry has {digest}",
                hint="update the pin, or remove it and let relkit pin the image",
            )
        pin = ImagePin(reference=name, digest=digest)
        pins.append(pin)
        unchanged = pinned_digest is not None and reference == by_service[service].written
        if not unchanged:
            rewrites[service] = pin.pinned
    pinned_text = pin_compose(text, source, images, rewrites)
    return PinnedCompose(compose_path.name, pinned_text, tuple(pins))


def _read_inside(directory: Path, name: str, source: str) -> str:
    data = read_inside(directory, name, key="bundle file", where="the bundle directory")
    if data is None:
        raise UsageError(f"{source} does not exist")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{name} is not UTF-8 text") from None


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{path.name} is not UTF-8 text") from None
    except OSError as exc:
        raise RelkitError(f"cannot read {path}: {exc.strerror}") from None


def render_readme(
    bundle: BundleConfig,
    plan: ReleasePlan,
    pins: tuple[ImagePin, ...],
    *,
    signing: SigningConfig,
    source_readme: str | None,
    has_env_example: bool,
    renderer: TemplateRenderer | None = None,
    compose_file: str = "compose.yaml",
) -> str:
    """The bundle's README.md: what it is, how to verify it, how to start it.

    `compose_file` is the bundle's compose file as named in the source (`docker-compose.yml`
    stays `docker-compose.yml`), so the README names the file the user has."""
    top = bundle_top(bundle, plan)
    identity = (
        release_workflow_identity(plan.repository, DEFAULT_RELEASE_WORKFLOW, plan.tag)
        if plan.repository
        else "https://github.com/OWNER/REPO/.github/workflows/release.yml@refs/tags/" + plan.tag
    )
    oci_reference = f"{bundle.registry}/{bundle.name}:{plan.version}" if bundle.registry else None
    return (renderer or TemplateRenderer()).render(
        "bundle_README.md.j2",
        {
            "name": bundle.name,
            "version": str(plan.version),
            "tag": plan.tag,
            "commit": plan.commit,
            "repository": plan.repository,
            "top": top,
            "archive": f"{top}.tar.gz",
            "pins": pins,
            "signing": signing.mode,
            "identity": identity,
            "issuer": GITHUB_ACTIONS_ISSUER,
            "oci_reference": oci_reference,
            "source_readme": source_readme,
            "has_env_example": has_env_example,
            "compose_file": compose_file,
        },
    )


def build_bundle(
    bundle: BundleConfig,
    plan: ReleasePlan,
    *,
    repo_root: Path,
    dist_dir: Path,
    resolver: Resolver,
    signing: SigningConfig | None = None,
    renderer: TemplateRenderer | None = None,
    from_commit: bool = False,
) -> BuiltBundle:
    """Pin, render and archive the bundle; write it and its side files to `dist_dir`.

    `from_commit`: the files come from `plan.commit`'s tree (exported to a scratch dir), so
    untracked files, hard links and edits in the work tree never reach the archive."""
    source_dir = dir_inside(repo_root, bundle.path, key="bundles[].path")
    if not from_commit:
        return _build_from(bundle, plan, source_dir, dist_dir, resolver, signing, renderer)
    with tempfile.TemporaryDirectory(prefix="relkit-bundle-tree-") as scratch:
        tree = export_tree(repo_root, plan.commit, [bundle.path], Path(scratch))
        source_dir = dir_inside(tree, bundle.path, key="bundles[].path")
        return _build_from(bundle, plan, source_dir, dist_dir, resolver, signing, renderer)


def _build_from(
    bundle: BundleConfig,
    plan: ReleasePlan,
    source_dir: Path,
    dist_dir: Path,
    resolver: Resolver,
    signing: SigningConfig | None,
    renderer: TemplateRenderer | None,
) -> BuiltBundle:
    if not source_dir.is_dir():
        raise UsageError(
            f"bundle {bundle.name}: directory {bundle.path} does not exist",
            hint="check bundles[].path in the relkit config",
        )
    pinned = pin_bundle_images(bundle, plan, source_dir, resolver)
    files = collect_tree(source_dir)
    files[pinned.file_name] = BundleFile(pinned.text.encode("utf-8"))
    source_readme = files[README].data.decode("utf-8", "replace") if README in files else None
    readme = render_readme(
        bundle,
        plan,
        pinned.pins,
        signing=signing or SigningConfig(),
        source_readme=source_readme,
        has_env_example=ENV_EXAMPLE in files,
        renderer=renderer,
        compose_file=pinned.file_name,
    )
    files[README] = BundleFile(readme.encode("utf-8"))
    digests_text = render_digests(pin.pinned for pin in pinned.pins)
    files[DIGESTS_FILE] = BundleFile(digests_text.encode("utf-8"))
    sums_text = render_sha256sums({path: entry.data for path, entry in files.items()})
    files[SUMS_FILE] = BundleFile(sums_text.encode("utf-8"))

    top = bundle_top(bundle, plan)
    archive = build_tar_gz(files, top=top, mtime=int(plan.committed_at.timestamp()))
    outputs = {
        f"{top}.tar.gz": archive,
        f"{top}.{SUMS_FILE}": sums_text.encode("utf-8"),
        f"{top}.{DIGESTS_FILE}": digests_text.encode("utf-8"),
    }
    _write_all(dist_dir, outputs)
    return BuiltBundle(
        name=bundle.name,
        version=str(plan.version),
        archive=dist_dir / f"{top}.tar.gz",
        sha256sums=dist_dir / f"{top}.{SUMS_FILE}",
        digests=dist_dir / f"{top}.{DIGESTS_FILE}",
        pins=pinned.pins,
        digest=f"sha256:{hashlib.sha256(archive).hexdigest()}",
    )


def _write_all(dist_dir: Path, outputs: Mapping[str, bytes]) -> None:
    """Write every file to a scratch dir in dist/, then move them all into place."""
    dist_dir.mkdir(parents=True, exist_ok=True)
    scratch = scratch_dir(dist_dir, "bundle")
    try:
        for name, data in outputs.items():
            (scratch / name).write_bytes(data)
        for name in outputs:
            os.replace(scratch / name, dist_dir / name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
