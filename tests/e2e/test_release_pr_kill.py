"""SIGKILL `relkit cut --pr` and `relkit tag` right after each GitHub request they make (the
request took effect, the answer never arrived), re-run, and get a clean run's final state.

The kill comes from the fake GitHub itself: a hook that runs after the n-th request was
handled and before the answer is sent kills the relkit process, so every API write (and,
through the requests between them, every git push) is a kill point.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.protected import merge_pull, push_feature
from tests.e2e.scenario import relkit_command
from tests.e2e.test_release_pr import Project, make_project
from tests.fakes.github_server import Call, FakeGitHub
from tests.fixtures import relkit_cli

pytestmark = pytest.mark.e2e


def _killed_at(project: Project, nth: int, *args: str) -> int | None:
    """Run relkit; SIGKILL it after the fake handled its `nth` request. None: it ended first."""
    project.sync()
    process = relkit_cli.popen(
        [*relkit_command(), "-C", str(project.checkout), *args],
        env=project.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    start = len(project.github.calls)
    fired: list[bool] = []

    def kill(call: Call) -> None:
        if not fired and len(project.github.calls) - start >= nth:
            fired.append(True)
            os.kill(process.pid, signal.SIGKILL)

    for method in ("GET", "POST", "PATCH", "DELETE"):
        project.github.after(method, "*", kill)
    code = process.wait(timeout=120)
    project.github.hooks.clear()
    return code if fired else None


def _state(project: Project) -> dict[str, Any]:
    pulls = [(p.title, p.body, p.state, sorted(p.labels)) for p in project.repo.pulls]
    refs = {}
    for ref in ("refs/heads/relkit/release", "refs/tags/v1.1.0"):
        sha = project.repo.refs.get(ref)
        if sha is not None:
            # Commit times differ per run: compare what a commit holds, not its sha.
            refs[ref] = project.origin_git("show", "-s", "--format=%T %P %s", f"{sha}^{{commit}}")
    return {"pulls": pulls, "refs": refs}


def _project(tmp_path: Path, name: str) -> tuple[Project, FakeGitHub]:
    github = FakeGitHub().start()
    project = make_project(tmp_path / name, github)
    return project, github


@pytest.mark.parametrize("via_api", [False, True], ids=["git", "api"])
def test_cut_pr_killed_after_any_request_then_rerun(tmp_path: Path, via_api: bool) -> None:
    extra = ("--via-api",) if via_api else ()
    clean, clean_github = _project(tmp_path, "clean")
    try:
        push_feature(clean.merger, "feat: shopping cart", {"cart.txt": "cart\n"})
        before = len(clean_github.calls)
        clean.relkit("cut", "--pr", *extra)
        requests = len(clean_github.calls) - before
        expected = _state(clean)
    finally:
        clean_github.stop()
    assert requests >= 3
    for nth in range(1, requests + 1):
        project, github = _project(tmp_path, f"kill{nth}")
        try:
            push_feature(project.merger, "feat: shopping cart", {"cart.txt": "cart\n"})
            # Same history, same shas: the clean run's state is this one's target.
            assert _killed_at(project, nth, "cut", "--pr", *extra) == -signal.SIGKILL
            project.relkit("cut", "--pr", *extra)
            assert _state(project) == expected, f"kill at {nth}"
            assert len(project.repo.pulls) == 1
            assert github.internal_errors == []
        finally:
            github.stop()


@pytest.mark.parametrize("via_api", [False, True], ids=["git", "api"])
def test_tag_killed_after_any_request_then_rerun(tmp_path: Path, via_api: bool) -> None:
    extra = ("--via-api",) if via_api else ()
    for nth in range(1, 8):
        project, github = _project(tmp_path, f"kill{nth}")
        try:
            push_feature(project.merger, "feat: shopping cart", {"cart.txt": "cart\n"})
            project.relkit("cut", "--pr")
            merged = merge_pull(project.repo, project.merger, 1, "squash")
            killed = _killed_at(project, nth, "tag", *extra)
            if killed is None:  # the run needed fewer requests than `nth`: all covered
                break
            project.relkit("tag", *extra)
            assert project.origin_git("rev-parse", "v1.1.0^{commit}") == merged
            assert project.origin_git("cat-file", "-t", "v1.1.0") == "tag"
            assert project.repo.issues[1].labels == ["relkit: released"]
            assert "already tagged" in project.relkit("tag", *extra).stdout
        finally:
            github.stop()
    else:
        pytest.fail("relkit tag made more requests than the kill points tried")
