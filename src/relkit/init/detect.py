"""What `relkit init` can learn from a repository, as pure functions over `RepoFacts`.

`RepoFacts` is what was read (file list, origin URL, tags, a few file texts); everything here
decides from it alone, so each rule is tested without a repository. Anything odd (a path
with a control character, a remote that is not a plain GitHub `owner/name`) is left out
rather than guessed: `init` writes a config `relkit check` accepts, never a wrong one.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import field
from pathlib import PurePosixPath

import yaml

from relkit.bundle.compose import COMPOSE_FILE_NAMES
from relkit.core.model import SEMVER_BODY
from relkit.core.records import record
from relkit.core.remote_url import parse_remote_url
from relkit.history.changelog import INSERT_MARKER

__all__ = [
    "CHANGELOG_NAMES",
    "COMPOSE_NAMES",
    "Bundle",
    "Changelog",
    "Component",
    "Detected",
    "RepoFacts",
    "TagShape",
    "VersionFileSpec",
    "detect",
    "github_repository",
    "tag_shape",
]

# Docker Compose's default file names: the ones the bundle step looks for.
COMPOSE_NAMES = COMPOSE_FILE_NAMES
CHANGELOG_NAMES = ("CHANGELOG.md", "CHANGES.md", "HISTORY.md")

# github.com's own rules for an owner and a repository name. Which hosts: the web and
# ssh (`ssh.github.com:443`) names of github.com, whatever the case they are written in.
_GITHUB_HOSTS = frozenset({"github.com", "www.github.com", "ssh.github.com"})
_GITHUB_OWNER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})", re.ASCII)
_GITHUB_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}", re.ASCII)
# The version part is the one relkit's tag formats parse (ASCII digits only, semver 2.0.0).
_PLAIN_TAG = re.compile(rf"^(?P<v>v?){SEMVER_BODY}$", re.ASCII)
_PREFIXED_TAG = re.compile(
    rf"^(?P<prefix>[a-z0-9][a-z0-9._-]{{0,63}}[@/])(?P<v>v?){SEMVER_BODY}$", re.ASCII
)
# A safe path: printable, no quote or backslash games in the generated TOML/YAML.
_SAFE_PATH = re.compile(r"^[A-Za-z0-9._/@+-]{1,255}$")


@record
class RepoFacts:
    files: tuple[str, ...]  # repository-relative POSIX paths (tracked and untracked, not ignored)
    origin: str | None  # the `origin` remote's URL
    tags: tuple[str, ...]
    read: Callable[[str], str | None]  # a file's text, None when unreadable or too big


@record
class TagShape:
    tag_format: str  # "v{version}" or "{version}"
    prefixes: tuple[str, ...] = ()  # component tag prefixes seen: "api/", "pkg@"


@record
class VersionFileSpec:
    path: str
    key: str | None = None
    pattern: str | None = None


@record
class Bundle:
    name: str
    path: str  # the directory holding the compose file
    compose_file: str


@record
class Changelog:
    file: str
    insert_point: str  # how new sections go in: "marker" or "above the first release heading"


@record
class Component:
    name: str
    path: str
    tag_prefix: str
    version_files: tuple[VersionFileSpec, ...] = ()
    charts: tuple[str, ...] = ()
    bundles: tuple[Bundle, ...] = ()


@record
class Detected:
    repository: str | None
    tag_shape: TagShape
    charts: tuple[str, ...]  # chart directories
    bundles: tuple[Bundle, ...]
    root_compose: str | None  # a compose file at the root: not bundled (it would ship the repo)
    version_files: tuple[VersionFileSpec, ...]
    changelog: Changelog | None
    components: tuple[Component, ...] = field(default=())
    skipped: tuple[str, ...] = field(default=())  # what was seen but left out, and why
    pyproject_config: bool = False  # pyproject.toml already has [tool.relkit]


def github_repository(url: str | None) -> str | None:
    """`owner/name` of a github.com remote URL, None for anything else."""
    remote = parse_remote_url(url)
    if remote is None or remote.host not in _GITHUB_HOSTS or len(remote.path) != 2:
        return None
    owner, name = remote.path
    # `shop.git.git`: the remote names a `shop.git`, which github.com does not allow.
    if not _GITHUB_OWNER.fullmatch(owner) or not _GITHUB_NAME.fullmatch(name):
        return None
    return None if name.endswith(".git") else f"{owner}/{name}"


def tag_shape(tags: Sequence[str]) -> TagShape:
    """The tag format most tags follow, and the component prefixes of prefixed tags."""
    plain_v = plain = 0
    prefixes: dict[str, int] = {}
    prefixed_v = prefixed_bare = 0
    for tag in tags:
        if match := _PLAIN_TAG.match(tag):
            if match["v"]:
                plain_v += 1
            else:
                plain += 1
        elif match := _PREFIXED_TAG.match(tag):
            prefixes[match["prefix"]] = prefixes.get(match["prefix"], 0) + 1
            if match["v"]:
                prefixed_v += 1
            else:
                prefixed_bare += 1
    if plain_v or plain:
        tag_format = "v{version}" if plain_v >= plain else "{version}"
    elif prefixed_v or prefixed_bare:
        tag_format = "v{version}" if prefixed_v >= prefixed_bare else "{version}"
    else:
        tag_format = "v{version}"
    return TagShape(tag_format, tuple(sorted(prefixes)))


def _safe(path: str) -> bool:
    parts = path.split("/")
    return bool(_SAFE_PATH.match(path)) and ".." not in parts and "" not in parts


def _parent(path: str) -> str:
    parent = str(PurePosixPath(path).parent)
    return parent


def _chart_dirs(files: Sequence[str]) -> list[str]:
    dirs = sorted(_parent(f) for f in files if PurePosixPath(f).name == "Chart.yaml")
    # A chart inside another chart (charts/app/charts/sub) is a dependency, not a release.
    return [d for d in dirs if not any(d.startswith(f"{o}/") for o in dirs if o != ".")]


def _version_file(path: str, read: Callable[[str], str | None]) -> VersionFileSpec | None:
    name = PurePosixPath(path).name
    text = read(path)
    if text is None:
        return None
    if name == "pyproject.toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            return None
        if isinstance(data.get("project", {}).get("version"), str):
            return VersionFileSpec(path, key="project.version")
        poetry = data.get("tool", {}).get("poetry", {})
        if isinstance(poetry, dict) and isinstance(poetry.get("version"), str):
            return VersionFileSpec(path, key="tool.poetry.version")
        return None
    if name == "Cargo.toml":
        try:
            package = tomllib.loads(text).get("package", {})
        except tomllib.TOMLDecodeError:
            return None
        if isinstance(package, dict) and isinstance(package.get("version"), str):
            return VersionFileSpec(path, key="package.version")
        return None  # `version.workspace = true`: the workspace's Cargo.toml holds it
    if name == "package.json":
        try:
            document = json.loads(text)
        except ValueError:
            return None
        if isinstance(document, dict) and isinstance(document.get("version"), str):
            # The top-level "version" only: dependencies never use that key at this depth.
            return VersionFileSpec(path, pattern=r'^\s{0,4}"version"\s*:\s*"(?P<version>[^"]+)"')
        return None
    if name == "Chart.yaml":
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError:
            return None
        if isinstance(document, dict) and isinstance(document.get("version"), str):
            return VersionFileSpec(path, key="version")
    return None


_VERSION_FILE_NAMES = ("pyproject.toml", "package.json", "Chart.yaml", "Cargo.toml")


def _changelog(files: Sequence[str], read: Callable[[str], str | None]) -> Changelog | None:
    for name in CHANGELOG_NAMES:
        if name in files:
            text = read(name) or ""
            point = "marker" if INSERT_MARKER in text else "above the first release heading"
            return Changelog(name, point)
    return None


def _bundle_name(directory: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9-]+", "-", PurePosixPath(directory).name.lower()).strip("-") or "app"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    taken.add(name)
    return name


def _component_dir(prefix: str, dirs: Mapping[str, str]) -> str | None:
    """The directory a component prefix names (`api/` -> services/api), if exactly one."""
    name = prefix[:-1]
    name = name.rsplit("/", 1)[-1].lstrip("@")
    return dirs.get(name)


# Directories whose charts, compose and version files are not the project's releases:
# test data, examples, vendored code, docs.
_NOT_RELEASED = frozenset(
    ("tests", "test", "testdata", "fixtures", "examples", "docs", "vendor", "third_party")
)


def _released(path: str) -> bool:
    return not any(part in _NOT_RELEASED or part == "node_modules" for part in path.split("/"))


def detect(facts: RepoFacts) -> Detected:
    skipped: list[str] = []
    files: list[str] = []
    for path in facts.files:
        if _safe(path):
            if _released(path):
                files.append(path)
        elif PurePosixPath(path).name in (*_VERSION_FILE_NAMES, *COMPOSE_NAMES):
            skipped.append(f"{path!r}: a path init does not write into a config")
    shape = tag_shape(facts.tags)
    charts = _chart_dirs(files)
    taken: set[str] = set()
    bundles: list[Bundle] = []
    root_compose: str | None = None
    seen_dirs: set[str] = set()
    for path in sorted(files):
        if PurePosixPath(path).name not in COMPOSE_NAMES:
            continue
        directory = _parent(path)
        if directory == ".":
            root_compose = root_compose or path
            continue
        if directory in seen_dirs:
            skipped.append(f"{path}: a second compose file in {directory}/ (compose refuses both)")
            continue
        seen_dirs.add(directory)
        bundles.append(Bundle(_bundle_name(directory, taken), directory, PurePosixPath(path).name))
    version_files = [
        spec
        for path in sorted(files)
        if PurePosixPath(path).name in _VERSION_FILE_NAMES
        and not any(path.startswith(f"{c}/charts/") for c in charts)
        for spec in [_version_file(path, facts.read)]
        if spec is not None
    ]
    components = _components(shape, files, charts, bundles, version_files)
    if components:
        inside = {c.path for c in components}

        def outside(path: str) -> bool:
            return not any(path == p or path.startswith(f"{p}/") for p in inside)

        charts = [c for c in charts if outside(c)]
        bundles = [b for b in bundles if outside(b.path)]
        version_files = [v for v in version_files if outside(v.path)]
    return Detected(
        repository=github_repository(facts.origin),
        tag_shape=shape,
        charts=tuple(charts),
        bundles=tuple(bundles),
        root_compose=root_compose,
        version_files=tuple(version_files),
        changelog=_changelog(files, facts.read),
        components=tuple(components),
        skipped=tuple(skipped),
        pyproject_config=_has_tool_relkit(facts.read("pyproject.toml")),
    )


def _has_tool_relkit(text: str | None) -> bool:
    try:
        tool = tomllib.loads(text or "").get("tool", {})
    except tomllib.TOMLDecodeError:
        return False
    return isinstance(tool, dict) and "relkit" in tool


def _components(
    shape: TagShape,
    files: Sequence[str],
    charts: Sequence[str],
    bundles: Sequence[Bundle],
    version_files: Sequence[VersionFileSpec],
) -> list[Component]:
    """Components from prefixed tags (`api/v1.2.3`, `pkg@1.2.3`), else from the shape
    `packages/*` (or services/, apps/) with a version file each."""
    dirs: dict[str, str] = {}
    for path in files:
        parts = path.split("/")
        for depth in (1, 2):
            if len(parts) > depth:
                directory = "/".join(parts[:depth])
                dirs.setdefault(parts[depth - 1], directory)
    found: list[tuple[str, str, str]] = []  # name, path, prefix
    for prefix in shape.prefixes:
        named = _component_dir(prefix, dirs)
        if named is not None:
            found.append((PurePosixPath(named).name, named, prefix))
    if not found:
        groups = ("packages", "services", "apps")
        owners = sorted(
            {
                "/".join(v.path.split("/")[:2])
                for v in version_files
                if v.path.split("/")[0] in groups and v.path.count("/") == 2
            }
        )
        if len(owners) >= 2:
            separator = "/" if shape.tag_format.startswith("v") else "@"
            found = [(PurePosixPath(o).name, o, PurePosixPath(o).name + separator) for o in owners]
    components: list[Component] = []
    names: set[str] = set()
    for name, path, prefix in found:
        if name in names:
            continue
        names.add(name)

        def within(item: str, path: str = path) -> bool:
            return item == path or item.startswith(f"{path}/")

        components.append(
            Component(
                name=name,
                path=path,
                tag_prefix=prefix,
                version_files=tuple(v for v in version_files if within(v.path)),
                charts=tuple(c for c in charts if within(c)),
                bundles=tuple(b for b in bundles if within(b.path)),
            )
        )
    return components
