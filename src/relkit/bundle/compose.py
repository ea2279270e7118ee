"""Find the `image:` of every Compose service and rewrite it pinned by digest (pure).

The rewrite splices new values into the original text at the positions the round-trip
parser (ruamel.yaml) reports, so comments, key order, indentation, quoting and blank lines
stay byte-for-byte as the author wrote them; only the image values change. The result is
parsed again and checked, so a splice can never produce a file that means something else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError

from relkit.bundle.interpolate import interpolate
from relkit.errors import RelkitError, UsageError

__all__ = [
    "COMPOSE_FILE_NAMES",
    "ComposeImage",
    "find_compose_file",
    "parse_compose",
    "pin_compose",
]

# Docker Compose's own lookup order.
COMPOSE_FILE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")


@dataclass(frozen=True)
class ComposeImage:
    """One service's `image:` value: as written, after interpolation, and where it is."""

    service: str
    written: str  # the YAML value as written, e.g. "${REGISTRY:-localhost:5000}/acme/web:1"
    reference: str  # after interpolation from .env.example
    offset: int  # character offset of the value token in the file text


def find_compose_file(bundle_dir: Path) -> Path:
    """The bundle's compose file, in Docker Compose's lookup order."""
    for name in COMPOSE_FILE_NAMES:
        candidate = bundle_dir / name
        if candidate.is_file():
            return candidate
    raise UsageError(
        f"bundle directory {bundle_dir} has no compose file",
        hint=f"add one of: {', '.join(COMPOSE_FILE_NAMES)}",
    )


def _load(text: str, source: str) -> Any:
    yaml = YAML(typ="rt")  # round-trip loader: safe (no arbitrary tags) and keeps positions
    try:
        return yaml.load(StringIO(text))
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise UsageError(f"{source}: not valid YAML{where}: {problem}") from None


def parse_compose(text: str, source: str, env: Mapping[str, str]) -> tuple[ComposeImage, ...]:
    """Every service's image, sorted by service name; `env` comes from `.env.example`."""
    return tuple(
        ComposeImage(
            service=service,
            written=written,
            reference=interpolate(written, env, where=f"{source}: service {service!r} image"),
            offset=offset,
        )
        for service, written, offset in _service_images(text, source)
    )


def _service_images(text: str, source: str) -> list[tuple[str, str, int]]:
    document = _load(text, source)
    services = document.get("services") if isinstance(document, Mapping) else None
    if not isinstance(services, Mapping) or not services:
        raise UsageError(f"{source}: no services defined", hint="add a services: mapping")
    line_starts = _line_starts(text)
    found: list[tuple[str, str, int]] = []
    for service, body in services.items():
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
