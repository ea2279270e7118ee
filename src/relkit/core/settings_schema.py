"""The JSON Schema (draft 2020-12) of a settings section (`relkit.core.settings`).

The layout is the one pydantic wrote when it held relkit's config, so the committed schema
and the reference pages built from it did not change when it left: each section is a
`$defs` entry (title: the class name, description: its docstring, `additionalProperties:
false`), a property carries a title from its name unless it is a section of its own, and
keys are sorted except under `properties` and `default`, which keep declaration order.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable
from typing import Annotated, Any, Literal

from relkit.core.settings import Section, Setting

__all__ = ["section_schema"]


Finish = Callable[[type[Section], dict[str, Any]], None]


def section_schema(root: type[Section], finish: Finish | None = None) -> dict[str, Any]:
    """`root`'s schema, with every section it reaches in `$defs`. `finish(section, schema)`,
    when given, then adds to each section's object schema after the keys are sorted."""
    defs = _Defs()
    schema = _object(root, defs)
    if defs.definitions:
        schema["$defs"] = defs.definitions
    ordered: dict[str, Any] = _sorted(schema)
    if finish is not None:
        finish(root, ordered)
        for name, definition in ordered.get("$defs", {}).items():
            finish(defs.reached[name], definition)
    return ordered


class _Defs:
    """The sections met so far: their classes and their `$defs` entries, by name."""

    def __init__(self) -> None:
        self.reached: dict[str, type[Section]] = {}
        self.definitions: dict[str, dict[str, Any]] = {}


def _object(section: type[Section], defs: _Defs) -> dict[str, Any]:
    properties = {name: _property(declared, defs) for name, declared in section._resolve().items()}
    schema: dict[str, Any] = {
        "additionalProperties": False,
        "properties": properties,
        "title": section.__name__,
        "type": "object",
    }
    if section.__doc__:
        schema["description"] = inspect.cleandoc(section.__doc__)
    required = [name for name, declared in section.__settings__.items() if declared.required]
    if required:
        schema["required"] = required
    return schema


def _property(declared: Setting, defs: _Defs) -> dict[str, Any]:
    prop = _type(declared.annotation, defs)
    if not _is_section(declared.annotation):  # a section's title is its `$defs` entry's
        prop["title"] = declared.name.title().replace("_", " ")
    prop["description"] = declared.description
    prop["examples"] = declared.examples
    if not declared.required and declared.default_factory is None:
        prop["default"] = declared.default
    return prop


def _is_section(annotation: Any) -> bool:
    options = typing.get_args(annotation) if _is_union(annotation) else (annotation,)
    return any(isinstance(o, type) and issubclass(o, Section) for o in options)


def _is_union(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (typing.Union, types.UnionType)


def _type(annotation: Any, defs: _Defs) -> dict[str, Any]:
    origin = typing.get_origin(annotation)
    if annotation is str:
        return {"type": "string"}
    if annotation is bool:
        return {"type": "boolean"}
    if annotation is type(None):
        return {"type": "null"}
    if isinstance(annotation, type) and issubclass(annotation, Section):
        name = annotation.__name__
        if name not in defs.definitions:
            defs.reached[name] = annotation
            defs.definitions[name] = {}  # claimed first: a section may reach itself
            defs.definitions[name] = _object(annotation, defs)
        return {"$ref": f"#/$defs/{name}"}
    if origin is Annotated:
        return _type(typing.get_args(annotation)[0], defs)
    if origin is Literal:
        return {"enum": list(typing.get_args(annotation)), "type": "string"}
    if _is_union(annotation):
        return {"anyOf": [_type(option, defs) for option in typing.get_args(annotation)]}
    if origin is list:
        return {"items": _type(typing.get_args(annotation)[0], defs), "type": "array"}
    if origin is dict:
        values = _type(typing.get_args(annotation)[1], defs)
        return {"additionalProperties": values, "type": "object"}
    raise TypeError(f"no JSON Schema for a setting of type {annotation!r}")


def _sorted(value: Any, parent_key: str | None = None) -> Any:
    if isinstance(value, dict):
        keys = value if parent_key in ("properties", "default") else sorted(value)
        return {key: _sorted(value[key], key) for key in keys}
    if isinstance(value, list):
        return [_sorted(item, parent_key) for item in value]
    return value
