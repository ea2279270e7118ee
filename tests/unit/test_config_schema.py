"""`relkit config --schema`: the JSON Schema of the config, committed in docs/ (issue 19 §3)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from relkit.cli import main
from relkit.core.config import RelkitConfig, parse_config
from relkit.core.config_schema import config_schema, config_schema_json
from relkit.core.errors import ConfigError
from relkit.core.settings import Section, validate_as

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "docs" / "reference" / "relkit.schema.json"


def _validator() -> Draft202012Validator:
    return Draft202012Validator(config_schema(), format_checker=FormatChecker())


def _objects(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    yield "RelkitConfig", schema
    yield from schema["$defs"].items()


def test_the_committed_schema_is_the_generated_one() -> None:
    # Regenerate with: .venv/bin/relkit config --schema > docs/reference/relkit.schema.json
    assert COMMITTED.read_text(encoding="utf-8") == config_schema_json()


def test_relkit_config_schema_prints_it_without_reading_a_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "relkit.toml").write_text("not = [valid toml\n")  # never read
    assert main(["-C", str(tmp_path), "config", "--schema"]) == 0
    assert capsys.readouterr().out == config_schema_json()


def test_it_is_a_valid_2020_12_schema() -> None:
    schema = config_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    assert "definitions" not in json.dumps(schema)  # draft-07 spelling


def test_every_key_has_a_description_an_example_and_a_default_unless_required() -> None:
    checked = 0
    for model, schema in _objects(config_schema()):
        required = set(schema.get("required", []))
        for key, prop in schema["properties"].items():
            where = f"{model}.{key}"
            assert prop.get("description"), where
            assert prop.get("examples"), where
            assert ("default" in prop) != (key in required), where
            checked += 1
    assert checked >= 70  # every section, not an empty walk


def test_every_example_and_default_is_valid_for_the_schema_and_the_model() -> None:
    models = {m.__name__: m for m in _model_classes()}
    schema = config_schema()
    for model_name, object_schema in _objects(schema):
        settings = models[model_name]._resolve()
        for key, prop in object_schema["properties"].items():
            sub = {**prop, "$defs": schema["$defs"]}
            validator = Draft202012Validator(sub, format_checker=FormatChecker())
            values = [*prop["examples"], *([prop["default"]] if "default" in prop else [])]
            for value in values:
                assert list(validator.iter_errors(value)) == [], f"{model_name}.{key}: {value!r}"
                validate_as(settings[key].annotation, value)


def _model_classes() -> list[type[Section]]:
    from relkit.core import config

    found = [getattr(config, name) for name in config.__all__]
    return [c for c in found if isinstance(c, type) and issubclass(c, Section)]


def test_the_defaults_are_the_loaders_defaults() -> None:
    schema = config_schema()
    dumped = RelkitConfig().model_dump(mode="json")
    for key, prop in schema["properties"].items():
        assert prop["default"] == dumped[key], key


GOOD: list[dict[str, Any]] = [
    {},
    {"tag_format": "{version}", "release_branches": ["main", "release/*"]},
    {"charts": [{"path": "charts/web", "registry": "oci://localhost:5000/charts"}]},
    {"bundles": [{"name": "acme", "path": "bundles/acme", "images": ["r/web:{version}"]}]},
    {"promote": {"repository": "acme/gitops", "edits": [{"file": "v.yaml", "key": "a.b"}]}},
    {"commit_types": {"feat": {"section": "Features", "bump": "minor"}, "ci": {}}},
    {"exclude_patterns": ["(?i)^wip"]},
]

# Each is refused by the loader (exit 2); the schema must refuse it too, so an editor shows it.
BAD: list[dict[str, Any]] = [
    {"bundles": {"name": "acme", "path": "bundles/acme"}},  # [bundles] instead of [[bundles]]
    {"changelog": {"fiel": "CHANGELOG.md"}},
    {"tag_format": "v"},
    {"charts": [{"path": "charts/web", "registry": "ghcr.io/acme/charts"}]},
    {"bundles": [{"name": "acme", "path": "b", "registry": "https://ghcr.io/acme"}]},
    {"signing": {"mode": "gpg"}},
    {"charts": [{"path": "charts/web"}]},
    {"exclude_patterns": ["(unclosed"]},
    {"major_on_zero": "maybe"},
    {"promote": {"edits": []}},
]


@pytest.mark.parametrize("data", GOOD)
def test_what_the_loader_accepts_the_schema_accepts(data: dict[str, Any]) -> None:
    parse_config(data, "relkit.toml")
    assert list(_validator().iter_errors(data)) == []


@pytest.mark.parametrize("data", BAD)
def test_what_the_loader_refuses_the_schema_refuses(data: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        parse_config(data, "relkit.toml")
    assert list(_validator().iter_errors(data)) != []


@pytest.mark.parametrize("signing", ["key", "keyless", "none"])
def test_the_demo_projects_config_is_valid_for_the_schema(signing: str) -> None:
    # examples/ holds no relkit.toml: the demo and the e2e tests write it from this template.
    import tomllib

    from tests.e2e.scenario import relkit_toml

    text = relkit_toml("127.0.0.1:5000", "file:///gitops.git", forge="none", signing=signing)
    data = tomllib.loads(text)
    assert list(_validator().iter_errors(data)) == []
    parse_config(data, "relkit.toml")


def test_relkit_init_points_editors_at_the_committed_schema() -> None:
    from relkit.init.render import RELKIT_SCHEMA_URL

    committed = RELKIT_SCHEMA_URL.split("/main/", 1)[1]
    root = Path(__file__).resolve().parents[2]
    assert (root / committed).is_file(), committed
    assert json.loads((root / committed).read_text(encoding="utf-8")) == json.loads(
        config_schema_json()
    )
