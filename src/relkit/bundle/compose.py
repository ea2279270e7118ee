"""Find the `image:` of every Compose service and rewrite it pinned by digest (pure).

The rewrite splices new values into the original text at the positions the round-trip
parser (ruamel.yaml) reports, so comments, key order, indentation, quoting and blank lines
stay byte-for-byte as the author wrote them; only the image values change. The result is
parsed again and checked, so a splice can never produce a file that means something else.

The pin check must see what `docker compose up` would run (issue 9 item 5), so a bundle
may hold only what relkit checks: one compose file under a name compose loads by itself, no
override file (compose merges `compose.override.yaml` & co. on top without being asked),
no `.env`/`.env.example` that points compose at other files (`COMPOSE_FILE`,
`COMPOSE_ENV_FILES`), and a compose file without `build:`, `extends:`, `include:` or
`models:` (each would run something whose image is not pinned here). These are refused,
not followed: following them would mean re-implementing compose's merge rules, and a
self-host bundle does not need them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError

from relkit.bundle.interpolate import interpolate
from relkit.core.errors import RelkitError, UsageError
from relkit.core.paths import read_inside
from relkit.core.records import record
from relkit.core.structured import load_ruamel

__all__ = [
    "COMPOSE_FILE_NAMES",
    "ENV_FILE_NAMES",
    "OVERRIDE_FILE_NAMES",
    "BundleCompose",
    "ComposeImage",
    "check_bundle_compose",
    "check_env_file",
    "compose_file_among",
    "find_compose_file",
    "parse_compose",
    "pin_compose",
]

# Docker Compose's own lookup order (compose-go cli.DefaultFileNames); more than one is
# refused, so the order never decides which file runs.
COMPOSE_FILE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
# Merged on top of the compose file by `docker compose up` without being named
# (compose-go cli.DefaultOverrideFileNames).
OVERRIDE_FILE_NAMES = (
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
)
# `.env` is read by compose itself; `.env.example` becomes `.env` (the bundle README says
# `cp .env.example .env`).
ENV_FILE_NAMES = (".env", ".env.example")
# Variables that make compose load other files than the bundle's compose file and `.env`.
_FILE_VARIABLES = ("COMPOSE_FILE", "COMPOSE_ENV_FILES")
# Compose's dotenv grammar lets a key follow a quoted value on the same line, after
# `export` with or without a space, and before `=`, `:` or a newline. Rather than out-parse
# it, refuse the name wherever it stands as a key could (even in a comment: fail closed).
_FILE_VARIABLE = re.compile(
    r"(?<![\w.])(?:export)?(" + "|".join(_FILE_VARIABLES) + r")(?![\w.])", re.IGNORECASE
)
# Service keys that make compose build, or take settings from a file relkit does not check.
_REFUSED_SERVICE_KEYS = {
    "build": "builds an image instead of pulling a pinned one",
    "extends": "takes settings from another service or file",
}
_REFUSED_TOP_KEYS = {
    "include": "loads other compose files",
    "models": "pulls AI models that are not pinned by digest",
}


@record
class ComposeImage:
    """One service's `image:` value: as written, after interpolation, and where it is."""

    service: str
    written: str  # the YAML value as written, e.g. "${REGISTRY:-localhost:5000}/acme/web:1"
    reference: str  # after interpolation from .env.example
    offset: int  # character offset of the value token in the file text


def compose_file_among(names: Iterable[str], where: str) -> str:
    """The one compose file `docker compose up` loads from a directory holding `names`.

    Refuses override files and more than one compose file: compose would merge the former
    and pick among the latter, and the pin check must see exactly what runs.
    """
    present = set(names)
    overrides = [name for name in OVERRIDE_FILE_NAMES if name in present]
    if overrides:
        raise UsageError(
            f"{where}: {overrides[0]} is merged over the compose file by docker compose;"
            " a bundle may not hold override files",
            hint="fold it into the compose file",
        )
    found = [name for name in COMPOSE_FILE_NAMES if name in present]
    if not found:
        raise UsageError(
            f"{where} has no compose file", hint=f"add one of: {', '.join(COMPOSE_FILE_NAMES)}"
        )
    if len(found) > 1:
        raise UsageError(
            f"{where} has more than one compose file ({', '.join(found)})",
            hint="keep one: docker compose would run only the first",
        )
    return found[0]


def check_env_file(text: str, source: str) -> None:
    """Refuse a `.env` that makes compose load other files (COMPOSE_FILE, COMPOSE_ENV_FILES)."""
    match = _FILE_VARIABLE.search(text)
    if match is not None:
        raise UsageError(
            f"{source}: mentions {match.group(1)}, which makes docker compose load other files"
            " than the bundle's compose file",
            hint="remove it, from comments too (compose's .env grammar can read a key where"
            " a line looks like a comment, so relkit does not guess)",
        )


def find_compose_file(bundle_dir: Path) -> Path:
    """The bundle's compose file; refuses what would make compose load anything else."""
    try:
        names = [entry.name for entry in bundle_dir.iterdir()]
    except OSError as exc:
        raise UsageError(f"cannot list bundle directory {bundle_dir}: {exc.strerror}") from None
    name = compose_file_among(names, f"bundle directory {bundle_dir}")
    # .env is not bundled (see archive.collect_tree), but .env.example becomes one.
    env_example = read_inside(bundle_dir, ".env.example", key="bundle file", where=str(bundle_dir))
    if env_example is not None:
        check_env_file(env_example.decode("utf-8", errors="replace"), ".env.example")
    return bundle_dir / name


@record
class BundleCompose:
    """The compose file of a received bundle and its service images."""

    file_name: str
    images: tuple[ComposeImage, ...]


def check_bundle_compose(files: Mapping[str, bytes]) -> BundleCompose:
    """What `docker compose up` would run from a received bundle's files, checked.

    `files` maps paths relative to the bundle's top directory to their bytes. Besides the
    rules of `compose_file_among`, `check_env_file` and `parse_compose`, every image must be
    written as a literal reference: compose would interpolate a variable from the user's
    shell environment first and `.env` second, neither of which this check can see, while a
    value without `$` is the same under any environment. (`relkit bundle build` always
    writes literal pinned references.) Raises `RelkitError`: a bad bundle fails verification.
    """
    try:
        top_level = [path for path in files if "/" not in path]
        name = compose_file_among(top_level, "the bundle")
        for env_name in ENV_FILE_NAMES:
            if env_name in files:
                check_env_file(files[env_name].decode("utf-8", "replace"), env_name)
        text = _decoded(files[name], name)
        images = parse_compose(text, name, None)
    except UsageError as exc:
        # A bad file inside a bundle is a failed verification (exit 1), not bad usage.
        raise RelkitError(f"bundle: {exc.message}", hint=exc.hint) from None
    return BundleCompose(name, images)


def _decoded(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{source} is not UTF-8 text") from None


def _load(text: str, source: str) -> Any:
    yaml = YAML(typ="rt")  # round-trip loader: safe (no arbitrary tags) and keeps positions
    try:
        return load_ruamel(yaml, text, source=source)  # bounded depth, aliases, size
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise UsageError(f"{source}: not valid YAML{where}: {problem}") from None


def parse_compose(
    text: str, source: str, env: Mapping[str, str] | None
) -> tuple[ComposeImage, ...]:
    """Every service's image, sorted by service name.

    `env` (from `.env.example`) fills in variables at build time; None means the images
    must be literal references (a received bundle), and a `$` in one is refused.
    """
    images = []
    for service, written, offset in _service_images(text, source):
        where = f"{source}: service {service!r} image"
        if env is None and "$" in written:
            raise UsageError(
                f"{where} {written!r} uses a variable: docker compose would take it from the"
                " environment or .env, so what runs is not what was signed",
                hint="a built bundle has literal pinned images; rebuild it with relkit",
            )
        reference = interpolate(written, env or {}, where=where)
        images.append(ComposeImage(service, written, reference, offset))
    return tuple(images)


def _service_images(text: str, source: str) -> list[tuple[str, str, int]]:
    document = _load(text, source)
    services = document.get("services") if isinstance(document, Mapping) else None
    if not isinstance(services, Mapping) or not services:
        raise UsageError(f"{source}: no services defined", hint="add a services: mapping")
    assert isinstance(document, Mapping)
    for key, why in _REFUSED_TOP_KEYS.items():
        if key in document:
            raise UsageError(
                f"{source}: {key}: {why}; a bundle's compose file may not use it",
                hint="put everything the bundle runs in its one compose file",
            )
    line_starts = _line_starts(text)
    found: list[tuple[str, str, int]] = []
    for service, body in services.items():
        if isinstance(body, Mapping):
            for key, why in _REFUSED_SERVICE_KEYS.items():
                if key in body:
                    raise UsageError(
                        f"{source}: service {service!r} uses {key}:, which {why}",
                        hint="a bundle's services must pull pinned images: use image: only",
                    )
        if not isinstance(body, CommentedMap) or "image" not in body:
            raise UsageError(
                f"{source}: service {service!r} has no image",
                hint="a bundle's services must use pullable images (build: is not bundled)",
            )
        if "image" not in (body.lc.data or {}):
            raise UsageError(
                f"{source}: service {service!r} inherits image: through a YAML merge key",
                hint="set image: on the service itself",
            )
        written = body["image"]
        if not isinstance(written, str):
            raise UsageError(f"{source}: service {service!r}: image must be a string")
        line, column = body.lc.value("image")
        found.append((str(service), str(written), line_starts[line] + column))
    return sorted(found)


def pin_compose(
    text: str, source: str, images: tuple[ComposeImage, ...], pinned: Mapping[str, str]
) -> str:
    """Return `text` with each service in `pinned` (service → new image value) rewritten."""
    result = text
    # Splice from the end so earlier offsets stay valid.
    for image in sorted(images, key=lambda item: item.offset, reverse=True):
        if image.service not in pinned:
            continue
        start, end, quote = _token(result, image, source)
        result = result[:start] + _quoted(pinned[image.service], quote) + result[end:]
    check = {
        service: written
        for service, written, _ in _service_images(result, source)
        if service in pinned
    }
    if check != dict(pinned):
        raise RelkitError(f"{source}: pinning the images changed more than their values")
    return result


def _line_starts(text: str) -> list[int]:
    starts = [0]
    for index, char in enumerate(text):
        if char == "\n":
            starts.append(index + 1)
    return starts


def _token(text: str, image: ComposeImage, source: str) -> tuple[int, int, str]:
    """The [start, end) span of the image scalar and its quote style ('', "'" or '"')."""
    start = image.offset
    first = text[start : start + 1]
    unsupported = UsageError(
        f"{source}: service {image.service!r}: image value style not supported for pinning",
        hint="write image: as a plain or quoted scalar on one line (no anchors, aliases, tags)",
    )
    if first == '"':
        end = start + 1
        while end < len(text) and text[end] != '"':
            end += 2 if text[end] == "\\" else 1
        token_end, quote = end + 1, '"'
    elif first == "'":
        end = start + 1
        while end < len(text):
            if text[end] == "'" and text[end + 1 : end + 2] == "'":
                end += 2
                continue
            if text[end] == "'":
                break
            end += 1
        token_end, quote = end + 1, "'"
    else:
        token_end, quote = start + len(image.written), ""
        if text[start:token_end] != image.written:
            raise unsupported
    if token_end > len(text) or "\n" in text[start:token_end]:
        raise unsupported
    return start, token_end, quote


def _quoted(value: str, quote: str) -> str:
    if quote == '"':
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if quote == "'":
        return "'" + value.replace("'", "''") + "'"
    return value
