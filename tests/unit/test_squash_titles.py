"""Squash merges as one entry per PR, wrapped titles, repeats, bot contributors (issue 16)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from relkit.core.config import DEFAULT_COMMIT_TYPES, RelkitConfig, parse_config
from relkit.core.errors import ConfigError
from relkit.core.model import RawCommit, Version
from relkit.history.changelog import ContributorFilter, Links, Release, build_release, render_notes
from relkit.history.conventional import (
    ConventionalCommit,
    Person,
    description_key,
    is_bot,
    parse_commit,
    parse_commits,
)
from relkit.history.templating import TemplateRenderer
from relkit.history.versioning import BumpLevel, decide_bump

WHEN = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
TYPES = dict(DEFAULT_COMMIT_TYPES)

# The issue's example: a PR title and the branch's commits as bullets.
BM25 = (
    "feat: add BM25 scorers (#7692)\n\n* feat: add BM25 scorers\n\n* fix: first part\n\n"
    "* fix: second part\n\n* fix: review comments\n\n* fix: review comments"
)


def raw(
    message: str,
    sha: str = "a" * 40,
    author: tuple[str, str] = ("Ada", "ada@example.com"),
) -> RawCommit:
    return RawCommit(sha, message, author[0], author[1], WHEN, ("p" * 40,))


def release(commits: list[ConventionalCommit], mode: str = "title", **kwargs: object) -> Release:
    return build_release(
        commits,
        version=Version(1, 1, 0),
        tag="v1.1.0",
        previous_tag="v1.0.0",
        released_on=date(2024, 5, 1),
        commit_types=TYPES,
        squash_bullets=mode,
        **kwargs,  # type: ignore[arg-type]
    )


def listed(rel: Release) -> dict[str, list[str]]:
    return {s.title: [e.subject for e in s.entries] for s in rel.sections}


# --- 1. a conventional title is the entry ---------------------------------------------------


def test_a_conventional_squash_title_is_the_one_entry_by_default() -> None:
    rel = release(parse_commit(raw(BM25)))
    assert listed(rel) == {"Features": ["add BM25 scorers"]}
    assert rel.breaking == ()


def test_split_lists_each_distinct_bullet_once_and_not_the_repeated_title() -> None:
    rel = release(parse_commit(raw(BM25)), "split")
    assert listed(rel) == {
        "Features": ["add BM25 scorers"],
        "Bug Fixes": ["first part", "second part", "review comments"],
    }


def test_a_breaking_bullet_under_a_plain_title_bumps_major_and_is_listed_as_breaking() -> None:
    message = (
        "feat(server): add streaming (#40)\n\n* feat(api)!: drop the v1 endpoint\n\n"
        "* fix: tidy\n\nBREAKING CHANGE: the config key `port` is now `listen`"
    )
    commits = parse_commit(raw(message))
    for mode in ("title", "split"):
        rel = release(commits, mode)
        assert listed(rel)["Features"][0] == "add streaming"
        assert [(e.scope, e.breaking_descriptions) for e in rel.breaking] == [
            ("api", ("drop the v1 endpoint",)),
            (None, ("the config key `port` is now `listen`",)),
        ]
    assert decide_bump(commits, TYPES).level is BumpLevel.MAJOR
    # The old listing put every bullet in the sections; the title mode lists the title alone.
    assert listed(release(commits, "title")) == {"Features": ["add streaming"]}


def test_the_bump_is_the_same_whatever_the_changelog_lists() -> None:
    # The bullets count for the version in both modes: a feat bullet under a fix title.
    commits = parse_commit(raw("fix: login (#3)\n\n* feat: remember me\n\n* fix: typo"))
    assert decide_bump(commits, TYPES).level is BumpLevel.MINOR
    assert listed(release(commits, "title")) == {"Bug Fixes": ["login"]}
    assert listed(release(commits, "split")) == {
        "Features": ["remember me"],
        "Bug Fixes": ["login", "typo"],
    }


def test_a_revert_bullet_still_cancels_its_target_in_the_release() -> None:
    target = raw("feat: add x (#1)", sha="b" * 40)
    squash = raw(
        "fix: undo x for now (#2)\n\n* revert: feat: add x\n\nThis reverts commit "
        + "b" * 40
        + ".\n\n* fix: typo",
        sha="c" * 40,
    )
    rel = release(parse_commits([squash, target]))
    assert listed(rel) == {"Bug Fixes": ["undo x for now"]}
    assert decide_bump(rel.commits, TYPES).level is BumpLevel.PATCH


@pytest.mark.parametrize(
    "title", ["Merge pull request #1 from acme/login", "Update deps (#12)", "Login"]
)
def test_a_non_conventional_squash_title_keeps_its_bullets_as_entries(title: str) -> None:
    commits = parse_commit(raw(f"{title}\n\n* feat: a\n\n* fix: b\n\n* fix: B "))
    for mode in ("title", "split"):
        assert listed(release(commits, mode)) == {"Features": ["a"], "Bug Fixes": ["b"]}


# --- 3. one PR, one entry -------------------------------------------------------------------


def test_a_github_wrapped_title_is_one_entry() -> None:
    message = (
        "docs: clarify that only jobs.query and jobs.getQueryResults are affec… (#2349)\n\n"
        "…ted by page_size in query_and_wait\n\nFixes #12"
    )
    [entry] = parse_commit(raw(message))
    assert entry.subject == (
        "clarify that only jobs.query and jobs.getQueryResults are affected by page_size in "
        "query_and_wait"
    )
    assert (entry.pr, entry.issues, entry.body) == (2349, (12,), "")


def test_a_wrapped_squash_title_is_joined_before_its_bullets() -> None:
    message = "feat: a very long ti… (#9)\n\n…tle for a PR\n\n* feat: a very long title for a PR"
    commits = parse_commit(raw(message))
    assert listed(release(commits, "split")) == {"Features": ["a very long title for a PR"]}


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Add BM25 scorers", "add  bm25   scorers"),
        ("add x…", "add x"),
        ("add x (#12)", "add x"),
        ("add x … (#12)", "Add X"),
    ],
)
def test_descriptions_that_are_the_same(one: str, other: str) -> None:
    assert description_key(one) == description_key(other)


@pytest.mark.parametrize(("one", "other"), [("add x", "add y"), ("add x.", "add x"), ("a b", "ab")])
def test_descriptions_that_differ(one: str, other: str) -> None:
    assert description_key(one) != description_key(other)


def test_a_repeated_description_under_another_type_is_listed_once() -> None:
    commits = parse_commit(raw("Login (#5)\n\n* feat: login form\n\n* fix: Login  form…"))
    assert listed(release(commits, "split")) == {"Features": ["login form"]}


# --- 4. contributors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "person",
    [
        Person("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com"),
        Person("github-actions", "41898282+github-actions[bot]@users.noreply.github.com"),
        Person("renovate[bot]", "bot@renovateapp.com"),
        Person("Release Bot [BOT]", ""),
    ],
)
def test_bots(person: Person) -> None:
    assert is_bot(person)


@pytest.mark.parametrize(
    "person",
    [
        Person("Ada", "12345+ada@users.noreply.github.com"),
        Person("Bot Builder", "bot@example.com"),
        Person("robot", "robot[bot]@example.com"),
    ],
)
def test_people(person: Person) -> None:
    assert not is_bot(person)


def contributors(rel: Release) -> list[str]:
    return [p.name for p in rel.contributors]


def bot_history() -> list[ConventionalCommit]:
    return parse_commits(
        [
            raw("fix(deps): bump x", "1" * 40, ("dependabot[bot]", "support@github.com")),
            raw(
                "feat: y\n\nCo-authored-by: github-actions <41898282+github-actions[bot]"
                "@users.noreply.github.com>\nCo-authored-by: Bob <bob@example.com>",
                "2" * 40,
            ),
            raw("docs: z", "3" * 40, ("Release Team", "release@acme.example")),
        ]
    )


def test_bots_are_left_out_of_the_contributors_co_authors_too() -> None:
    assert contributors(release(bot_history())) == ["Ada", "Bob", "Release Team"]


def test_bots_are_listed_when_asked() -> None:
    rel = release(bot_history(), contributors=ContributorFilter(bots=True))
    assert contributors(rel) == ["Ada", "Bob", "dependabot[bot]", "github-actions", "Release Team"]


def test_exclude_contributors_matches_names_and_addresses() -> None:
    config = parse_config(
        {"changelog": {"exclude_contributors": ["^Release Team$", r"^bob@example\.com$"]}},
        "relkit.toml",
    )
    rel = release(bot_history(), contributors=ContributorFilter.of(config))
    assert contributors(rel) == ["Ada"]


def test_contributors_in_the_notes_leave_bots_out() -> None:
    notes = render_notes(release(bot_history()), Links(None), TemplateRenderer())
    assert "* Bob" in notes
    assert "[bot]" not in notes and "github-actions" not in notes


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [("[", "unterminated character set"), ("^a(?i)", "global flags not at the start")],
)
def test_a_bad_exclude_contributors_pattern_names_key_and_pattern(
    pattern: str, reason: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"changelog": {"exclude_contributors": ["ok", pattern]}}, "relkit.toml")
    message = caught.value.message
    assert message.startswith("relkit.toml: changelog.exclude_contributors[1]: ")
    assert reason in message and repr(pattern) in message


def test_squash_bullets_takes_title_or_split_only() -> None:
    assert RelkitConfig().changelog.squash_bullets == "title"
    with pytest.raises(ConfigError, match=r"changelog\.squash_bullets: Input should be"):
        parse_config({"changelog": {"squash_bullets": "bullets"}}, "relkit.toml")


# --- hostile messages -----------------------------------------------------------------------


def test_hostile_ellipses_and_repeated_bullets_stay_linear() -> None:
    # A loop of slices over 100,000 trailing "…" (or a set of keys per bullet pair) would be
    # quadratic: these finish at once when every step is linear.
    count = 100_000
    title = "feat: x" + "…" * count + " (#1)"
    [entry] = parse_commit(raw(f"{title}\n\n" + "…" * count))
    assert entry.subject == "x" + "…" * (count - 1) + "…" * (count - 1)
    assert description_key(entry.subject) == "x"
    bullets = "\n\n".join(f"* fix: Review  comments{' ' * (i % 3)}…" for i in range(count // 10))
    entries = parse_commit(raw(f"fix: review comments (#2)\n\n{bullets}"))
    # Three distinct headers (blanks differ), one description: listed once, as the title.
    assert [e.listing for e in entries] == ["entry", "repeat", "repeat", "repeat"]


def test_a_contributor_filter_answers_each_person_once_and_alike_across_releases() -> None:
    keep = ContributorFilter()
    history = bot_history()
    first = [contributors(release([c], contributors=keep)) for c in history]
    again = [contributors(release([c], contributors=keep)) for c in history]
    fresh = [contributors(release([c], contributors=ContributorFilter())) for c in history]
    assert first == again == fresh
    assert keep == ContributorFilter() and hash(keep) == hash(ContributorFilter())
    assert "[bot]" not in repr(keep) and len(keep._shown) >= 2


@pytest.mark.parametrize(
    "message",
    [
        "revert: feat: a\n\nThis reverts commit aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.",
        'Revert "feat: b"',
        "chore: nothing listed",
    ],
)
def test_a_release_of_one_commit_is_what_the_general_path_makes(message: str) -> None:
    (alone,) = parse_commit(raw(message))
    other = parse_commit(raw("fix: unrelated", sha="b" * 40))[0]
    # A lone revert has nothing to cancel; its release equals one with an unrelated commit
    # beside it, minus that commit.
    single, pair = release([alone]), release([alone, other])
    assert single.commits == (alone,)
    assert [e for s in single.sections for e in s.entries] == [
        e for s in pair.sections for e in s.entries if e is not other
    ]
    assert single.breaking == tuple(c for c in pair.breaking if c is not other)
