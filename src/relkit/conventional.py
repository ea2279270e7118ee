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
  `* feat: a\\n\\n* fix: b`) yields each of them; the squash commit's own header is kept only
  when it is conventional and not a repeat of a bullet;
- `revert: ...` and git's `Revert "..."` record the reverted sha from `This reverts commit X`;
  `cancel_reverts` drops both when they land in the same release;
- PR numbers (`(#123)` at the end of the header) and issue references (`Closes #45`,
  `Fixes #1`, `Resolves #7`, `Refs #9`) are extracted, and `Co-authored-by:` trailers collected.

We do not use python-semantic-release's parser: it works on GitPython commit objects (one
object per commit is far too slow for 30,000 commits) and re-parses per call; this module
works on plain strings from one `git log`. Numbers are in the README, "Benchmark".
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from relkit.model import RawCommit

__all__ = [
    "ConventionalCommit",
    "Person",
    "cancel_reverts",
    "is_excluded",
    "parse_commit",
    "parse_commits",
    "parse_message",
]

_HEADER = re.compile(
    r"^(?P<type>[A-Za-z][A-Za-z0-9_-]*)"
    r"(?:\((?P<scope>[^()\r\n]*)\))?"
    r"(?P<bang>!)?:[ \t]+(?P<subject>\S.*?)\s*$"
)
# git's own revert message: Revert "feat: add x"
_GIT_REVERT = re.compile(r'^Revert "(?P<subject>.+)"\s*$')
_REVERTS_SHA = re.compile(r"This reverts commit (?P<sha>[0-9a-fA-F]{7,40})")
# "Token: value" or "Token #value"; the "#" stays in the value so issue numbers keep it.
_FOOTER = re.compile(
    r"^(?P<token>BREAKING[ -]CHANGE|[A-Za-z][A-Za-z0-9-]*)(?::[ \t]|[ \t](?=#))(?P<value>.*)$"
)
_PR_SUFFIX = re.compile(r"\s*\(#(?P<number>\d+)\)\s*$")
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
_ISSUE_NUMBER = re.compile(r"(?<![\w/])#(?P<number>\d+)\b")
# GitHub squash bodies list the squashed commits as "* <message>" paragraphs.
_SQUASH_BULLET = re.compile(r"^\* (?=\S)", re.MULTILINE)
# `git merge --squash` lists each squashed commit as "commit <sha>" + headers + indented message.
_GIT_SQUASH_COMMIT = re.compile(r"^commit [0-9a-f]{7,64}\n", re.MULTILINE)
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_PERSON = re.compile(r"^\s*(?P<name>.*?)\s*<(?P<email>[^<>]+)>\s*$")


@dataclass(frozen=True, order=True)
class Person:
    """An author or co-author; equality is by e-mail (case-insensitive) then name."""

    name: str
    email: str

    @property
    def key(self) -> str:
        return self.email.lower() or self.name.lower()


@dataclass(frozen=True)
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

    @property
    def short_sha(self) -> str:
        return self.sha[:7]

    @property
    def people(self) -> tuple[Person, ...]:
        return (self.author, *self.co_authors)


@dataclass(frozen=True)
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


def _split_footers(paragraphs: list[str]) -> tuple[str, list[tuple[str, str]]]:
    """Body text and footers: footers start at the first paragraph opening with a token."""
    for index, paragraph in enumerate(paragraphs):
        if _FOOTER.match(paragraph.split("\n", 1)[0]):
            body = "\n\n".join(paragraphs[:index]).strip()
            return body, _parse_footers("\n\n".join(paragraphs[index:]))
    return "\n\n".join(paragraphs).strip(), []


def _parse_footers(text: str) -> list[tuple[str, str]]:
    footers: list[tuple[str, list[str]]] = []
    for line in text.split("\n"):
        match = _FOOTER.match(line)
        if match:
            footers.append((match.group("token"), [match.group("value")]))
        elif footers:
            footers[-1][1].append(line)
    return [(token, "\n".join(lines).strip()) for token, lines in footers]


def _person(text: str) -> Person | None:
    match = _PERSON.match(text)
    if match is None:
        return None
    return Person(match.group("name"), match.group("email"))


def parse_message(message: str) -> _Message:
    """Parse one commit message (no squash expansion)."""
    text = message.replace("\r\n", "\n").strip("\n")
    header, _, rest = text.partition("\n")
    header = header.strip()
    if rest.strip():
        paragraphs = [p.strip("\n") for p in _PARAGRAPH_BREAK.split(rest) if p.strip()]
        body, footers = _split_footers(paragraphs)
    else:  # most commits are a header alone: skip the body machinery
        body, footers = "", []

    match = _HEADER.match(header)
    reverts_header: str | None = None
    if match:
        ctype = match.group("type").lower()
        scope = match.group("scope")
        scope = scope.strip() or None if scope is not None else None
        subject = match.group("subject")
        bang = match.group("bang") is not None
        conventional = True
        if ctype == "revert":
            reverts_header = subject
    else:
        revert = _GIT_REVERT.match(header)
        if revert:
            ctype, scope, subject, bang, conventional = (
                "revert",
                None,
                header,
                False,
                True,
            )
            reverts_header = revert.group("subject")
        else:
            ctype, scope, subject, bang, conventional = "", None, header, False, False

    pr: int | None = None
    pr_match = _PR_SUFFIX.search(subject)
    if pr_match:
        pr = int(pr_match.group("number"))
        subject = subject[: pr_match.start()]
    if reverts_header is not None:
        reverts_header = _PR_SUFFIX.sub("", reverts_header).strip()

    breaking_descriptions: list[str] = []
    issues: list[int] = []
    co_authors: list[Person] = []
    for token, value in footers:
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
    sha_match = _REVERTS_SHA.search(rest)
    reverts = sha_match.group("sha").lower() if sha_match and ctype == "revert" else None

    return _Message(
        type=ctype,
        scope=scope,
        subject=subject,
        body=body,
        breaking=bool(breaking_descriptions) and conventional,
        breaking_descriptions=tuple(breaking_descriptions) if conventional else (),
        footers=tuple(footers),
        conventional=conventional,
        header=header,
        pr=pr,
        issues=tuple(dict.fromkeys(issues)) if issues else (),
        co_authors=tuple(co_authors),
        reverts=reverts,
        reverts_header=reverts_header,
    )


def _squash_parts(message: str) -> list[str] | None:
    """The messages inside a squash commit, when at least one is a conventional header.

    Two shapes: GitHub's bullets (`* feat: a`), and `git merge --squash`'s
    `Squashed commit of the following:` with `commit <sha>` blocks of indented messages.
    """
    if "\n* " not in message and "\ncommit " not in message:
        return None
    rest = message.replace("\r\n", "\n").partition("\n")[2]
    if "\ncommit " in message and _GIT_SQUASH_COMMIT.search(rest):
        parts = _git_squash_parts(rest)
    else:
        parts = _bullet_parts(rest)
    if not any(_HEADER.match(part.split("\n", 1)[0].strip()) for part in parts):
        return None
    return parts


def _bullet_parts(rest: str) -> list[str]:
    starts = [m.start() for m in _SQUASH_BULLET.finditer(rest)]
    chunks = [rest[a:b] for a, b in zip(starts, [*starts[1:], len(rest)], strict=True)]
    parts: list[str] = []
    for chunk in chunks:
        lines = chunk[2:].split("\n")
        # Continuation lines of a bullet are indented (GitHub) or plain paragraphs.
        parts.append("\n".join(line[2:] if line.startswith("  ") else line for line in lines))
    return parts


def _git_squash_parts(rest: str) -> list[str]:
    parts: list[str] = []
    blocks = _GIT_SQUASH_COMMIT.split(rest)[1:]  # text before the first "commit" is the intro
    for block in blocks:
        # "Author:"/"Date:" lines, a blank line, then the message indented by four spaces.
        _headers, _, body = block.partition("\n\n")
        lines = [line[4:] if line.startswith("    ") else line for line in body.split("\n")]
        parts.append("\n".join(lines).strip("\n"))
    return parts


def _norm_header(header: str) -> str:
    return _PR_SUFFIX.sub("", header).strip().lower()


def parse_commit(raw: RawCommit) -> list[ConventionalCommit]:
    """All changelog entries of one commit: none for a merge, several for a squash body."""
    if raw.is_merge:
        return []
    author = Person(raw.author_name, raw.author_email)
    main = parse_message(raw.message)
    messages: list[_Message] = []
    parts = _squash_parts(raw.message)
    if parts is None:
        # The common case: one entry, nothing to merge from a squash commit.
        return [_entry(raw, author, main, main.pr, main.issues, main.co_authors)]
    else:
        bullets = [parse_message(part) for part in parts]
        bullets = [b for b in bullets if b.conventional]
        bullet_headers = {_norm_header(b.header) for b in bullets}
        if main.conventional and _norm_header(main.header) not in bullet_headers:
            messages.append(main)
        messages.extend(bullets)
    result: list[ConventionalCommit] = []
    for message in messages:
        # A squash keeps the PR number, issues and co-authors of its commit for every entry.
        pr = message.pr if message.pr is not None else main.pr
        issues = tuple(dict.fromkeys((*message.issues, *main.issues)))
        co_authors = tuple(dict.fromkeys((*message.co_authors, *main.co_authors)))
        result.append(_entry(raw, author, message, pr, issues, co_authors))
    return result


def _entry(
    raw: RawCommit,
    author: Person,
    message: _Message,
    pr: int | None,
    issues: tuple[int, ...],
    co_authors: tuple[Person, ...],
) -> ConventionalCommit:
    return ConventionalCommit(
        sha=raw.sha,
        type=message.type,
        scope=message.scope,
        subject=message.subject,
        body=message.body,
        breaking=message.breaking,
        breaking_descriptions=message.breaking_descriptions,
        footers=message.footers,
        conventional=message.conventional,
        author=author,
        committed_at=raw.committed_at,
        header=message.header,
        pr=pr,
        issues=issues,
        co_authors=tuple(p for p in co_authors if p != author) if co_authors else (),
        reverts=message.reverts,
        reverts_header=message.reverts_header,
    )


@functools.lru_cache(maxsize=32)
def _exclusion(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    # One alternation instead of a loop over patterns: this runs once per commit.
    return re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None


def is_excluded(header: str, patterns: Sequence[str]) -> bool:
    """Whether a commit header matches one of the `exclude_patterns` (regular expressions)."""
    exclusion = _exclusion(tuple(patterns))
    return exclusion is not None and exclusion.search(header) is not None


def parse_commits(
    raws: Iterable[RawCommit], exclude_patterns: Sequence[str] = ()
) -> list[ConventionalCommit]:
    """Parse commits in the given order, dropping merges and commits matching an exclusion."""
    exclusion = _exclusion(tuple(exclude_patterns))
    result: list[ConventionalCommit] = []
    for raw in raws:
        if len(raw.parents) > 1:
            continue  # a merge: the commits it brings in are the entries
        if exclusion is not None and exclusion.search(raw.message.split("\n", 1)[0]):
            continue
        result.extend(parse_commit(raw))
    return result


def cancel_reverts(commits: Sequence[ConventionalCommit]) -> list[ConventionalCommit]:
    """Drop each revert together with the commit it reverts when both are in `commits`.

    A revert names its target by sha (`This reverts commit X`, possibly abbreviated) or, failing
    that, by header (`revert: feat: add x`). A revert whose target is elsewhere stays.
    """
    if not any(commit.type == "revert" for commit in commits):
        return list(commits)
    dropped: set[int] = set()
    by_header: dict[str, list[int]] = {}
    for index, commit in enumerate(commits):
        by_header.setdefault(_norm_header(commit.header), []).append(index)
    for index, commit in enumerate(commits):
        if commit.type != "revert" or index in dropped:
            continue
        targets: list[int] = []
        if commit.reverts:
            # Every entry of the reverted commit goes (a squash commit has several).
            targets = [
                other
                for other, candidate in enumerate(commits)
                if other != index
                and other not in dropped
                and candidate.sha.lower().startswith(commit.reverts)
            ]
        elif commit.reverts_header:
            targets = [
                other
                for other in by_header.get(_norm_header(commit.reverts_header), [])
                if other != index and other not in dropped
            ][:1]
        if targets:
            dropped.add(index)
            dropped.update(targets)
    return [commit for index, commit in enumerate(commits) if index not in dropped]
