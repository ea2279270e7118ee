"""The JSON Schema (draft 2020-12) of relkit's configuration, generated from the model.

`relkit config --schema` prints it and `docs/reference/relkit.schema.json` is the committed
copy (a test fails when they drift), so TOML editors (Taplo, Even Better TOML) and the docs'
examples are checked against the same rules the loader applies.

Pydantic already writes 2020-12 (`$defs`, `examples` arrays); what it leaves out is filled in
here: the `$schema` header, defaults that come from a `default_factory` (pydantic shows
no default for them), and the checks our validators make in code that a schema can say too
(`{version}` in `tag_format`, `oci://` registries, regular expressions).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, TypeAdapter

from relkit.core.config import RelkitConfig

__all__ = ["config_schema", "config_schema_json"]

_DIALECT = "https://json-schema.org/draft/2020-12/schema"

# (model, field) -> keywords a validator enforces in code; the schema states them as well so
# an editor flags the mistake before `relkit config` does.
_EXTRA: dict[tuple[str, str], dict[str, Any]] = {
    ("RelkitConfig", "tag_format"): {"pattern": r"\{version\}"},
    ("RelkitConfig", "exclude_patterns"): {"items": {"type": "string", "format": "regex"}},
    ("ChartConfig", "registry"): {"pattern": "^oci://"},
    ("BundleConfig", "registry"): {"pattern": "^oci://"},
    ("VersionFile", "pattern"): {"format": "regex"},
    ("ImagesConfig", "identity_regexp"): {"format": "regex"},
}


_ANY: TypeAdapter[Any] = TypeAdapter(Any)


def _models(root: type[BaseModel]) -> dict[str, type[BaseModel]]:
    """Every model reachable from `root`'s fields, by the name pydantic gives its `$defs`."""
    found: dict[str, type[BaseModel]] = {}
    pending: list[type[BaseModel]] = [root]
    while pending:
        model = pending.pop()
        if model.__name__ in found:
            continue
        found[model.__name__] = model
        for field in model.model_fields.values():
            pending.extend(_nested_models(field.annotation))
    return found


def _nested_models(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in getattr(annotation, "__args__", ()) for m in _nested_models(arg)]


def _complete(model: type[BaseModel], schema: dict[str, Any]) -> None:
    """Add factory defaults and the code-enforced keywords to one object schema."""
    properties: dict[str, dict[str, Any]] = schema.get("properties", {})
    for name, field in model.model_fields.items():
        prop = properties[name]
        if field.default_factory is not None and "default" not in prop:
            value = field.get_default(call_default_factory=True)
            prop["default"] = _ANY.dump_python(value, mode="json")
        prop.update(_EXTRA.get((model.__name__, name), {}))


def config_schema() -> dict[str, Any]:
    """The configuration's JSON Schema as a dict (a new one on every call)."""
    schema = RelkitConfig.model_json_schema(mode="validation")
    models = _models(RelkitConfig)
    for name, definition in schema.get("$defs", {}).items():
        _complete(models[name], definition)
    _complete(RelkitConfig, schema)
    header = {
        "$schema": _DIALECT,
        "title": "relkit configuration",
    }
    schema.pop("title", None)
    return {**header, **schema}


def config_schema_json() -> str:
    """The schema as committed in docs/reference/relkit.schema.json (stable key order)."""
    return json.dumps(config_schema(), indent=2, ensure_ascii=False) + "\n"
