"""`quick_init`: a frozen slotted dataclass made faster to build and otherwise the same."""

from __future__ import annotations

import copy
import gc
import inspect
import pickle
from dataclasses import FrozenInstanceError, InitVar, astuple, dataclass, field, fields, replace
from datetime import UTC, datetime

import pytest

from relkit.core.model import RawCommit, Version
from relkit.core.records import collector_paused, quick_init
from relkit.history.changelog import Release, Section
from relkit.history.conventional import ConventionalCommit, Person
from relkit.history.release_tags import ReleaseTag

_WHEN = datetime(2026, 1, 2, tzinfo=UTC)


def _plain_and_quick() -> tuple[type, type]:
    def define() -> type:
        @dataclass(frozen=True, slots=True)
        class Record:
            name: str
            count: int = 0
            tags: tuple[str, ...] = field(default_factory=tuple)
            items: list[int] = field(default_factory=list)
            note: str | None = field(default=None, kw_only=True)

        return Record

    return define(), quick_init(define())


def _shape(cls: type) -> list[tuple[str, object, object]]:
    """Each parameter's name, kind and default (any default factory shown as "factory")."""
    found = []
    for parameter in inspect.signature(cls).parameters.values():
        default = parameter.default
        if isinstance(default, type) or repr(default) == "<factory>":
            default = "factory"
        found.append((parameter.name, parameter.kind, default))
    return found


def test_a_quick_record_behaves_like_the_dataclass_it_was() -> None:
    plain, quick = _plain_and_quick()
    assert _shape(quick) == _shape(plain)
    for args, kwargs in [(("a",), {}), (("a", 2, ("x",)), {"note": "n"}), ((), {"name": "b"})]:
        made, expected = quick(*args, **kwargs), plain(*args, **kwargs)
        assert astuple(made) == astuple(expected)
        assert repr(made).replace(quick.__qualname__, "") == repr(expected).replace(
            plain.__qualname__, ""
        )
    one = quick("a", 1)
    assert one == quick("a", 1) and one != quick("a", 2)
    assert replace(one, count=5) == quick("a", 5)
    assert quick("a").items is not quick("a").items  # a factory runs for every record
    with pytest.raises(FrozenInstanceError):
        one.count = 2  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        del one.name  # type: ignore[misc]
    # No attribute beyond the fields (slots); Python 3.11's frozen slotted dataclass says so
    # with a TypeError (its `__setattr__` names the class as it was before slots were added).
    with pytest.raises((AttributeError, TypeError)):
        one.extra = 1  # type: ignore[attr-defined]
    assert type(one) is quick and isinstance(one, quick)
    with pytest.raises(TypeError):
        quick("a", 1, (), [], "too many")
    with pytest.raises(TypeError):
        quick()
    with pytest.raises(TypeError):
        quick("a", note_typo="x")


def test_hashing_follows_the_fields() -> None:
    plain, quick = _plain_and_quick()
    assert hash(Version(1, 2, 3, ("rc", "1"))) == hash(Version(1, 2, 3, ("rc", "1")))
    assert len({Person("A", "a@x"), Person("A", "a@x"), Person("B", "b@x")}) == 2
    for cls in (plain, quick):  # a list field makes either unhashable, alike
        with pytest.raises(TypeError, match="unhashable"):
            hash(cls("a"))


def test_records_it_cannot_speed_up_are_refused() -> None:
    @dataclass
    class Mutable:
        x: int

    @dataclass(frozen=True)
    class Unslotted:
        x: int

    @dataclass(frozen=True, slots=True)
    class Base:
        x: int

    @dataclass(frozen=True, slots=True)
    class Derived(Base):
        y: int = 0

    @dataclass(frozen=True, slots=True, weakref_slot=True)
    class Weak:
        x: int

    @dataclass(frozen=True, slots=True)
    class Posted:
        x: int

        def __post_init__(self) -> None:
            pass

    @dataclass(frozen=True, slots=True)
    class WithInitVar:
        x: int
        extra: InitVar[int] = 0

    @dataclass(frozen=True, slots=True)
    class Computed:
        x: int
        y: int = field(init=False, default=0)

    for cls in (Mutable, Unslotted, Derived, Weak, Posted, WithInitVar, Computed, int):
        with pytest.raises(TypeError, match="quick_init"):
            quick_init(cls)


@pytest.mark.parametrize(
    "cls", [Version, RawCommit, Person, ConventionalCommit, Section, Release, ReleaseTag]
)
def test_relkits_records_keep_their_signature(cls: type) -> None:
    """The quick constructor takes exactly the fields, in order, with their defaults."""
    parameters = list(inspect.signature(cls).parameters.values())
    assert [p.name for p in parameters] == [f.name for f in fields(cls)]
    for parameter, record_field in zip(parameters, fields(cls), strict=True):
        if record_field.default is not record_field.default_factory:  # has a plain default
            assert parameter.default == record_field.default


def test_a_quick_record_copies_and_pickles_as_itself() -> None:
    _, quick = _plain_and_quick()
    one = quick("a", 2, ("x",), [1], note="n")
    assert copy.copy(one) == one and copy.deepcopy(one) == one
    assert copy.deepcopy(one).items is not one.items
    entry = ConventionalCommit(
        "a" * 40, "feat", None, "x", "", False, (), (), True, Person("A", "a@x"), _WHEN, "feat: x"
    )
    for record in (
        Version(1, 2, 3, ("rc", "1")),
        entry,
        ReleaseTag("v1.0.0", "b" * 40, Version(1, 0, 0)),
    ):
        assert pickle.loads(pickle.dumps(record)) == record  # noqa: S301 - our own bytes
        assert copy.copy(record) == record


def test_the_collector_is_paused_for_the_block_only() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError), collector_paused():
        raise ValueError
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
