"""`release_branches` globs mean the same for `relkit cut` and `relkit release` (issue 12 §5)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relkit.core.config import RelkitConfig
from relkit.core.errors import UsageError
from relkit.history.release_branches import is_release_branch
from relkit.release.plan import check_on_release_branch
from tests.fixtures.gitrepo import BuiltRepo

Maker = Callable[..., BuiltRepo]
GLOBS = RelkitConfig(release_branches=["main", "release/*"])
MAINTENANCE: list[dict[str, Any]] = [
    {"commit": "feat: first"},
    {"tag": "v1.0.0", "annotated": True, "message": "v1.0.0"},
    {"branch": "release/1.0"},
    {"commit": "fix: a backport"},
    {"tag": "v1.0.1", "annotated": True, "message": "v1.0.1"},
    {"checkout": "main"},
    {"commit": "feat: next"},
]


def test_tag_on_a_branch_matching_a_glob_is_on_a_release_branch(make_repo: Maker) -> None:
    repo = make_repo(MAINTENANCE)
    check_on_release_branch(repo.path, GLOBS, repo.tag_sha("v1.0.1"), "v1.0.1")


def test_remote_tracking_branch_matching_a_glob_counts(make_repo: Maker) -> None:
    # CI clones have origin/release/1.0 but no local branch of that name.
    repo = make_repo(MAINTENANCE)
    sha = repo.tag_sha("v1.0.1")
    repo.git("update-ref", "refs/remotes/origin/release/1.0", sha)
    repo.git("branch", "-q", "-D", "release/1.0")
    check_on_release_branch(repo.path, GLOBS, sha, "v1.0.1")


def test_glob_does_not_match_other_branches(make_repo: Maker) -> None:
    repo = make_repo(MAINTENANCE)
    config = RelkitConfig(release_branches=["main", "releases/*"])
    with pytest.raises(UsageError, match=r"tag v1.0.1 points at .* not on a release branch"):
        check_on_release_branch(repo.path, config, repo.tag_sha("v1.0.1"), "v1.0.1")


def test_cut_and_release_agree(make_repo: Maker) -> None:
    from relkit.adapters.git_repo import GitRepo
    from relkit.cut.prepare import _check_branch as check_branch

    repo = make_repo(MAINTENANCE)
    repo.git("switch", "-q", "release/1.0")
    assert check_branch(GitRepo(repo.path), GLOBS) == "release/1.0"
    check_on_release_branch(repo.path, GLOBS, repo.head, "v1.0.1")


names = st.text(alphabet="abcr/._-*0123456789", min_size=1, max_size=12)


@settings(derandomize=True, max_examples=200, deadline=None)
@given(branch=names, literal=names)
def test_a_literal_entry_matches_only_itself(branch: str, literal: str) -> None:
    if any(c in literal for c in "*?["):
        return
    assert is_release_branch(branch, [literal]) == (branch == literal)


@pytest.mark.parametrize(
    ("branch", "expected"),
    [
        ("main", True),
        ("release/1.0", True),
        ("release/1.x", True),
        ("release", False),
        ("releases/1.0", False),
        ("feature/release/1.0", False),
        ("Main", False),
    ],
)
def test_matcher(branch: str, expected: bool) -> None:
    assert is_release_branch(branch, GLOBS.release_branches) is expected
