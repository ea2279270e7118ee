"""Commit text made safe to place in the Markdown relkit writes (issue 15 §5).

A subject, a body or a breaking-change description is someone else's text; in the
changelog, the release body or the promotion PR body it must stay text:

- it never opens an HTML comment (`<!--` becomes `&lt;!--`), so it can neither write
  relkit's own markers (`<!-- relkit: insert -->`, `<!-- relkit: supersedes 12 -->`) nor
  hide the rest of the document;
- none of its lines is a heading: a leading `#` is escaped (`\\#`), and in multi-line
  text a line of only `=` or `-` (a setext underline) is escaped too, so relkit's update
  mode, which finds releases by their headings, only ever sees relkit's own;
- `@name` / `@org/team` mentions are rendered as code by default (`mentions = "code"`):
  a release then never pings a team; `mentions = "keep"` leaves them as written.

Markdown renderers show `&lt;` as `<` and `\\#` as `#`: the reader sees the text as written.
"""

from __future__ import annotations

import re
from typing import Literal

__all__ = ["Mentions", "markdown_safe", "safe_block", "safe_inline"]

Mentions = Literal["code", "keep"]

_COMMENT = "<!--"
_HEADING_LINE = re.compile(r"^([ \t]*)#", re.MULTILINE)
_SETEXT_LINE = re.compile(r"^([ \t]*)(=+|-+)([ \t]*)$", re.MULTILINE)
# A GitHub mention: not inside a word (an e-mail address), not already in a code span.
_MENTION = re.compile(
    r"(?<![\w`@/.+-])@([A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}(?:/[A-Za-z0-9_.-]+)?)"
)


def _common(text: str, mentions: Mentions) -> str:
    if _COMMENT in text:
        text = text.replace(_COMMENT, "&lt;!--")
    # Search before rewriting: most commit text has a `#` (`fix: x (#123)`), few at a line's
    # start, and a search is a third of a substitution that changes nothing.
    if "#" in text and _HEADING_LINE.search(text):
        text = _HEADING_LINE.sub(r"\1\\#", text)
    if mentions == "code" and "@" in text:
        text = _MENTION.sub(r"`@\1`", text)
    return text


def safe_inline(text: str, mentions: Mentions = "code") -> str:
    """A one-line field (subject, scope, name) as Markdown text that makes no structure."""
    return _common(text, mentions)


def safe_block(text: str, mentions: Mentions = "code") -> str:
    """A multi-line field (body, breaking description) likewise, setext underlines too."""
    text = _common(text, mentions)
    if ("=" in text or "-" in text) and _SETEXT_LINE.search(text):
        text = _SETEXT_LINE.sub(r"\1\\\2\3", text)
    return text


_ANY_MENTION = re.compile(r"@(?=[A-Za-z0-9_-])")


def markdown_safe(text: str) -> str:
    """A whole rendered document (a release PR body, the PR preview) shown without acting.

    `<` becomes `&lt;` (no HTML, so no `<!-- marker -->` and no `<details>`) and `@name`
    gets a word joiner after the `@` (GitHub links no mention). For text whose every part
    came from commits; relkit's own Markdown (headings, lists, links) stays as it is.
    """
    text = text.replace("<", "&lt;")
    return _ANY_MENTION.sub("@\u2060", text)
