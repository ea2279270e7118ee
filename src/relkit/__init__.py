"""relkit: release automation for conventional-commit projects."""

__all__ = ["__version__"]

__version__ = "0.1.0"
