"""`relkit.core.settings`: the validated, frozen sections relkit's config is built from.

Messages and locations are held to what pydantic said when it validated the config (the docs
quote them); the properties hold any input to "a section, or every error located in it"."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker

from relkit.core.config import RelkitConfig
from relkit.core.config_schema import config_schema
from relkit.core.settings import (
    Check,
    Section,
    SettingError,
    SettingsInvalid,
    setting,
    validate_as,
)
from relkit.core.settings_schema import section_schema
from tests.hypothesis_profiles import property_settings


def _shout(value: str) -> str:
    if value != value.upper():
        raise ValueError("must be upper case")
    return value.lower()


class Leaf(Section):
    """A nested table."""

    name: str = setting(description="A name.", examples=["a"])
    size: Literal["s", "m", "l"] = setting(default="m", description="A size.", examples=["l"])
    loud: Annotated[str, Check(_shout)] | None = setting(
        default=None, description="Checked.", examples=["HEY"]
    )

    def _check(self) -> None:
        if self.name == self.loud:
            raise ValueError("name and loud must differ")


class Root(Section):
    flag: bool = setting(default=False, description="A flag.", examples=[True])
    one: Literal["only"] = setting(default="only", description="One choice.", examples=["only"])
    two: Literal["a", "b"] = setting(default="a", description="Two.", examples=["b"])
    leaf: Leaf | None = setting(default=None, description="One leaf.", examples=[{"name": "x"}])
    leaves: list[Leaf] = setting(default_factory=list, description="Leaves.", examples=[[]])
    named: dict[str, Leaf] = setting(default_factory=dict, description="Map.", examples=[{}])
    tags: list[str] | None = setting(default=None, description="Tags.", examples=[["t"]])

    @classmethod
    def _prepare(cls, data: dict[str, Any]) -> dict[str, Any]:
        # A shorthand, as RelkitConfig's inherited promote settings are: `leaf = "x"`.
        if isinstance(data.get("leaf"), str):
            return {**data, "leaf": {"name": data["leaf"]}}
        return data


def _errors(data: Any, section: type[Section] = Root) -> list[tuple[Any, str, str]]:
    with pytest.raises(SettingsInvalid) as raised:
        section.model_validate(data)
    return [(e.loc, e.kind, e.message) for e in raised.value.errors]


# -- messages, in pydantic's words ----------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"flag": "yes"}, [(("flag",), "bool_type", "Input should be a valid boolean")]),
        ({"flag": 1}, [(("flag",), "bool_type", "Input should be a valid boolean")]),
        ({"one": "x"}, [(("one",), "literal_error", "Input should be 'only'")]),
        ({"two": "c"}, [(("two",), "literal_error", "Input should be 'a' or 'b'")]),
        (
            {"leaf": {"name": "n", "size": 3}},
            [(("leaf", "size"), "literal_error", "Input should be 's', 'm' or 'l'")],
        ),
        ({"leaf": {}}, [(("leaf", "name"), "missing", "Field required")]),
        (
            {"leaf": {"name": 3}},
            [(("leaf", "name"), "string_type", "Input should be a valid string")],
        ),
        (
            {"leaf": []},
            [(("leaf",), "model_type", "Input should be a valid dictionary or instance of Leaf")],
        ),
        ({"leaves": {"name": "n"}}, [(("leaves",), "list_type", "Input should be a valid list")]),
        ({"named": ["x"]}, [(("named",), "dict_type", "Input should be a valid dictionary")]),
        (
            {"named": {"k": {"name": 1}}},
            [(("named", "k", "name"), "string_type", "Input should be a valid string")],
        ),
        ({"tags": [1]}, [(("tags", 0), "string_type", "Input should be a valid string")]),
        ({"nope": 1}, [(("nope",), "extra_forbidden", "unknown key")]),
        (
            {"leaf": {"name": "n", "loud": "quiet"}},
            [(("leaf", "loud"), "value_error", "Value error, must be upper case")],
        ),
        (
            {"leaf": {"name": "x", "loud": "X"}},
            [(("leaf",), "value_error", "Value error, name and loud must differ")],
        ),
    ],
)
def test_each_kind_of_error_has_pydantics_message_and_location(
    data: dict[str, Any], expected: list[tuple[Any, str, str]]
) -> None:
    assert _errors(data) == expected


def test_every_error_is_collected_fields_in_order_then_unknown_keys() -> None:
    data = {"zzz": 1, "tags": [1, "ok", 2], "flag": "no", "leaves": [{"name": 1}, {}]}
    assert [loc for loc, _, _ in _errors(data)] == [
        ("flag",),
        ("leaves", 0, "name"),
        ("leaves", 1, "name"),
        ("tags", 0),
        ("tags", 2),
        ("zzz",),
    ]


def test_a_whole_section_check_runs_only_when_its_settings_are_valid() -> None:
    # name == loud would fail _check, but the type error comes first and alone.
    assert _errors({"leaf": {"name": 1, "loud": 1}}) == [
        (("leaf", "name"), "string_type", "Input should be a valid string"),
        (("leaf", "loud"), "string_type", "Input should be a valid string"),
    ]


def test_a_check_may_return_the_value_to_keep_and_prepare_may_rewrite_the_table() -> None:
    root = Root.model_validate({"leaf": "short", "leaves": [{"name": "n", "loud": "HEY"}]})
    assert root.leaf == Leaf(name="short")
    assert root.leaves[0].loud == "hey"


def test_the_constructor_validates_like_model_validate() -> None:
    assert Leaf(name="n", size="s").size == "s"
    with pytest.raises(SettingsInvalid) as raised:
        Leaf(name="n", size="xl")  # type: ignore[arg-type]
    assert raised.value.errors[0].loc == ("size",)


def test_an_instance_is_accepted_where_its_section_belongs() -> None:
    leaf = Leaf(name="n")
    assert Root(leaf=leaf).leaf is leaf


def test_validate_as_checks_a_bare_type() -> None:
    assert validate_as(list[str], ["a"]) == ["a"]
    with pytest.raises(SettingsInvalid, match="valid list"):
        validate_as(list[str], "a")


# -- value semantics ------------------------------------------------------------------------


def test_sections_are_frozen_values() -> None:
    leaf = Leaf(name="n")
    with pytest.raises(AttributeError, match="frozen"):
        leaf.name = "m"  # type: ignore[misc]
    with pytest.raises(AttributeError, match="frozen"):
        del leaf.name  # type: ignore[misc]
    assert leaf == Leaf(name="n") and hash(leaf) == hash(Leaf(name="n"))
    assert leaf != Leaf(name="m")
    assert repr(leaf) == "Leaf(name='n', size='m', loud=None)"


def test_fields_set_copy_and_dump() -> None:
    root = Root.model_validate({"two": "b", "leaves": [{"name": "n"}]})
    assert root.model_fields_set == {"two", "leaves"}
    copied = root.model_copy(update={"flag": True})
    assert copied.flag and not root.flag
    assert copied.model_fields_set == {"two", "leaves", "flag"}
    dumped = root.model_dump(mode="json")
    assert dumped["leaves"] == [{"name": "n", "size": "m", "loud": None}]
    assert Root.model_validate(dumped) == root


def test_defaults_from_a_factory_are_never_shared() -> None:
    first, second = Root(), Root()
    assert first.leaves == [] and first.leaves is not second.leaves


# -- declaration mistakes fail when the class is made ---------------------------------------


def test_an_annotated_name_without_setting_is_refused() -> None:
    with pytest.raises(TypeError, match=r"setting\(\.\.\.\)"):

        class Bad(Section):
            name: str


def test_default_and_default_factory_together_are_refused() -> None:
    with pytest.raises(TypeError, match="not both"):
        setting(default=[], default_factory=list, description="x", examples=[])


def test_an_unsupported_type_is_refused_on_first_use() -> None:
    class Odd(Section):
        number: int = setting(default=0, description="x", examples=[1])

    with pytest.raises(TypeError, match="cannot have the type"):
        Odd.model_validate({})


def test_the_schema_of_a_section_states_its_types_and_defaults() -> None:
    schema = section_schema(Root)
    assert schema["properties"]["two"] == {
        "default": "a",
        "description": "Two.",
        "enum": ["a", "b"],
        "examples": ["b"],
        "title": "Two",
        "type": "string",
    }
    assert "title" not in schema["properties"]["leaf"]  # a section's title is its $defs entry's
    assert schema["$defs"]["Leaf"]["required"] == ["name"]
    assert schema["$defs"]["Leaf"]["description"] == "A nested table."
    Draft202012Validator.check_schema(schema)


# -- properties: any input is a section, or errors that point into the input ------------------

_KEYS = [
    "tag_format", "release_branches", "major_on_zero", "changelog", "charts", "bundles",
    "promote", "commit_types", "components", "version_files", "signing", "images",
    "file", "mode", "path", "registry", "name", "repository", "edits", "key", "pattern",
    "section", "bump", "paths", "tag_prefix", "verify", "identity", "nope",
]  # fmt: skip

_values: st.SearchStrategy[Any] = st.recursive(
    st.one_of(
        st.booleans(),
        st.integers(-3, 3),
        st.none(),
        st.sampled_from(["v{version}", "oci://r.example/c", "main", "a/b", "(?P<version>x)", "["]),
        st.text(max_size=8),
    ),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(_KEYS), children, max_size=4)
    ),
    max_leaves=12,
)


def _points_into(data: Any, error: SettingError) -> bool:
    """Whether `error.loc` names a place in `data` (a missing key: its table)."""
    here = data
    for i, step in enumerate(error.loc):
        in_table = isinstance(here, dict) and step in here
        in_list = isinstance(here, list) and isinstance(step, int) and step < len(here)
        if in_table or in_list:
            here = here[step]
        else:
            return error.kind == "missing" and i == len(error.loc) - 1
    return True


@property_settings(300)
@given(st.dictionaries(st.sampled_from(_KEYS), _values, max_size=5))
def test_any_table_is_a_config_or_errors_located_in_it(data: dict[str, Any]) -> None:
    try:
        config = RelkitConfig.model_validate(data)
    except SettingsInvalid as exc:
        assert exc.errors
        for error in exc.errors:
            assert _points_into(data, error), error
            assert error.message and "\n" not in error.message
        return
    assert RelkitConfig.model_validate(config.model_dump(mode="json")) == config
    # What the loader accepts, the schema editors check against accepts too.
    validator = Draft202012Validator(config_schema(), format_checker=FormatChecker())
    assert list(validator.iter_errors(data)) == []


def _places(data: Any, loc: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a table: each key and list index, at any depth."""
    found = [loc] if loc else []
    if isinstance(data, dict):
        for key, value in data.items():
            found += _places(value, (*loc, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found += _places(value, (*loc, i))
    return found


def _replaced(data: Any, loc: tuple[Any, ...], value: Any) -> Any:
    if not loc:
        return value
    copy = dict(data) if isinstance(data, dict) else list(data)
    copy[loc[0]] = _replaced(copy[loc[0]], loc[1:], value)
    return copy


_PROPERTIES = config_schema()["properties"]
# Real settings: each key one of its documented examples or its default, so most are valid.
_example_configs = st.fixed_dictionaries(
    {},
    optional={
        key: st.sampled_from([*prop["examples"], *([prop["default"]] if "default" in prop else [])])
        for key, prop in _PROPERTIES.items()
    },
)


@property_settings(300)
@given(_example_configs, st.integers(0, 1000), _values | st.just(...))
def test_a_real_config_with_one_value_swapped_is_a_config_or_located_errors(
    data: dict[str, Any], where: int, swapped: Any
) -> None:
    places = _places(data)
    if swapped is not ... and places:
        data = _replaced(data, places[where % len(places)], swapped)
    try:
        config = RelkitConfig.model_validate(data)
    except SettingsInvalid as exc:
        assert all(_points_into(data, error) for error in exc.errors), exc.errors
        return
    assert RelkitConfig.model_validate(config.model_dump(mode="json")) == config
    validator = Draft202012Validator(config_schema(), format_checker=FormatChecker())
    assert list(validator.iter_errors(data)) == []


def test_the_exception_is_one_line_naming_the_section_and_the_first_place() -> None:
    with pytest.raises(SettingsInvalid) as raised:
        Root.model_validate({"leaves": [{"name": 1}], "flag": "x"})
    assert str(raised.value) == "Root: flag: Input should be a valid boolean (and 1 more)"
    with pytest.raises(SettingsInvalid, match=r"^Leaf: \(top level\): Value error, name and"):
        Leaf(name="x", loud="X")
