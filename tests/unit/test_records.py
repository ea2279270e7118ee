"""`record`: what `@dataclass(frozen=True, slots=True)` declares, quicker to declare and to
make, and otherwise the same."""

from __future__ import annotations

import copy
import gc
import inspect
import pickle
from dataclasses import (
    FrozenInstanceError,
    InitVar,
    astuple,
    dataclass,
    field,
    fields,
    is_dataclass,
    replace,
)
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest

from relkit.core.model import Artifact, RawCommit, Version
from relkit.core.records import collector_paused, record
from relkit.history.changelog import ContributorFilter, Release, Section
from relkit.history.conventional import ConventionalCommit, Person
from relkit.history.release_tags import ReleaseTag

_WHEN = datetime(2026, 1, 2, tzinfo=UTC)


def _plain_and_record(**options: Any) -> tuple[Any, Any]:
    """The same declaration as a frozen slotted dataclass and as a record."""

    def define() -> type:
        class Record:
            name: str
            count: int = 0
            tags: tuple[str, ...] = field(default_factory=tuple)
            items: list[int] = field(default_factory=list)
            hidden: str = field(default="h", repr=False, compare=False)
            cache: dict[str, int] = field(default_factory=dict, init=False, compare=False)
            note: str | None = field(default=None, kw_only=True)

        return Record

    return (
        dataclass(frozen=True, slots=True, **options)(define()),
        record(**options)(define()) if options else record(define()),
    )


def _shape(cls: type) -> list[tuple[str, object, object]]:
    """Each parameter's name, kind and default (any default factory shown as "factory")."""
    found = []
    for parameter in inspect.signature(cls).parameters.values():
        default = parameter.default
        if isinstance(default, type) or repr(default) == "<factory>":
            default = "factory"
        found.append((parameter.name, parameter.kind, default))
    return found


def test_a_record_behaves_like_the_frozen_slotted_dataclass() -> None:
    plain, quick = _plain_and_record()
    assert _shape(quick) == _shape(plain)
    assert is_dataclass(quick) and [f.name for f in fields(quick)] == [
        f.name for f in fields(plain)
    ]
    assert quick.__match_args__ == plain.__match_args__
    for args, kwargs in [(("a",), {}), (("a", 2, ("x",)), {"note": "n"}), ((), {"name": "b"})]:
        made, expected = quick(*args, **kwargs), plain(*args, **kwargs)
        assert astuple(made) == astuple(expected)
        assert repr(made).replace(quick.__qualname__, "") == repr(expected).replace(
            plain.__qualname__, ""
        )
    one = quick("a", 1)
    assert one == quick("a", 1) and one != quick("a", 2)
    assert one == quick("a", 1, hidden="other")  # compare=False: not compared, not hashed
    assert one.__eq__(plain("a", 1)) is NotImplemented  # another class never equals
    assert replace(one, count=5) == quick("a", 5)
    assert quick("a").items is not quick("a").items  # a factory runs for every record
    assert quick("a").cache == {} and quick("a").cache is not quick("a").cache  # init=False
    with pytest.raises(FrozenInstanceError, match="cannot assign to field 'count'"):
        one.count = 2
    with pytest.raises(FrozenInstanceError, match="cannot delete field 'name'"):
        del one.name
    with pytest.raises(AttributeError):  # slots: no attribute beyond the fields
        one.extra = 1
    assert not hasattr(one, "__dict__")
    assert type(one) is quick and isinstance(one, quick)
    with pytest.raises(TypeError):
        quick("a", 1, (), [], "h", "too many")
    with pytest.raises(TypeError):
        quick()
    with pytest.raises(TypeError):
        quick("a", note_typo="x")
    with pytest.raises(TypeError):
        quick("a", cache={})  # not a parameter, as in the dataclass


def test_hashing_follows_the_compared_fields() -> None:
    _, quick = _plain_and_record()
    assert hash(Version(1, 2, 3, ("rc", "1"))) == hash(Version(1, 2, 3, ("rc", "1")))
    assert len({Person("A", "a@x"), Person("A", "a@x"), Person("B", "b@x")}) == 2
    with pytest.raises(TypeError, match="unhashable"):  # a list field, as in the dataclass
        hash(quick("a"))

    @record
    class Pair:
        left: int
        right: str = field(default="", hash=False)

    assert hash(Pair(1, "x")) == hash(Pair(1, "y")) == hash((1,))


def test_order_compares_the_fields_in_order() -> None:
    plain, quick = _plain_and_record(order=True)
    for left, right in [(("a", 1), ("a", 2)), (("b", 0), ("a", 9)), (("a", 1), ("a", 1))]:
        for op in ("__lt__", "__le__", "__gt__", "__ge__"):
            assert getattr(quick(*left), op)(quick(*right)) == getattr(plain(*left), op)(
                plain(*right)
            )
    assert sorted([Person("b", "x"), Person("a", "y")]) == [Person("a", "y"), Person("b", "x")]
    with pytest.raises(TypeError):
        _ = quick("a") < plain("a")


def test_methods_the_class_defines_are_kept() -> None:
    # Version defines its own equality (build metadata aside) and hash.
    assert Version(1, 2, 3, (), ("b1",)) == Version(1, 2, 3, (), ("b2",))
    assert hash(Version(1, 2, 3, (), ("b1",))) == hash(Version(1, 2, 3))
    assert Version(1, 2, 3) < Version(1, 3, 0)


def test_records_it_cannot_declare_are_refused() -> None:
    @dataclass(frozen=True)
    class Base:
        x: int

    class Derived(Base):
        y: int = 0

    class Slotted:
        __slots__ = ("x",)
        x: int

    class Posted:
        x: int

        def __post_init__(self) -> None:
            pass

    class WithInitVar:
        x: int
        extra: InitVar[int] = 0

    class WithClassVar:
        x: int
        shared: ClassVar[int] = 0

    class OwnSetattr:
        x: int

        def __setattr__(self, name: str, value: object) -> None:
            pass

    class OwnOrder:
        x: int

        def __lt__(self, other: object) -> bool:
            return False

    for cls in (Derived, Slotted, Posted, WithInitVar, WithClassVar, OwnSetattr):
        with pytest.raises(TypeError, match="record:"):
            record(cls)
    with pytest.raises(TypeError, match="record:"):
        record(order=True)(OwnOrder)
    with pytest.raises(TypeError, match="record: Sub subclasses a record"):

        class Sub(Person):  # type: ignore[misc]
            pass


@pytest.mark.parametrize(
    "cls", [Version, RawCommit, Person, ConventionalCommit, Section, Release, ReleaseTag]
)
def test_relkits_records_keep_their_signature(cls: type) -> None:
    """The constructor takes exactly the fields, in order, with their defaults."""
    parameters = list(inspect.signature(cls).parameters.values())
    assert [p.name for p in parameters] == [f.name for f in fields(cls)]
    for parameter, record_field in zip(parameters, fields(cls), strict=True):
        if record_field.default is not record_field.default_factory:  # has a plain default
            assert parameter.default == record_field.default


def test_a_record_copies_and_pickles_as_itself() -> None:
    _, quick = _plain_and_record()
    one = quick("a", 2, ("x",), [1], note="n")
    one.cache["k"] = 1  # a field the constructor does not take comes along too
    for made in (copy.copy(one), copy.deepcopy(one)):
        assert made == one and made.cache == {"k": 1}
    assert copy.deepcopy(one).items is not one.items
    entry = ConventionalCommit(
        "a" * 40, "feat", None, "x", "", False, (), (), True, Person("A", "a@x"), _WHEN, "feat: x"
    )
    for kept in (
        Version(1, 2, 3, ("rc", "1")),
        entry,
        ReleaseTag("v1.0.0", "b" * 40, Version(1, 0, 0)),
        ContributorFilter(("bot",), bots=True),
        Artifact("chart", "relkit-1.0.0.tgz", digest="sha256:" + "0" * 64),
    ):
        assert pickle.loads(pickle.dumps(kept)) == kept  # noqa: S301 - our own bytes
        assert copy.copy(kept) == kept


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
