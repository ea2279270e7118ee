"""Commit-message shapes from real histories (issue 8), end to end through real git repos.

Each history is written to a real repository and read back by `git log`, so the messages
reach the parser byte for byte (CR-only line endings, 1 MB headers) as they would on a
user's repository.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest

from relkit.cli import main
from relkit.core.errors import EXIT_OK
from tests.fixtures.gitrepo import BuiltRepo

MakeRepo = Callable[..., BuiltRepo]

START: list[dict[str, Any]] = [{"commit": "feat: first", "files": {"a": "0"}}, {"tag": "v1.0.0"}]


def build(make_repo: MakeRepo, steps: Sequence[Mapping[str, Any]]) -> BuiltRepo:
    repo = make_repo([*START, *steps])
    repo.git("remote", "add", "origin", "git@github.com:acme/widget.git")
    return repo


def version_json(repo: BuiltRepo, capsys: Any) -> dict[str, Any]:
    assert main(["-C", str(repo.path), "version", "--json"]) == EXIT_OK
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    return document


def changelog(repo: BuiltRepo, capsys: Any) -> str:
    """The changelog once HEAD is released (tagged) as the next version."""
    repo.git("tag", "v9.9.9")
    assert main(["-C", str(repo.path), "changelog", "--stdout"]) == EXIT_OK
    out: str = capsys.readouterr().out
    return out


def test_github_revert_title_cancels_the_reverted_feature(make_repo: MakeRepo, capsys: Any) -> None:
    repo = build(
        make_repo,
        [
            {"commit": "feat: add x (#1)", "files": {"x": "1"}},
            {"commit": "fix: keep y (#3)", "files": {"y": "1"}},
            {
                "commit": 'Revert "feat: add x (#1)" (#2)',
                "body": "Reverts acme/widget#1",
                "files": {"x": None},
            },
        ],
    )
    document = version_json(repo, capsys)
    assert (document["version"], document["bump"]) == ("1.0.1", "patch")
    text = changelog(repo, capsys)
    assert "keep y" in text
    assert "add x" not in text


def test_a_breaking_change_in_one_squash_bullet_stays_in_that_bullet(
    make_repo: MakeRepo, capsys: Any
) -> None:
    message = (
        "Auth rework (#4)\n\n* feat(auth): tokens\n\nBREAKING CHANGE: sessions are gone\n\n"
        "* fix(auth): typo\n\n* fix(auth): typo\n\n* feat: tried z\n\n* revert: feat: tried z\n\n"
        "---------\n\nCo-authored-by: Bob <bob@example.com>"
    )
    repo = build(
        make_repo,
        [
            {"branch": "rework"},
            {"commit": "wip", "files": {"auth": "1"}},
            {"checkout": "main"},
            {"squash": "rework", "message": message},
        ],
    )
    document = version_json(repo, capsys)
    assert document["version"] == "2.0.0"
    assert [reason["header"] for reason in document["reasons"]] == ["feat(auth): tokens"]
    text = changelog(repo, capsys)
    assert text.count("sessions are gone") == 1
    assert text.count("typo") == 1
    assert "tried z" not in text
    assert "Auth rework" not in text
    assert "Bob" in text


def test_cr_only_messages_parse_like_lf(make_repo: MakeRepo, capsys: Any) -> None:
    repo = build(
        make_repo,
        [
            {"commit": "feat(ui): old mac editor\r\rThe body.\r\rCloses #12", "files": {"u": "1"}},
            {"commit": "chore(release): v1.1.0\r\rskip me", "files": {"v": "1"}},
        ],
    )
    document = version_json(repo, capsys)
    assert document["version"] == "1.1.0"
    assert [reason["header"] for reason in document["reasons"]] == ["feat(ui): old mac editor"]
    text = changelog(repo, capsys)
    assert "old mac editor" in text
    assert "/issues/12" in text
    assert "\r" not in text
    assert "skip me" not in text  # excluded by the default `^chore\(release\):` pattern


@pytest.mark.parametrize(
    "message",
    [
        "fix: x\n\ncommit to the plan before merging",
        "fix: x\n\n*  two spaces",
        "fix: x\n\n* \n\nmore",
        "fix: x (#" + "1" * 4400 + ")\n\nCloses #" + "2" * 4400,
        "fix: x" + " " * 1_000_000 + "y",
        "fix: x\n\n* feat: a" + " " * 1_000_000 + "b\n\n* fix: c",
        "fix: x\n\nCo-authored-by: a" + " " * 1_000_000 + "b <b@example.com>",
    ],
    ids=[
        "prose-commit",
        "two-spaces",
        "bare-bullet",
        "huge-numbers",
        "blank-header",
        "blank-bullet",
        "blank-co-author",
    ],
)
def test_hostile_messages_from_real_histories_do_not_stop_the_changelog(
    make_repo: MakeRepo, capsys: Any, message: str
) -> None:
    repo = build(make_repo, [{"commit": message, "files": {"h": "1"}}])
    assert version_json(repo, capsys)["version"] in ("1.0.1", "2.0.0", "1.1.0")
    assert "Traceback" not in changelog(repo, capsys)
