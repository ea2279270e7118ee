"""The protected-main release, end to end: two feature merges -> one release PR, updated
each time -> merged (squash, merge commit or rebase) -> `relkit tag` -> `relkit release
--forge github` publishes the chart, the signed bundle, the GitHub release and the promotion
PR. Every re-run is a no-op.

Real registry and Helm, real git (the protected bare origin is also the fake GitHub's git
storage), real `relkit` processes; see tests/e2e/test_release.py for the release world.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.protected import clone, git, merge_pull, protect, push_feature
from tests.e2e.scenario import Scenario, run_relkit, set_up
from tests.fakes.github_server import FakeGitHub
from tests.fixtures.registry import RegistryServer

pytestmark = pytest.mark.e2e


@pytest.fixture
def world(tmp_path: Path, registry: RegistryServer) -> Iterator[tuple[Scenario, FakeGitHub]]:
    github = FakeGitHub().start()
    scenario = set_up(
        tmp_path / "w",
        registry.host,
        forge="github",
        api_url=github.api_url,
        github_token=github.token,
        namespace=f"pr-{uuid.uuid4().hex[:8]}",
        tag=None,  # main holds the work for 1.2.0, untagged
    )
    assert scenario.project.remote is not None
    protect(scenario.project.remote)
    github.create_repo("acme/shop", git_dir=scenario.project.remote)
    github.create_repo("acme/gitops")
    scenario.push_images("1.2.0")
    yield scenario, github
    github.stop()
    assert github.internal_errors == []


def _ci(scenario: Scenario, *args: str) -> str:
    """One CI job on main: a fresh checkout of the tip (with tags), then relkit."""
    root = scenario.root
    git(root, "fetch", "-q", "--tags", "--force", "origin")
    git(root, "checkout", "-q", "-B", "main", "origin/main")
    return run_relkit(scenario, *args).stdout


@pytest.mark.parametrize("how", ["squash", "merge", "rebase"])
def test_protected_main_release_from_pr_to_published(
    world: tuple[Scenario, FakeGitHub], tmp_path: Path, how: str
) -> None:
    scenario, github = world
    assert scenario.project.remote is not None
    shop = github.repo("acme/shop")
    merger = clone(scenario.project.remote, tmp_path / "github-merges")

    assert "release PR #1 opened: chore(release): v1.2.0" in _ci(scenario, "cut", "--pr")
    push_feature(merger, "feat(web): wishlist (#10)", {"wishlist.txt": "wish\n"})
    assert "release PR #1 updated" in _ci(scenario, "cut", "--pr")
    push_feature(merger, "fix(worker): keep job order (#11)", {"worker.txt": "ordered\n"})
    assert "release PR #1 updated" in _ci(scenario, "cut", "--pr")
    (pr,) = shop.pulls
    assert "wishlist" in (pr.body or "") and "keep job order" in (pr.body or "")
    assert "Helm chart `acme` 1.2.0" in (pr.body or "")
    assert "promotion PR in `acme/gitops` moving `staging`" in (pr.body or "")
    assert "unchanged" in _ci(scenario, "cut", "--pr")

    merged = merge_pull(shop, merger, 1, how)
    # The merge-to-main workflow: tag first, then keep the (next) release PR.
    assert f"tagged v1.2.0 on {merged[:7]}" in _ci(scenario, "tag")
    assert "no releasable commit" in _ci(scenario, "cut", "--pr")
    assert "already tagged" in _ci(scenario, "tag")

    # The tag workflow.
    released = run_relkit(scenario, "release", "--tag", "v1.2.0", "--forge", "github")
    assert "relkit: released v1.2.0" in released.stdout
    (release,) = shop.releases.values()
    assert (release.tag_name, release.draft) == ("v1.2.0", False)
    assert "wishlist" in (release.body or "")
    (promotion,) = github.repo("acme/gitops").pulls
    assert promotion.head == "relkit/promote-staging-1.2.0"
    chart = git(scenario.project.remote, "show", "v1.2.0:charts/acme/Chart.yaml")
    assert "appVersion: 1.2.0" in chart or 'appVersion: "1.2.0"' in chart
    again = run_relkit(scenario, "release", "--tag", "v1.2.0", "--forge", "github")
    assert "already released" in again.stdout
