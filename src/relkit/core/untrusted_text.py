"""Text relkit did not write (commit messages, PR titles) on its way into GitHub.

Design rule ("Untrusted content"): commit text never becomes a workflow command, never forms
relkit's own markers (HTML comments) or headings, and creates no @mentions where it lands in
Markdown.
"""

from __future__ import annotations

import re
import secrets

__all__ = ["markdown_safe", "stop_commands"]

_MENTION = re.compile(r"@(?=[A-Za-z0-9_-])")


def markdown_safe(text: str) -> str:
    """`text` as GitHub Markdown that shows it without acting on it.

    `<` becomes `&lt;` (no HTML, so no `<!-- marker -->` and no `<details>`) and `@name`
    gets a word joiner after the `@` (GitHub links no mention). Applied to whole rendered
    notes, so relkit's own Markdown (headings, lists, links) stays as it is.
    """
    text = text.replace("<", "&lt;")
    return _MENTION.sub("@\u2060", text)


def stop_commands(text: str) -> str:
    """`text` framed so a GitHub Actions runner reads no workflow command inside it.

    The token is random per call: commit text cannot guess it to end the frame early.
    """
    token = secrets.token_hex(16)
    body = text if text.endswith("\n") else text + "\n"
    return f"::stop-commands::{token}\n{body}::{token}::\n"
