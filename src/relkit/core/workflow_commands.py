"""Text relkit did not write never becomes a GitHub Actions workflow command (issue 15).

The runner reads every line a step prints, on stdout and stderr, looking for commands: a
line that starts with `::name …::` once leading blanks are trimmed, and the legacy
`##[name …]` form anywhere in a line. A commit body holding `  ::add-mask::x` or a PR title
holding `##[error]…` would become a command of the release job when relkit prints it.

GitHub's own answer is `::stop-commands::TOKEN` … `::TOKEN::`: between the two lines the
runner processes no command at all, in either form. The token is random per block and is
never a substring of the text it guards, so the text cannot end the block early.

- `write_untrusted(stream, text)`: print text from commits, titles, files or users;
- `escape_data` / `escape_property`: the data and properties of relkit's own annotations;
- `github_actions()`: whether the runner reads our output.

Wrapping happens only when GitHub Actions reads the stream: `relkit notes v1 > notes.md`
writes to a regular file and gets the bare text.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from typing import TextIO

__all__ = [
    "escape_data",
    "escape_property",
    "github_actions",
    "guarded",
    "json_safe",
    "new_token",
    "write_untrusted",
]


def github_actions(env: Mapping[str, str] | None = None) -> bool:
    return (env if env is not None else os.environ).get("GITHUB_ACTIONS") == "true"


def new_token(avoid: str = "") -> str:
    """A random stop-commands token that does not occur in `avoid`."""
    import secrets  # here: it loads OpenSSL (hashlib), which only guarded output needs

    while True:
        # A prefix keeps it from ever being a registered command name (the runner refuses those).
        token = f"relkit-{secrets.token_hex(16)}"
        if token not in avoid:
            return token


def guarded(text: str) -> str:
    """`text` between a stop-commands line and its resume line (each on a line of its own)."""
    token = new_token(text)
    body = text if text.endswith("\n") or not text else text + "\n"
    return f"::stop-commands::{token}\n{body}::{token}::\n"


def _read_by_runner(stream: TextIO) -> bool:
    """False when the stream is a regular file (`> notes.md`): no runner reads it."""
    try:
        mode = os.fstat(stream.fileno()).st_mode
    except (AttributeError, OSError, ValueError):
        return True  # no file behind it (a StringIO in tests, a wrapper): guard anyway
    return not stat.S_ISREG(mode)


def write_untrusted(stream: TextIO, text: str, *, env: Mapping[str, str] | None = None) -> None:
    """Write `text` (which may hold commit text, titles, file content) to `stream`.

    In GitHub Actions, and unless the stream is a regular file, it is guarded by a
    stop-commands block; elsewhere it is written as it is.
    """
    if text and github_actions(env) and _read_by_runner(stream):
        stream.write(guarded(text))
    else:
        stream.write(text)


def json_safe(document: str) -> str:
    """JSON text whose strings cannot hold a legacy `##[command]`.

    JSON a workflow pipes into `jq` must stay bare JSON (no stop-commands lines); `##[` can
    only occur inside a JSON string, where `\\u0023` is the same character to every reader.
    A `::command` cannot start a line of indented JSON: every line starts with a bracket,
    a quote or a blank before one.
    """
    return document.replace("##[", "#\\u0023[")


def escape_data(text: str) -> str:
    """The message part of a workflow command (`::error::DATA`), as the toolkit escapes it."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A property value (`::error title=VALUE::`), as the toolkit escapes it."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")
