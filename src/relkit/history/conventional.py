"""Commit message → conventional commit(s). Pure: no git, no I/O.

Rules (Conventional Commits 1.0.0 plus what real histories need):

- header `type(scope)!: subject`; the type is case-insensitive and kept lower-case;
- footers are git-trailer-like lines (`Token: value` / `Token #value`, `BREAKING CHANGE: ...`)
  from the first paragraph that starts with one to the end of the message; a footer value
  continues over following lines until the next footer token;
- `BREAKING CHANGE:` / `BREAKING-CHANGE:` footers make the commit breaking, their text is the
  description shown in the changelog; `!` alone uses the subject as description;
- merge commits are not entries (the commits they bring in are);
- a squash body holding several conventional headers as bullets (GitHub's
  `* feat: a\\n\\n* fix: b`) or `git merge --squash` blocks yields each of them, each parsed as
  its own message (`relkit.history.squash` cuts the body), after the squash commit's own header when
  that is conventional. Every entry is returned, whatever the changelog shows: `listing` says
  how the changelog may list it (issue 16), so versions and checks never depend on how a
  changelog is presented;
- GitHub's wrap of a long PR title (subject ending in `…`, body starting with `…`) is joined
  back into one header;
- `revert: ...`, git's `Revert "..."` and GitHub's `Revert "..." (#2)` record the reverted
  sha from `This reverts commit X` and the reverted header; `cancel_reverts` drops both when
  they land in the same release;
- `\\r\\n` and a lone `\\r` are line breaks like `\\n`; every pattern is linear in its input;
- PR numbers (`(#123)` at the end of the header) and issue references (`Closes #45`,
  `Fixes #1`, `Resolves #7`, `Refs #9`) are extracted, and `Co-authored-by:` trailers collected.

We do not use python-semantic-release's parser: it works on GitPython commit objects (one
object per commit is far too slow for 30,000 commits) and re-parses per call; this module
works on plain strings from one `git log`. Numbers are in the README, "Benchmark".
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Literal

from relkit.core.model import RawCommit
from relkit.core.records import record
from relkit.history.squash import SquashBody, SquashPart, split_squash

__all__ = [
    "ConventionalCommit",
    "Listing",
    "Person",
    "cancel_reverts",
    "commit_parser",
    "count_non_conventional",
    "description_key",
    "is_bot",
    "is_excluded",
    "parse_commit",
    "parse_commits",
    "parse_message",
]

# Every pattern here is anchored and runs on one line (`match`/`fullmatch`), or has a literal
# prefix and no nested repetition: each costs time linear in its input (issue 8: a header with
# 50,000 blanks took over 10 s with a lazy subject followed by `\s*$`). Suffixes such as
# "(#123)" and "<email>" are found with string methods, which cannot backtrack.
_HEADER_PREFIX = re.compile(
    r"(?P<type>[A-Za-z][A-Za-z0-9_-]*)(?:\((?P<scope>[^()\n]*)\))?(?P<bang>!)?:[ \t]+"
)
_REVERTS_SHA = re.compile(r"This reverts commit (?P<sha>[0-9a-fA-F]{7,64})")
# "Token: value" or "Token #value"; the "#" stays in the value so issue numbers keep it.
_FOOTER = re.compile(
    r"(?P<token>BREAKING[ -]CHANGE|[A-Za-z][A-Za-z0-9-]*)(?::[ \t]|[ \t](?=#))(?P<value>.*)"
)
_ISSUE_FOOTERS = frozenset(
    {
        "close",
        "closes",
        "closed",
        "fix",
        "fixes",
        "fixed",
        "resolve",
        "resolves",
        "resolved",
        "ref",
        "refs",
        "references",
        "see",
    }
)
# A PR or issue number: ASCII digits, at most 18 (any forge's numbers fit in 64 bits). A longer
# run is text, not a reference: int() refuses strings over 4,300 digits.
_MAX_REFERENCE_DIGITS = 18
_ISSUE_NUMBER = re.compile(r"(?<![\w/])#(?P<number>[0-9]{1,18})(?!\w)")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")


@record(order=True)
class Person:
    """An author or co-author. Equality and order go by name, then e-mail, as written;
    `key` is who they are (the e-mail, case aside, else the name)."""

    name: str
    email: str

    @property
    def key(self) -> str:
        return self.email.lower() or self.name.lower()


# GitHub Apps commit as `name[bot] <id+name[bot]@users.noreply.github.com>`; the name may be
# shown without the suffix (github-actions), the address keeps it.
_BOT_SUFFIX = "[bot]"
_GITHUB_NOREPLY = "@users.noreply.github.com"


def is_bot(person: Person) -> bool:
    """Whether `person` is a GitHub App or bot account (`[bot]` name or noreply address)."""
    if person.name.rstrip().lower().endswith(_BOT_SUFFIX):
        return True
    email = person.email.strip().lower()
    return email.endswith(_GITHUB_NOREPLY) and email[: -len(_GITHUB_NOREPLY)].endswith(_BOT_SUFFIX)


# How the changelog may list an entry (issue 16):
# - "entry": always (a commit's own message, or a bullet of a squash whose title is not a
#   Conventional Commit: today's behaviour for `Merge pull request ...`/`Update deps (#12)`);
# - "bullet": a bullet of a squash with a conventional title, listed only with
#   `squash_bullets = "split"`;
# - "repeat": its description repeats an earlier entry of the same commit: never listed.
# Every entry counts for the version, for reverts and for breaking changes, in both modes.
Listing = Literal["entry", "bullet", "repeat"]


@record
class ConventionalCommit:
    """One changelog entry. A squash commit may give several, all with the same `sha`."""

    sha: str
    type: str  # lower-case; "" when not conventional
    scope: str | None
    subject: str  # header text after "type(scope): ", without a trailing "(#123)"
    body: str
    breaking: bool
    breaking_descriptions: tuple[str, ...]
    footers: tuple[tuple[str, str], ...]
    conventional: bool
    author: Person
    committed_at: datetime
    header: str  # the full first line as written
    pr: int | None = None
    issues: tuple[int, ...] = ()
    co_authors: tuple[Person, ...] = ()
    reverts: str | None = None  # sha (possibly abbreviated) this commit reverts
    reverts_header: str | None = None  # header of the reverted commit, when given
    listing: Listing = "entry"
    bullet: int | None = None  # position (1-based) of the squashed message it comes from
    squash_header: str | None = None  # for a bullet: the header of the squash commit

    @property
    def short_sha(self) -> str:
        return self.sha[:7]

    @property
    def people(self) -> tuple[Person, ...]:
        return (self.author, *self.co_authors)


@record
class _Message:
    """The parts of one message, before it is tied to a commit."""

    type: str
    scope: str | None
    subject: str
    body: str
    breaking: bool
    breaking_descriptions: tuple[str, ...]
    footers: tuple[tuple[str, str], ...]
    conventional: bool
    header: str
    pr: int | None
    issues: tuple[int, ...]
    co_authors: tuple[Person, ...]
    reverts: str | None
    reverts_header: str | None


def _normalize_newlines(message: str) -> str:
    """CRLF and a lone CR (old Mac editors, some tools) become LF, like universal newlines."""
    if "\r" not in message:
        return message
    return message.replace("\r\n", "\n").replace("\r", "\n")


def _split_footers(paragraphs: list[str]) -> tuple[str, list[tuple[str, str]]]:
    """Body text and footers: footers start at the first paragraph opening with a token."""
    for index, paragraph in enumerate(paragraphs):
        if _FOOTER.fullmatch(paragraph.split("\n", 1)[0]):
            body = "\n\n".join(paragraphs[:index]).strip()
            return body, _parse_footers("\n\n".join(paragraphs[index:]))
    return "\n\n".join(paragraphs).strip(), []


def _parse_footers(text: str) -> list[tuple[str, str]]:
    footers: list[tuple[str, list[str]]] = []
    for line in text.split("\n"):
        match = _FOOTER.fullmatch(line)
        if match:
            footers.append((match.group("token"), [match.group("value")]))
        elif footers:
            footers[-1][1].append(line)
    return [(token, "\n".join(lines).strip()) for token, lines in footers]


def _person(text: str) -> Person | None:
    """`Name <email>` (the name may be empty); None for anything else."""
    text = text.strip()
    if not text.endswith(">"):
        return None
    opening = text.rfind("<")
    email, name = text[opening + 1 : -1], text[:opening].strip()
    if opening < 0 or not email or ">" in email or "\n" in name:
        return None
    return Person(name, email)


def _split_pr(text: str) -> tuple[str, int | None]:
    """`text` without a trailing `(#123)`, and that number (None when there is none)."""
    stripped = text.rstrip()
    opening = stripped.rfind("(#")
    if opening < 0 or not stripped.endswith(")"):
        return text, None
    digits = stripped[opening + 2 : -1]
    if not (0 < len(digits) <= _MAX_REFERENCE_DIGITS and digits.isascii() and digits.isdigit()):
        return text, None
    return stripped[:opening].rstrip(), int(digits)


def _git_revert_subject(header: str) -> str | None:
    """The quoted header of git's `Revert "<header>"`, also with GitHub's ` (#N)` after it."""
    title = _split_pr(header)[0]
    if title.startswith('Revert "') and title.endswith('"') and len(title) > len('Revert ""'):
        return title[len('Revert "') : -1]
    return None


def parse_message(message: str) -> _Message:
    """Parse one commit message (no squash expansion)."""
    return _parse_text(_unwrap_title(_normalize_newlines(message).strip()))


def _parse_text(message: str) -> _Message:
    return _Message(*_parse_fields(message))


# `_Message`'s fields, in order: what `parse_commit` turns straight into an entry.
_Fields = tuple[
    str,
    str | None,
    str,
    str,
    bool,
    tuple[str, ...],
    tuple[tuple[str, str], ...],
    bool,
    str,
    int | None,
    tuple[int, ...],
    tuple[Person, ...],
    str | None,
    str | None,
]


def _parse_fields(message: str) -> _Fields:
    header, _, rest = message.strip().partition("\n")
    return _parse_parts(header.strip(), rest)


def _parse_parts(header: str, rest: str) -> _Fields:
    """`_parse_fields` of a stripped message already cut at its first line: `header` (that
    line, stripped) and `rest` (what follows the newline)."""
    if rest.strip():
        paragraphs = [p.strip("\n") for p in _PARAGRAPH_BREAK.split(rest) if p.strip()]
        body, footers = _split_footers(paragraphs)
    else:  # most commits are a header alone: skip the body machinery
        body, footers = "", []

    match = _HEADER_PREFIX.match(header)
    subject = header[match.end() :] if match else ""
    reverts_header: str | None = None
    if match and subject and not subject[0].isspace():
        ctype, scope, bang_mark = match.groups()  # type, scope, bang
        ctype = ctype.lower()
        scope = scope.strip() or None if scope is not None else None
        bang = bang_mark is not None
        conventional = True
        if ctype == "revert":
            reverts_header = subject
    else:
        reverted = _git_revert_subject(header)
        ctype = "revert" if reverted is not None else ""
        scope, subject, bang, conventional = None, header, False, reverted is not None
        reverts_header = reverted

    # `_split_pr` finds nothing without a "(#" (most subjects): no call for those.
    subject, pr = _split_pr(subject) if "(#" in subject else (subject, None)
    if reverts_header is not None:
        reverts_header = _split_pr(reverts_header)[0].strip()

    breaking_descriptions: list[str] = []
    issues: list[int] = []
    co_authors: list[Person] = []
    for token, value in footers:  # (none for a header alone)
        lowered = token.lower()
        if lowered in ("breaking change", "breaking-change"):
            breaking_descriptions.append(value)
        elif lowered in _ISSUE_FOOTERS:
            issues.extend(int(m.group("number")) for m in _ISSUE_NUMBER.finditer(value))
        elif lowered == "co-authored-by":
            person = _person(value)
            if person is not None:
                co_authors.append(person)
    if conventional and (bang or breaking_descriptions) and not breaking_descriptions:
        breaking_descriptions.append(subject)
    # The reverted sha is usually in the body ("This reverts commit X."), not a footer.
    sha_match = _REVERTS_SHA.search(rest) if ctype == "revert" else None
    reverts = sha_match.group("sha").lower() if sha_match else None

    # In `_Message`'s field order.
    return (
        ctype,  # type
        scope,
        subject,
        body,
        bool(breaking_descriptions) and conventional,  # breaking
        tuple(breaking_descriptions) if conventional else (),  # breaking_descriptions
        tuple(footers) if footers else (),
        conventional,
        header,
        pr,
        tuple(dict.fromkeys(issues)) if issues else (),  # issues
        tuple(co_authors) if co_authors else (),
        reverts,
        reverts_header,
    )


def _norm_header(header: str) -> str:
    return _split_pr(header)[0].strip().lower()


_ELLIPSIS = "\u2026"  # GitHub cuts a long PR title with "…", never with "..."


def description_key(description: str) -> str:
    """What makes two descriptions "the same" within one commit (issue 16): case, runs of
    blanks, a trailing `…` and a `(#N)` suffix aside."""
    # One rstrip, not a loop of slices: a subject of 50,000 "…" stays linear.
    text = _split_pr(description)[0].rstrip(_ELLIPSIS + " \t\n")
    return " ".join(text.lower().split())


def _unwrap_title(text: str) -> str:
    """GitHub's wrap of a long PR title joined back: `feat: a long ti… (#7)` followed by a body
    starting `…tle` is `feat: a long title (#7)`; anything else is returned as it is."""
    header, newline, rest = text.partition("\n")
    if not newline or _ELLIPSIS not in header:
        return text
    title, pr = _split_pr(header.rstrip())
    body = rest.lstrip("\n")
    if not title.endswith(_ELLIPSIS) or not body.startswith(_ELLIPSIS):
        return text
    continuation, _, after = body.partition("\n")
    joined = title[: -len(_ELLIPSIS)] + continuation[len(_ELLIPSIS) :].rstrip()
    if pr is not None:
        joined += f" (#{pr})"
    if not after.strip():
        return joined
    return joined + "\n\n" + after.lstrip("\n")


@record
class _Bullet:
    """One conventional squashed message, its place in the body and how it may be listed."""

    position: int  # 1-based among the squash's parts, as a reader counts the bullets
    part: SquashPart
    message: _Message
    listing: Listing = "entry"


def _squash_messages(header: str, squash: SquashBody) -> tuple[_Message, list[_Bullet]] | None:
    """The squash commit's own message and its entries; None when no part is conventional.

    Each squashed message is parsed on its own, so its footers (`BREAKING CHANGE:` included)
    are its own. The squash commit's own message is its title, the text before the first part
    and the trailers after the last one; when conventional it is the first entry and the
    parts are "bullet" entries (issue 16: one PR, one entry); otherwise the parts are entries
    as they always were. Identical parts are kept once, a revert part cancels its target part,
    a part repeating an earlier entry's description is a "repeat", and a breaking change
    description already given by an earlier entry is not given twice.
    """
    # Identical texts parse identically: parse each once (a hostile body repeats one bullet).
    texts = {part.message: part for part in reversed(squash.parts)}
    parts = [
        _Bullet(position, part, message)
        for position, part in enumerate(squash.parts, 1)
        if texts.get(part.message) is part and (message := _parse_text(part.message)).conventional
    ]
    if not parts:
        return None
    title = _parse_text("\n\n".join((header, squash.intro, squash.trailers)))
    # Identical: same header (case aside), body and footers. A body that differs (another
    # "This reverts commit X") makes another commit, even under the same header.
    unique: dict[tuple[str, str, tuple[tuple[str, str], ...]], _Bullet] = {}
    for bullet in parts:
        message = bullet.message
        unique.setdefault((message.header.lower(), message.body, message.footers), bullet)
    kept = _cancel_squashed_reverts(list(unique.values()))
    seen: set[str] = set()
    shown_breaking: set[str] = set()
    if title.conventional:
        seen.add(description_key(title.subject))
        shown_breaking.update(description_key(d) for d in title.breaking_descriptions)
    listing: Listing = "bullet" if title.conventional else "entry"
    result: list[_Bullet] = []
    for bullet in kept:
        message = bullet.message
        key = description_key(message.subject)
        repeat = key in seen
        seen.add(key)
        if message.breaking_descriptions:
            fresh = [
                d for d in message.breaking_descriptions if description_key(d) not in shown_breaking
            ]
            shown_breaking.update(description_key(d) for d in fresh)
            if len(fresh) != len(message.breaking_descriptions):
                message = replace(message, breaking_descriptions=tuple(fresh))
        # Made directly: `dataclasses.replace` reads the class's fields on every call (~3 µs).
        result.append(
            _Bullet(bullet.position, bullet.part, message, "repeat" if repeat else listing)
        )
    return title, result


class _ByHeader:
    """Entries by normalised header, handing out the first one not yet dropped.

    A cursor per header skips dropped entries once, so cancelling many reverts of one header
    stays linear.
    """

    def __init__(self, headers: Iterable[str]) -> None:
        self._positions: dict[str, list[int]] = {}
        self._cursor: dict[str, int] = {}
        for index, header in enumerate(headers):
            self._positions.setdefault(_norm_header(header), []).append(index)

    def first(self, header: str, dropped: set[int], besides: int) -> int | None:
        key = _norm_header(header)
        positions = self._positions.get(key, [])
        cursor = self._cursor.get(key, 0)
        while cursor < len(positions) and positions[cursor] in dropped:
            cursor += 1
        self._cursor[key] = cursor
        # The entry at the cursor is live: only `besides` or entries dropped out of order
        # (by sha) are stepped over.
        for at in range(cursor, len(positions)):
            if positions[at] != besides and positions[at] not in dropped:
                return positions[at]
        return None


def _by_sha_prefix(shas: Iterable[str | None]) -> dict[str, list[int]]:
    # A revert names at least 7 hex digits: index by the first 7, then compare in full.
    index: dict[str, list[int]] = {}
    for position, sha in enumerate(shas):
        if sha:
            index.setdefault(sha[:7].lower(), []).append(position)
    return index


def _cancel_squashed_reverts(
    parts: list[_Bullet],
) -> list[_Bullet]:
    """Drop each revert part with the part it reverts (by the block's sha, else by header)."""
    for bullet in parts:  # a loop, not any(): once per squash, most have no revert
        if bullet.message.type == "revert":
            break
    else:
        return parts
    dropped: set[int] = set()
    by_header = _ByHeader(bullet.message.header for bullet in parts)
    by_sha = _by_sha_prefix(bullet.part.sha for bullet in parts)
    for index, bullet in enumerate(parts):
        message = bullet.message
        if message.type != "revert" or index in dropped:
            continue
        target: int | None = None
        if message.reverts:
            target = next(
                (
                    i
                    for i in by_sha.get(message.reverts[:7], [])
                    if i != index
                    and i not in dropped
                    and (parts[i].part.sha or "").lower().startswith(message.reverts)
                ),
                None,
            )
        if target is None and message.reverts_header:
            target = by_header.first(message.reverts_header, dropped, index)
        if target is not None:
            dropped.update((index, target))
    return [bullet for index, bullet in enumerate(parts) if index not in dropped]


def parse_commit(raw: RawCommit) -> list[ConventionalCommit]:
    """All changelog entries of one commit: none for a merge, several for a squash body."""
    if raw.is_merge:
        return []
    message = _normalize_newlines(raw.message).strip()
    return _parse_commit(raw, message, Person(raw.author_name, raw.author_email))


def _parse_commit(raw: RawCommit, message: str, author: Person) -> list[ConventionalCommit]:
    """`parse_commit` of a commit that is not a merge, written by `author`; `message` is its
    message with `\n` line endings, stripped."""
    # Only a title GitHub wrapped holds "…": the others skip the call (27,000 on the corpus).
    text = _unwrap_title(message) if _ELLIPSIS in message else message
    header, _, rest = text.partition("\n")
    squash = split_squash(rest) if rest else None
    expanded = _squash_messages(header, squash) if squash is not None else None
    if expanded is None:
        # The common case: one entry, straight from the message's fields (no `_Message` in
        # between: a record less per commit, 27,000 on the corpus).
        (
            ctype,
            scope,
            subject,
            body,
            breaking,
            breaking_descriptions,
            footers,
            conventional,
            header,
            pr,
            issues,
            co_authors,
            reverts,
            reverts_header,
        ) = (
            # The message as it came (stripped): already cut at its first line. A title
            # joined back by `_unwrap_title` is parsed from scratch.
            _parse_parts(header.strip(), rest) if text is message else _parse_fields(text)
        )
        # Positional, in field order: matching 17 keywords costs ~1.3 µs a call.
        entry = ConventionalCommit(
            raw.sha,
            ctype,
            scope,
            subject,
            body,
            breaking,
            breaking_descriptions,
            footers,
            conventional,
            author,
            raw.committed_at,
            header,
            pr,
            issues,
            tuple(p for p in co_authors if p != author) if co_authors else (),
            reverts,
            reverts_header,
        )
        return [entry]
    title, bullets = expanded
    result: list[ConventionalCommit] = []
    if title.conventional:
        result.append(_entry(raw, author, title, title.pr, title.issues, title.co_authors))
    for bullet in bullets:
        part = bullet.message
        # A squash keeps the PR number, issues and co-authors of its commit for every entry.
        pr = part.pr if part.pr is not None else title.pr
        issues = tuple(dict.fromkeys((*part.issues, *title.issues)))
        co_authors = tuple(dict.fromkeys((*part.co_authors, *title.co_authors)))
        result.append(_entry(raw, author, part, pr, issues, co_authors, bullet, title.header))
    return result


def _entry(
    raw: RawCommit,
    author: Person,
    message: _Message,
    pr: int | None,
    issues: tuple[int, ...],
    co_authors: tuple[Person, ...],
    bullet: _Bullet | None = None,
    squash_header: str | None = None,
) -> ConventionalCommit:
    """The entry of `message` in commit `raw`; for a squash's `bullet`, how it is listed.

    Built in one step: `dataclasses.replace` of a finished entry cost ~5 µs (it reads the
    class's fields each time)."""
    # Positional, in field order: matching 17 keywords costs ~1.3 µs a call (one per entry).
    return ConventionalCommit(
        raw.sha,
        message.type,
        message.scope,
        message.subject,
        message.body,
        message.breaking,
        message.breaking_descriptions,
        message.footers,
        message.conventional,
        author,
        raw.committed_at,
        message.header,
        pr,
        issues,
        tuple(p for p in co_authors if p != author) if co_authors else (),  # co_authors
        message.reverts,
        message.reverts_header,
        bullet.listing if bullet is not None else "entry",  # listing
        bullet.position if bullet is not None else None,  # bullet
        squash_header,
    )


@functools.lru_cache(maxsize=32)
def _exclusion(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    # Compiled one by one (config validation checked each): joined into one alternation, a
    # global flag like `(?i)` or a group name used twice breaks every command (issue 8).
    return tuple(re.compile(p) for p in patterns)


def _matches(exclusion: tuple[re.Pattern[str], ...], header: str) -> bool:
    # Asked once per commit, mostly of one pattern: any() over a generator costs ~1 µs more.
    for pattern in exclusion:  # noqa: SIM110
        if pattern.search(header):
            return True
    return False


def is_excluded(header: str, patterns: Sequence[str]) -> bool:
    """Whether a commit header matches one of the `exclude_patterns` (regular expressions)."""
    return _matches(_exclusion(tuple(patterns)), header)


def parse_commits(
    raws: Iterable[RawCommit], exclude_patterns: Sequence[str] = ()
) -> list[ConventionalCommit]:
    """Parse commits in the given order, dropping merges and commits matching an exclusion."""
    parse = commit_parser(exclude_patterns)
    result: list[ConventionalCommit] = []
    for raw in raws:
        result.extend(parse(raw))
    return result


def commit_parser(
    exclude_patterns: Sequence[str] = (),
) -> Callable[[RawCommit], list[ConventionalCommit]]:
    """`parse_commits` of one commit at a time, for a history parsed as git streams it: the
    exclusions are looked up once, not once per commit."""
    exclusion = _exclusion(tuple(exclude_patterns))
    # One `Person` per author, shared by their commits (records are immutable): a history has
    # far fewer authors than commits.
    people: dict[tuple[str, str], Person] = {}

    def parse(raw: RawCommit) -> list[ConventionalCommit]:
        if len(raw.parents) > 1:
            return []  # a merge: the commits it brings in are the entries
        # Normalised once for the exclusions and the parse. The exclusions see the header as
        # an entry shows it: the first non-blank line, whatever the line endings.
        message = raw.message
        message = (_normalize_newlines(message) if "\r" in message else message).strip()
        if exclusion and _matches(exclusion, message.partition("\n")[0].strip()):
            return []
        key = (raw.author_name, raw.author_email)
        author = people.get(key)
        if author is None:
            author = people[key] = Person(raw.author_name, raw.author_email)
        return _parse_commit(raw, message, author)

    return parse


def count_non_conventional(commits: Iterable[ConventionalCommit]) -> int:
    """How many entries are not Conventional Commits: `relkit version --json`'s
    `non_conventional` and `relkit check --range`'s count are this one number."""
    return sum(1 for commit in commits if not commit.conventional)


def cancel_reverts(commits: Sequence[ConventionalCommit]) -> list[ConventionalCommit]:
    """Drop each revert together with the commit it reverts when both are in `commits`.

    A revert names its target by sha (`This reverts commit X`, possibly abbreviated) or, failing
    that, by header (`revert: feat: add x`). A revert whose target is elsewhere stays.
    """
    for commit in commits:  # a loop, not any(): once per release, most have no revert
        if commit.type == "revert":
            break
    else:
        return list(commits)
    dropped: set[int] = set()
    by_header = _ByHeader(commit.header for commit in commits)
    by_sha = _by_sha_prefix(commit.sha for commit in commits)
    for index, commit in enumerate(commits):
        if commit.type != "revert" or index in dropped:
            continue
        targets: list[int] = []
        if commit.reverts:
            # Every entry of the reverted commit goes (a squash commit has several).
            targets = [
                other
                for other in by_sha.get(commit.reverts[:7], [])
                if other != index
                and other not in dropped
                and commits[other].sha.lower().startswith(commit.reverts)
            ]
        elif commit.reverts_header:
            target = by_header.first(commit.reverts_header, dropped, index)
            targets = [target] if target is not None else []
        if targets:
            dropped.add(index)
            dropped.update(targets)
    return [commit for index, commit in enumerate(commits) if index not in dropped]
