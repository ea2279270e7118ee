"""Jinja2 templates, sandboxed, with per-repository overrides by name.

Templates ship inside the package (`relkit/templates/`). A repository can override any of
them by putting a file with the same name in its template directory. Rendering happens in a
`SandboxedEnvironment`: templates come from repositories we release, so they must not reach
Python internals (attribute access to dunders, calling unsafe methods).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from relkit.errors import RelkitError

__all__ = ["TemplateRenderer"]


class TemplateRenderer:
    """Renders named templates; `override_dir` templates win over the shipped ones."""

    def __init__(self, override_dir: Path | None = None) -> None:
        loaders: list[Any] = []
        if override_dir is not None:
            loaders.append(FileSystemLoader(str(override_dir)))
        loaders.append(PackageLoader("relkit", "templates"))
        self._env = SandboxedEnvironment(
            loader=ChoiceLoader(loaders),
            undefined=StrictUndefined,  # a typo in a template is an error, not an empty string
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
            autoescape=False,  # output is Markdown/YAML/text, not HTML
        )

    def add_filter(self, name: str, function: Any) -> None:
        self._env.filters[name] = function

    def render(self, name: str, context: Mapping[str, Any]) -> str:
        try:
            return self._env.get_template(name).render(**context)
        except TemplateError as exc:
            raise RelkitError(
                f"template {name}: {exc.message or type(exc).__name__}",
                hint="check the template in your template directory",
            ) from None
