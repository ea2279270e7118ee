"""Jinja2 templates, sandboxed and bounded, with per-repository overrides by name.

Templates ship inside the package (`relkit/templates/`). A repository can override any of
them by putting a file with the same name in its template directory. Rendering happens in a
`SandboxedEnvironment`: templates come from repositories we release, so they must not reach
Python internals (attribute access to dunders, calling unsafe methods).

A template can also fail or run away like any program (`{{ 1/0 }}`, `'x' * 10**9`, nested
`range(99999)` loops). Every failure is one `RelkitError` line naming the template and line
(issue 8), and each render is bounded: its output size, the range() items it makes, the
sizes its operators, calls and filters may build, and its running time.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    PackageLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
)
from jinja2.environment import TemplateModule
from jinja2.runtime import Context, LoopContext, Macro
from jinja2.sandbox import SandboxedEnvironment

from relkit.core.errors import RelkitError
from relkit.core.paths import read_inside, resolve_inside

__all__ = [
    "MAX_OUTPUT_CHARS",
    "MAX_RANGE_ITEMS",
    "MAX_RENDER_SECONDS",
    "TemplateRenderer",
    "override_dir",
]

# Far above any real changelog (a 27,000-commit history renders to a few MB).
MAX_OUTPUT_CHARS = 32 * 1024 * 1024
MAX_RANGE_ITEMS = 1_000_000  # range() items per render, all calls together
MAX_SIZE_ARGUMENT = 1_000_000  # a width/count argument (ljust, center, batch, '%9d', '{:>9}')
MAX_RENDER_SECONDS = 30.0
_MAX_POWER_BITS = 100_000
_HINT = "check the template in your template directory"

# Numbers of 7+ digits inside a format field: `{:>999999999}` or `%999999999d`.
_BIG_FORMAT_FIELD = re.compile(r"\{[^{}]*\d{7}[^{}]*\}")
_BIG_PERCENT_FIELD = re.compile(r"%[^a-zA-Z%]*\d{7}")
# Filters whose extra arguments are sizes of what they build.
_SIZED_FILTERS = ("center", "indent", "batch", "slice", "wordwrap", "truncate", "format")


class _LimitExceeded(Exception):
    """A render went over one of its bounds; the renderer turns it into a `RelkitError`."""


class _Budget:
    """What one render may still spend."""

    def __init__(self) -> None:
        self.deadline = time.monotonic() + MAX_RENDER_SECONDS
        self.range_items = MAX_RANGE_ITEMS
        self.ticks = 0

    def tick(self) -> None:
        # Attribute access, calls and output chunks tick: a loop that does anything ticks.
        self.ticks += 1
        if self.ticks % 1024 == 0:
            self.check_time()

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise _LimitExceeded(f"rendering took longer than {MAX_RENDER_SECONDS:.0f} s")

    def take_range(self, count: int) -> None:
        self.range_items -= count
        if self.range_items < 0:
            raise _LimitExceeded(f"more than {MAX_RANGE_ITEMS} range() items")


def _size_check(*values: Any) -> None:
    for value in values:
        if isinstance(value, int) and not isinstance(value, bool) and value > MAX_SIZE_ARGUMENT:
            raise _LimitExceeded(f"argument {value} too large (at most {MAX_SIZE_ARGUMENT})")


# Objects on which the sandbox's attribute rule reduces to "no leading underscore":
# `is_internal_attribute` has rules only for functions, methods, types, code, frames and
# generators. A changelog reads `loop.last` per issue and `m.release_section` per release.
_PLAIN_ATTRIBUTE_TYPES = frozenset({LoopContext, TemplateModule})


def _length(value: Any) -> int | None:
    return len(value) if isinstance(value, str | bytes | list | tuple) else None


class _BoundedEnvironment(SandboxedEnvironment):
    # Intercepting these also stops Jinja from folding `10 ** 10 ** 8` at compile time.
    intercepted_binops = frozenset({"*", "**", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.budget = _Budget()
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
                raise _LimitExceeded("power result too large")
        elif operator == "*":
            for sequence, count in ((left, right), (right, left)):
                length = _length(sequence)
                if (
                    length is not None
                    and isinstance(count, int)
                    and length * count > MAX_OUTPUT_CHARS
                ):
                    raise _LimitExceeded("repeated sequence too large")
        elif operator == "%" and isinstance(left, str):
            if _BIG_PERCENT_FIELD.search(left):
                raise _LimitExceeded("format width too large")
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
            raise _LimitExceeded("format width too large")
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
    """Templates from the repository's template directory, each held to the path rule.

    Jinja's FileSystemLoader follows symlinks anywhere: a `changelog.md.j2` linked to
    `~/.docker/config.json` would render the credentials into the notes (issue 15).
    """

    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        data = read_inside(
            self._directory,
            template,
            key="template",
            where="changelog.template_dir",
            max_bytes=MAX_OUTPUT_CHARS,
        )
        if data is None:
            raise TemplateNotFound(template)
        return data.decode("utf-8"), str(self._directory / template), lambda: False


def override_dir(root: Path, template_dir: str | None) -> Path | None:
    """The configured template directory under `root`, held to the path rule; None if unset."""
    if not template_dir:
        return None
    return resolve_inside(root, template_dir, key="changelog.template_dir")


class TemplateRenderer:
    """Renders named templates; `override_dir` templates win over the shipped ones."""

    def __init__(self, override_dir: Path | None = None) -> None:
        loaders: list[Any] = []
        self._override = _ConfinedLoader(override_dir) if override_dir is not None else None
        self._filters_added = False
        if self._override is not None:
            loaders.append(self._override)
        loaders.append(PackageLoader("relkit", "templates"))
        self._env = _BoundedEnvironment(
            loader=ChoiceLoader(loaders),
            undefined=StrictUndefined,  # a typo in a template is an error, not an empty string
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
            autoescape=False,  # output is Markdown/YAML/text, not HTML
        )

    def add_filter(self, name: str, function: Any) -> None:
        self._env.filters[name] = function
        self._filters_added = True

    def ships(self, *names: str) -> bool:
        """Whether `names` render as shipped: none of them overridden, no filter added.

        Only a template the override directory does not have counts as not overridden: one
        it cannot read (a symlink out, not UTF-8) is left to `render`, which reports it."""
        if self._filters_added:
            return False
        override = self._override
        return override is None or not any(_overrides(override, self._env, n) for n in names)

    def check_output(self, name: str, text: str) -> str:
        """`text` as a render of `name` would return it: held to the same output cap."""
        if len(text) > MAX_OUTPUT_CHARS:
            raise RelkitError(
                f"template {name}: output larger than {MAX_OUTPUT_CHARS} characters", hint=_HINT
            )
        return text

    def render(self, name: str, context: Mapping[str, Any]) -> str:
        self._env.budget = _Budget()
        try:
            return self._render(name, context)
        except UnicodeDecodeError as exc:
            raise RelkitError(
                f"template {name}: not UTF-8 text"
                f" (byte 0x{exc.object[exc.start : exc.start + 1].hex()} at offset {exc.start})",
                hint=_HINT,
            ) from None
        except TemplateSyntaxError as exc:
            where = f"{Path(exc.filename).name} " if exc.filename and exc.name != name else ""
            raise RelkitError(
                f"template {name}: {where}line {exc.lineno}: TemplateSyntaxError: {exc.message}",
                hint=_HINT,
            ) from None
        except _LimitExceeded as exc:
            raise RelkitError(
                f"template {name}: {_where(exc.__traceback__, name)}{exc}", hint=_HINT
            ) from None
        except TemplateError as exc:
            raise RelkitError(
                f"template {name}: {_where(exc.__traceback__, name)}"
                f"{exc.message or type(exc).__name__}",
                hint=_HINT,
            ) from None
        except RecursionError:  # a macro calling itself
            raise RelkitError(f"template {name}: recursion too deep", hint=_HINT) from None
        except (ArithmeticError, LookupError, TypeError, ValueError, AttributeError) as exc:
            # What the template's own expressions raise (1/0, '%d' % 'x', [][1]).
            raise RelkitError(
                f"template {name}: {_where(exc.__traceback__, name)}{type(exc).__name__}: {exc}",
                hint=_HINT,
            ) from None

    def _render(self, name: str, context: Mapping[str, Any]) -> str:
        template = self._env.get_template(name)
        chunks: list[str] = []
        size = 0
        # Stream: stop at the first chunk over the cap instead of building all of it.
        for chunk in template.generate(**context):
            size += len(chunk)
            if size > MAX_OUTPUT_CHARS:
                raise _LimitExceeded(f"output larger than {MAX_OUTPUT_CHARS} characters")
            self._env.budget.tick()
            chunks.append(chunk)
        return "".join(chunks)


def _overrides(loader: _ConfinedLoader, environment: Environment, name: str) -> bool:
    """Whether the override directory has `name`, or a file there that cannot be read."""
    try:
        loader.get_source(environment, name)
    except TemplateNotFound:
        return False
    except Exception:  # `render` reports it, as it always has
        return True
    return True


def _where(trace: TracebackType | None, name: str) -> str:
    """`line N: ` of the innermost template frame (Jinja rewrites frames to template lines)."""
    found = ""
    while trace is not None:
        filename = trace.tb_frame.f_code.co_filename
        if filename.endswith(".j2") or filename == "<template>":
            shown = Path(filename).name
            prefix = "" if shown == name or filename == "<template>" else f"{shown} "
            found = f"{prefix}line {trace.tb_lineno}: "
        trace = trace.tb_next
    return found
