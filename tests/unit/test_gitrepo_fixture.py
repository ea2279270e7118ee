"""The history-spec repository builder: real git objects, reproducible shas."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.gitrepo import BuiltRepo, HistorySpecError, build_repo

MakeRepo = Callable[..., BuiltRepo]

SPEC: list[dict[str, Any]] = [
    {"commit": "chore: init", "files": {"README.md": "hello\n"}, "id": "init"},
    {"tag": "v0.1.0", "annotated": True, "message": "release 0.1.0"},
    {"branch": "feature"},
    {
        "commit": "feat(api): add x",
        "files": {"api/x.py": "x = 1\n"},
        "author": "Ada <ada@example.com>",
        "date": "2024-02-03T04:05:06Z",
        "id": "x",
    },
    {"commit": "fix: y", "body": "Closes #4", "files": {"api/x.py": "x = 2\n"}},
    {"checkout": "main"},
    {"commit": "docs: readme", "files": {"README.md": "hello world\n"}},
    {"merge": "feature", "message": "Merge pull request #12 from acme/feature"},
    {"tag": "v0.2.0"},
    {"branch": "squashed"},
    {"commit": "feat: a", "files": {"s.txt": "a\n"}},
    {"commit": "fix: b", "files": {"s.txt": "b\n", "README.md": None}},
    {"checkout": "main"},
    {"squash": "squashed", "message": "feat: x (#13)\n\n* feat: a\n\n* fix: b"},
    {"revert": "x"},
    {"commit": "chore: mention {short:init} and {sha:v0.1.0}"},
]


def test_builds_history_with_merges_squashes_tags_and_reverts(make_repo: MakeRepo) -> None:
    repo = make_repo(SPEC)

    assert repo.branch == "main"
    assert len(repo.commits) == 10
    assert repo.head == repo.commits[-1]
    # The merge commit has two parents, the squash commit one.
    merge, squash = repo.commits[4], repo.commits[7]
    assert len(repo.git("rev-list", "--parents", "-n1", merge).split()) == 3
    assert len(repo.git("rev-list", "--parents", "-n1", squash).split()) == 2
    assert (
        repo.git("log", "-1", "--format=%B", squash) == "feat: x (#13)\n\n* feat: a\n\n* fix: b\n\n"
    )
    # Annotated vs lightweight tags.
    assert repo.git("cat-file", "-t", "v0.1.0").strip() == "tag"
    assert repo.git("cat-file", "-t", "v0.2.0").strip() == "commit"
    assert repo.tag_sha("v0.1.0") == repo.sha("init") == repo.commits[0]
    assert repo.tag_sha("v0.2.0") == merge
    assert sorted(repo.tags()) == ["v0.1.0", "v0.2.0"]
    # Author and date come from the spec.
    assert repo.git("log", "-1", "--format=%an <%ae> %aI", repo.sha("x")).strip() == (
        "Ada <ada@example.com> 2024-02-03T04:05:06+00:00"
    )
    # Work tree reflects main: merged api/x.py, squash deleted README.md, revert undid x.
    assert not (repo.path / "README.md").exists()
    assert (repo.path / "s.txt").read_text() == "b\n"
    assert not (repo.path / "api" / "x.py").exists()
    revert_msg = repo.git("log", "-1", "--format=%B", repo.commits[-2])
    assert revert_msg == f'Revert "feat(api): add x"\n\nThis reverts commit {repo.sha("x")}.\n\n'
    last = repo.git("log", "-1", "--format=%s").strip()
    assert last == f"chore: mention {repo.sha('init')[:7]} and {repo.sha('init')}"
    assert repo.git("status", "--porcelain") == ""


def test_same_spec_gives_same_shas(tmp_path: Path) -> None:
    first = build_repo(SPEC, tmp_path / "a")
    second = build_repo(SPEC, tmp_path / "b")
    assert first.commits == second.commits
    assert first.tag_sha("v0.1.0") == second.tag_sha("v0.1.0")
    assert first.git("rev-parse", "v0.1.0") == second.git("rev-parse", "v0.1.0")


def test_bare_remote_gets_branches_tags_and_upstreams(make_repo: MakeRepo) -> None:
    repo = make_repo(SPEC, bare_remote=True)
    assert repo.remote is not None and repo.remote.is_dir()
    remote_refs = repo.git("ls-remote", "origin").split()
    assert "refs/heads/main" in remote_refs
    assert "refs/heads/feature" in remote_refs
    assert "refs/tags/v0.1.0" in remote_refs
    assert repo.git("rev-parse", "--abbrev-ref", "main@{upstream}").strip() == "origin/main"


def test_branch_from_an_old_commit_sees_its_files(make_repo: MakeRepo) -> None:
    repo = make_repo(
        [
            {"commit": "feat: one", "files": {"a.txt": "1\n"}, "id": "one"},
            {"commit": "feat: two", "files": {"a.txt": "2\n", "b.txt": "b\n"}},
            {"branch": "hotfix", "from": "one"},
            {"commit": "fix: hot", "files": {"c.txt": "c\n"}},
        ]
    )
    assert repo.branch == "hotfix"
    assert (repo.path / "a.txt").read_text() == "1\n"
    assert not (repo.path / "b.txt").exists()
    assert repo.git("rev-parse", "HEAD~1").strip() == repo.sha("one")


def test_commit_without_files_is_empty(make_repo: MakeRepo) -> None:
    repo = make_repo([{"commit": "feat: a", "files": {"a": "1"}}, {"commit": "fix: nothing"}])
    assert repo.git("diff-tree", "--no-commit-id", "--name-only", "-r", "HEAD") == ""


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ([{"comit": "typo"}], "exactly one of"),
        ([{"commit": "a", "author": "no email"}], "Name <email>"),
        ([{"commit": "a"}, {"tag": "v1", "at": "nope"}], "unknown ref 'nope'"),
        ([{"commit": "a"}, {"merge": "ghost"}], "unknown branch 'ghost'"),
        ([{"commit": "a"}, {"checkout": "ghost"}], "unknown branch 'ghost'"),
        ([{"commit": "a"}, {"branch": "main"}], "already exists"),
    ],
)
def test_bad_specs_are_refused(tmp_path: Path, spec: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(HistorySpecError, match=message):
        build_repo(spec, tmp_path / "r")
