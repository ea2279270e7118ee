"""Jinja2 templates, sandboxed and bounded, with per-repository overrides by name.

Templates ship inside the package (`relkit/templates/`). A repository can override any of
them by putting a file with the same name in its template directory. Rendering happens in a
`SandboxedEnvironment`: templates come from repositories we release, so they must not reach
Python internals (attribute access to dunders, calling unsafe methods).

A template can also fail or run away like any program (`{{ 1/0 }}`, `'x' * 10**9`, nested
`range(99999)` loops). Every failure is one `RelkitError` line naming the template and line
(issue 8), and each render is bounded: its output size, the range() items it makes, the
sizes its operators, calls and filters may build, and its running time.

Jinja2 itself (`relkit.history.template_sandbox`) is imported on the first render: whether
templates render as shipped (`TemplateRenderer.ships`) is answered from the override
directory alone, so the shipped changelog's Python path never imports it (issue 17).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from relkit.core.errors import RelkitError
from relkit.core.paths import read_inside, resolve_inside

if TYPE_CHECKING:
    from relkit.history.template_sandbox import BoundedEnvironment

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
MAX_RENDER_SECONDS = 30.0
_HINT = "check the template in your template directory"


def override_dir(root: Path, template_dir: str | None) -> Path | None:
    """The configured template directory under `root`, held to the path rule; None if unset."""
    if not template_dir:
        return None
    return resolve_inside(root, template_dir, key="changelog.template_dir")


class TemplateRenderer:
    """Renders named templates; `override_dir` templates win over the shipped ones."""

    def __init__(self, override_dir: Path | None = None) -> None:
        self._override = override_dir
        self._filters: dict[str, Any] = {}
        self._env: BoundedEnvironment | None = None

    def add_filter(self, name: str, function: Any) -> None:
        self._filters[name] = function
        if self._env is not None:
            self._env.filters[name] = function

    def ships(self, *names: str) -> bool:
        """Whether `names` render as shipped: none of them overridden, no filter added.

        Only a template the override directory does not have counts as not overridden: one
        it cannot read (a symlink out, not UTF-8) is left to `render`, which reports it."""
        if self._filters:
            return False
        return self._override is None or not any(self._overrides(n) for n in names)

    def check_output(self, name: str, text: str) -> str:
        """`text` as a render of `name` would return it: held to the same output cap."""
        if len(text) > MAX_OUTPUT_CHARS:
            raise RelkitError(
                f"template {name}: output larger than {MAX_OUTPUT_CHARS} characters", hint=_HINT
            )
        return text

    def _read_override(self, name: str) -> bytes | None:
        """The override directory's `name` held to the path rule (Jinja's FileSystemLoader
        would follow a symlink anywhere: issue 15); `None` when it has none."""
        assert self._override is not None
        return read_inside(
            self._override,
            name,
            key="template",
            where="changelog.template_dir",
            max_bytes=MAX_OUTPUT_CHARS,
        )

    def _overrides(self, name: str) -> bool:
        """Whether the override directory has `name`, or a file there that cannot be read."""
        try:
            data = self._read_override(name)
            if data is not None:
                data.decode("utf-8")
        except Exception:  # `render` reports it, as it always has
            return True
        return data is not None

    def _environment(self) -> BoundedEnvironment:
        """The sandboxed environment, made (and Jinja2 imported) on the first render."""
        if self._env is None:
            from relkit.history.template_sandbox import Budget, bounded_environment

            override = self._override
            self._env = bounded_environment(
                Budget(MAX_RENDER_SECONDS, MAX_RANGE_ITEMS),
                MAX_OUTPUT_CHARS,
                self._read_override if override is not None else None,
                lambda name: str(override / name) if override is not None else name,
            )
            self._env.filters.update(self._filters)
        return self._env

    def render(self, name: str, context: Mapping[str, Any]) -> str:
        environment = self._environment()
        from jinja2 import TemplateError, TemplateSyntaxError

        from relkit.history.template_sandbox import Budget, LimitExceeded

        environment.budget = Budget(MAX_RENDER_SECONDS, MAX_RANGE_ITEMS)
        try:
            return self._render(environment, name, context)
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
        except LimitExceeded as exc:
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

    @staticmethod
    def _render(environment: BoundedEnvironment, name: str, context: Mapping[str, Any]) -> str:
        from relkit.history.template_sandbox import LimitExceeded

        template = environment.get_template(name)
        budget = environment.budget
        chunks: list[str] = []
        size = 0
        # Stream: stop at the first chunk over the cap instead of building all of it.
        for chunk in template.generate(**context):
            size += len(chunk)
            if size > MAX_OUTPUT_CHARS:
                raise LimitExceeded(f"output larger than {MAX_OUTPUT_CHARS} characters")
            budget.tick()
            chunks.append(chunk)
        return "".join(chunks)


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
