"""Bump the version written in project files (`version_files` in the config).

Three ways to say where a version lives:

- `key` in a YAML file (`.yaml`/`.yml`): a dotted path such as `version` or `image.tag`
  (a numeric segment indexes a list). ruamel.yaml finds the scalar's position and only that
  scalar is rewritten, keeping its quotes; comments and layout stay byte-identical.
- `key` in a TOML file (`.toml`): a dotted path such as `project.version`. The standard
  library cannot write TOML, so the `key = "..."` line of the right table is edited in place
  and the result is parsed again to check that the key now holds the new version.
- `pattern`: a regular expression with a named group `version`; every match is rewritten.

The `bump_*` functions are pure (old text, version → new text); `plan_version_files` reads
the files and returns the changes, `write_changes` writes them.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from relkit.core.config import VersionFile
from relkit.core.errors import ConfigError, RelkitError
from relkit.core.paths import committed_path, read_inside, write_inside
from relkit.core.records import record
from relkit.core.structured import DocumentError, load_ruamel, load_toml

__all__ = [
    "FileChange",
    "bump_pattern",
    "bump_text",
    "bump_toml_key",
    "bump_yaml_key",
    "plan_version_files",
    "write_changes",
]

_HINT = "fix version_files in the relkit config"


@record
class FileChange:
    """A file relkit would rewrite: its path relative to the repository root, before/after."""

    path: str
    old: str
    new: str

    @property
    def changed(self) -> bool:
        return self.old != self.new


# -- YAML --------------------------------------------------------------------------------


def _yaml_scalar_position(text: str, key: str, filename: str) -> tuple[int, int]:
    """(line, column) where the scalar at dotted `key` starts."""
    try:
        node: Any = load_ruamel(YAML(typ="rt"), text, source=f"version file {filename}")
    except YAMLError as exc:
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise ConfigError(f"version file {filename}: not valid YAML ({problem})") from None
    parts = key.split(".")
    position: tuple[int, int] | None = None
    for depth, part in enumerate(parts):
        where = ".".join(parts[: depth + 1])
        if isinstance(node, CommentedMap) and part in node:
            position = node.lc.value(part)
            node = node[part]
        elif isinstance(node, CommentedSeq) and part.isdigit() and int(part) < len(node):
            position = node.lc.item(int(part))
            node = node[int(part)]
        else:
            raise ConfigError(f"version file {filename}: key {where!r} not found", hint=_HINT)
    if position is None or isinstance(node, dict | list) or node is None:
        raise ConfigError(
            f"version file {filename}: key {key!r} does not hold a single value", hint=_HINT
        )
    return position


_YAML_PLAIN_END = re.compile(r"\s+#|\s*$")


def bump_yaml_key(text: str, key: str, version: str, *, filename: str = "<yaml>") -> str:
    """Set the scalar at dotted `key` to `version`, changing nothing else in `text`."""
    line_no, column = _yaml_scalar_position(text, key, filename)
    lines = text.splitlines(keepends=True)
    line = lines[line_no]
    body = line.rstrip("\r\n")
    ending = line[len(body) :]
    quote = body[column : column + 1]
    if quote in ("'", '"'):
        end = body.find(quote, column + 1)
        if end < 0:
            raise ConfigError(
                f"version file {filename}: key {key!r} holds a multi-line string", hint=_HINT
            )
        new_body = body[: column + 1] + version + body[end:]
    else:
        match = _YAML_PLAIN_END.search(body, column)
        end = match.start() if match else len(body)
        if body[column:end].startswith(("|", ">")):
            raise ConfigError(
                f"version file {filename}: key {key!r} holds a block scalar", hint=_HINT
            )
        new_body = body[:column] + version + body[end:]
    lines[line_no] = new_body + ending
    return "".join(lines)


# -- TOML --------------------------------------------------------------------------------


def _toml_value(data: Any, parts: Sequence[str]) -> Any:
    for part in parts:
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def _normalize_key(text: str) -> str:
    # `[ "project" ]`, `[project]` and `[ project ]` name the same table.
    return ".".join(part.strip().strip("\"'") for part in text.split("."))


_TOML_HEADER = re.compile(r"^\s*\[(?P<array>\[)?(?P<name>[^\]]+)\]\]?\s*(?:#.*)?$")


def _toml_key_line(key_text: str) -> re.Pattern[str]:
    parts = [re.escape(p) for p in key_text.split(".")]
    key_re = r"\s*\.\s*".join(rf"(?:{p}|\"{p}\"|'{p}')" for p in parts)
    return re.compile(
        rf"^(?P<head>\s*{key_re}\s*=\s*)(?P<q>\"|')(?P<value>[^\"'\n]*)(?P=q)", re.MULTILINE
    )


def bump_toml_key(text: str, key: str, version: str, *, filename: str = "<toml>") -> str:
    """Set the string at dotted `key` (e.g. `project.version`) to `version` by a line edit."""
    try:
        data = load_toml(text, source=f"version file {filename}")  # bounded depth/size
    except DocumentError as exc:
        raise ConfigError(exc.message) from None
    parts = key.split(".")
    current = _toml_value(data, parts)
    if current is None:
        raise ConfigError(f"version file {filename}: key {key!r} not found", hint=_HINT)
    if not isinstance(current, str):
        raise ConfigError(f"version file {filename}: key {key!r} is not a string", hint=_HINT)

    lines = text.splitlines(keepends=True)
    table = ""  # "" is the root table
    for index, line in enumerate(lines):
        header = _TOML_HEADER.match(line)
        if header:
            # Arrays of tables are never version holders; mark them so nothing matches.
            name = _normalize_key(header.group("name"))
            table = "\0" + name if header.group("array") else name
            continue
        # The key can be split between the table header and a dotted key on the line.
        prefix = f"{table}." if table else ""
        if not key.startswith(prefix) or key == table:
            continue
        match = _toml_key_line(key[len(prefix) :]).match(line)
        if match is None:
            continue
        start, end = match.span("value")
        lines[index] = line[:start] + version + line[end:]
        new_text = "".join(lines)
        if _toml_value(tomllib.loads(new_text), parts) != version:  # pragma: no cover
            break  # defensive: the edit hit something else; report below
        return new_text
    raise ConfigError(
        f"version file {filename}: cannot edit key {key!r} in place",
        hint='write it as a one-line string, e.g. version = "1.0.0"',
    )


# -- regular expressions ----------------------------------------------------------------


def bump_pattern(text: str, pattern: str, version: str, *, filename: str = "<file>") -> str:
    """Replace the `version` group of every match of `pattern` (multi-line mode)."""
    compiled = re.compile(pattern, re.MULTILINE)
    pieces: list[str] = []
    last = 0
    for match in compiled.finditer(text):
        start, end = match.span("version")
        if start < 0:  # the group did not take part in this match
            continue
        pieces.append(text[last:start])
        pieces.append(version)
        last = end
    if not pieces:
        raise ConfigError(f"version file {filename}: pattern {pattern!r} not found", hint=_HINT)
    pieces.append(text[last:])
    return "".join(pieces)


# -- dispatch and I/O --------------------------------------------------------------------


def bump_text(text: str, spec: VersionFile, version: str) -> str:
    """New content of the file described by `spec` holding `text`, at `version`."""
    if spec.pattern is not None:
        return bump_pattern(text, spec.pattern, version, filename=spec.path)
    assert spec.key is not None  # the config validator guarantees key xor pattern
    suffix = Path(spec.path).suffix.lower()
    if suffix in (".yaml", ".yml"):
        return bump_yaml_key(text, spec.key, version, filename=spec.path)
    if suffix == ".toml":
        return bump_toml_key(text, spec.key, version, filename=spec.path)
    raise ConfigError(
        f"version file {spec.path}: 'key' works for .yaml/.yml/.toml files only",
        hint="use 'pattern' with a (?P<version>...) group for other files",
    )


def plan_version_files(root: Path, specs: Sequence[VersionFile], version: str) -> list[FileChange]:
    """Read every version file under `root` and compute its new content.

    Several specs may name the same file (Chart.yaml `version` and `appVersion`): their
    edits are applied one after the other and yield one change per file.
    """
    contents: dict[str, tuple[str, str]] = {}
    for spec in specs:
        if spec.path not in contents:
            data = read_inside(root, spec.path, key="version file")
            if data is None:
                raise ConfigError(f"version file {spec.path} does not exist", hint=_HINT)
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                raise ConfigError(f"version file {spec.path} is not UTF-8 text") from None
            contents[spec.path] = (text, text)
        old, current = contents[spec.path]
        contents[spec.path] = (old, bump_text(current, spec, version))
    # Named as git sees them: an in-repository link is written (and committed) at its target.
    return [
        FileChange(committed_path(root, path, key="version file"), old, new)
        for path, (old, new) in contents.items()
    ]


def write_changes(root: Path, changes: Sequence[FileChange]) -> None:
    """Write the new contents (bytes as computed: no newline translation)."""
    for change in changes:
        if not change.changed:
            continue
        try:
            write_inside(root, change.path, change.new.encode("utf-8"), key="file")
        except OSError as exc:
            raise RelkitError(f"cannot write {change.path}: {exc.strerror}") from None
