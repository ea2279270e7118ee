"""The JSON Schema (draft 2020-12) of relkit's configuration, generated from its sections.

`relkit config --schema` prints it and `docs/reference/relkit.schema.json` is the committed
copy (a test fails when they drift), so TOML editors (Taplo, Even Better TOML) and the docs'
examples are checked against the same rules the loader applies.

`relkit.core.settings_schema` writes each section's types, descriptions, examples and plain
defaults; what it leaves out is filled in here: the `$schema` header, defaults that come from
a `default_factory`, and the checks made in code that a schema can say too (`{version}` in
`tag_format`, `oci://` registries, regular expressions).
"""

from __future__ import annotations

import json
from typing import Any

from relkit.core.config import RelkitConfig
from relkit.core.settings import Section, dumped
from relkit.core.settings_schema import section_schema

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


def _complete(section: type[Section], schema: dict[str, Any]) -> None:
    """Add factory defaults and the code-enforced keywords to one object schema."""
    properties: dict[str, dict[str, Any]] = schema.get("properties", {})
    for name, declared in section.__settings__.items():
        prop = properties[name]
        if declared.default_factory is not None and "default" not in prop:
            prop["default"] = dumped(declared.default_factory())
        prop.update(_EXTRA.get((section.__name__, name), {}))


def config_schema() -> dict[str, Any]:
    """The configuration's JSON Schema as a dict (a new one on every call)."""
    schema = section_schema(RelkitConfig, finish=_complete)
    header = {
        "$schema": _DIALECT,
        "title": "relkit configuration",
    }
    schema.pop("title", None)
    return {**header, **schema}


def config_schema_json() -> str:
    """The schema as committed in docs/reference/relkit.schema.json (stable key order)."""
    return json.dumps(config_schema(), indent=2, ensure_ascii=False) + "\n"
