"""relkit: release automation for conventional-commit projects."""

from __future__ import annotations

from functools import cache

__all__ = ["__version__"]


@cache
def _installed_version() -> str:
    # The installed distribution's version: pyproject.toml is the one place it is written
    # (and `relkit cut` bumps it there), so a wheel can never report a version it was not
    # built as. importlib.metadata costs ~50 ms to import: only what prints the version
    # (`--version`, run records, provenance, init) pays for it (issue 17).
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("relkit")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "0.0.0+unknown"


def __getattr__(name: str) -> str:
    if name == "__version__":
        return _installed_version()
    raise AttributeError(f"module 'relkit' has no attribute {name!r}")
