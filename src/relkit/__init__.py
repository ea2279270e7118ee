"""relkit: release automation for conventional-commit projects."""

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

# The installed distribution's version: pyproject.toml is the one place it is written (and
# `relkit cut` bumps it there), so a wheel can never report a version it was not built as.
try:
    __version__ = version("relkit")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0.0.0+unknown"
