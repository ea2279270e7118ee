"""`relkit check --comment` on a PR, against the fake GitHub: one comment however many
pushes, commit text that cannot mention, forge the marker or run workflow commands, and a
fork's read-only run that writes nothing to the API and keeps the checks' exit code."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from relkit.cut.pr_preview import MARKER
from tests.e2e.protected import git
from tests.e2e.scenario import relkit_command
from tests.e2e.test_release_pr import COMPONENTS_CONFIG, Project, make_project
from tests.fakes.github_server import FakeGitHub
from tests.fixtures import relkit_cli
from tests.fixtures.markdown_reader import live_mentions

pytestmark = pytest.mark.e2e

HOSTILE = "feat: cart for @octocat <!-- relkit:pr-preview --> ::error::pwned"


@pytest.fixture
def project(tmp_path: Path, fake_github: FakeGitHub) -> Project:
    made = make_project(tmp_path, fake_github)
    git(made.checkout, "checkout", "-q", "-b", "feature/cart")
    made.repo.add_pull("feature/cart", "main", "feat: shopping cart")
    return made


def _push(project: Project, message: str, name: str) -> None:
    (project.checkout / name).write_text(message + "\n")
    git(project.checkout, "add", name)
    git(project.checkout, "commit", "-q", "-m", message)


def _check(
    project: Project, *extra: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return relkit_cli.run(
        [
            *relkit_command(), "-C", str(project.checkout), "check",
            "--range", "origin/main..HEAD", "--comment", *extra,
        ],
        env={**project.env, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip


def test_three_pushes_leave_one_comment_edited_in_place(project: Project) -> None:
    _push(project, "feat: shopping cart", "cart.txt")
    first = _check(project, "--pr-number", "1")
    assert first.returncode == 0, first.stderr
    assert "relkit: preview on #1 created" in first.stdout
    _push(project, "fix: empty cart total", "total.txt")
    assert "updated" in _check(project, "--pr-number", "1").stdout
    _push(project, HOSTILE, "hostile.txt")
    third = _check(project, "--pr-number", "1", env={"GITHUB_ACTIONS": "true"})
    assert "updated" in third.stdout
    (comment,) = project.repo.issues[1].comments
    body = comment["body"]
    assert body.startswith(MARKER) and body.count(MARKER) == 1
    assert "Merging this PR, the next release is **v1.1.0**" in body
    assert "shopping cart" in body and "empty cart total" in body
    assert "`@octocat`" in body and live_mentions(body) == []  # code: no mention
    assert "&lt;!-- relkit:pr-preview -->" in body
    assert "Checks:** all passed" in body
    assert not any(line.startswith("::error::pwned") for line in third.stdout.splitlines())
    # Unchanged: no write at all.
    writes = len(project.writes())
    assert "unchanged" in _check(project, "--pr-number", "1").stdout
    assert len(project.writes()) == writes


def test_failing_checks_are_in_the_comment_and_set_the_exit_code(project: Project) -> None:
    _push(project, "added a thing", "thing.txt")
    done = _check(project, "--pr-number", "1")
    assert done.returncode == 1
    (comment,) = project.repo.issues[1].comments
    assert "Failing checks (1)" in comment["body"] and "not conventional" in comment["body"]


def test_a_fork_run_writes_nothing_and_summarises(project: Project, tmp_path: Path) -> None:
    _push(project, "feat: shopping cart", "cart.txt")
    event = tmp_path / "event.json"
    event.write_text(
        json.dumps(
            {
                "pull_request": {
                    "number": 1,
                    "head": {"repo": {"full_name": "mallory/shop"}},
                    "base": {"repo": {"full_name": "acme/shop"}},
                }
            }
        )
    )
    summary = tmp_path / "summary.md"
    before = len(project.github.calls)
    done = _check(
        project,
        env={
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_EVENT_PATH": str(event),
            "GITHUB_STEP_SUMMARY": str(summary),
        },
    )
    assert done.returncode == 0, done.stderr
    assert len(project.github.calls) == before  # not even a read
    assert project.repo.issues[1].comments == []
    assert "no PR comment: #1 comes from the fork mallory/shop: its token is read-only" in (
        done.stderr
    )
    text = summary.read_text()
    assert "relkit did not comment on the PR" in text and "next release is **v1.1.0**" in text
    # The exit code is the checks' own.
    _push(project, "added a thing", "thing.txt")
    failing = _check(
        project,
        env={"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(event)},
    )
    assert failing.returncode == 1
    assert len(project.github.calls) == before


def test_a_monorepo_preview_names_the_components_the_pr_touches(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    project = make_project(tmp_path, fake_github, COMPONENTS_CONFIG)
    git(project.checkout, "checkout", "-q", "-b", "feature/api")
    project.repo.add_pull("feature/api", "main", "feat(api): orders")
    (project.checkout / "services" / "api").mkdir(parents=True)
    _push(project, "feat(api): orders endpoint", "services/api/orders.txt")
    done = _check(project, "--pr-number", "1")
    assert done.returncode == 0, done.stderr
    (comment,) = project.repo.issues[1].comments
    assert "- `api`: next **api/v0.1.0** (" in comment["body"]
    assert "`web`" not in comment["body"]
