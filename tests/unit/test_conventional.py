"""Commit message parsing: headers, footers, breaking changes, squashes, reverts, references."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from relkit.core.model import RawCommit
from relkit.history.conventional import (
    Person,
    cancel_reverts,
    commit_parser,
    is_excluded,
    parse_commit,
    parse_commits,
    parse_message,
)

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


def test_squash_keeps_a_conventional_title_first_and_marks_a_bullet_repeating_it() -> None:
    kept = parse_commit(raw("feat: login (#20)\n\n* fix: typo\n\n* docs: readme"))
    assert [(e.header, e.listing, e.bullet) for e in kept] == [
        ("feat: login (#20)", "entry", None),
        ("fix: typo", "bullet", 1),
        ("docs: readme", "bullet", 2),
    ]
    # The title repeated as the first bullet (GitHub does this for one-commit PRs).
    repeated = parse_commit(raw("feat: login (#20)\n\n* feat: login\n\n* fix: typo"))
    assert [(e.header, e.listing) for e in repeated] == [
        ("feat: login (#20)", "entry"),
        ("feat: login", "repeat"),
        ("fix: typo", "bullet"),
    ]


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


# --- Hostile and real-world shapes (issue 8) -------------------------------------------------


@pytest.mark.parametrize(
    "message",
    [
        "fix: x\n\ncommit to the plan before merging",  # prose "commit ", no --squash block
        "fix: x\n\ncommit 1234567abc\nnot an Author line\n\n    feat: y",
        "fix: x\n\n*  two spaces",
        "fix: x\n\n* ",
        "fix: x\n\n*",
        "fix: x\n\n* \n*  \n* \t",
        "\n* feat: a",
        "* feat: a\n* fix: b",
        "fix: x\n\ncommit " + "a" * 40 + "\n",
        "fix: x\n\ncommit " + "a" * 40 + "\nAuthor: A <a@x>",
    ],
)
def test_bodies_that_look_like_squashes_but_are_not_never_crash(message: str) -> None:
    entries = parse_commit(raw(message))
    assert entries  # the commit itself is still an entry
    assert all(e.sha == "a" * 40 for e in entries)


def test_a_prose_commit_line_keeps_the_commit_as_one_entry() -> None:
    [entry] = parse_commit(raw("fix: x\n\ncommit to the plan\n\n*  two spaces"))
    assert (entry.type, entry.subject) == ("fix", "x")
    assert entry.body == "commit to the plan\n\n*  two spaces"


@pytest.mark.parametrize("digits", [19, 4400, 10_000])
def test_huge_reference_numbers_are_text_not_references(digits: int) -> None:
    number = "1" * digits
    parsed = parse_message(f"fix: y (#{number})\n\nCloses #{number}\nRefs #7")
    assert parsed.pr is None
    assert parsed.subject == f"y (#{number})"
    assert parsed.issues == (7,)


def test_the_largest_reference_numbers_still_parse() -> None:
    parsed = parse_message(f"fix: y (#{'9' * 18})\n\nCloses #{'8' * 18}")
    assert parsed.pr == int("9" * 18)
    assert parsed.issues == (int("8" * 18),)


def test_non_ascii_digits_are_not_reference_numbers() -> None:
    parsed = parse_message("fix: y (#١٢)\n\nCloses #٣, #4")
    assert parsed.pr is None
    assert parsed.issues == (4,)


def test_github_revert_title_reverts_the_titled_commit() -> None:
    parsed = parse_message('Revert "feat: add x (#1)" (#2)')
    assert (parsed.type, parsed.conventional, parsed.pr) == ("revert", True, 2)
    assert parsed.reverts_header == "feat: add x"
    assert parsed.subject == 'Revert "feat: add x (#1)"'


def test_github_revert_title_cancels_the_feature() -> None:
    target = raw("feat: add x (#1)", sha="b" * 40)
    keep = raw("fix: y (#3)", sha="c" * 40)
    revert = raw('Revert "feat: add x (#1)" (#2)\n\nReverts o/r#1', sha="d" * 40)
    assert [c.header for c in cancel_reverts(parse_commits([revert, keep, target]))] == [
        "fix: y (#3)"
    ]


def test_github_revert_title_with_the_reverted_sha_cancels_by_sha() -> None:
    target = raw("feat: add x (#1)", sha="b" * 40)
    revert = raw(f'Revert "feat: add x (#1)" (#2)\n\nThis reverts commit {"b" * 40}.', sha="d" * 40)
    assert cancel_reverts(parse_commits([revert, target])) == []


def test_breaking_footer_in_a_squash_bullet_belongs_to_that_bullet() -> None:
    message = (
        "fix: x (#9)\n\n* feat: a\n\nBREAKING CHANGE: b is gone\n\n* fix: c\n\n"
        "---------\n\nCo-authored-by: Bob <bob@example.com>"
    )
    entries = parse_commit(raw(message))
    assert [(e.header, e.breaking, e.breaking_descriptions) for e in entries] == [
        ("fix: x (#9)", False, ()),
        ("feat: a", True, ("b is gone",)),
        ("fix: c", False, ()),
    ]
    assert all(e.co_authors == (Person("Bob", "bob@example.com"),) for e in entries)
    assert all(e.pr == 9 for e in entries)


def test_a_bang_title_of_a_squash_stays_breaking() -> None:
    entries = parse_commit(raw("feat!: new api (#9)\n\n* feat: a\n\n* fix: b"))
    assert [(e.header, e.breaking) for e in entries] == [
        ("feat!: new api (#9)", True),
        ("feat: a", False),
        ("fix: b", False),
    ]


def test_identical_bullets_in_one_squash_are_listed_once() -> None:
    entries = parse_commit(
        raw("Tidy (#4)\n\n* fix: typo\n\n* fix: typo\n\n* Fix: Typo\n\n* docs: x")
    )
    assert [e.header for e in entries] == ["fix: typo", "docs: x"]


def test_a_revert_bullet_cancels_its_target_in_the_same_squash() -> None:
    entries = parse_commit(
        raw(
            'Try things (#5)\n\n* feat: a\n\n* fix: b\n\n* Revert "feat: a"\n\n'
            "This reverts commit 1234567890.\n\n* revert: fix: b"
        )
    )
    assert entries == []


def test_a_revert_bullet_of_another_commit_stays() -> None:
    entries = parse_commit(raw('Undo (#5)\n\n* Revert "feat: old"\n\n* fix: b'))
    assert [e.type for e in entries] == ["revert", "fix"]


def test_git_merge_squash_revert_block_cancels_its_target_block_by_sha() -> None:
    first, second = "1" * 40, "2" * 40
    message = (
        "Squashed commit of the following:\n\n"
        f"commit {second}\nAuthor: Bob <bob@example.com>\nDate:   Mon Jan 1 10:00:00 2024\n\n"
        f'    Revert "feat: pooling, first try"\n    \n    This reverts commit {first}.\n\n'
        f"commit {first}\nAuthor: Bob <bob@example.com>\nDate:   Mon Jan 1 09:00:00 2024\n\n"
        "    feat(db): pooling\n\n"
        f"commit {'3' * 40}\nAuthor: Bob <bob@example.com>\nDate:   Mon Jan 1 08:00:00 2024\n\n"
        "    fix(db): close\n"
    )
    assert [e.header for e in parse_commit(raw(message))] == ["fix(db): close"]


def test_final_co_authored_by_paragraph_belongs_to_the_whole_squash() -> None:
    entries = parse_commit(
        raw("Add (#1)\n\n* feat: a\n\n* fix: b\n\nCo-authored-by: Bob <bob@example.com>")
    )
    assert [e.co_authors for e in entries] == [(Person("Bob", "bob@example.com"),)] * 2
    assert entries[1].body == ""


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_line_endings_do_not_change_the_result(newline: str) -> None:
    message = (
        "feat(api)!: x (#3)\n\nBody line.\n\n* feat: a\n\nBREAKING CHANGE: b\n\n* fix: c\n\n"
        "Closes #4\nCo-authored-by: Bob <bob@example.com>\n"
    )
    expected = parse_commit(raw(message))
    got = parse_commit(raw(message.replace("\n", newline)))
    assert got == expected
    assert [e.header for e in got] == ["feat(api)!: x (#3)", "feat: a", "fix: c"]
    assert parse_message(message.replace("\n", newline)) == parse_message(message)


def test_cr_only_message_has_a_header_body_and_footers() -> None:
    parsed = parse_message("fix: x\r\rThe body.\r\rBREAKING CHANGE: gone\rCloses #5\r")
    assert (parsed.subject, parsed.body) == ("x", "The body.")
    assert parsed.breaking_descriptions == ("gone",)
    assert parsed.issues == (5,)


def test_cr_only_header_is_what_exclusions_see() -> None:
    kept = parse_commits([raw("fix: x\r\rwip [skip changelog]")], [r"\[skip changelog\]"])
    assert [c.header for c in kept] == ["fix: x"]


# --- Linear time: inputs big enough that a quadratic regex would run for hours -------------
# No timing assertion: on quadratic code these tests simply do not finish (the 50,000-blank
# header alone took over 10 s; 1 MB is 400 times that squared).

MEGABYTE = 1_000_000
BLANKS = " " * MEGABYTE


@pytest.mark.parametrize(
    "message",
    [
        f"feat: a{BLANKS}b",
        f"feat: a{BLANKS}b (#1)",
        f"feat: a{BLANKS}",
        f"feat:{BLANKS}",
        f"feat({BLANKS}: x",
        f"feat{'a' * MEGABYTE}",
        f'Revert "{BLANKS}" (#1)',
        'Revert "' + '"' * MEGABYTE,
        f"x\n\n* feat: a{BLANKS}b\n\n* fix: c",
        f"feat: x\n\nCo-authored-by: a{BLANKS}b <b@x>",
        f"feat: x\n\nCo-authored-by: <{'<' * MEGABYTE}",
        f"feat: x\n\nCo-authored-by: {'<a' * (MEGABYTE // 2)}>",
        f"feat: x\n\nCloses {'#' * MEGABYTE}",
        f"feat: x\n\nCloses #{'1' * MEGABYTE}a",
        "feat: x\n\n" + "\n" * MEGABYTE,
        "feat: x\n\n" + "\n " * (MEGABYTE // 2),
        "feat: x\n\n" + "* fix: y\n" * (MEGABYTE // 9),
        "x\n\n* fix: y\n\n" + "---\n" * (MEGABYTE // 4) + "Co-authored-by: a <a@x>",
        "x\n\n* fix: y\n\n" + "Co-authored-by: a <a@x>\n" * (MEGABYTE // 24),
        "feat: x\n\n" + "Refs: #1\n" * (MEGABYTE // 9),
        f"feat: x\n\nThis reverts commit {'a' * MEGABYTE}",
        "feat: x\n\n" + "commit 1234567\nAuthor: a\n\n    fix: y\n" * (MEGABYTE // 36),
        "feat: x\n\n" + "commit 1234567\n" * (MEGABYTE // 15),
        "feat: x" + "\r" * MEGABYTE,
        "feat: x" + "\r\n" * MEGABYTE,
    ],
    ids=lambda message: repr(message[:12]) + f"..{len(message)}",
)
def test_a_megabyte_message_of_any_shape_parses_in_linear_time(message: str) -> None:
    assert len(message) >= MEGABYTE * 0.9
    entries = parse_commit(raw(message))
    assert all(entry.sha == "a" * 40 for entry in entries)


def test_cancelling_many_reverts_of_one_header_is_linear() -> None:
    # 60,000 reverts each scanning 60,000 same-header commits: 3.6 billion steps (hours).
    count = 60_000
    [target] = parse_commit(raw("feat: a"))
    [revert] = parse_commit(raw("revert: feat: a"))
    commits = [replace(revert, sha=f"{i:040x}") for i in range(count)]
    commits += [replace(target, sha=f"{count + i:040x}") for i in range(count)]
    commits += parse_commit(raw("fix: b"))
    assert [c.header for c in cancel_reverts(commits)] == ["fix: b"]


def test_cancelling_many_reverts_inside_one_squash_is_linear() -> None:
    count = 10_000
    bullets = [f"* feat: a (#{i})" for i in range(count)]
    bullets += [f"* revert: feat: a (#{count + i})" for i in range(count)]
    entries = parse_commit(raw("Squash\n\n" + "\n\n".join(bullets)))
    assert entries == []
    blocks = "".join(
        f"commit {i:040x}\nAuthor: A <a@x>\n\n    feat: b{i}\n\n"
        f"commit {count + i:040x}\nAuthor: A <a@x>\n\n    revert: x\n\n"
        f"    This reverts commit {i:040x}.\n\n"
        for i in range(count // 4)
    )
    assert parse_commit(raw(f"Squashed commit of the following:\n\n{blocks}")) == []


def test_a_commit_parser_parses_one_commit_as_parse_commits_does() -> None:
    raws = [
        raw("feat(api): add x (#3)\n\nCloses #4", sha="1" * 40),
        raw("Merge branch 'x'", sha="2" * 40, parents=("a" * 40, "b" * 40)),
        raw("chore(release): v1.0.0", sha="3" * 40),
        raw("Squash (#5)\n\n* fix: a\n\n* feat: b", sha="4" * 40),
    ]
    parse = commit_parser([r"^chore\(release\):"])
    parsed = [parse(one) for one in raws]
    assert [len(entries) for entries in parsed] == [1, 0, 0, 2]
    assert [e for entries in parsed for e in entries] == parse_commits(
        raws, [r"^chore\(release\):"]
    )


def test_a_commit_parser_gives_one_author_one_person() -> None:
    parse = commit_parser()
    first = parse(raw("feat: a\n\nCo-authored-by: B <b@x>", sha="1" * 40))[0]
    second = parse(raw("fix: b", sha="2" * 40))[0]
    assert first.author is second.author
    assert first == parse_commit(raw("feat: a\n\nCo-authored-by: B <b@x>", sha="1" * 40))[0]
    assert first.co_authors[0].email == "b@x" and second.co_authors == ()
