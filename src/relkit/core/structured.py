"""Bounded loading of the structured documents relkit reads from outside.

Config files, compose files, GitOps values files, Sigstore bundles and registry manifests
come from repositories and servers relkit does not control. The stock parsers recurse once
per nesting level (a 20,000-deep TOML array or a 100,000-deep JSON list is a traceback) and
YAML aliases share nodes, so a small "billion laughs" file becomes billions of nodes for any
code that walks it. Every such document goes through this module (issue 9 §7): a size cap,
a nesting-depth cap, a cap on nodes reached through YAML aliases, strict UTF-8, and one
`DocumentError` line naming the source for every way it can fail.

    load_yaml(text, source=...)          PyYAML safe loading (one document)
    load_yaml_all(text, source=...)      every document of a stream
    load_ruamel(YAML(typ="rt"), text, source=...)   the same limits for ruamel round-trip edits
    load_json(data, source=...)          json.loads
    load_toml(data, source=...)          tomllib.loads
    decode_utf8(data, source=...) / read_text(path, source=...)
"""

from __future__ import annotations

import importlib
import json
import re
import tomllib
from functools import cache
from itertools import accumulate
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import yaml

from relkit.core.errors import UsageError
from relkit.core.records import record

__all__ = [
    "DEFAULT_LIMITS",
    "DocumentError",
    "Limits",
    "check_size",
    "decode_utf8",
    "load_json",
    "load_ruamel",
    "load_ruamel_all",
    "load_toml",
    "load_yaml",
    "load_yaml_all",
    "read_text",
]


class DocumentError(UsageError):
    """A document that cannot be read safely: too big, too deep, not UTF-8, malformed (exit 2)."""


@record
class Limits:
    """What a document may cost. The defaults are far above any real config/compose/bundle."""

    max_bytes: int = 8 * 1024 * 1024
    # Kubernetes manifests and Helm values rarely nest past 20; 100 leaves room and keeps the
    # recursive composers/constructors far from Python's recursion limit.
    max_depth: int = 100
    # Nodes reached through YAML aliases, counted as if each alias were a copy. Anchors for
    # shared compose snippets cost hundreds; an alias bomb reaches this within a few levels.
    max_alias_nodes: int = 100_000


DEFAULT_LIMITS = Limits()

_T = TypeVar("_T")


# -- text ---------------------------------------------------------------------------------


def _check_size(length: int, source: str, limits: Limits) -> None:
    if length > limits.max_bytes:
        raise DocumentError(f"{source}: larger than {limits.max_bytes} bytes ({length} bytes)")


def decode_utf8(data: bytes, *, source: str) -> str:
    """`data` as text; not UTF-8 is one line naming the first bad byte's offset."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = data[exc.start : exc.start + 1].hex()
        raise DocumentError(
            f"{source}: not UTF-8 text (byte 0x{bad} at offset {exc.start})",
            hint="save the file as UTF-8",
        ) from None


def read_text(path: Path, *, source: str | None = None, limits: Limits = DEFAULT_LIMITS) -> str:
    """Read a UTF-8 text file of bounded size; every failure is one line naming `source`."""
    name = source or str(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(limits.max_bytes + 1)
    except OSError as exc:
        raise DocumentError(f"{name}: cannot read ({exc.strerror or type(exc).__name__})") from None
    _check_size(len(data), name, limits)
    return decode_utf8(data, source=name)


def _as_text(data: str | bytes, source: str, limits: Limits) -> str:
    _check_size(len(data), source, limits)
    return decode_utf8(data, source=source) if isinstance(data, bytes) else data


# -- nesting depth without recursion ------------------------------------------------------

_BRACKET_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def _bracket_depth(text: str) -> int:
    """Deepest bracket nesting in `text` (strings and comments already removed)."""
    brackets = _NOT_BRACKET.sub("", text)
    if not brackets:
        return 0
    # accumulate/map run in C: a few MB of brackets take well under a second.
    return max(accumulate(map(_BRACKET_STEP.__getitem__, brackets)))


def _check_depth(depth: int, source: str, limits: Limits) -> None:
    if depth > limits.max_depth:
        raise DocumentError(f"{source}: nested deeper than {limits.max_depth} levels")


def _value_depth(value: Any, source: str, limits: Limits) -> None:
    """Refuse a loaded value nested deeper than the limit (iterative: never recurses)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        _check_depth(depth, source, limits)
        stack.extend((child, depth + 1) for child in children)


# -- JSON ---------------------------------------------------------------------------------

# A JSON string, unrolled so the match is linear; whatever precedes a parse error is valid
# JSON, so removing strings this way leaves exactly the structural brackets of that prefix.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)


def load_json(data: str | bytes, *, source: str, limits: Limits = DEFAULT_LIMITS) -> Any:
    """`json.loads` within `limits`; malformed, too big or too deep is one `DocumentError`."""
    text = _as_text(data, source, limits)
    _check_depth(_bracket_depth(_JSON_STRING.sub("", text)), source, limits)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DocumentError(
            f"{source}: not valid JSON (line {exc.lineno} column {exc.colno}: {exc.msg})"
        ) from None
    except (ValueError, RecursionError) as exc:  # e.g. an integer of over 4,300 digits
        raise DocumentError(f"{source}: not valid JSON ({_first_line(exc)})") from None


# -- TOML ---------------------------------------------------------------------------------

# Strings and comments, removed before counting brackets. Multi-line forms first.
_TOML_NON_STRUCTURE = re.compile(
    r'"""(?:[^\\]|\\.)*?"""{1,2}|\'\'\'[\s\S]*?\'\'\'{1,2}'
    r'|"[^"\\\n]*(?:\\.[^"\\\n]*)*"|\'[^\'\n]*\'|#[^\n]*',
    re.DOTALL,
)


def _dotted_run(depth: int) -> re.Pattern[str]:
    # More dots than levels in one key: only keys hold runs of dots (a float has one).
    return re.compile(rf"(?:[\w-]*[ \t]*\.[ \t]*){{{depth}}}")


def load_toml(data: str | bytes, *, source: str, limits: Limits = DEFAULT_LIMITS) -> dict[str, Any]:
    """`tomllib.loads` within `limits`; every failure is one `DocumentError` naming `source`."""
    text = _as_text(data, source, limits)
    # tomllib recurses per nested array/inline table: count them before it does.
    structure = _TOML_NON_STRUCTURE.sub("", text)
    _check_depth(_bracket_depth(structure), source, limits)
    # Dotted keys nest without brackets, and tomllib handles a long one in quadratic time.
    if _dotted_run(limits.max_depth).search(structure):
        raise DocumentError(f"{source}: nested deeper than {limits.max_depth} levels")
    try:
        result = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DocumentError(f"{source}: not valid TOML ({_first_line(exc)})") from None
    except RecursionError:  # pragma: no cover - the bracket count above comes first
        raise DocumentError(f"{source}: nested deeper than {limits.max_depth} levels") from None
    # Belt and braces: whatever the textual scan missed, check what came out too.
    _value_depth(result, source, limits)
    return result


# -- YAML ---------------------------------------------------------------------------------


class _Budget:
    """Follows parser events: nesting depth and nodes reached through aliases.

    Each collection's size is counted as it closes; an anchor remembers the size of its node,
    and an alias adds that size again, as if the alias were a copy. Works on the events of
    PyYAML and ruamel.yaml alike (same event class names and `anchor` attribute).
    """

    def __init__(self, source: str, limits: Limits) -> None:
        self.source = source
        self.limits = limits
        self.open: list[list[Any]] = []  # [anchor, size] of each open collection
        self.anchors: dict[str, int] = {}
        self.alias_nodes = 0

    def see(self, event: Any) -> None:
        kind = type(event).__name__
        if kind in ("MappingStartEvent", "SequenceStartEvent"):
            self.open.append([event.anchor, 1])
            _check_depth(len(self.open), self.source, self.limits)
        elif kind in ("MappingEndEvent", "SequenceEndEvent"):
            anchor, size = self.open.pop()
            self._node(anchor, size)
        elif kind == "ScalarEvent":
            self._node(event.anchor, 1)
        elif kind == "AliasEvent":
            size = self.anchors.get(str(event.anchor), 1)
            self.alias_nodes += size
            if self.alias_nodes > self.limits.max_alias_nodes:
                raise DocumentError(
                    f"{self.source}: YAML aliases expand to more than "
                    f"{self.limits.max_alias_nodes} nodes",
                    hint="an alias bomb? write the values out instead of nesting aliases",
                )
            self._add(size)
        elif kind == "DocumentEndEvent":
            self.anchors.clear()  # anchors do not cross documents

    def _node(self, anchor: Any, size: int) -> None:
        if anchor is not None:
            self.anchors[str(anchor)] = size
        self._add(size)

    def _add(self, size: int) -> None:
        if self.open:
            self.open[-1][1] += size


def _yaml_problem(exc: Exception) -> str:
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or _first_line(exc) or type(exc).__name__
    return f"not valid YAML{where}: {problem}"


@cache
def _c_parser() -> Any:
    """libyaml's parser, which PyYAML wheels ship (None without it)."""
    return getattr(importlib.import_module("yaml.cyaml"), "CParser", None)


def _prescan(text: str, source: str, limits: Limits) -> None:
    """Check the limits with libyaml's event parser (C) before a pure-Python parser runs.

    The pure-Python scanners spend up to a second on a hostile flow-nested line before the
    first event; libyaml does not. Syntax errors are left to the real loader (libyaml and
    ruamel.yaml accept slightly different YAML), except libyaml's own nesting cap.
    """
    c_parser = _c_parser()
    if c_parser is None:  # pragma: no cover - the wheels ship libyaml
        return
    import yaml  # on first use: `relkit version` and `notes` read no YAML (issue 17)

    budget = _Budget(source, limits)
    parser = c_parser(text)
    try:
        while parser.check_event():
            budget.see(parser.get_event())
    except yaml.YAMLError as exc:
        if "nesting depth" in str(exc):
            raise DocumentError(f"{source}: nested deeper than {limits.max_depth} levels") from None
    finally:
        parser.dispose()


def _safe_loader(text: str, source: str, limits: Limits) -> yaml.SafeLoader:
    import yaml  # on first use: `relkit version` and `notes` read no YAML (issue 17)

    _prescan(text, source, limits)
    budget = _Budget(source, limits)

    class _BoundedLoader(yaml.SafeLoader):
        # The composer pulls every event through get_event: checking here stops a deep
        # or exploding document before the composer recurses into it or builds it.
        def get_event(self) -> Any:
            event = super().get_event()  # type: ignore[no-untyped-call]
            budget.see(event)
            return event

    return _BoundedLoader(text)


def _safe_documents(data: str | bytes, source: str, limits: Limits) -> list[Any]:
    text = _as_text(data, source, limits)
    import yaml  # on first use: `relkit version` and `notes` read no YAML (issue 17)

    try:
        loader = _safe_loader(text, source, limits)  # the reader already checks characters
        try:
            documents: list[Any] = []
            while loader.check_data():  # type: ignore[no-untyped-call]
                documents.append(loader.get_data())
            return documents
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise DocumentError(f"{source}: {_yaml_problem(exc)}") from None
    except (ValueError, RecursionError) as exc:
        raise DocumentError(f"{source}: not valid YAML ({_first_line(exc)})") from None


def load_yaml(data: str | bytes, *, source: str, limits: Limits = DEFAULT_LIMITS) -> Any:
    """`yaml.safe_load` within `limits`: one document, None when empty."""
    documents = _safe_documents(data, source, limits)
    if len(documents) > 1:
        raise DocumentError(f"{source}: holds {len(documents)} YAML documents, expected one")
    return documents[0] if documents else None


def load_yaml_all(data: str | bytes, *, source: str, limits: Limits = DEFAULT_LIMITS) -> list[Any]:
    """Every document of a YAML stream, within `limits` (counted over the whole stream)."""
    return _safe_documents(data, source, limits)


def _bounded_parser(loader: Any, source: str, limits: Limits) -> None:
    parser_class: Any = loader.Parser
    if getattr(parser_class, "relkit_bounded", False):
        parser_class = parser_class.__bases__[0]
    budget = _Budget(source, limits)

    class _BoundedParser(parser_class):  # type: ignore[misc]
        relkit_bounded = True

        def get_event(self) -> Any:
            event = super().get_event()
            budget.see(event)
            return event

    loader.Parser = _BoundedParser
    if hasattr(loader, "_parser"):  # ruamel caches the parser instance of a used YAML
        del loader._parser


def load_ruamel(loader: Any, text: str, *, source: str, limits: Limits = DEFAULT_LIMITS) -> Any:
    """`loader.load(text)` for a `ruamel.yaml.YAML` (round-trip edits) within `limits`.

    Limits raise `DocumentError`; ruamel's own `YAMLError` for malformed YAML passes through
    unchanged, so callers keep their existing `except YAMLError` messages.
    """
    _check_size(len(text), source, limits)
    _prescan(text, source, limits)
    _bounded_parser(loader, source, limits)
    try:
        return loader.load(text)
    except RecursionError:  # pragma: no cover - the depth limit comes first
        raise DocumentError(f"{source}: nested deeper than {limits.max_depth} levels") from None


def load_ruamel_all(
    loader: Any, text: str, *, source: str, limits: Limits = DEFAULT_LIMITS
) -> list[Any]:
    """Every document of `text` through a `ruamel.yaml.YAML`, within `limits`."""
    _check_size(len(text), source, limits)
    _prescan(text, source, limits)
    _bounded_parser(loader, source, limits)
    try:
        return list(loader.load_all(text))
    except RecursionError:  # pragma: no cover - the depth limit comes first
        raise DocumentError(f"{source}: nested deeper than {limits.max_depth} levels") from None


def check_size(data: str | bytes, *, source: str, limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse `data` over `limits.max_bytes` (for callers that parse with ruamel)."""
    _check_size(len(data), source, limits)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
