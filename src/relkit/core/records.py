"""Frozen records that are quick to declare, quick to make and small to keep.

`@record` declares what `@dataclass(frozen=True, slots=True)` declares: fields with their
defaults, `fields()`, `dataclasses.replace` (which calls the class), equality and hashing
over the fields (same class only), a repr, immutability after creation, `order=True` on
request. It differs in how, for two costs that every relkit command paid:

- **Making one.** A frozen dataclass's `__init__` stores each field through
  `object.__setattr__`: for `ConventionalCommit`'s 20 fields that is ~3 µs, 15 times a
  plain class, and the changelog of a 27,000-commit history makes over 100,000 records.
  A record's `__new__` (the `__init__` signature the dataclass would have) fills a mutable
  twin with the same slots by plain assignment, then gives it the record's class: 0.43 µs.
  Slots, not a `__dict__`: ~200 bytes instead of ~520 for 20 fields (on the corpus, 14 MB
  and 4,000 page faults less for `changelog --full`).
- **Declaring one.** `dataclass` compiles six methods for a frozen class (`__init__`,
  `__repr__`, `__eq__`, `__hash__`, `__setattr__`, `__delattr__`), ~0.6 ms a class: 14 ms
  of every command, which imports 25 of them. A record compiles its `__new__` only; the
  other methods are shared functions or closures over an `attrgetter` of its fields.

`collector_paused` is for the code that makes records by the hundred thousand: the cyclic
garbage collector would otherwise scan the ever larger heap of live records again and again
while finding nothing (records hold no reference cycles), which took a third of
`changelog --full`'s time on the corpus.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import MISSING, Field, FrozenInstanceError, dataclass, field, fields
from operator import attrgetter
from typing import Any, TypeVar, cast, dataclass_transform, overload

__all__ = ["collector_paused", "record"]

_T = TypeVar("_T")


class _NoValue:
    """A parameter with a default factory that the caller left out."""


@overload
def record(cls: type[_T], /) -> type[_T]: ...


@overload
def record(*, order: bool = False) -> Callable[[type[_T]], type[_T]]: ...


@dataclass_transform(frozen_default=True, field_specifiers=(field, Field))
def record(cls: type[_T] | None = None, /, *, order: bool = False) -> Any:
    """Declare a frozen, slotted record (`@record`, or `@record(order=True)` to compare
    records field by field with `<`). No base class, `__post_init__` or `InitVar`, and no
    subclass of it."""

    def declare(declared: type[_T]) -> type[_T]:
        return _declare(declared, order=order)

    return declare if cls is None else declare(cls)


def _declare(cls: type[_T], *, order: bool) -> type[_T]:
    name = cls.__name__
    if cls.__bases__ != (object,):
        # The twin's layout must be the record's exactly, or `__class__` cannot be assigned.
        raise TypeError(f"record: {name} has a base class")
    if "__slots__" in cls.__dict__ or hasattr(cls, "__post_init__"):
        raise TypeError(f"record: {name} declares __slots__ or __post_init__")
    frozen_methods = ("__setattr__", "__delattr__")
    if any(method in cls.__dict__ for method in frozen_methods):
        raise TypeError(f"record: {name} defines __setattr__ or __delattr__")
    # Fields, defaults, slots and __match_args__ only: every method is added below.
    shaped: Any = dataclass(cls, init=False, repr=False, eq=False, slots=True)
    declared = fields(shaped)
    # `fields()` leaves out the InitVar and ClassVar pseudo-fields the dataclass found.
    if len(declared) != len(shaped.__dataclass_fields__):
        raise TypeError(f"record: {name} has an InitVar or a ClassVar field")
    shaped.__new__ = staticmethod(_maker(shaped, declared))
    shaped.__reduce__ = _reduce
    shaped.__setattr__ = _refuse_assignment
    shaped.__delattr__ = _refuse_deletion
    # A subclass's instances would not fit the twin's layout: `__new__` could not make them.
    shaped.__init_subclass__ = classmethod(_refuse_subclass)
    _add_comparisons(shaped, declared, order=order)
    if "__repr__" not in shaped.__dict__:
        shaped.__repr__ = _repr_of([f.name for f in declared if f.repr])
    return cast("type[_T]", shaped)


def _maker(cls: type, declared: tuple[Field[Any], ...]) -> Callable[..., Any]:
    """The record's `__new__`: the dataclass `__init__`'s parameters, compiled once."""
    names = tuple(f.name for f in declared)
    twin = type(f"_{cls.__name__}Fields", (), {"__slots__": names, "__module__": cls.__module__})
    namespace: dict[str, Any] = {"_twin": twin, "_make": object.__new__, "_NoValue": _NoValue}
    positional: list[str] = []
    keyword_only: list[str] = []
    lines: list[str] = []
    for item in declared:
        value = item.name
        if item.default is not MISSING:
            namespace[f"_default_{item.name}"] = item.default
            spec = f"{item.name}=_default_{item.name}"
            value = item.name if item.init else f"_default_{item.name}"
        elif item.default_factory is not MISSING:
            namespace[f"_factory_{item.name}"] = item.default_factory
            spec = f"{item.name}=_NoValue"
            if item.init:
                lines.append(
                    f"    if {item.name} is _NoValue: {item.name} = _factory_{item.name}()"
                )
            else:
                value = f"_factory_{item.name}()"
        else:
            spec = item.name
        if item.init:
            (keyword_only if item.kw_only else positional).append(spec)
        lines.append(f"    self.{item.name} = {value}")
    signature = ", ".join(["cls", *positional, *(["*", *keyword_only] if keyword_only else [])])
    body = ["    self = _make(_twin)", *lines, "    self.__class__ = cls", "    return self"]
    source = "\n".join([f"def __new__({signature}):", *body])
    exec(source, namespace)  # noqa: S102 - code built from the class's own field names
    new: Callable[..., Any] = namespace["__new__"]
    new.__qualname__ = f"{cls.__qualname__}.__new__"
    new.__module__ = cls.__module__
    return new


def _values_of(names: list[str]) -> Callable[[Any], tuple[Any, ...]]:
    """The named fields of a record, as one tuple (an `attrgetter`: no Python call)."""
    if len(names) >= 2:
        return attrgetter(*names)
    if names:
        only = attrgetter(names[0])
        return lambda item: (only(item),)
    return lambda item: ()


def _add_comparisons(cls: Any, declared: tuple[Field[Any], ...], *, order: bool) -> None:
    """`__eq__` and `__hash__` over the compared fields, as `dataclass(frozen=True)` adds
    them, unless the class defines its own; with `order`, `<`, `<=`, `>` and `>=` too."""
    compared = _values_of([f.name for f in declared if f.compare])
    hashed = _values_of([f.name for f in declared if (f.compare if f.hash is None else f.hash)])

    def __eq__(self: Any, other: object) -> bool:
        if other.__class__ is self.__class__:
            return bool(compared(self) == compared(other))
        return NotImplemented

    def __hash__(self: Any) -> int:
        return hash(hashed(self))

    if "__eq__" not in cls.__dict__:
        cls.__eq__ = __eq__
    # A class that defines __eq__ alone has __hash__ = None: a record is hashable all the same.
    if cls.__dict__.get("__hash__") is None:
        cls.__hash__ = __hash__
    if not order:
        return
    for method, compare in (
        ("__lt__", tuple.__lt__),
        ("__le__", tuple.__le__),
        ("__gt__", tuple.__gt__),
        ("__ge__", tuple.__ge__),
    ):
        if method in cls.__dict__:
            raise TypeError(f"record: {cls.__name__} defines {method} and asks for order")
        setattr(cls, method, _ordering(compared, compare))


def _ordering(
    compared: Callable[[Any], tuple[Any, ...]], compare: Callable[[Any, Any], bool]
) -> Callable[[Any, object], Any]:
    def method(self: Any, other: object) -> Any:  # a bool, or NotImplemented
        if other.__class__ is self.__class__:
            return bool(compare(compared(self), compared(other)))
        return NotImplemented

    return method


def _repr_of(names: list[str]) -> Callable[[Any], str]:
    values = _values_of(names)

    def __repr__(self: Any) -> str:
        shown = ", ".join(f"{n}={v!r}" for n, v in zip(names, values(self), strict=True))
        return f"{type(self).__qualname__}({shown})"

    return __repr__


def _refuse_subclass(cls: type, /, **options: Any) -> None:
    raise TypeError(f"record: {cls.__name__} subclasses a record; declare a record of its own")


def _refuse_assignment(self: Any, name: str, value: object) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _refuse_deletion(self: Any, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


def _reduce(record: Any) -> tuple[Any, tuple[Any, ...]]:
    # copy and pickle remake a record through the class: `__new__` needs the fields.
    return _remade, (type(record), [(f.name, getattr(record, f.name)) for f in fields(record)])


def _remade(cls: type[_T], values: list[tuple[str, Any]]) -> _T:
    init = {f.name for f in fields(cast(Any, cls)) if f.init}
    made = cls(**{name: value for name, value in values if name in init})
    for name, value in values:  # a field the constructor does not take (init=False)
        if name not in init:
            object.__setattr__(made, name, value)
    return made


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with the cyclic garbage collector off (back as it was afterwards).

    Reference counting still frees every acyclic object at once; cycles made meanwhile (a
    template render's frames) wait for the next collection after the block.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
