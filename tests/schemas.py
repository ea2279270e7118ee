"""Validators for the vendored JSON schemas in tests/data/schemas (no network access).

CycloneDX's schema refers to `spdx.schema.json` and `jsf-0.82.schema.json` by relative
URL; a `referencing` registry maps their `$id`s to the local copies.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator, Draft202012Validator
from referencing import Registry, Resource

__all__ = ["cyclonedx_errors", "slsa_errors"]

SCHEMAS = Path(__file__).resolve().parent / "data" / "schemas"


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@cache
def _cyclonedx() -> Draft7Validator:
    folder = SCHEMAS / "cyclonedx"
    registry: Registry[Any] = Registry()
    for name in ("spdx.schema.json", "jsf-0.82.schema.json", "bom-1.6.schema.json"):
        schema = _load(folder / name)
        registry = registry.with_resource(schema["$id"], Resource.from_contents(schema))
    return Draft7Validator(_load(folder / "bom-1.6.schema.json"), registry=registry)


@cache
def _slsa() -> Draft202012Validator:
    return Draft202012Validator(_load(SCHEMAS / "slsa" / "provenance-v1.schema.json"))


def _messages(validator: Draft7Validator | Draft202012Validator, document: Any) -> list[str]:
    return [
        f"{'/'.join(str(p) for p in error.absolute_path)}: {error.message}"
        for error in validator.iter_errors(document)
    ]


def cyclonedx_errors(document: Any) -> list[str]:
    """Schema violations of a CycloneDX 1.6 JSON document ([] when valid)."""
    return _messages(_cyclonedx(), document)


def slsa_errors(document: Any) -> list[str]:
    """Schema violations of an in-toto Statement v1 with SLSA Provenance v1 ([] when valid)."""
    return _messages(_slsa(), document)
