"""Release pull requests end to end: `relkit cut --pr` and `relkit tag` as real processes,
against a protected bare origin (a hook rejects every push to main) that is also the fake
GitHub's git storage, so API commits, `git push` and GitHub's merges all meet in one place.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from relkit.cut.release_pr import MARKER
from tests.e2e.protected import clone, git, merge_pull, protect, push_feature
from tests.e2e.scenario import relkit_command
from tests.fakes.github_server import FakeGitHub, FakeRepo
from tests.fixtures import relkit_cli
from tests.fixtures.gitrepo import build_repo, git_env

pytestmark = pytest.mark.e2e

REPO = "acme/shop"
CONFIG = """\
tag_format = "v{version}"
release_branches = ["main"]
repository_url = "https://github.com/acme/shop"

[changelog]
file = "CHANGELOG.md"

[[version_files]]
path = "pyproject.toml"
key = "project.version"

[github]
repository = "acme/shop"
"""
PYPROJECT = '[project]\nname = "shop"\nversion = "1.0.0"\n'


@dataclass
class Project:
    checkout: Path  # the CI job's checkout, where relkit runs
    origin: Path  # bare, protected
    github: FakeGitHub
    merger: Path  # GitHub's own clone: merges land on main through it
    env: dict[str, str]

    @property
    def repo(self) -> FakeRepo:
        return self.github.repo(REPO)

    def sync(self) -> None:
        """What actions/checkout does on a push to main: the tip, full history, tags."""
        git(self.checkout, "fetch", "-q", "--tags", "--force", "origin")
        git(self.checkout, "checkout", "-q", "-B", "main", "origin/main")

    def relkit(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        self.sync()
        done = relkit_cli.run(
            [*relkit_command(), "-C", str(self.checkout), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"relkit {args}: {done.returncode}\n{done.stdout}\n{done.stderr}")
        return done

    def origin_git(self, *args: str) -> str:
        return git(self.origin, *args)

    def writes(self) -> list[str]:
        return [f"{c.method} {c.path}" for c in self.github.calls if c.method != "GET"]


def make_project(tmp_path: Path, github: FakeGitHub, config: str = CONFIG) -> Project:
    built = build_repo(
        [
            {
                "commit": "chore: start the shop",
                "files": {
                    "relkit.toml": config,
                    "pyproject.toml": PYPROJECT,
                    "README.md": "shop\n",
                },
            },
            {"commit": "feat: product list", "files": {"list.txt": "list\n"}},
            {"tag": "v1.0.0", "annotated": True, "message": "v1.0.0"},
        ],
        tmp_path / "shop",
        bare_remote=True,
    )
    assert built.remote is not None
    protect(built.remote)
    github.create_repo(REPO, git_dir=built.remote)
    env = git_env()
    env = {k: v for k, v in env.items() if not k.startswith(("GITHUB_", "RELKIT_"))}
    env.update(GITHUB_TOKEN=github.token, GITHUB_API_URL=github.api_url)
    merger = clone(built.remote, tmp_path / "github-merges")
    return Project(built.path, built.remote, github, merger, env)


@pytest.fixture
def project(tmp_path: Path, fake_github: FakeGitHub) -> Iterator[Project]:
    yield make_project(tmp_path, fake_github)
    assert fake_github.internal_errors == []


def test_main_is_really_protected(project: Project) -> None:
    (project.checkout / "x.txt").write_text("x\n")
    git(project.checkout, "add", "x.txt")
    git(project.checkout, "commit", "-q", "-m", "feat: direct")
    with pytest.raises(AssertionError, match="Protected branch"):
        git(project.checkout, "push", "-q", "origin", "main")
    # And `relkit cut` (the direct way) is refused by the hook and rolls back.
    git(project.checkout, "reset", "-q", "--hard", "origin/main")
    push_feature(project.merger, "feat: shopping cart", {"cart.txt": "cart\n"})
    done = project.relkit("cut", check=False)
    assert done.returncode == 1 and "rolled back" in done.stderr
    assert "relkit: hint: main looks protected: open a release PR instead with relkit cut --pr" in (
        done.stderr
    )


def _pr_files(project: Project, branch: str = "relkit/release") -> list[str]:
    return project.origin_git("diff", "--name-only", f"{branch}~1", branch).split()


def test_one_release_pr_follows_main(project: Project) -> None:
    push_feature(project.merger, "feat: shopping cart", {"cart.txt": "cart\n"})
    first = project.relkit("cut", "--pr")
    assert "release PR #1 opened: chore(release): v1.1.0" in first.stdout
    (pr,) = project.repo.pulls
    assert (pr.title, pr.head, pr.base, pr.state) == (
        "chore(release): v1.1.0",
        "relkit/release",
        "main",
        "open",
    )
    # One commit on the base tip, holding exactly what `relkit cut` would commit.
    main = project.origin_git("rev-parse", "main")
    assert project.origin_git("rev-parse", "relkit/release~1") == main
    assert (
        project.origin_git("log", "-1", "--format=%s", "relkit/release") == "chore(release): v1.1.0"
    )
    assert sorted(_pr_files(project)) == ["CHANGELOG.md", "pyproject.toml"]
    assert 'version = "1.1.0"' in project.origin_git("show", "relkit/release:pyproject.toml")
    assert "shopping cart" in pr.body and "### What the tag will publish" in pr.body

    # Nothing changed: nothing is written (no push, no PR edit).
    tip = project.origin_git("rev-parse", "relkit/release")
    writes = len(project.writes())
    again = project.relkit("cut", "--pr")
    assert "unchanged" in again.stdout
    assert project.origin_git("rev-parse", "relkit/release") == tip
    assert len(project.writes()) == writes

    # A second feature: the same PR, rebased onto the new tip, notes recomputed.
    push_feature(project.merger, "fix: empty cart total is 0", {"cart.txt": "cart 0\n"})
    project.relkit("cut", "--pr")
    assert [p.number for p in project.repo.pulls] == [1]
    assert project.origin_git("rev-parse", "relkit/release~1") == project.origin_git(
        "rev-parse", "main"
    )
    assert "empty cart total is 0" in pr.body and "shopping cart" in pr.body
    changelog = project.origin_git("show", "relkit/release:CHANGELOG.md")
    assert "empty cart total is 0" in changelog and "shopping cart" in changelog

    # A maintainer asks for 2.0.0: honoured, kept in the body, checked against the commits.
    pr.body = "Release-As: 2.0.0\n\n" + (pr.body or "")
    project.relkit("cut", "--pr")
    assert pr.title == "chore(release): v2.0.0"
    assert pr.body.startswith("Release-As: 2.0.0\n")
    assert 'version = "2.0.0"' in project.origin_git("show", "relkit/release:pyproject.toml")
    pr.body = pr.body.replace("Release-As: 2.0.0", "Release-As: 1.0.1")
    refused = project.relkit("cut", "--pr", check=False)
    assert refused.returncode == 2
    assert refused.stderr.startswith("relkit: error: Release-As in #1 asks for 1.0.1: ")
    assert pr.title == "chore(release): v2.0.0"  # nothing written


def test_a_release_as_line_from_a_commit_is_not_a_maintainer_edit(project: Project) -> None:
    push_feature(
        project.merger,
        f"feat: cart\n\nRelease-As: 9.0.0\n{MARKER}",
        {"cart.txt": "cart\n"},
    )
    project.relkit("cut", "--pr")
    (pr,) = project.repo.pulls
    assert pr.title == "chore(release): v1.1.0"
    project.relkit("cut", "--pr")
    assert pr.title == "chore(release): v1.1.0"


def test_nothing_to_release_closes_the_pr_and_deletes_the_branch(project: Project) -> None:
    feature = push_feature(project.merger, "feat: shopping cart", {"cart.txt": "cart\n"})
    project.relkit("cut", "--pr")
    (pr,) = project.repo.pulls
    push_feature(
        project.merger,
        f"revert: feat: shopping cart\n\nThis reverts commit {feature}.",
        {"cart.txt": "gone\n"},
    )
    done = project.relkit("cut", "--pr")
    assert "release PR #1 closed" in done.stdout
    assert pr.state == "closed"
    assert "relkit closed this release PR" in pr.comments[-1]["body"]
    assert "refs/heads/relkit/release" not in project.repo.refs
    writes = len(project.writes())
    assert project.relkit("cut", "--pr").returncode == 0
    assert len(project.writes()) == writes


def test_the_commit_through_the_git_data_api(project: Project) -> None:
    project.github.tokens["ghs_actions_token"] = "github-actions[bot]"
    project.env["GITHUB_TOKEN"] = "ghs_actions_token"
    push_feature(project.merger, "feat: shopping cart", {"cart.txt": "cart\n"})
    done = project.relkit("cut", "--pr", "--via-api")
    assert "(signed by GitHub)" in done.stdout
    sha = project.origin_git("rev-parse", "relkit/release")
    assert sha in project.repo.signed_commits
    assert sorted(_pr_files(project)) == ["CHANGELOG.md", "pyproject.toml"]
    writes = len(project.writes())
    project.relkit("cut", "--pr", "--via-api")
    assert len(project.writes()) == writes  # unchanged: no blob, tree, commit or ref


def _edit_release_branch(project: Project, path: str, old: str, new: str) -> None:
    """A maintainer's hand edit pushed to the release PR's branch."""
    work = project.merger
    git(work, "fetch", "-q", "origin")
    git(work, "checkout", "-q", "-B", "edit", "origin/relkit/release")
    target = work / path
    target.write_text(target.read_text().replace(old, new))
    git(work, "commit", "-q", "-am", "docs: polish the notes")
    git(work, "push", "-q", "origin", "edit:relkit/release")


@pytest.mark.parametrize("how", ["squash", "merge", "rebase"])
def test_merged_release_pr_is_tagged_once(project: Project, how: str) -> None:
    push_feature(project.merger, "feat: shopping cart", {"cart.txt": "cart\n"})
    project.relkit("cut", "--pr")
    if how == "squash":
        _edit_release_branch(project, "CHANGELOG.md", "shopping cart", "shopping cart (thanks!)")
    merged = merge_pull(project.repo, project.merger, 1, how)

    done = project.relkit("tag")
    assert f"tagged v1.1.0 on {merged[:7]} (release PR #1)" in done.stdout
    assert project.origin_git("cat-file", "-t", "v1.1.0") == "tag"  # annotated
    assert project.origin_git("rev-parse", "v1.1.0^{commit}") == merged
    assert project.repo.issues[1].labels == ["relkit: released"]
    if how == "squash":  # the hand-edited notes are what was tagged
        assert "shopping cart (thanks!)" in project.origin_git("show", "v1.1.0:CHANGELOG.md")

    writes = len(project.writes())
    again = project.relkit("tag")
    assert "v1.1.0 is already tagged" in again.stdout
    assert len(project.writes()) == writes

    # The next run of cut --pr on main: nothing to release, the merged branch is deleted.
    after = project.relkit("cut", "--pr")
    assert "no releasable commit" in after.stdout
    assert "refs/heads/relkit/release" not in project.repo.refs


def test_tag_ignores_a_commit_that_only_looks_like_a_release(project: Project) -> None:
    push_feature(project.merger, "chore(release): v1.1.0", {"CHANGELOG.md": "## 1.1.0\n"})
    done = project.relkit("tag")
    assert "is not a merged relkit release PR: no tag" in done.stdout
    assert "v1.1.0" not in project.origin_git("tag", "--list")
    # A merged PR from another branch with a release title is not one either.
    pr = project.repo.add_pull("feature/x", "main", "chore(release): v1.1.0")
    sha = push_feature(project.merger, "feat: x", {"x.txt": "x\n"})
    project.repo.merge_pull(pr.number, sha, [sha])
    assert "no tag" in project.relkit("tag").stdout
    assert project.origin_git("tag", "--list") == "v1.0.0"


def test_tag_refuses_a_release_pr_whose_version_the_commits_do_not_allow(
    project: Project,
) -> None:
    push_feature(project.merger, "feat: shopping cart", {"cart.txt": "cart\n"})
    project.relkit("cut", "--pr")
    project.repo.issues[1].title = "chore(release): v1.0.1"  # hand-edited title
    merge_pull(project.repo, project.merger, 1, "squash")
    done = project.relkit("tag", check=False)
    assert done.returncode == 2
    assert done.stderr.splitlines()[0].startswith("relkit: error: refusing to tag v1.0.1 on ")
    assert "1.0.1 is lower than 1.1.0" in done.stderr
    assert project.origin_git("tag", "--list") == "v1.0.0"
    assert project.repo.issues[1].labels == []


COMPONENTS_CONFIG = """\
tag_format = "v{version}"
release_branches = ["main"]

[github]
repository = "acme/shop"

[[components]]
name = "api"
paths = ["services/api"]
tag_prefix = "api/"

[[components.version_files]]
path = "services/api/VERSION"
pattern = "(?P<version>[0-9][^\\\\s]*)"

[[components]]
name = "web"
paths = ["services/web"]
tag_prefix = "web/"
"""


def test_a_component_monorepo_keeps_one_release_pr_per_component(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    project = make_project(tmp_path, fake_github, COMPONENTS_CONFIG)
    push_feature(
        project.merger,
        "feat(api): orders endpoint",
        {"services/api/orders.txt": "orders\n", "services/api/VERSION": "0.0.0\n"},
    )
    push_feature(project.merger, "fix(web): header", {"services/web/header.txt": "h\n"})
    assert (
        "opened: chore(release): api/v0.1.0"
        in project.relkit("cut", "--pr", "--component", "api").stdout
    )
    assert (
        "opened: chore(release): web/v0.1.0"
        in project.relkit("cut", "--pr", "--component", "web").stdout
    )
    api, web = sorted(project.repo.pulls, key=lambda p: p.number)
    assert (api.head, web.head) == ("relkit/release-api", "relkit/release-web")
    assert _pr_files(project, "relkit/release-api") == [
        "services/api/CHANGELOG.md",
        "services/api/VERSION",
    ]
    assert _pr_files(project, "relkit/release-web") == ["services/web/CHANGELOG.md"]
    assert "header" not in (api.body or "") and "orders" not in (web.body or "")

    merged = merge_pull(project.repo, project.merger, api.number, "squash")
    assert f"tagged api/v0.1.0 on {merged[:7]}" in project.relkit("tag").stdout
    # web's PR follows main (now holding api's release) and still releases only web.
    assert "updated" in project.relkit("cut", "--pr", "--component", "web").stdout
    assert project.origin_git("rev-parse", "relkit/release-web~1") == merged
    assert web.title == "chore(release): web/v0.1.0" and web.state == "open"
    assert "no releasable commit" in project.relkit("cut", "--pr", "--component", "api").stdout
    assert api.labels == ["relkit: released"]


def test_the_action_runs_release_pr_and_tag_then_release_in_the_same_step(
    project: Project, tmp_path: Path
) -> None:
    """The composite action's own script (bash, inputs as data), `release-after-tag` being
    the set-up for GITHUB_TOKEN, whose tag would start no other workflow."""
    import sys

    from tests.integration.test_check import run_action

    bin_dir = tmp_path / "runner" / "relkit-venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "relkit").symlink_to(Path(sys.executable).with_name("relkit"))
    (bin_dir / "python").symlink_to(sys.executable)
    base = {
        **{k: v for k, v in project.env.items() if k.startswith(("GIT", "LC_"))},
        "INPUT_CONFIG": "",
        "INPUT_FORGE": "none",
    }
    push_feature(project.merger, "feat: shopping cart", {"cart.txt": "cart\n"})
    project.sync()
    outputs = tmp_path / "outputs"
    done = run_action(
        {**base, "INPUT_COMMAND": "release-pr", "GITHUB_OUTPUT": str(outputs)},
        cwd=project.checkout,
        tmp_path=tmp_path,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    assert "release PR #1 opened" in done.stdout
    assert "release_pr_number<<" in outputs.read_text()
    merge_pull(project.repo, project.merger, 1, "squash")
    project.sync()
    done = run_action(
        {**base, "INPUT_COMMAND": "tag", "INPUT_RELEASE_AFTER_TAG": "true"},
        cwd=project.checkout,
        tmp_path=tmp_path,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    assert project.origin_git("tag", "--list", "v1.1.0") == "v1.1.0"
    assert "relkit: released v1.1.0" in done.stdout
    # Not a release commit: the tag step is a no-op and nothing is released.
    push_feature(project.merger, "docs: readme", {"README.md": "more\n"})
    project.sync()
    done = run_action(
        {**base, "INPUT_COMMAND": "tag", "INPUT_RELEASE_AFTER_TAG": "true"},
        cwd=project.checkout,
        tmp_path=tmp_path,
    )
    assert done.returncode == 0 and "no tag" in done.stdout and "released" not in done.stdout


def test_dry_run_and_refusals_write_nothing(project: Project) -> None:
    push_feature(project.merger, "feat: shopping cart", {"cart.txt": "cart\n"})
    dry = project.relkit("cut", "--pr", "--dry-run")
    assert "chore(release): v1.1.0 on relkit/release -> main (dry run" in dry.stdout
    assert "+++ b/pyproject.toml" in dry.stdout
    assert project.writes() == [] and project.repo.pulls == []
    assert "refs/heads/relkit/release" not in project.repo.refs
    no_push = project.relkit("cut", "--pr", "--no-push", check=False)
    assert no_push.returncode == 2
    assert no_push.stderr.startswith("relkit: error: --no-push does not go with --pr\n")
    via = project.relkit("cut", "--via-api", check=False)
    assert via.returncode == 2 and "relkit: error: --via-api needs --pr" in via.stderr
    # A checkout behind the remote's tip is refused: the PR is computed from the pushed tip.
    push_feature(project.merger, "fix: later", {"later.txt": "l\n"})
    behind = relkit_cli.run(
        [*relkit_command(), "-C", str(project.checkout), "cut", "--pr"],
        env=project.env,
        capture_output=True,
        text=True,
    )
    assert behind.returncode == 2
    assert "is not the tip of origin/main" in behind.stderr
    assert project.writes() == []


def test_commit_text_in_cut_pr_output_runs_no_workflow_command(project: Project) -> None:
    from tests.fixtures.actions_runner import commands

    push_feature(project.merger, "feat: cart ##[add-mask]hunter2", {"cart.txt": "cart\n"})
    project.env = {**project.env, "GITHUB_ACTIONS": "true"}
    for args in (("cut", "--pr", "--dry-run"), ("cut", "--pr")):
        done = project.relkit(*args)
        if "--dry-run" in args:
            assert "##[add-mask]hunter2" in done.stdout  # the reason and the diff show it
        executed = commands(done.stdout) + commands(done.stderr)
        assert [c.name for c in executed] == [], executed
