"""Typed, frozen, validated settings sections: what relkit's configuration is built from.

relkit used pydantic for this. Importing pydantic and creating the config's fourteen models
cost ~0.13 s of CPU at the start of every command, config file or not: half of `relkit
version`'s time on a large history (issue 17). The configuration needs a small part of it:
TOML's types, `Literal` choices, `X | None`, lists and tables of sections, unknown keys
refused, checks in code, and a JSON Schema. That part is here, in plain Python.

    class ChartConfig(Section):
        path: str = setting(description="...", examples=["charts/web"])
        registry: str = setting(description="...", examples=[...], check=oci_only)

A section is frozen, and it is validated when built (`Section.model_validate(data)` or
`ChartConfig(**data)`): every error is collected, in field order then unknown keys, as
`SettingError`s in one `SettingsInvalid`. The messages are pydantic's words ("Input should be
a valid list", "Field required", "Value error, ..."), which the docs and users already know,
and the method names are pydantic's (`model_validate`, `model_dump`, `model_copy`,
`model_fields_set`) so callers did not change. The JSON Schema is written by
`relkit.core.settings_schema`.

Booleans, strings and lists are strict: TOML has its own types, and the schema editors check
against says `boolean`, so `"yes"` is refused here too (pydantic's lax mode accepted it).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Literal, TypeVar, dataclass_transform

__all__ = [
    "Check",
    "Section",
    "Setting",
    "SettingError",
    "SettingsInvalid",
    "dumped",
    "location",
    "setting",
    "validate_as",
]

Loc = tuple[int | str, ...]
_S = TypeVar("_S", bound="Section")


class _Missing:
    """No default: the setting is required."""

    def __repr__(self) -> str:
        return "<required>"


_MISSING: Any = _Missing()


class _Invalid:
    """What a validator returns after recording an error (None is a valid value)."""


_INVALID: Any = _Invalid()


class SettingError:
    """One problem with the input: where (`loc`), pydantic's error type name (`kind`), the
    message, and the offending input."""

    __slots__ = ("input", "kind", "loc", "message")

    def __init__(self, loc: Loc, kind: str, message: str, input: Any) -> None:
        self.loc = loc
        self.kind = kind
        self.message = message
        self.input = input

    def __repr__(self) -> str:
        return f"SettingError({self.loc!r}, {self.kind!r}, {self.message!r})"


class SettingsInvalid(ValueError):
    """The input does not fit the section; `errors` holds every problem, first found first.
    Shown as one line: the section, where the first problem is, and how many more."""

    def __init__(self, errors: list[SettingError], section: str) -> None:
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        where = location(first.loc) or "(top level)"
        super().__init__(f"{section}: {where}: {first.message}{more}")
        self.errors = errors


def location(loc: Loc) -> str:
    """A location as the config spells it: `charts[0].registry`, `commit_types.feat`."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


class Check:
    """`Annotated[str, Check(function)]`: `function(value)` runs after the type check and
    returns the value to keep; a `ValueError` it raises is the setting's error."""

    __slots__ = ("function",)

    def __init__(self, function: Callable[[Any], Any]) -> None:
        self.function = function


class Setting:
    """One declared setting: its default (or none: required), its docs, its own check.
    The name and the resolved type are filled in by the section that declares it."""

    __slots__ = (
        "annotation",
        "check",
        "default",
        "default_factory",
        "description",
        "examples",
        "name",
        "validate",
    )

    def __init__(
        self,
        default: Any,
        default_factory: Callable[[], Any] | None,
        description: str,
        examples: list[Any],
        check: Callable[[Any], Any] | None,
    ) -> None:
        self.default = default
        self.default_factory = default_factory
        self.description = description
        self.examples = examples
        self.check = check
        self.name = ""
        self.annotation: Any = None
        self.validate: _Validator = _unresolved

    @property
    def required(self) -> bool:
        return self.default is _MISSING and self.default_factory is None

    def default_value(self) -> Any:
        return self.default_factory() if self.default_factory is not None else self.default


def setting(
    *,
    default: Any = _MISSING,
    default_factory: Callable[[], Any] | None = None,
    description: str,
    examples: list[Any],
    check: Callable[[Any], Any] | None = None,
) -> Any:
    """Declare a setting. Typed `Any` so the declaration type-checks as its value's type,
    as pydantic's `Field` does."""
    if default is not _MISSING and default_factory is not None:
        raise TypeError("setting(): give a default or a default_factory, not both")
    return Setting(default, default_factory, description, examples, check)


_Validator = Callable[[Any, Loc, list[SettingError]], Any]


def _unresolved(value: Any, loc: Loc, errors: list[SettingError]) -> Any:
    raise AssertionError("a setting is validated before its section resolved its types")


@dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(setting,))
class Section:
    """A frozen table of settings. Subclasses declare each setting with `setting(...)`,
    may adjust the raw table first (`_prepare`) and check the whole after (`_check`)."""

    __settings__: ClassVar[dict[str, Setting]] = {}
    __resolved__: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared = {n: v for n, v in vars(cls).items() if isinstance(v, Setting)}
        annotations = vars(cls).get("__annotations__", {})
        annotated = {name for name, hint in annotations.items() if "ClassVar" not in str(hint)}
        if annotated != set(declared):
            odd = sorted(annotated ^ set(declared))
            raise TypeError(f"{cls.__name__}: write `name: type = setting(...)` for {odd}")
        for name, declaration in declared.items():
            declaration.name = name
            delattr(cls, name)  # the instance's value, not the declaration, answers `obj.name`
        cls.__settings__ = {**cls.__settings__, **declared}
        cls.__resolved__ = False

    # -- building ------------------------------------------------------------------------

    def __init__(self, **data: Any) -> None:
        errors: list[SettingError] = []
        built = type(self)._validate(data, (), errors)
        if errors:
            raise SettingsInvalid(errors, type(self).__name__)
        self.__dict__.update(built.__dict__)

    @classmethod
    def model_validate(cls: type[_S], data: Any) -> _S:
        """The section `data` describes; `SettingsInvalid` lists what is wrong with it."""
        errors: list[SettingError] = []
        built = cls._validate(data, (), errors)
        if errors:
            raise SettingsInvalid(errors, cls.__name__)
        return typing.cast(_S, built)

    @classmethod
    def _prepare(cls, data: dict[str, Any]) -> dict[str, Any]:
        """Rewrite the raw table before validation (inherited keys, shorthands)."""
        return data

    def _check(self) -> None:
        """Check the settings together; raise `ValueError` with the reason."""

    @classmethod
    def _validate(cls, data: Any, loc: Loc, errors: list[SettingError]) -> Any:
        if isinstance(data, cls):
            return data
        if not isinstance(data, dict):
            message = f"Input should be a valid dictionary or instance of {cls.__name__}"
            errors.append(SettingError(loc, "model_type", message, data))
            return _INVALID
        settings = cls._resolve()
        data = cls._prepare(data)
        values: dict[str, Any] = {}
        failed = False
        for name, declared in settings.items():
            if name in data:
                value = declared.validate(data[name], (*loc, name), errors)
                if value is _INVALID:
                    failed = True
                values[name] = value
            elif declared.required:
                errors.append(SettingError((*loc, name), "missing", "Field required", data))
                failed = True
            else:
                values[name] = declared.default_value()
        for key in data:
            if key not in settings:
                unknown = SettingError((*loc, key), "extra_forbidden", "unknown key", data[key])
                errors.append(unknown)
                failed = True
        if failed:
            return _INVALID
        built = cls._build(values, frozenset(k for k in data if k in settings))
        try:
            built._check()
        except ValueError as exc:
            errors.append(SettingError(loc, "value_error", f"Value error, {exc}", data))
            return _INVALID
        return built

    @classmethod
    def _build(cls: type[_S], values: dict[str, Any], fields_set: frozenset[str]) -> _S:
        built = object.__new__(cls)
        built.__dict__.update(values)
        built.__dict__["_fields_set"] = fields_set
        return built

    @classmethod
    def _resolve(cls) -> dict[str, Setting]:
        """Each setting's type, read from the annotations on first use: resolving them at
        import would evaluate every annotation of every section on every command."""
        if not cls.__resolved__:
            hints = typing.get_type_hints(cls, include_extras=True)
            for name, declared in cls.__settings__.items():
                declared.annotation = hints[name]
                declared.validate = _with_check(_validator(hints[name]), declared.check)
            cls.__resolved__ = True
        return cls.__settings__

    # -- reading -------------------------------------------------------------------------

    @property
    def model_fields_set(self) -> frozenset[str]:
        """The settings the input gave (the others hold their defaults)."""
        fields_set: frozenset[str] = self.__dict__["_fields_set"]
        return fields_set

    def _values(self) -> dict[str, Any]:
        return {name: self.__dict__[name] for name in self.__settings__}

    def model_dump(self, *, mode: Literal["python", "json"] = "python") -> dict[str, Any]:
        """The settings as plain data (TOML's types): nested sections become dicts."""
        del mode  # relkit's settings are JSON types already; accepted for pydantic's spelling
        return {name: dumped(value) for name, value in self._values().items()}

    def model_copy(self: _S, *, update: dict[str, Any] | None = None) -> _S:
        """A copy with `update` applied as given: not validated (the caller's own values)."""
        values = {**self._values(), **(update or {})}
        fields_set: frozenset[str] = self.__dict__["_fields_set"]
        return self._build(values, fields_set | frozenset(update or ()))

    # -- frozen value semantics ------------------------------------------------------------

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen: cannot delete {name!r}")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Section)
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash((type(self), *self._values().values()))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in self._values().items())
        return f"{type(self).__name__}({shown})"


def dumped(value: Any) -> Any:
    """A setting's value as plain data: sections (at any depth) as dicts, tuples as lists."""
    if isinstance(value, Section):
        return value.model_dump()
    if isinstance(value, list | tuple):
        return [dumped(item) for item in value]
    if isinstance(value, dict):
        return {key: dumped(item) for key, item in value.items()}
    return value


def validate_as(annotation: Any, value: Any) -> Any:
    """`value` checked as `annotation` (any type a setting may have); `SettingsInvalid`."""
    errors: list[SettingError] = []
    result = _validator(annotation)(value, (), errors)
    if errors:
        raise SettingsInvalid(errors, repr(annotation))
    return result


# -- one validator per type ------------------------------------------------------------------


def _validator(annotation: Any) -> _Validator:
    """The function that checks a value against `annotation` and records what is wrong."""
    origin = typing.get_origin(annotation)
    if annotation is str:
        return _exact(str, "string_type", "Input should be a valid string")
    if annotation is bool:
        return _exact(bool, "bool_type", "Input should be a valid boolean")
    if isinstance(annotation, type) and issubclass(annotation, Section):
        return annotation._validate
    if origin is Annotated:
        base, *metadata = typing.get_args(annotation)
        checked = _validator(base)
        for marker in metadata:
            if isinstance(marker, Check):
                checked = _with_check(checked, marker.function)
        return checked
    if origin is Literal:
        return _choice(typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        others = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(others) == 1 and len(typing.get_args(annotation)) == 2:
            return _nullable(_validator(others[0]))
    if origin is list:
        return _list(_validator(typing.get_args(annotation)[0]))
    if origin is dict and typing.get_args(annotation)[0] is str:
        return _table(_validator(typing.get_args(annotation)[1]))
    raise TypeError(f"a setting cannot have the type {annotation!r}")


def _exact(kind: type, error: str, message: str) -> _Validator:
    def validate(value: Any, loc: Loc, errors: list[SettingError]) -> Any:
        if isinstance(value, kind):
            return value
        errors.append(SettingError(loc, error, message, value))
        return _INVALID

    return validate


def _choice(choices: tuple[Any, ...]) -> _Validator:
    shown = [repr(choice) for choice in choices]
    listed = shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}"
    message = f"Input should be {listed}"

    def validate(value: Any, loc: Loc, errors: list[SettingError]) -> Any:
        if isinstance(value, str) and value in choices:
            return value
        errors.append(SettingError(loc, "literal_error", message, value))
        return _INVALID

    return validate


def _nullable(inner: _Validator) -> _Validator:
    def validate(value: Any, loc: Loc, errors: list[SettingError]) -> Any:
        return None if value is None else inner(value, loc, errors)

    return validate


def _list(item: _Validator) -> _Validator:
    def validate(value: Any, loc: Loc, errors: list[SettingError]) -> Any:
        if not isinstance(value, list | tuple):
            errors.append(SettingError(loc, "list_type", "Input should be a valid list", value))
            return _INVALID
        items = [item(entry, (*loc, i), errors) for i, entry in enumerate(value)]
        return _INVALID if any(entry is _INVALID for entry in items) else items

    return validate


def _table(item: _Validator) -> _Validator:
    def validate(value: Any, loc: Loc, errors: list[SettingError]) -> Any:
        if not isinstance(value, dict):
            message = "Input should be a valid dictionary"
            errors.append(SettingError(loc, "dict_type", message, value))
            return _INVALID
        found: dict[str, Any] = {}
        for key, entry in value.items():
            if not isinstance(key, str):  # TOML keys are strings; a caller's dict may not be
                message = "Input should be a valid string"
                errors.append(SettingError((*loc, repr(key)), "string_type", message, key))
                return _INVALID
            found[key] = item(entry, (*loc, key), errors)
        return _INVALID if any(entry is _INVALID for entry in found.values()) else found

    return validate


def _with_check(inner: _Validator, check: Callable[[Any], Any] | None) -> _Validator:
    if check is None:
        return inner

    def validate(value: Any, loc: Loc, errors: list[SettingError]) -> Any:
        checked = inner(value, loc, errors)
        if checked is _INVALID:
            return _INVALID
        try:
            return check(checked)
        except ValueError as exc:
            errors.append(SettingError(loc, "value_error", f"Value error, {exc}", value))
            return _INVALID

    return validate
