"""Property tests for commit message parsing and squash bodies (issue 8).

Structured strategies build what real histories hold (headers with types, scopes and `!`,
footers, GitHub squash bullets, `git merge --squash` blocks, reverts, CRLF/CR, unicode, very
long lines); a token soup of those pieces and plain random text hunt for crashes. CI runs a
fixed, bounded budget; `RELKIT_HYPOTHESIS_PROFILE=deep` runs far more
(tests/hypothesis_profiles.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from hypothesis import assume, given
from hypothesis import strategies as st

from relkit.core.model import RawCommit
from relkit.history.conventional import (
    ConventionalCommit,
    Person,
    cancel_reverts,
    description_key,
    parse_commit,
    parse_commits,
    parse_message,
)
from tests.hypothesis_profiles import property_settings

WHEN = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
SHA = "a" * 40
AUTHOR = Person("Ada", "ada@example.com")


def raw(message: str, sha: str = SHA) -> RawCommit:
    return RawCommit(sha, message, AUTHOR.name, AUTHOR.email, WHEN, ("b" * 40,))


def lf(message: str) -> str:
    """The spec of line endings: CRLF and a lone CR are line breaks like LF."""
    return message.replace("\r\n", "\n").replace("\r", "\n")


# --- Building blocks ------------------------------------------------------------------------

# Text on one line: any unicode but line breaks and surrogates (git stores UTF-8).
_LINE_CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n")
_PR_AT_END = re.compile(r"\(#[0-9]{1,18}\)$")

types = st.one_of(
    st.sampled_from(["feat", "fix", "perf", "docs", "chore", "refactor", "build", "deps"]),
    st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,12}", fullmatch=True),
).filter(lambda t: t.lower() != "revert")  # reverts have their own properties
scopes = st.one_of(
    st.none(),
    st.sampled_from(["api", "deps-dev", "", " ", "ui/web"]),
    st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="()\r\n"), max_size=20
    ),
)
# Long runs of blanks inside a line: what made the old header regex quadratic.
_BLANK_RUN = st.integers(0, 60_000).map(lambda n: " " * n)


@st.composite
def descriptions(draw: st.DrawFn) -> str:
    start = draw(st.text(_LINE_CHARS, min_size=1, max_size=40)).strip()
    if not start:
        start = "x"
    if draw(st.booleans()):
        start = start + draw(_BLANK_RUN) + draw(st.text(_LINE_CHARS, max_size=10))
    description = start.strip()
    if _PR_AT_END.search(description):
        description += " x"  # a trailing "(#N)" is the PR number, drawn separately
    return description


@dataclass(frozen=True)
class Header:
    type: str
    scope: str | None
    bang: bool
    description: str
    pr: int | None
    text: str


@st.composite
def headers(draw: st.DrawFn) -> Header:
    ctype, scope, bang = draw(types), draw(scopes), draw(st.booleans())
    description = draw(descriptions())
    pr = draw(st.one_of(st.none(), st.integers(0, 10**18 - 1)))
    separator = draw(st.sampled_from([" ", "\t", "  ", " \t "]))
    text = ctype + (f"({scope})" if scope is not None else "") + ("!" if bang else "")
    text += f":{separator}{description}" + (f" (#{pr})" if pr is not None else "")
    return Header(ctype, scope, bang, description, pr, text)


# Prose: no ":" or "#" (a footer), no "*" (a bullet), no line break, not blank.
_PROSE_CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n:#*")
prose_lines = st.text(_PROSE_CHARS, min_size=1, max_size=60).map(str.strip).filter(bool)
paragraphs = st.lists(prose_lines, min_size=1, max_size=3).map("\n".join)
bodies = st.lists(paragraphs, max_size=3).map("\n\n".join)
names = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="<>\r\n"))
emails = st.from_regex(r"[a-z0-9.]{1,10}@[a-z]{1,8}\.[a-z]{2,3}", fullmatch=True)
people = st.builds(Person, names.map(str.strip), emails)
issue_numbers = st.integers(1, 10**18 - 1)
one_line_values = st.text(_LINE_CHARS, min_size=1, max_size=40).map(str.strip).filter(bool)


@dataclass(frozen=True)
class Footers:
    breaking: tuple[str, ...]
    issues: tuple[int, ...]
    co_authors: tuple[Person, ...]
    text: str


@st.composite
def footer_blocks(draw: st.DrawFn) -> Footers:
    lines: list[str] = []
    breaking: list[str] = []
    issues: list[int] = []
    co_authors: list[Person] = []
    for kind in draw(st.lists(st.sampled_from(["breaking", "closes", "co", "other"]), max_size=5)):
        if kind == "breaking":
            value = draw(one_line_values)
            breaking.append(value)
            lines.append(
                f"{draw(st.sampled_from(['BREAKING CHANGE', 'BREAKING-CHANGE']))}: {value}"
            )
        elif kind == "closes":
            numbers = draw(st.lists(issue_numbers, min_size=1, max_size=3))
            issues.extend(numbers)
            token = draw(st.sampled_from(["Closes", "Fixes", "Refs", "resolves", "See"]))
            lines.append(f"{token} " + ", ".join(f"#{n}" for n in numbers))
        elif kind == "co":
            person = draw(people)
            co_authors.append(person)
            lines.append(f"Co-authored-by: {person.name} <{person.email}>")
        else:
            lines.append(f"Reviewed-by: {draw(names.map(str.strip).filter(bool))}")
    return Footers(
        tuple(breaking), tuple(dict.fromkeys(issues)), tuple(co_authors), "\n".join(lines)
    )


line_endings = st.sampled_from(["\n", "\r\n", "\r"])


# --- Single messages ------------------------------------------------------------------------


@property_settings(120)
@given(headers(), bodies, footer_blocks(), line_endings)
def test_a_generated_message_round_trips(
    header: Header, body: str, footers: Footers, newline: str
) -> None:
    message = "\n\n".join(part for part in (header.text, body, footers.text) if part)
    parsed = parse_message(message.replace("\n", newline))
    assert parsed.conventional
    assert parsed.type == header.type.lower()
    assert parsed.scope == ((header.scope.strip() or None) if header.scope is not None else None)
    assert parsed.subject == header.description
    assert parsed.pr == header.pr
    assert parsed.header == header.text
    assert parsed.body == body
    assert parsed.breaking == (header.bang or bool(footers.breaking))
    expected_breaking = footers.breaking or ((header.description,) if header.bang else ())
    assert parsed.breaking_descriptions == expected_breaking
    assert parsed.issues == footers.issues
    assert parsed.co_authors == footers.co_authors


@property_settings(80)
@given(headers(), line_endings)
def test_a_github_revert_title_reverts_its_quoted_header(header: Header, newline: str) -> None:
    message = f'Revert "{header.text}" (#7)\n\nReverts o/r#1'.replace("\n", newline)
    parsed = parse_message(message)
    assert (parsed.type, parsed.conventional, parsed.pr) == ("revert", True, 7)
    assert parsed.reverts_header == header.text.removesuffix(f" (#{header.pr})")
    target = parse_commits([raw(header.text, sha="c" * 40)])
    revert = parse_commits([raw(message, sha="d" * 40)])
    assert cancel_reverts([*revert, *target]) == []


# --- Squash bodies --------------------------------------------------------------------------


@dataclass(frozen=True)
class Bullet:
    header: Header
    breaking: tuple[str, ...]
    text: str  # as the squashed commit's message

    @property
    def breaking_descriptions(self) -> tuple[str, ...]:
        return self.breaking or ((self.header.description,) if self.header.bang else ())

    @property
    def key(self) -> tuple[str, str]:
        """Identical bullets: the same header (case aside) and the same rest."""
        return (self.header.text.lower(), self.text.partition("\n")[2].strip())


@st.composite
def bullets(draw: st.DrawFn) -> Bullet:
    header = draw(headers())
    body = draw(bodies)
    breaking = tuple(draw(st.lists(one_line_values, max_size=2)))
    footer = "\n".join(f"BREAKING CHANGE: {value}" for value in breaking)
    text = "\n\n".join(part for part in (header.text, body, footer) if part)
    return Bullet(header, breaking, text)


@dataclass(frozen=True)
class Squash:
    title: str
    title_breaking: bool
    bullets: tuple[Bullet, ...]
    co_authors: tuple[Person, ...]
    message: str


def github_body(bullet: Bullet, indent: bool) -> str:
    first, *rest = bullet.text.split("\n")
    return "\n".join([f"* {first}", *[f"  {line}" if indent and line else line for line in rest]])


def git_block(bullet: Bullet, sha: str) -> str:
    indented = "\n".join(f"    {line}" if line else "    " for line in bullet.text.split("\n"))
    meta = "Author: Bob <bob@example.com>\nDate:   Mon Jan 1 10:00:00 2024"
    return f"commit {sha}\n{meta}\n\n{indented}"


@st.composite
def squashes(draw: st.DrawFn) -> Squash:
    title = draw(st.one_of(headers().map(lambda h: h.text), prose_lines))
    title_breaking = bool(re.match(r"[A-Za-z][A-Za-z0-9_-]*(\([^()]*\))?!:", title))
    items = tuple(draw(st.lists(bullets(), min_size=1, max_size=6)))
    # Repeats: identical bullets must come out once.
    items += tuple(draw(st.lists(st.sampled_from(items), max_size=2)))
    co_authors = tuple(draw(st.lists(people, max_size=2)))
    trailer = "\n".join(f"Co-authored-by: {p.name} <{p.email}>" for p in co_authors)
    if draw(st.booleans()):  # GitHub
        indent = draw(st.booleans())
        body = "\n\n".join(github_body(bullet, indent) for bullet in items)
        if trailer:
            body += draw(st.sampled_from(["\n\n---------\n\n", "\n\n"])) + trailer
    else:  # git merge --squash
        shas = draw(
            st.lists(
                st.from_regex(r"[0-9a-f]{40}", fullmatch=True),
                min_size=len(items),
                max_size=len(items),
                unique=True,
            )
        )
        body = "Squashed commit of the following:\n\n"
        body += "\n\n".join(git_block(bullet, sha) for bullet, sha in zip(items, shas, strict=True))
        if trailer:
            body += "\n\n" + trailer
    return Squash(title, title_breaking, items, co_authors, f"{title}\n\n{body}\n")


@property_settings(80)
@given(squashes(), line_endings)
def test_a_squash_lists_each_distinct_bullet_once_with_its_own_breaking_change(
    squash: Squash, newline: str
) -> None:
    entries = parse_commit(raw(squash.message.replace("\n", newline)))
    first: dict[tuple[str, str], Bullet] = {}
    for bullet in squash.bullets:
        first.setdefault(bullet.key, bullet)
    expected = list(first.values())
    bullet_entries = entries[len(entries) - len(expected) :]
    title = parse_message(squash.title)
    # A breaking change description is given once per commit (issue 16): the title's first.
    shown = (
        {description_key(d) for d in title.breaking_descriptions} if title.conventional else set()
    )
    wanted = []
    for bullet in expected:
        fresh = tuple(d for d in bullet.breaking_descriptions if description_key(d) not in shown)
        shown.update(description_key(d) for d in fresh)
        wanted.append((bullet.header.text, fresh))
    assert [(e.header, e.breaking_descriptions) for e in bullet_entries] == wanted
    assert all(e.breaking for e in bullet_entries if e.breaking_descriptions)
    title_listed = len(entries) - len(expected)
    assert title_listed == (1 if title.conventional else 0)
    if title_listed:
        assert entries[0].header == squash.title
        assert entries[0].breaking == squash.title_breaking
        assert entries[0].listing == "entry"
        assert all(e.listing in ("bullet", "repeat") for e in bullet_entries)
    else:
        assert all(e.listing in ("entry", "repeat") for e in bullet_entries)
    assert all(e.sha == SHA for e in entries)
    for entry in entries:
        assert set(squash.co_authors) - {AUTHOR} <= set(entry.co_authors)


def without_pr(header: Header) -> str:
    return header.text.removesuffix(f" (#{header.pr})").lower()


@st.composite
def squashes_with_reverts(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A GitHub squash where some bullets are reverted by later bullets, and what stays."""
    items = draw(st.lists(headers(), min_size=1, max_size=5, unique_by=without_pr))
    reverted = draw(st.lists(st.sampled_from(items), unique_by=without_pr))
    lines = [f"* {h.text}" for h in items]
    for h in reverted:
        lines.append(draw(st.sampled_from([f'* Revert "{h.text}"', f"* revert: {h.text}"])))
    kept = [h.text for h in items if h not in reverted]
    return "Squash title\n\n" + "\n\n".join(lines), kept


@property_settings(60)
@given(squashes_with_reverts())
def test_a_revert_bullet_cancels_its_target_in_the_same_squash(case: tuple[str, list[str]]) -> None:
    message, kept = case
    headers_left = [e.header for e in parse_commit(raw(message))]
    assert headers_left == kept


# --- Anything at all ------------------------------------------------------------------------

_PIECES = st.one_of(
    st.sampled_from(
        [
            "\n",
            "\r",
            "\r\n",
            "\n\n",
            " ",
            "\t",
            "* ",
            "*  ",
            "*",
            "commit ",
            "commit 1234567\n",
            f"commit {'f' * 40}\n",
            "Author: A <a@x>\n",
            "Merge: 1 2\n",
            "Date: now\n",
            "    ",
            "  ",
            "feat",
            "fix",
            "Revert",
            "revert",
            "(",
            ")",
            "!",
            ":",
            ": ",
            "#",
            "(#",
            "(#12)",
            '"',
            'Revert "',
            "BREAKING CHANGE: ",
            "BREAKING-CHANGE: ",
            "Co-authored-by: ",
            "Closes #",
            "Refs: #1",
            "<",
            ">",
            "@",
            "---------",
            "---",
            "This reverts commit ",
            "abcdef1234",
            "١٢",
            "é",
            "\u2028",
            "\x85",
            "\x0b",
            "\x00",
            "💥",
        ]
    ),
    st.text(max_size=20),
    st.integers(0, 10**30).map(str),
    st.integers(0, 5000).map(lambda n: "9" * n),
    _BLANK_RUN,
)
soups = st.lists(_PIECES, max_size=40).map("".join)
# Lines starting with what the parser keys on (bullets, git blocks, footers, separators).
_LINE_STARTS = st.sampled_from(
    [
        "",
        "* ",
        "*  ",
        "*",
        "commit ",
        f"commit {'0' * 40}",
        "commit 1234567",
        "Author: ",
        "Merge: ",
        "    ",
        "  ",
        "Co-authored-by: ",
        "BREAKING CHANGE: ",
        "breaking-change: ",
        "Closes #",
        "Refs #",
        "Reviewed-by: ",
        "---------",
        "---",
        "This reverts commit ",
        'Revert "',
        "feat: ",
        "fix(x)!: ",
        "revert: ",
    ]
)
_LINES = st.tuples(_LINE_STARTS, st.one_of(st.text(_LINE_CHARS, max_size=15), _PIECES))
line_soups = st.tuples(
    st.lists(_LINES.map("".join), max_size=12), st.lists(line_endings, min_size=1, max_size=3)
).map(lambda t: "".join(line + t[1][i % len(t[1])] for i, line in enumerate(t[0])))
anything = st.one_of(soups, line_soups, st.text(), squashes().map(lambda s: s.message))


@property_settings(150)
@given(anything)
def test_any_message_parses_to_the_documented_result(message: str) -> None:
    entries = parse_commit(raw(message))
    assert all(isinstance(entry, ConventionalCommit) and entry.sha == SHA for entry in entries)
    parsed = parse_message(message)
    assert parsed.header == lf(message).strip().partition("\n")[0].strip()
    assert "\r" not in parsed.body and "\r" not in parsed.header
    assert parsed.breaking == bool(parsed.breaking_descriptions)
    assert not parsed.breaking or parsed.conventional
    assert parsed.pr is None or 0 <= parsed.pr < 10**18
    assert all(0 <= issue < 10**18 for issue in parsed.issues)
    if not parsed.conventional:
        assert parsed.type == ""
        assert parsed.header.startswith(parsed.subject)  # less a trailing "(#N)"
    # Deterministic: the same message always gives the same result.
    assert parse_commit(raw(message)) == entries
    assert parse_message(message) == parsed


@property_settings(100)
@given(anything, line_endings)
def test_line_endings_do_not_change_the_result(message: str, newline: str) -> None:
    restyled = lf(message).replace("\n", newline)
    assert parse_commit(raw(restyled)) == parse_commit(raw(message))
    assert parse_message(restyled) == parse_message(message)


@property_settings(40)
@given(st.lists(st.tuples(anything, st.sampled_from("0123456789abcdef")), max_size=6))
def test_cancelling_reverts_keeps_an_ordered_subset(commits: list[tuple[str, str]]) -> None:
    parsed = parse_commits(
        [raw(message, sha=digit * 40) for message, digit in commits], ["^chore\\(release\\):"]
    )
    kept = cancel_reverts(parsed)
    position = {id(commit): index for index, commit in enumerate(parsed)}
    positions = [position[id(commit)] for commit in kept]
    assert positions == sorted(positions)
    assert len(parsed) - len(kept) != 1  # a revert goes with its target, never alone


# --- One PR, one entry (issue 16) -----------------------------------------------------------


@property_settings(100)
@given(headers(), bodies, line_endings, st.data())
def test_a_title_github_wrapped_is_joined_back(
    header: Header, body: str, newline: str, data: st.DataObject
) -> None:
    suffix = f" (#{header.pr})" if header.pr is not None else ""
    text = header.text.removesuffix(suffix)
    start = len(text) - len(header.description)
    assume(len(header.description) >= 2)
    # GitHub cuts somewhere in the description, "…" on both sides of the cut.
    cut = data.draw(st.integers(start + 1, len(text) - 1))
    message = f"{text[:cut]}…{suffix}\n\n…{text[cut:]}" + (f"\n\n{body}" if body else "")
    for parsed in (parse_message(message.replace("\n", newline)),):
        assert (parsed.header, parsed.subject, parsed.pr) == (
            header.text,
            header.description,
            header.pr,
        )
        assert parsed.body == body
    [entry] = parse_commit(raw(message.replace("\n", newline)))
    assert (entry.header, entry.subject, entry.body) == (header.text, header.description, body)


@property_settings(80)
@given(headers(), prose_lines)
def test_a_title_ending_in_an_ellipsis_without_its_continuation_stays_as_written(
    header: Header, body: str
) -> None:
    assume(not body.startswith("…"))
    message = f"{header.text}…\n\n{body}"
    parsed = parse_message(message)
    assert parsed.header == f"{header.text}…"
    assert parsed.body == body


@property_settings(80)
@given(squashes(), line_endings)
def test_a_squash_with_a_conventional_title_is_one_entry_and_no_description_twice(
    squash: Squash, newline: str
) -> None:
    entries = parse_commit(raw(squash.message.replace("\n", newline)))
    title = parse_message(squash.title)
    listed_always = [e for e in entries if e.listing == "entry"]
    if title.conventional:
        assert [e.header for e in listed_always] == [squash.title]
    # What "split" lists: never two entries with the same description in one commit.
    listed_split = [description_key(e.subject) for e in entries if e.listing != "repeat"]
    assert len(listed_split) == len(set(listed_split))
    # Every breaking bullet stays breaking whatever is listed: the version counts it.
    assert any(e.breaking for e in entries) == (
        (title.conventional and title.breaking)
        or any(b.breaking_descriptions for b in squash.bullets)
    )
