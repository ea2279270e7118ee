"""Bounded loading of YAML/JSON/TOML from outside (issue 9 §7, issue 8 §1)."""

from __future__ import annotations

import contextlib
import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from relkit.core.errors import EXIT_USAGE, RelkitError
from relkit.core.structured import (
    DocumentError,
    Limits,
    decode_utf8,
    load_json,
    load_ruamel,
    load_ruamel_all,
    load_toml,
    load_yaml,
    load_yaml_all,
    read_text,
)
from tests.hypothesis_profiles import property_settings

# -- hostile documents, each one line and exit 2 ------------------------------------------

ALIAS_BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
)
DEEP_FLOW_YAML = "services: " + "[" * 50_000 + "]" * 50_000 + "\n"
DEEP_BLOCK_YAML = "x:\n" + "".join(" " * i + "- \n" for i in range(500))
DEEP_JSON = "[" * 100_000 + "]" * 100_000
DEEP_TOML = "a = " + "[" * 20_000 + "]" * 20_000 + "\n"


def _one_line(error: RelkitError, source: str) -> None:
    assert "\n" not in str(error)
    assert str(error).startswith(f"{source}: ")
    assert error.exit_code == EXIT_USAGE


@pytest.mark.parametrize("text", [ALIAS_BOMB, DEEP_FLOW_YAML, DEEP_BLOCK_YAML])
def test_hostile_yaml_is_refused(text: str) -> None:
    for load in (load_yaml, load_yaml_all):
        with pytest.raises(DocumentError) as info:
            load(text, source="values.yaml")
        _one_line(info.value, "values.yaml")


@pytest.mark.parametrize("text", [ALIAS_BOMB, DEEP_FLOW_YAML, DEEP_BLOCK_YAML])
def test_hostile_yaml_is_refused_by_the_round_trip_loader(text: str) -> None:
    with pytest.raises(DocumentError) as info:
        load_ruamel(YAML(typ="rt"), text, source="compose.yaml")
    _one_line(info.value, "compose.yaml")
    with pytest.raises(DocumentError):
        load_ruamel_all(YAML(typ="rt"), text, source="compose.yaml")


def test_alias_bomb_message_names_the_cause() -> None:
    with pytest.raises(DocumentError, match="aliases expand to more than 100000 nodes"):
        load_yaml(ALIAS_BOMB, source="values.yaml")


def test_deep_json_is_refused() -> None:
    with pytest.raises(DocumentError, match=r"^x\.sigstore\.json: nested deeper than 100 levels"):
        load_json(DEEP_JSON, source="x.sigstore.json")
    with pytest.raises(DocumentError, match="nested deeper"):
        load_json(DEEP_JSON.encode(), source="x.sigstore.json")


def test_deep_toml_is_refused() -> None:
    with pytest.raises(DocumentError, match=r"^relkit\.toml: nested deeper than 100 levels$"):
        load_toml(DEEP_TOML, source="relkit.toml")
    with pytest.raises(DocumentError, match="nested deeper"):
        load_toml("a" + ".a" * 20_000 + " = 1\n", source="relkit.toml")
    with pytest.raises(DocumentError, match="nested deeper"):
        load_toml("[a" + ".a" * 20_000 + "]\n", source="relkit.toml")
    with pytest.raises(DocumentError, match="nested deeper"):
        load_toml("a = " + "{b = " * 200 + "1" + "}" * 200 + "\n", source="relkit.toml")


def test_not_utf8_names_the_offset() -> None:
    with pytest.raises(DocumentError) as info:
        load_toml(b'a = "\xff"\n', source="relkit.toml")
    assert str(info.value) == (
        "relkit.toml: not UTF-8 text (byte 0xff at offset 5) (hint: save the file as UTF-8)"
    )
    for load in (load_json, load_yaml):
        with pytest.raises(DocumentError, match="not UTF-8"):
            load(b"\xfe\xff", source="doc")
    with pytest.raises(DocumentError, match="not UTF-8"):
        decode_utf8(b"ok\xc3", source="doc")


def test_size_limit() -> None:
    small = Limits(max_bytes=10)
    for load in (load_json, load_yaml, load_toml):
        with pytest.raises(DocumentError, match=r"^doc: larger than 10 bytes \(11 bytes\)$"):
            load("1" * 11, source="doc", limits=small)
    with pytest.raises(DocumentError, match="larger than 10 bytes"):
        load_ruamel(YAML(typ="rt"), "a: 12345678", source="doc", limits=small)


def test_read_text(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_bytes(b"a: \xff\n")
    with pytest.raises(DocumentError, match=r"^f\.yaml: not UTF-8"):
        read_text(path, source="f.yaml")
    with pytest.raises(DocumentError, match="cannot read"):
        read_text(tmp_path / "missing", source="missing")
    path.write_text("a: 1\n", encoding="utf-8")
    assert read_text(path) == "a: 1\n"
    with pytest.raises(DocumentError, match="larger than 2 bytes"):
        read_text(path, limits=Limits(max_bytes=2))


@pytest.mark.parametrize(
    ("load", "text", "message"),
    [
        (load_json, "{", "doc: not valid JSON (line 1 column 2: Expecting property name"),
        (load_json, "1" * 5000, "doc: not valid JSON (Exceeds the limit"),
        (load_toml, "a = ", "doc: not valid TOML (Invalid value"),
        (load_yaml, "a: [1\n", "doc: not valid YAML at line 2: expected ',' or ']'"),
        (load_yaml_all, "a: 1\n--- [\n", "doc: not valid YAML at line"),
        (load_yaml, "a: !!python/object:os.system x\n", "doc: not valid YAML"),
    ],
)
def test_malformed_is_one_line(load: Any, text: str, message: str) -> None:
    with pytest.raises(DocumentError) as info:
        load(text, source="doc")
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_ruamel_syntax_errors_keep_their_type() -> None:
    # Callers report ruamel's YAMLError with their own wording: it must pass through.
    with pytest.raises(YAMLError):
        load_ruamel(YAML(typ="rt"), "a: [1\n", source="doc")


# -- the happy cases are exactly the stock parsers' --------------------------------------


def test_ordinary_documents_load_as_before() -> None:
    anchors = "x-common: &common {restart: always}\nservices:\n  web:\n    <<: *common\n"
    assert load_yaml(anchors, source="c") == yaml.safe_load(anchors)
    assert load_ruamel(YAML(typ="rt"), anchors, source="c")["services"]["web"]["restart"] == (
        "always"
    )
    assert load_yaml_all("a: 1\n---\nb: 2\n", source="c") == [{"a": 1}, {"b": 2}]
    assert load_ruamel_all(YAML(typ="rt"), "a: 1\n---\nb: 2\n", source="c") == [
        {"a": 1},
        {"b": 2},
    ]
    assert load_yaml("", source="c") is None
    text = 'a = "[[[["\nb = [[1], [2]] # [[[[\nc = """\n[[[\n"""\nd = \'\'\'{{\'\'\'\ne.f = 1.5\n'
    assert load_toml(text, source="t") == tomllib.loads(text)
    assert load_json('{"a": ["[[[[\\"", 1]}', source="j") == {"a": ['[[[["', 1]}


def test_depth_at_the_limit_is_accepted() -> None:
    limits = Limits(max_depth=100)
    assert load_json("[" * 100 + "]" * 100, source="j", limits=limits)
    with pytest.raises(DocumentError):
        load_json("[" * 101 + "]" * 101, source="j", limits=limits)
    nested_yaml = "a: " + "[" * 99 + "]" * 99
    assert load_yaml(nested_yaml, source="y", limits=limits) is not None
    with pytest.raises(DocumentError):
        load_yaml("a: " + "[" * 100 + "]" * 100, source="y", limits=limits)
    assert load_toml("a = " + "[" * 99 + "]" * 99, source="t", limits=limits)  # + the table


def test_a_reused_ruamel_loader_counts_each_document_afresh() -> None:
    loader = YAML(typ="rt")
    text = "a: &a [1, 2, 3]\nb: [*a, *a]\n"
    limits = Limits(max_alias_nodes=8)
    for _ in range(3):
        assert load_ruamel(loader, text, source="v", limits=limits)["b"][0] == [1, 2, 3]


# -- properties ---------------------------------------------------------------------------

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.text(max_size=20),
)
_json_values = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=30,
)
_PROPERTY = property_settings(150)


@_PROPERTY
@given(_json_values)
def test_json_and_yaml_load_what_the_stock_parsers_load(value: Any) -> None:
    text = json.dumps(value)
    assert load_json(text, source="j") == value
    # JSON is YAML (1.2); PyYAML agrees for these scalars when written in flow style.
    dumped = yaml.safe_dump(value)
    assert load_yaml(dumped, source="y") == yaml.safe_load(dumped)


_toml_keys = st.text(alphabet="abcXYZ_-019", min_size=1, max_size=6)
_toml_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"]), max_size=12)
_toml_values = st.recursive(
    st.one_of(st.booleans(), st.integers(-1000, 1000), _toml_text),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(_toml_keys, children, max_size=3)
    ),
    max_leaves=20,
)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a TOML basic string for this alphabet
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + "}"


@_PROPERTY
@given(st.dictionaries(_toml_keys, _toml_values, max_size=5))
def test_toml_loads_what_tomllib_loads(table: dict[str, Any]) -> None:
    text = "".join(f"{key} = {_toml_value(value)}\n" for key, value in table.items())
    assert load_toml(text, source="t") == tomllib.loads(text)


_hostile_text = st.text(
    alphabet=st.sampled_from([*list("[]{}&*!|>-:,#'\"\\\n =.ab1\t"), "é", "\x00"]),
    max_size=300,
)


@_PROPERTY
@given(_hostile_text)
def test_any_text_is_a_value_or_one_line(text: str) -> None:
    for load in (load_json, load_toml, load_yaml, load_yaml_all):
        try:
            load(text, source="doc")
        except DocumentError as exc:
            assert "\n" not in str(exc)
    with contextlib.suppress(DocumentError, YAMLError):
        load_ruamel(YAML(typ="rt"), text, source="doc")
