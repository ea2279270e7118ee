"""Commit message parsing: headers, footers, breaking changes, squashes, reverts, references."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from relkit.conventional import (
    Person,
    cancel_reverts,
    is_excluded,
    parse_commit,
    parse_commits,
    parse_message,
)
from relkit.model import RawCommit

WHEN = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def raw(message: str, sha: str = "a" * 40, parents: tuple[str, ...] = ("p" * 40,)) -> RawCommit:
    return RawCommit(sha, message, "Ada", "ada@example.com", WHEN, parents)


@pytest.mark.parametrize(
    ("header", "ctype", "scope", "subject", "breaking"),
    [
        ("feat: add x", "feat", None, "add x", False),
        ("feat(api): add x", "feat", "api", "add x", False),
        ("fix(api)!: drop y", "fix", "api", "drop y", True),
        ("Feat!: loud", "feat", None, "loud", True),
        ("build(deps-dev): bump a", "build", "deps-dev", "bump a", False),
        ("chore(): empty scope", "chore", None, "empty scope", False),
    ],
)
def test_header_forms(
    header: str, ctype: str, scope: str | None, subject: str, breaking: bool
) -> None:
    parsed = parse_message(header)
    assert parsed.conventional
    assert (parsed.type, parsed.scope, parsed.subject, parsed.breaking) == (
        ctype,
        scope,
        subject,
        breaking,
    )


@pytest.mark.parametrize(
    "header",
    ["Update README", "feat add x", "feat:no space", ": nothing", "feat(a)(b): x", "WIP"],
)
def test_non_conventional_headers_are_flagged(header: str) -> None:
    parsed = parse_message(header)
    assert not parsed.conventional
    assert parsed.type == ""
    assert parsed.subject == header
    assert not parsed.breaking


def test_body_and_footers_are_separated() -> None:
    parsed = parse_message(
        "fix: parse dates\n\nThe parser ignored time zones.\nNow it does not.\n\n"
        "Reviewed-by: Bob\nRefs #12"
    )
    assert parsed.body == "The parser ignored time zones.\nNow it does not."
    assert parsed.footers == (("Reviewed-by", "Bob"), ("Refs", "#12"))
    assert parsed.issues == (12,)


@pytest.mark.parametrize("token", ["BREAKING CHANGE", "BREAKING-CHANGE"])
def test_breaking_change_footer_gives_the_description(token: str) -> None:
    parsed = parse_message(
        f"feat(api): new auth\n\nBody.\n\n{token}: tokens are now\nrequired everywhere\nCloses #45"
    )
    assert parsed.breaking
    assert parsed.breaking_descriptions == ("tokens are now\nrequired everywhere",)
    assert parsed.issues == (45,)


def test_bang_without_footer_uses_the_subject_as_description() -> None:
    parsed = parse_message("refactor!: drop python 3.10")
    assert parsed.breaking
    assert parsed.breaking_descriptions == ("drop python 3.10",)


def test_breaking_footer_on_a_non_conventional_commit_is_ignored() -> None:
    parsed = parse_message("Big change\n\nBREAKING CHANGE: everything")
    assert not parsed.breaking
    assert parsed.breaking_descriptions == ()


def test_breaking_description_may_continue_over_paragraphs() -> None:
    parsed = parse_message(
        "feat!: x\n\nBREAKING CHANGE: first paragraph.\n\nsecond paragraph.\nFixes #3"
    )
    assert parsed.breaking_descriptions == ("first paragraph.\n\nsecond paragraph.",)
    assert parsed.issues == (3,)


def test_pr_number_is_taken_from_the_header_and_issues_from_footers() -> None:
    parsed = parse_message("fix: crash (#123)\n\nFixes #1, #2\nCloses #45\nSee #1")
    assert parsed.subject == "crash"
    assert parsed.pr == 123
    assert parsed.issues == (1, 2, 45)


def test_co_authors_are_collected_and_the_author_is_not_repeated() -> None:
    [entry] = parse_commit(
        raw(
            "feat: pair work\n\nCo-authored-by: Bob <bob@example.com>\n"
            "co-authored-by: Ada <ada@example.com>\nCo-authored-by: not a person"
        )
    )
    assert entry.co_authors == (Person("Bob", "bob@example.com"),)
    assert entry.people == (Person("Ada", "ada@example.com"), Person("Bob", "bob@example.com"))


def test_merge_commits_are_not_entries() -> None:
    merge = raw("Merge pull request #5 from o/x\n\nfeat: x", parents=("1" * 40, "2" * 40))
    assert parse_commit(merge) == []


def test_github_squash_body_yields_each_commit() -> None:
    message = (
        "Add login (#20)\n\n* feat(auth): login form\n\n* fix(auth): typo in label\n"
        "  with a wrapped line\n\n* chore: tidy\n\nCo-authored-by: Bob <bob@example.com>"
    )
    entries = parse_commit(raw(message))
    assert [(e.type, e.scope, e.subject) for e in entries] == [
        ("feat", "auth", "login form"),
        ("fix", "auth", "typo in label"),
        ("chore", None, "tidy"),
    ]
    assert {e.pr for e in entries} == {20}
    assert all(e.sha == "a" * 40 for e in entries)
    assert entries[1].body == "with a wrapped line"


def test_squash_keeps_a_conventional_title_unless_a_bullet_repeats_it() -> None:
    kept = parse_commit(raw("feat: login (#20)\n\n* fix: typo\n\n* docs: readme"))
    assert [e.header for e in kept] == ["feat: login (#20)", "fix: typo", "docs: readme"]
    repeated = parse_commit(raw("feat: login (#20)\n\n* feat: login\n\n* fix: typo"))
    assert [e.header for e in repeated] == ["feat: login", "fix: typo"]


def test_git_merge_squash_message_yields_each_commit() -> None:
    message = (
        "Squashed commit of the following:\n\n"
        f"commit {'1' * 40}\nAuthor: Bob <bob@example.com>\nDate:   Mon Jan 1 10:00:00 2024\n\n"
        "    fix(db): close cursors\n    \n    They leaked.\n\n"
        f"commit {'2' * 40}\nAuthor: Bob <bob@example.com>\nDate:   Mon Jan 1 09:00:00 2024\n\n"
        "    feat(db): pooling\n"
    )
    entries = parse_commit(raw(message))
    assert [(e.type, e.scope, e.subject) for e in entries] == [
        ("fix", "db", "close cursors"),
        ("feat", "db", "pooling"),
    ]
    assert entries[0].body == "They leaked."


def test_a_bullet_list_without_conventional_headers_is_a_plain_body() -> None:
    [entry] = parse_commit(raw("feat: menu\n\n* one item\n* another item"))
    assert entry.subject == "menu"
    assert entry.body == "* one item\n* another item"


def test_git_revert_message_records_the_reverted_commit() -> None:
    parsed = parse_message('Revert "feat: add x (#4)"\n\nThis reverts commit abcdef1234567.')
    assert parsed.type == "revert"
    assert parsed.conventional
    assert parsed.reverts == "abcdef1234567"
    assert parsed.reverts_header == "feat: add x"


def test_revert_cancels_its_target_in_the_same_release() -> None:
    target = raw("feat: add x", sha="b" * 40)
    keep = raw("fix: y", sha="c" * 40)
    revert = raw(f'Revert "feat: add x"\n\nThis reverts commit {"b" * 12}.', sha="d" * 40)
    commits = parse_commits([revert, keep, target])
    assert [c.header for c in cancel_reverts(commits)] == ["fix: y"]


def test_conventional_revert_by_header_cancels_its_target() -> None:
    commits = parse_commits(
        [raw("revert: feat: add x", sha="d" * 40), raw("feat: add x (#9)", sha="b" * 40)]
    )
    assert cancel_reverts(commits) == []


def test_revert_of_a_commit_elsewhere_stays() -> None:
    commits = parse_commits([raw('Revert "feat: old"\n\nThis reverts commit 1234567.')])
    assert [c.type for c in cancel_reverts(commits)] == ["revert"]


def test_revert_of_a_squash_commit_drops_all_its_entries() -> None:
    squash = raw("Login (#2)\n\n* feat: a\n\n* fix: b", sha="e" * 40)
    revert = raw(f'Revert "Login (#2)"\n\nThis reverts commit {"e" * 40}.', sha="f" * 40)
    assert cancel_reverts(parse_commits([revert, squash])) == []


def test_exclusions_match_the_header() -> None:
    patterns = [r"^chore\(release\):", r"\[skip changelog\]"]
    assert is_excluded("chore(release): v1.2.0", patterns)
    assert is_excluded("fix: x [skip changelog]", patterns)
    assert not is_excluded("chore: release notes", patterns)
    kept = parse_commits(
        [raw("chore(release): v1.0.0", sha="1" * 40), raw("fix: y", sha="2" * 40)], patterns
    )
    assert [c.header for c in kept] == ["fix: y"]


def test_crlf_messages_parse_like_lf() -> None:
    parsed = parse_message("fix: x\r\n\r\nbody\r\n\r\nBREAKING CHANGE: gone\r\n")
    assert parsed.body == "body"
    assert parsed.breaking_descriptions == ("gone",)
