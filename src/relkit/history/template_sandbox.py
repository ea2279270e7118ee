"""The Jinja2 side of `relkit.history.templating`: the sandboxed, bounded environment.

Imported by the renderer on its first render, never before: the commands that render
nothing through Jinja (`relkit version`, `relkit changelog --full` with the shipped
templates) do not pay for importing Jinja2 (~20 ms; issue 17). The limits themselves are
`templating`'s (`MAX_OUTPUT_CHARS`, `MAX_RANGE_ITEMS`, `MAX_RENDER_SECONDS`), handed in
when an environment or a budget is made.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    PackageLoader,
    StrictUndefined,
    TemplateNotFound,
)
from jinja2.environment import TemplateModule
from jinja2.runtime import Context, LoopContext, Macro
from jinja2.sandbox import SandboxedEnvironment

__all__ = ["BoundedEnvironment", "Budget", "LimitExceeded", "bounded_environment"]

MAX_SIZE_ARGUMENT = 1_000_000  # a width/count argument (ljust, center, batch, '%9d', '{:>9}')
_MAX_POWER_BITS = 100_000

# Numbers of 7+ digits inside a format field: `{:>999999999}` or `%999999999d`.
_BIG_FORMAT_FIELD = re.compile(r"\{[^{}]*\d{7}[^{}]*\}")
_BIG_PERCENT_FIELD = re.compile(r"%[^a-zA-Z%]*\d{7}")
# Filters whose extra arguments are sizes of what they build.
_SIZED_FILTERS = ("center", "indent", "batch", "slice", "wordwrap", "truncate", "format")


class LimitExceeded(Exception):
    """A render went over one of its bounds; the renderer turns it into a `RelkitError`."""


class Budget:
    """What one render may still spend: `seconds` of running time, `range_items` items."""

    def __init__(self, seconds: float, range_items: int) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.range_limit = range_items
        self.range_items = range_items
        self.ticks = 0

    def tick(self) -> None:
        # Attribute access, calls and output chunks tick: a loop that does anything ticks.
        self.ticks += 1
        if self.ticks % 1024 == 0:
            self.check_time()

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise LimitExceeded(f"rendering took longer than {self.seconds:.0f} s")

    def take_range(self, count: int) -> None:
        self.range_items -= count
        if self.range_items < 0:
            raise LimitExceeded(f"more than {self.range_limit} range() items")


def _size_check(*values: Any) -> None:
    for value in values:
        if isinstance(value, int) and not isinstance(value, bool) and value > MAX_SIZE_ARGUMENT:
            raise LimitExceeded(f"argument {value} too large (at most {MAX_SIZE_ARGUMENT})")


# Objects on which the sandbox's attribute rule reduces to "no leading underscore":
# `is_internal_attribute` has rules only for functions, methods, types, code, frames and
# generators. A changelog reads `loop.last` per issue and `m.release_section` per release.
_PLAIN_ATTRIBUTE_TYPES = frozenset({LoopContext, TemplateModule})


def _length(value: Any) -> int | None:
    return len(value) if isinstance(value, str | bytes | list | tuple) else None


class BoundedEnvironment(SandboxedEnvironment):
    # Intercepting these also stops Jinja from folding `10 ** 10 ** 8` at compile time.
    intercepted_binops = frozenset({"*", "**", "%"})

    def __init__(self, budget: Budget, max_output: int, **options: Any) -> None:
        super().__init__(**options)
        self.budget = budget
        self.max_output = max_output
        self.globals["range"] = self._range
        for name in _SIZED_FILTERS:
            self.filters[name] = self._sized_filter(self.filters[name])

    def _range(self, *args: int) -> range:
        items = range(*args)  # a TypeError for non-integers, as range() would
        self.budget.take_range(len(items))
        return items

    @staticmethod
    def _sized_filter(function: Callable[..., Any]) -> Callable[..., Any]:
        def bounded(*args: Any, **kwargs: Any) -> Any:
            # The first argument (or two, with a context) is the piped value: not a size.
            _size_check(*args[1:], *kwargs.values())
            return function(*args, **kwargs)

        for attribute in ("jinja_pass_arg",):  # keep Jinja's context/environment passing
            if hasattr(function, attribute):
                setattr(bounded, attribute, getattr(function, attribute))
        return bounded

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        self.budget.tick()
        if operator == "**" and isinstance(left, int) and isinstance(right, int):
            if right > 0 and abs(left) > 1 and right * abs(left).bit_length() > _MAX_POWER_BITS:
                raise LimitExceeded("power result too large")
        elif operator == "*":
            for sequence, count in ((left, right), (right, left)):
                length = _length(sequence)
                if (
                    length is not None
                    and isinstance(count, int)
                    and length * count > self.max_output
                ):
                    raise LimitExceeded("repeated sequence too large")
        elif operator == "%" and isinstance(left, str):
            if _BIG_PERCENT_FIELD.search(left):
                raise LimitExceeded("format width too large")
            _size_check(*(right if isinstance(right, tuple) else (right,)))
        return super().call_binop(context, operator, left, right)

    def getattr(self, obj: Any, attribute: str) -> Any:
        self.budget.tick()
        if type(obj) in _PLAIN_ATTRIBUTE_TYPES and not attribute.startswith("_"):
            # What the sandbox returns for a safe attribute; a missing one takes its way.
            try:
                return getattr(obj, attribute)
            except AttributeError:
                pass
        formats = isinstance(obj, str) and attribute in ("format", "format_map")
        if formats and _BIG_FORMAT_FIELD.search(obj):
            raise LimitExceeded("format width too large")
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        # `tick` inline: the changelog reads ~500,000 keys, and a call each costs ~30 ms.
        budget = self.budget
        budget.ticks += 1
        if budget.ticks % 1024 == 0:
            budget.check_time()
        # The templates read their context's dicts by key (e["subject"]): ten times per
        # entry. A key a dict holds is what the sandbox returns too, so only a miss (where
        # it may try an attribute, under its checks) takes the longer way.
        if type(obj) is dict:
            try:
                return obj[argument]
            except (KeyError, TypeError):
                pass
        return super().getitem(obj, argument)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        __self.budget.tick()
        _size_check(*args, *kwargs.values())
        if type(__obj) is Macro:
            return _call_macro(__context, __obj, args, kwargs)
        return super().call(__context, __obj, *args, **kwargs)


def _call_macro(
    context: Context, macro: Macro, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    """What `Context.call` does for a template's own macro (twice per changelog release):
    the sandbox finds a macro safe to call, and a macro takes no context argument."""
    kwargs.pop("_block_vars", None)
    kwargs.pop("_loop_vars", None)
    try:
        return macro(*args, **kwargs)
    except StopIteration:
        return context.environment.undefined(
            "value was undefined because a callable raised a StopIteration exception"
        )


class _ConfinedLoader(BaseLoader):
    """Templates from the repository's template directory, read by `read` (the renderer's
    `read_override`, which holds each to the path rule).

    Jinja's FileSystemLoader follows symlinks anywhere: a `changelog.md.j2` linked to
    `~/.docker/config.json` would render the credentials into the notes (issue 15).
    """

    def __init__(self, read: Callable[[str], bytes | None], shown: Callable[[str], str]) -> None:
        self._read = read
        self._shown = shown

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        data = self._read(template)
        if data is None:
            raise TemplateNotFound(template)
        return data.decode("utf-8"), self._shown(template), lambda: False


def bounded_environment(
    budget: Budget,
    max_output: int,
    read_override: Callable[[str], bytes | None] | None,
    override_path: Callable[[str], str],
) -> BoundedEnvironment:
    """The sandboxed environment of one renderer: override templates (read through
    `read_override`, shown as `override_path(name)`) win over the shipped ones."""
    loaders: list[BaseLoader] = []
    if read_override is not None:
        loaders.append(_ConfinedLoader(read_override, override_path))
    loaders.append(PackageLoader("relkit", "templates"))
    return BoundedEnvironment(
        budget,
        max_output,
        loader=ChoiceLoader(loaders),
        undefined=StrictUndefined,  # a typo in a template is an error, not an empty string
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,  # output is Markdown/YAML/text, not HTML
    )
