"""The plan phase of `relkit release` on real repositories: which tag, and whether it fits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from relkit.core.config import RelkitConfig
from relkit.core.errors import UsageError
from relkit.history.releases import plan_release
from relkit.release.plan import (
    build_plan,
    check_on_release_branch,
    check_version_fits,
    tag_from_env,
)
from tests.fixtures.gitrepo import BuiltRepo

Maker = Callable[..., BuiltRepo]

BASE: list[dict[str, Any]] = [
    {"commit": "feat: first"},
    {"tag": "v1.0.0", "annotated": True, "message": "v1.0.0"},
]


def _no_images(references: Any) -> dict[str, str]:
    return {}


def test_tag_comes_from_github_ref_then_head(make_repo: Maker) -> None:
    repo = make_repo([*BASE, {"commit": "fix: a"}, {"tag": "v1.0.1"}])
    config = RelkitConfig()
    assert tag_from_env(repo.path, config, {"GITHUB_REF": "refs/tags/v9.9.9"}) == "v9.9.9"
    assert tag_from_env(repo.path, config, {"GITHUB_REF": "refs/heads/main"}) == "v1.0.1"


def test_no_tag_anywhere_is_a_usage_error(make_repo: Maker) -> None:
    repo = make_repo([*BASE, {"commit": "fix: a"}])
    with pytest.raises(UsageError, match="no release tag given and HEAD has none"):
        tag_from_env(repo.path, RelkitConfig(), {})


def test_version_matching_the_commits_fits(make_repo: Maker) -> None:
    repo = make_repo([*BASE, {"commit": "feat: b"}, {"tag": "v1.1.0"}])
    plan = build_plan(repo.path, RelkitConfig(), "v1.1.0", env={}, resolver=_no_images)
    assert (str(plan.version), plan.previous_tag, plan.commit) == ("1.1.0", "v1.0.0", repo.head)


def test_version_above_the_commits_is_accepted(make_repo: Maker) -> None:
    repo = make_repo([*BASE, {"commit": "fix: b"}, {"tag": "v2.0.0"}])
    config = RelkitConfig()
    check_version_fits(repo.path, config, plan_release(repo.path, config, tag="v2.0.0"))


def test_breaking_change_tagged_as_minor_is_refused(make_repo: Maker) -> None:
    repo = make_repo([*BASE, {"commit": "feat!: drop the old API"}, {"tag": "v1.1.0"}])
    config = RelkitConfig()
    with pytest.raises(UsageError, match=r"tag v1.1.0 is lower than 2.0.0 required by the major"):
        check_version_fits(repo.path, config, plan_release(repo.path, config, tag="v1.1.0"))


def test_tag_without_releasable_commits_is_refused(make_repo: Maker) -> None:
    repo = make_repo([*BASE, {"commit": "chore: tidy"}, {"tag": "v1.0.1"}])
    config = RelkitConfig()
    with pytest.raises(UsageError, match="no releasable commit since v1.0.0"):
        check_version_fits(repo.path, config, plan_release(repo.path, config, tag="v1.0.1"))


def test_prerelease_is_checked_against_the_last_final_release(make_repo: Maker) -> None:
    repo = make_repo(
        [
            *BASE,
            {"commit": "feat: b"},
            {"tag": "v1.1.0-rc.1"},
            {"commit": "fix: c"},
            {"tag": "v1.1.0-rc.2"},
        ]
    )
    config = RelkitConfig()
    check_version_fits(repo.path, config, plan_release(repo.path, config, tag="v1.1.0-rc.2"))


def test_tag_off_the_release_branches_is_refused(make_repo: Maker) -> None:
    repo = make_repo(
        [
            *BASE,
            {"branch": "experiment"},
            {"commit": "feat: x"},
            {"tag": "v1.1.0"},
            {"checkout": "main"},
        ]
    )
    with pytest.raises(UsageError, match=r"tag v1.1.0 points at .* not on a release branch"):
        check_on_release_branch(repo.path, RelkitConfig(), repo.tag_sha("v1.1.0"), "v1.1.0")


def test_missing_release_branches_say_how_to_fetch(make_repo: Maker) -> None:
    repo = make_repo(BASE)
    config = RelkitConfig(release_branches=["release"])
    with pytest.raises(UsageError, match="none of the release branches"):
        check_on_release_branch(repo.path, config, repo.head, "v1.0.0")
