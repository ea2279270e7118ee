"""Commit text made safe to place in the Markdown relkit writes (issue 15 §5).

A subject, a body or a breaking-change description is someone else's text; in the
changelog, the release body, the promotion PR body, the release PR body and the PR
preview it must stay text:

- it never opens an HTML comment (`<!--` becomes `&lt;!--`), so it can neither write
  relkit's own markers (`<!-- relkit: insert -->`, `<!-- relkit:release-pr: … -->`,
  `<!-- relkit:pr-preview -->`, `<!-- relkit: supersedes 12 -->`) nor hide the rest of
  the document;
- none of its lines is a heading: a leading `#` is escaped (`\\#`), and in multi-line
  text a line of only `=` or `-` (a setext underline) is escaped too, so relkit's update
  mode, which finds releases by their headings, only ever sees relkit's own;
- `@name` / `@org/team` mentions are rendered as code by default (`mentions = "code"`):
  a release then never pings a team; `mentions = "keep"` leaves them as written.

Other HTML (`<b>`, `Vec<T>`) stays as written, in every document alike, as GitHub (which
sanitizes it) shows it; only in a field holding a mention is `<` escaped too
(`_mentions_as_code`).

One policy, applied once: each piece of commit text is escaped here, as a field, where it
enters a document (the template contexts, the release PR's reason, the preview's lines).
A document assembled from escaped fields and relkit's own Markdown is never escaped again:
a second pass would show its escapes (`&lt;` inside a code span, a word joiner inside a
mention already made code) and would break relkit's own text (a `pkg@v1.2.0` compare link).

Markdown renderers show `&lt;` as `<` and `\\#` as `#`: the reader sees the text as written.
"""

from __future__ import annotations

import re
from typing import Literal

__all__ = ["Mentions", "safe_block", "safe_inline"]

Mentions = Literal["code", "keep"]

_COMMENT = "<!--"
_HEADING_LINE = re.compile(r"^([ \t]*)#", re.MULTILINE)
_SETEXT_LINE = re.compile(r"^([ \t]*)(=+|-+)([ \t]*)$", re.MULTILINE)
# A GitHub login or team after an `@`.
_LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}(?:/[A-Za-z0-9_.-]+)?")
# What an `@` after these is part of (an e-mail address, a path, a package scope): no
# mention. Not `_`: it may close an emphasis (`_x_@bob`), which leaves the `@` first.
_IN_A_WORD = re.compile(r"[A-Za-z0-9@/.+-]")
# Text that may hold a mention: then the field is read closely (`_mentions_as_code`);
# anything else (most commit text, e-mail addresses included) is left byte for byte.
_MAY_MENTION = re.compile(r"(?<![A-Za-z0-9@/.+-])\\?@[A-Za-z0-9]|&(?:#0*64|#[xX]0*40|commat);")
_AT_ENTITY = re.compile(r"&(?:#0*64|#[xX]0*40|commat);")  # `&#64;bob` shows `@bob`
_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")  # what a backslash escapes
_FENCE = re.compile(r"[ ]{0,3}(`{3,}|~{3,})")
# A GFM table's delimiter row: below a header row it makes a table, whose cells split at
# `|` even inside a code span (`x|@bob`), which would leave a mention outside the code.
_TABLE_DELIMITER = re.compile(r"[ ]{0,3}\|?[ \t]*:?-+:?[ \t]*(\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*")


def _common(text: str, mentions: Mentions, *, block: bool) -> str:
    if _COMMENT in text:
        text = text.replace(_COMMENT, "&lt;!--")
    # Search before rewriting: most commit text has a `#` (`fix: x (#123)`), few at a line's
    # start, and a search is a third of a substitution that changes nothing.
    if "#" in text and _HEADING_LINE.search(text):
        text = _HEADING_LINE.sub(r"\1\\#", text)
    if mentions == "code":
        if ("@" in text or "&" in text) and _MAY_MENTION.search(text):
            text = _mentions_as_code(text, block=block)
        elif "`" in text and not block:
            # A backtick that closes nothing here could close a code span of the next
            # field on the line (the subject after the scope) and free its mention.
            text = _code_line(text, wrap=False)
    return text


def _mentions_as_code(text: str, *, block: bool) -> str:
    """Every `@name` a reader of the Markdown would see as a mention, made code.

    The text is read as CommonMark reads it, so that a mention already in a code span is
    left alone and every other one is made code: code spans (backtick runs of one length),
    backslash escapes, and in a block the fenced code blocks. What CommonMark reads before
    code spans and what makes a line raw HTML is escaped in such a field, so its reading
    and ours cannot differ: `<` (HTML, autolinks), `[` (a link destination can take a
    backtick), a backtick that opens nothing, a table's delimiter row, an entity for `@`.
    """
    if not block:
        return _code_line(text, wrap=True)
    lines = text.split("\n")
    out: list[str] = []
    fence = ""
    for number, line in enumerate(lines):
        if fence:  # inside a fenced code block: code, left as it is, up to its closing fence
            out.append(line)
            closing = _FENCE.match(line)
            if closing and closing[1].startswith(fence) and not line[closing.end() :].strip():
                fence = ""
            continue
        opening = _FENCE.match(line)
        # The first line may continue relkit's own text (`* **scope:** ` before it): only a
        # line of its own opens a fence. A backtick fence's info string holds no backtick.
        if number > 0 and opening and not ("`" in opening[1] and "`" in line[opening.end() :]):
            fence = opening[1]
            out.append(line)
        elif _TABLE_DELIMITER.fullmatch(line) and "|" in line:
            out.append(line.replace("-", "\\-", 1))
        else:
            out.append(_code_line(line, wrap=True))
    return "\n".join(out)


def _code_line(line: str, *, wrap: bool) -> str:
    """One line outside fenced code: with `wrap`, its mentions made code; always, a backtick
    run that opens no code span escaped."""
    out: list[str] = []
    i, after, code_before = 0, "", False  # what a reader sees just before position i
    while i < len(line):
        char, login = line[i], None
        if char == "\\" and i + 1 < len(line) and line[i + 1] in _PUNCTUATION:
            # `\@bob` shows `@bob`: as much a mention as the bare one.
            if wrap and line[i + 1] == "@" and (login := _mention(line, i + 2, after)):
                i += 1
            else:
                out.append(line[i : i + 2])
                i, after, code_before = i + 2, line[i + 1], False
                continue
        if char == "`":
            run = len(line) - i - len(line[i:].lstrip("`"))
            close = _closing_run(line, i + run, run)
            if close is None:
                out.append("\\`" * run)
                i, after, code_before = i + run, "`", False
            else:
                out.append(line[i : close + run])
                i, after, code_before = close + run, "", True  # a new text node starts
        elif wrap and (login or (char == "@" and (login := _mention(line, i + 1, after)))):
            # Right after code, another span's backtick would join the run (``x``` is no
            # code at all): a space keeps them apart.
            out.append(f"{' ' if code_before else ''}`@{login}`")
            i, after, code_before = i + 1 + len(login), "", True
        else:
            if wrap and char == "<":
                char_out = "&lt;"
            elif wrap and char == "[" and "`" in line:
                char_out = "\\["
            elif wrap and char == "&" and _AT_ENTITY.match(line, i):
                char_out = "&amp;"
            else:
                char_out = char
            out.append(char_out)
            i, after, code_before = i + 1, char, False
    return "".join(out)


def _mention(line: str, start: int, before: str) -> str | None:
    if before and _IN_A_WORD.fullmatch(before):
        return None
    match = _LOGIN.match(line, start)
    return match[0] if match else None


def _closing_run(line: str, start: int, run: int) -> int | None:
    """Where the backtick run of exactly `run` closing a code span opened before `start` is."""
    i = line.find("`", start)
    while i != -1:
        end = i
        while end < len(line) and line[end] == "`":
            end += 1
        if end - i == run:
            return i
        i = line.find("`", end)
    return None


def safe_inline(text: str, mentions: Mentions = "code") -> str:
    """A one-line field (subject, scope, name) as Markdown text that makes no structure."""
    return _common(text, mentions, block=False)


def safe_block(text: str, mentions: Mentions = "code") -> str:
    """A multi-line field (body, breaking description) likewise, setext underlines too."""
    text = _common(text, mentions, block=True)
    if ("=" in text or "-" in text) and _SETEXT_LINE.search(text):
        text = _SETEXT_LINE.sub(r"\1\\\2\3", text)
    return text
