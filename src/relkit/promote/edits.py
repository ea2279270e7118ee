"""Apply one promotion edit to the text of a YAML file, changing nothing but that value (pure).

Why not load, set and dump: a round-trip dump re-indents lists, re-wraps long lines and may
re-quote, so a one-value promotion would show up as a noisy diff in a GitOps review. Instead
ruamel.yaml's round-trip loader finds *where* the value sits (line and column), only that
scalar token is rewritten in the original text, and the result is parsed again and compared
with the expected document, so a layout we cannot edit safely is an error, never a wrong file.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from typing import Any, NamedTuple

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from relkit.core.config import PromoteEdit
from relkit.core.errors import ConfigError, RelkitError
from relkit.core.structured import load_ruamel_all
from relkit.promote.paths import KeyPath, Select, parse_key_path

__all__ = ["KUSTOMIZE_FIELDS", "EditResult", "apply_edit", "edit_location"]

KUSTOMIZE_FIELDS = ("digest", "newTag", "newName")


class EditResult(NamedTuple):
    """The new file text and the value before and after (None: the key was empty)."""

    text: str
    old_value: str | None
    new_value: str


def edit_location(edit: PromoteEdit, value: str = "") -> str:
    """Where an edit writes: `image.digest`, `images[name=web].digest`."""
    if edit.kind == "kustomize":
        return f"images[name={edit.image}].{_kustomize_field(edit, value)}"
    return str(parse_key_path(edit.key or "", f"promote.edits[{edit.file}].key"))


def apply_edit(text: str, edit: PromoteEdit, value: str) -> EditResult:
    """Set the value `edit` points at to `value` in the YAML `text` of `edit.file`."""
    if "\n" in value or "\r" in value:
        raise ConfigError(f"promote.edits[{edit.file}]: the value must be a single line")
    document = _load(text, edit.file)
    if edit.kind == "kustomize":
        return _edit_kustomize(text, document, edit, value)
    if not edit.key:
        raise ConfigError(
            f"promote.edits[{edit.file}]: kind {edit.kind!r} needs a 'key' (e.g. image.digest)"
        )
    path = parse_key_path(edit.key, f"promote.edits[{edit.file}].key")
    parent, last = _walk(document, path, edit.file)
    return _replace(text, document, parent, last, path, value, edit.file)


# -- loading and walking ------------------------------------------------------------------


def _yaml() -> YAML:
    loader = YAML(typ="rt")
    loader.preserve_quotes = True
    return loader


def _load(text: str, file: str) -> Any:
    try:
        documents = load_ruamel_all(_yaml(), text, source=file)  # bounded depth, aliases
    except YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        raise RelkitError(
            f"{file}: not valid YAML{line}", hint="fix the file in the GitOps repository"
        ) from None
    if len(documents) != 1:
        raise RelkitError(
            f"{file}: holds {len(documents)} YAML documents; promotion edits need exactly one"
        )
    return documents[0]


def _walk(document: Any, path: KeyPath, file: str) -> tuple[Any, str | int]:
    """Follow all but the last segment; return the container holding the value and its key."""
    node = document
    resolved: list[str | int | Select] = []
    segments = list(path.segments)
    for position, segment in enumerate(segments):
        here = KeyPath(tuple(resolved)) if resolved else None
        key = _index(node, segment, file, path, here)
        resolved.append(segment)
        if position == len(segments) - 1:
            if isinstance(node[key], CommentedMap | CommentedSeq):
                raise ConfigError(
                    f"{file}: {path} is a {'mapping' if isinstance(node[key], dict) else 'list'},"
                    " not a single value",
                    hint="point the key at a scalar such as image.digest",
                )
            return node, key
        node = node[key]
    raise ConfigError(f"{file}: empty key path")  # pragma: no cover - parse_key_path forbids it


def _index(
    node: Any, segment: str | int | Select, file: str, path: KeyPath, here: KeyPath | None
) -> str | int:
    at = f" at {here}" if here else ""
    if isinstance(segment, str):
        if not isinstance(node, CommentedMap):
            raise ConfigError(f"{file}: {path}: expected a mapping{at}, found {_kind(node)}")
        if segment not in node:
            known = ", ".join(str(k) for k in node) or "none"
            raise ConfigError(
                f"{file}: key {path} not found (no {segment!r}{at}; keys there: {known})",
                hint="check promote.edits key against the file in the GitOps repository",
            )
        return segment
    if not isinstance(node, CommentedSeq):
        raise ConfigError(f"{file}: {path}: expected a list{at}, found {_kind(node)}")
    if isinstance(segment, int):
        if segment >= len(node):
            raise ConfigError(
                f"{file}: key {path} not found (index {segment}{at}, the list has {len(node)})"
            )
        return segment
    matches = [
        i
        for i, item in enumerate(node)
        if isinstance(item, CommentedMap) and str(item.get(segment.field)) == segment.value
    ]
    if len(matches) != 1:
        problem = "no item" if not matches else f"{len(matches)} items"
        raise ConfigError(f"{file}: key {path} not found ({problem} matching {segment}{at})")
    return matches[0]


def _kind(node: Any) -> str:
    if isinstance(node, dict):
        return "a mapping"
    if isinstance(node, list):
        return "a list"
    return "a value" if node is not None else "an empty value"


# -- kustomize ------------------------------------------------------------------------------


def _kustomize_field(edit: PromoteEdit, value: str) -> str:
    if edit.key is not None:
        if edit.key not in KUSTOMIZE_FIELDS:
            raise ConfigError(
                f"promote.edits[{edit.file}].key: {edit.key!r} is not a kustomize image field",
                hint="use one of " + ", ".join(KUSTOMIZE_FIELDS),
            )
        return edit.key
    # The value decides: a digest pins by digest, anything else is a tag.
    return "digest" if value.startswith("sha256:") or edit.value == "{digest}" else "newTag"


def _edit_kustomize(text: str, document: Any, edit: PromoteEdit, value: str) -> EditResult:
    file = edit.file
    if not edit.image:
        raise ConfigError(
            f"promote.edits[{file}]: kind 'kustomize' needs 'image' (the images[].name)"
        )
    field = _kustomize_field(edit, value)
    images = document.get("images") if isinstance(document, CommentedMap) else None
    if not isinstance(images, CommentedSeq):
        raise ConfigError(f"{file}: no images: list", hint="is this a kustomization.yaml?")
    path = KeyPath(("images", Select("name", edit.image), field))
    index = _index(images, Select("name", edit.image), file, path, KeyPath(("images",)))
    entry = images[index]
    if field in entry:
        return _replace(text, document, entry, field, path, value, file)
    return _insert_field(text, document, entry, field, path, value, file)


def _insert_field(
    text: str, document: Any, entry: CommentedMap, field: str, path: KeyPath, value: str, file: str
) -> EditResult:
    # Kustomize entries often start with only name/newTag; pinning a digest adds the field
    # on the line after `name:`, at the same indentation.
    if entry.fa.flow_style():
        raise RelkitError(
            f"{file}: cannot add {path} to a flow-style entry",
            hint="write the entry in block style",
        )
    line, column = entry.lc.key("name")
    lines = text.splitlines(keepends=True)
    newline = "\r\n" if lines[line].endswith("\r\n") else "\n"
    if not lines[line].endswith(("\n", "\r")):
        lines[line] += newline
    lines.insert(
        line + 1, f"{' ' * column}{field}: {_render_scalar(value, '', flow=False)}{newline}"
    )
    new_text = "".join(lines)
    _verify(document, new_text, path, value, file)
    return EditResult(new_text, None, value)


# -- replacing one scalar token ---------------------------------------------------------------


def _replace(
    text: str, document: Any, parent: Any, key: str | int, path: KeyPath, value: str, file: str
) -> EditResult:
    lines = text.splitlines(keepends=True)
    flow = bool(parent.fa.flow_style())
    old = parent[key]
    try:
        if old is None and isinstance(parent, CommentedMap):
            # An empty value (`digest:`) has no token of its own: write after the colon.
            key_line, key_column = parent.lc.key(key)
            line, start = _after_colon(lines, key_line, key_column, file, path)
            token = lines[line][start:].lstrip(" \t")
            if token.startswith(("null", "~", "Null", "NULL")):
                start = len(lines[line]) - len(token)
                end = _scalar_end(lines[line], start, flow, file, path)
                replacement = _render_scalar(value, "", flow)
            else:
                end = start
                replacement = " " + _render_scalar(value, "", flow)
        else:
            line, start = (
                parent.lc.value(key) if isinstance(parent, CommentedMap) else parent.lc.item(key)
            )
            style = lines[line][start] if lines[line][start] in "\"'" else ""
            end = _scalar_end(lines[line], start, flow, file, path)
            replacement = _render_scalar(value, style, flow)
    except (KeyError, IndexError, TypeError):
        # Keys that come from merges (`<<: *base`) have no position of their own.
        raise RelkitError(
            f"{file}: cannot locate {path} in the text",
            hint="is it inherited through an anchor or merge key?",
        ) from None
    old_text = (
        None if old is None else (str(old) if isinstance(old, str) else lines[line][start:end])
    )
    lines[line] = lines[line][:start] + replacement + lines[line][end:]
    new_text = "".join(lines)
    _verify(document, new_text, path, value, file)
    return EditResult(new_text, old_text, value)


def _after_colon(
    lines: Sequence[str], line: int, column: int, file: str, path: KeyPath
) -> tuple[int, int]:
    """Position just after the `:` that ends the key starting at (line, column)."""
    text = lines[line]
    position = column
    if text[position] in "\"'":
        position = _scalar_end(text, position, False, file, path)
    while position < len(text):
        if text[position] == ":" and (position + 1 == len(text) or text[position + 1] in " \t\r\n"):
            return line, position + 1
        position += 1
    raise RelkitError(
        f"{file}: cannot locate the value of {path}", hint="write `key: value` on one line"
    )


def _scalar_end(line: str, start: int, flow: bool, file: str, path: KeyPath) -> int:
    """End offset of the scalar token starting at `start` on one line."""
    first = line[start] if start < len(line) else ""
    if first in ("|", ">"):
        raise RelkitError(f"{file}: {path} is a block scalar", hint="use a one-line value")
    if first in ("&", "*", "!"):
        raise RelkitError(
            f"{file}: {path} uses an anchor, alias or tag; relkit will not rewrite it"
        )
    if first == '"':
        position = start + 1
        while position < len(line):
            if line[position] == "\\":
                position += 2
                continue
            if line[position] == '"':
                return position + 1
            position += 1
        raise RelkitError(f"{file}: {path} is a multi-line string", hint="use a one-line value")
    if first == "'":
        position = start + 1
        while position < len(line):
            if line[position] == "'":
                if line[position + 1 : position + 2] == "'":
                    position += 2
                    continue
                return position + 1
            position += 1
        raise RelkitError(f"{file}: {path} is a multi-line string", hint="use a one-line value")
    position = start
    stops = ",]}" if flow else ""
    while position < len(line):
        char = line[position]
        if char in "\r\n" or char in stops:
            break
        if char == "#" and position > start and line[position - 1] in " \t":
            break
        position += 1
    return len(line[start:position].rstrip()) + start


def _render_scalar(value: str, style: str, flow: bool) -> str:
    """The value as a YAML token, in the style the old one had where that is safe."""
    if style == "'":
        return "'" + value.replace("'", "''") + "'"
    if style == '"' or not _plain_is_safe(value, flow):
        return json.dumps(value, ensure_ascii=False)
    return value


def _plain_is_safe(value: str, flow: bool) -> bool:
    # YAML 1.1 resolution (PyYAML) is the stricter one: `on`, `012`, `1.20` would not stay
    # strings for Helm's Go YAML either, so those get quotes.
    if not value or value != value.strip() or (flow and any(c in value for c in ",[]{}")):
        return False
    try:
        return bool(yaml.safe_load(io.StringIO(f"k: {value}\n")) == {"k": value})
    except yaml.YAMLError:
        return False


def _verify(document: Any, new_text: str, path: KeyPath, value: str, file: str) -> None:
    """Parse the edited text: it must equal the old document with exactly one value changed."""
    expected = _plain(document)  # a copy: the loaded document itself stays untouched
    node = expected
    for segment in path.segments[:-1]:
        node = node[_plain_index(node, segment)]
    node[_plain_index(node, path.segments[-1])] = value
    try:
        actual = _plain(_load(new_text, file))
    except RelkitError:
        actual = None
    if actual != expected:
        raise RelkitError(
            f"{file}: could not rewrite {path} without changing anything else",
            hint="write the value as a one-line scalar (`key: value`)",
        )


def _plain_index(node: Any, segment: str | int | Select) -> str | int:
    # The segment was resolved on the same document already, so it exists here.
    if not isinstance(segment, Select):
        return segment
    return next(
        i
        for i, item in enumerate(node)
        if isinstance(item, dict) and str(item.get(segment.field)) == segment.value
    )


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    return node
