"""Squash commit body → the messages of the commits it squashed. Pure, linear time.

Two shapes are recognised (issue 8 lists what real histories hold):

- GitHub's squash merge: each squashed commit is a paragraph starting `* <header>`, its
  continuation lines plain or indented by two spaces, and the co-authors appended at the end,
  after a `---------` line (since 2023) or as a last paragraph of `Co-authored-by:` lines;
- `git merge --squash`: `Squashed commit of the following:` then, per commit, a line
  `commit <sha>`, `Author:`/`Merge:`/`Date:` lines, a blank line and the message indented by
  four spaces.

The body is split line by line in one pass (no regular expression runs over the whole body),
so a hostile message costs time proportional to its length. Whether the parts are
conventional commits is for the caller (`relkit.history.conventional`) to decide.
"""

from __future__ import annotations

import re

from relkit.core.records import record

__all__ = ["SquashBody", "SquashPart", "split_squash"]

# Each of these runs on one line with `fullmatch`/`match`: bounded backtracking per line.
_GIT_COMMIT_LINE = re.compile(r"commit [0-9a-f]{7,64}")
_GIT_BLOCK_HEADERS = ("Author:", "Merge:")
_SEPARATOR = re.compile(r"-{3,}")
# A git trailer (`Token: value`, or `Token #value` as in `Closes #4`). `BREAKING CHANGE` has a
# blank in its token and `BREAKING-CHANGE` is excluded: a breaking change belongs to the
# bullet it is written in, never to the whole squash.
_TRAILER = re.compile(r"(?!(?i:breaking-change)[:\s])[A-Za-z][A-Za-z0-9-]*(?::[ \t]|[ \t]#)")


@record
class SquashPart:
    """The message of one squashed commit."""

    message: str
    sha: str | None = None  # known for `git merge --squash` blocks only


@record
class SquashBody:
    """A squash body cut into the squash commit's own text and the squashed messages."""

    intro: str  # between the title and the first part (the squash commit's own text)
    parts: tuple[SquashPart, ...]
    trailers: str  # trailers of the whole squash commit, after the last part


def split_squash(body: str) -> SquashBody | None:
    """Split `body` (the message after its header line, `\\n` line endings) if it is a squash.

    None when it holds no `* ` bullet and no `git merge --squash` block.
    """
    if "* " not in body and "commit " not in body:
        return None  # the common case: skip the line split
    lines = body.split("\n")
    end, trailers = _peel_trailers(lines)
    lines = lines[:end]
    starts = _git_block_starts(lines)
    if starts:
        parts = _git_parts(lines, starts)
    else:
        starts = [index for index, line in enumerate(lines) if _is_bullet(line)]
        if not starts:
            return None
        parts = _bullet_parts(lines, starts)
    return SquashBody("\n".join(lines[: starts[0]]).strip("\n"), tuple(parts), trailers)


def _is_bullet(line: str) -> bool:
    # "* " then a non-blank: "*  text" and a bare "* " are prose, not a squashed commit.
    return line.startswith("* ") and len(line) > 2 and not line[2].isspace()


def _peel_trailers(lines: list[str]) -> tuple[int, str]:
    """Where the squashed messages end, and the squash commit's own trailers after them.

    Those are the lines after the last `---` line when only trailers follow it (GitHub's
    co-author block), or else a last paragraph made only of trailers (git's rule for a trailer
    block), as GitHub appended co-authors before it added the separator.
    """
    index = len(lines) - 1
    while index >= 0 and not lines[index].strip():
        index -= 1
    last = index
    seen_trailer = False
    while index >= 0 and (not lines[index].strip() or _TRAILER.match(lines[index])):
        seen_trailer = seen_trailer or bool(lines[index].strip())
        index -= 1
    if not seen_trailer:
        return len(lines), ""
    if index >= 0 and _SEPARATOR.fullmatch(lines[index].strip()):
        return index, "\n".join(lines[index + 1 : last + 1]).strip("\n")
    # No separator: only the last paragraph counts, and it must be a paragraph of its own.
    start = last
    while start > 0 and lines[start - 1].strip():
        start -= 1
    if start == 0 or index >= start:
        return len(lines), ""
    return start, "\n".join(lines[start : last + 1])


def _git_block_starts(lines: list[str]) -> list[int]:
    # A prose line "commit 1234567" is not a block: git prints Author: (or Merge:) right after.
    return [
        index
        for index in range(len(lines) - 1)
        if lines[index].startswith("commit ")
        and _GIT_COMMIT_LINE.fullmatch(lines[index])
        and lines[index + 1].startswith(_GIT_BLOCK_HEADERS)
    ]


def _git_parts(lines: list[str], starts: list[int]) -> list[SquashPart]:
    parts: list[SquashPart] = []
    for start, end in zip(starts, [*starts[1:], len(lines)], strict=True):
        sha = lines[start].removeprefix("commit ")
        block = lines[start + 1 : end]
        # "Author:"/"Date:" lines, a blank line, then the message indented by four spaces.
        blank = next((i for i, line in enumerate(block) if not line.strip()), len(block))
        message = [line[4:] if line.startswith("    ") else line for line in block[blank + 1 :]]
        parts.append(SquashPart("\n".join(message).strip("\n"), sha))
    return parts


def _bullet_parts(lines: list[str], starts: list[int]) -> list[SquashPart]:
    parts: list[SquashPart] = []
    for start, end in zip(starts, [*starts[1:], len(lines)], strict=True):
        # Continuation lines of a bullet are indented (GitHub) or plain paragraphs.
        message = [lines[start][2:]]
        message.extend(
            line[2:] if line.startswith("  ") else line for line in lines[start + 1 : end]
        )
        parts.append(SquashPart("\n".join(message).strip("\n")))
    return parts
