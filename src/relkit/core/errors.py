"""User-facing failures.

Every expected failure is a `RelkitError`: a one-line cause, an optional hint, and an exit
code from the documented table (README "Exit codes"). The CLI prints them without a traceback.
"""

from __future__ import annotations

from relkit.core.redact import redact

__all__ = [
    "EXIT_FAILED",
    "EXIT_NO_RELEASE",
    "EXIT_OK",
    "EXIT_USAGE",
    "ConfigError",
    "NothingToRelease",
    "RelkitError",
    "UsageError",
]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NO_RELEASE = 3


class RelkitError(Exception):
    """An expected failure: `message` says what went wrong, `hint` what to do about it."""

    exit_code: int = EXIT_FAILED

    def __init__(self, message: str, hint: str | None = None) -> None:
        # Keep it one line: multi-line causes are unreadable in CI logs and annotations.
        # Redacted here, once: every error line, run record and annotation comes from these.
        self.message = redact(" ".join(message.split()))
        self.hint = redact(" ".join(hint.split())) if hint else None
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} (hint: {self.hint})"


class UsageError(RelkitError):
    """Bad command-line usage or bad input (a malformed version, an unknown step name...)."""

    exit_code = EXIT_USAGE


class ConfigError(UsageError):
    """Invalid configuration; the message names the file and the key."""


class NothingToRelease(RelkitError):
    """No releasable commit since the last release: not a failure, but not a release either."""

    exit_code = EXIT_NO_RELEASE
