"""Key paths into YAML documents: `image.digest`, `containers[0].image`, `env[name=TAG].value`.

Segments are separated by dots; a segment may be quoted (`annotations."relkit.dev/x"`) when
the key itself holds dots. `[N]` indexes a list, `[key=value]` picks the one list item whose
`key` equals `value` (sturdier than an index when someone reorders the list).
"""

from __future__ import annotations

import re

from relkit.core.errors import ConfigError
from relkit.core.records import record

__all__ = ["KeyPath", "Select", "parse_key_path"]


@record
class Select:
    """A list item chosen by one of its fields: `[name=web]`."""

    field: str
    value: str

    def __str__(self) -> str:
        return f"[{self.field}={self.value}]"


Segment = str | int | Select

_SEGMENT = re.compile(
    r"""
    (?:"(?P<dq>[^"]*)" | '(?P<sq>[^']*)' | (?P<plain>[^.\[\]"']+))?  # a mapping key
    (?P<subs>(?:\[[^\[\]]*\])*)                                    # list selectors
    """,
    re.VERBOSE,
)
_SUB = re.compile(r"\[([^\[\]]*)\]")


@record
class KeyPath:
    segments: tuple[Segment, ...]

    def __str__(self) -> str:
        text = ""
        for segment in self.segments:
            if isinstance(segment, int):
                text += f"[{segment}]"
            elif isinstance(segment, Select):
                text += str(segment)
            else:
                key = segment if re.fullmatch(r"[^.\[\]\"' ]+", segment) else f'"{segment}"'
                text += f".{key}" if text else key
        return text


def parse_key_path(path: str, where: str = "promote.edits.key") -> KeyPath:
    """Parse a dotted key path; a malformed one is a configuration error."""
    if not path.strip():
        raise ConfigError(f"{where}: empty key path")
    segments: list[Segment] = []
    for raw in _split_dots(path, where):
        match = _SEGMENT.fullmatch(raw)
        if match is None or not raw:
            raise ConfigError(f"{where}: malformed key path {path!r} near {raw!r}")
        key = match.group("dq") if match.group("dq") is not None else match.group("sq")
        if key is None:
            key = match.group("plain")
        if key is not None:
            segments.append(key)
        elif not segments and not match.group("subs"):
            raise ConfigError(f"{where}: malformed key path {path!r}")
        for sub in _SUB.findall(match.group("subs")):
            segments.append(_selector(sub, path, where))
    return KeyPath(tuple(segments))


def _split_dots(path: str, where: str) -> list[str]:
    # Split on dots outside quotes and brackets: `a."b.c"[k=v.1].d` -> a, "b.c"[k=v.1], d
    parts: list[str] = []
    current = ""
    quote: str | None = None
    depth = 0
    for char in path:
        if quote:
            quote = None if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        elif char == "." and depth == 0:
            parts.append(current)
            current = ""
            continue
        current += char
    if quote or depth:
        raise ConfigError(f"{where}: unbalanced quote or bracket in key path {path!r}")
    parts.append(current)
    return parts


def _selector(text: str, path: str, where: str) -> int | Select:
    text = text.strip()
    if re.fullmatch(r"\d+", text):
        return int(text)
    field, sep, value = text.partition("=")
    if sep and field.strip() and value.strip():
        return Select(field.strip(), value.strip().strip("\"'"))
    raise ConfigError(
        f"{where}: bad list selector [{text}] in {path!r}", hint="use [0] or [name=value]"
    )
