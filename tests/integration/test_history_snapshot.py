"""One history snapshot per command: each git question is asked once (issue 17).

Counted on a real repository by putting a `git` on PATH that logs each invocation and runs
the real one, so the count is what the command really spawns.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

from relkit.adapters.git_history import HistorySnapshot, snapshot_of
from relkit.core.config import RelkitConfig
from relkit.history.releases import reachable_release, release_tags, scope_for
from relkit.release.plan import build_plan
from tests.fixtures import relkit_cli
from tests.fixtures.gitrepo import BuiltRepo

Maker = Callable[..., BuiltRepo]

DRY = ("--forge", "none", "--tag", "v1.1.0")
HISTORY: list[dict[str, Any]] = [
    {"commit": "feat: first"},
    {"tag": "v1.0.0", "annotated": True, "message": "v1.0.0"},
    {"commit": "fix: second"},
    {"tag": "v1.0.1"},
    {"commit": "feat: third"},
    {"tag": "v1.1.0", "annotated": True, "message": "v1.1.0"},
]


def _logging_git(tmp_path: Path) -> tuple[dict[str, str], Path]:
    real = shutil.which("git")
    assert real is not None
    shim_dir, log = tmp_path / "shim", tmp_path / "git-calls.log"
    shim_dir.mkdir()
    shim = shim_dir / "git"
    shim.write_text(f'#!/bin/sh\necho "$*" >> {log}\nexec {real} "$@"\n', encoding="utf-8")
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
    env = {**os.environ, "PATH": f"{shim_dir}{os.pathsep}{os.environ['PATH']}"}
    return env, log


def _calls(log: Path) -> list[str]:
    """The git sub-command of each logged call (after `-C DIR` / `-c KEY=VALUE` options)."""
    lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    found = []
    for line in lines:
        words = iter(line.split(" "))
        for word in words:
            if word in ("-C", "-c"):
                next(words, None)
            elif not word.startswith("-"):
                found.append(word)
                break
    return found


def test_a_release_plan_lists_the_tags_once_and_asks_each_question_once(
    make_repo: Maker, tmp_path: Path
) -> None:
    repo = make_repo([*HISTORY])
    env, log = _logging_git(tmp_path)
    done = relkit_cli.run(
        [sys.executable, "-m", "relkit", "-C", str(repo.path), "release", "--dry-run", *DRY],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    calls = _calls(log)
    assert calls.count("show-ref") == 1, calls
    assert calls.count("show") == 0, calls  # the tag's commit time comes from its log
    assert len(calls) <= 8, calls


def test_the_snapshot_caches_answers_and_parsed_tags(make_repo: Maker, tmp_path: Path) -> None:
    repo = make_repo([*HISTORY])
    history = HistorySnapshot(repo.path)
    scope = scope_for(RelkitConfig())
    first = release_tags(history, scope)
    # Shared by every reader of the command, so nobody can change it for the next one.
    assert release_tags(history, scope) is first
    assert not any(hasattr(first, name) for name in ("clear", "append", "sort", "__setitem__"))
    assert [t.name for t in release_tags(history, scope)] == ["v1.1.0", "v1.0.1", "v1.0.0"]
    assert history.resolve("HEAD") == repo.head
    assert history.is_ancestor(repo.tag_sha("v1.0.0"), repo.head)
    assert not history.is_ancestor(repo.head, repo.tag_sha("v1.0.0"))
    assert snapshot_of(history) is history
    assert snapshot_of(repo.path).root == repo.path


def test_a_snapshot_sees_what_existed_when_it_was_made_a_new_one_sees_more(
    make_repo: Maker,
) -> None:
    repo = make_repo([*HISTORY])
    history = HistorySnapshot(repo.path)
    scope = scope_for(RelkitConfig())
    assert release_tags(history, scope)[0].name == "v1.1.0"
    repo.git("tag", "v1.2.0")
    assert release_tags(history, scope)[0].name == "v1.1.0"
    assert release_tags(HistorySnapshot(repo.path), scope)[0].name == "v1.2.0"


def test_a_plan_through_a_snapshot_equals_a_plan_from_the_path(make_repo: Maker) -> None:
    repo = make_repo([*HISTORY])

    def no_images(references: Any) -> dict[str, str]:
        return {}

    config = RelkitConfig()
    from_path = build_plan(repo.path, config, "v1.1.0", env={}, resolver=no_images)
    shared = build_plan(HistorySnapshot(repo.path), config, "v1.1.0", env={}, resolver=no_images)
    assert from_path == shared


def _release_lines() -> list[dict[str, Any]]:
    """main at 1.x; a maintenance line with 40 higher tags never merged into main."""
    spec: list[dict[str, Any]] = [{"commit": "feat: base"}, {"tag": "v1.0.0", "annotated": True}]
    spec += [{"branch": "next"}]
    for minor in range(1, 41):
        spec += [{"commit": f"feat: next {minor}"}, {"tag": f"v2.{minor}.0", "annotated": True}]
    spec += [{"checkout": "main"}, {"commit": "fix: on main"}, {"tag": "v1.0.1"}]
    spec += [{"commit": "feat: unreleased"}]
    return spec


def test_the_highest_reachable_release_is_found_in_few_processes_past_other_lines(
    make_repo: Maker, tmp_path: Path
) -> None:
    repo = make_repo(_release_lines())
    env, log = _logging_git(tmp_path)
    done = relkit_cli.run(
        [sys.executable, "-m", "relkit", "-C", str(repo.path), "version", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert '"previous_tag": "v1.0.1"' in done.stdout
    calls = _calls(log)
    # 41 tags above v1.0.1's place: batches of 8 and 32, then v1.0.1 in the third.
    assert calls.count("for-each-ref") + calls.count("merge-base") <= 3, calls


def test_batched_reachability_agrees_with_one_merge_base_per_tag(make_repo: Maker) -> None:
    repo = make_repo(_release_lines())
    history = HistorySnapshot(repo.path)
    tags = release_tags(history, scope_for(RelkitConfig()))
    for target in (repo.head, repo.tag_sha("v2.7.0"), repo.tag_sha("v1.0.0")):
        expected = next(
            (t for t in tags if t.sha == target or history.is_ancestor(t.sha, target)), None
        )
        assert reachable_release(history, tags, target) == expected
        names = [t.name for t in tags]
        brute = {t.name for t in tags if t.sha == target or history.is_ancestor(t.sha, target)}
        assert history.merged_tags(names, target) == brute


def test_a_cut_plan_lists_the_tags_once(make_repo: Maker, tmp_path: Path) -> None:
    repo = make_repo([*HISTORY, {"commit": "feat: fourth", "files": {"d": "1\n"}}])
    env, log = _logging_git(tmp_path)
    done = relkit_cli.run(
        [sys.executable, "-m", "relkit", "-C", str(repo.path), "cut", "--dry-run", "--no-push"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "v1.2.0" in done.stdout
    assert _calls(log).count("show-ref") == 1, _calls(log)


def _check_with_comment(
    repo_path: Path, tmp_path: Path, revisions: str
) -> tuple[CompletedProcess[str], Path]:
    """`relkit check --range REVISIONS --comment` without a token (the preview is printed,
    nothing is sent), through the logging git; the result and the log."""
    env, log = _logging_git(tmp_path)
    for name in ("GITHUB_TOKEN", "GH_TOKEN", "GITHUB_STEP_SUMMARY", "GITHUB_ACTIONS"):
        env.pop(name, None)
    env["GITHUB_REPOSITORY"] = "acme/shop"
    done = relkit_cli.run(
        [
            sys.executable, "-m", "relkit", "-C", str(repo_path),
            "check", "--range", revisions, "--comment", "--pr-number", "1",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    return done, log


def test_check_with_a_comment_reads_the_ranges_commits_once(
    make_repo: Maker, tmp_path: Path
) -> None:
    repo = make_repo([*HISTORY, {"commit": "fix: fourth", "files": {"d": "1\n"}}])
    done, log = _check_with_comment(repo.path, tmp_path, "v1.1.0..HEAD")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "commits v1.1.0..HEAD: 1 commit(s)" in done.stdout
    assert "- Bug Fixes: fix: fourth" in done.stdout  # the preview's notes: the same commits
    lines = log.read_text(encoding="utf-8").splitlines()
    range_reads = [line for line in lines if "v1.1.0..HEAD" in line.split()]
    assert len(range_reads) == 1, range_reads
    # One snapshot for the whole command: the tags are listed once too, and no question
    # (the commits since the last release, which tags HEAD contains) is asked twice.
    assert _calls(log).count("show-ref") == 1, _calls(log)
    asked = [line for line in lines if " log " in f" {line} " or "--merged" in line]
    assert len(asked) == len(set(asked)), asked


def test_a_range_git_cannot_read_is_asked_once_and_fails_every_reader(
    make_repo: Maker, tmp_path: Path
) -> None:
    repo = make_repo([*HISTORY])
    done, log = _check_with_comment(repo.path, tmp_path, "nope..HEAD")
    assert done.returncode == 1
    assert "FAIL  commits nope..HEAD: git log failed" in done.stdout, done.stdout
    assert "❌ commits nope..HEAD" in done.stdout  # the preview lists the failure
    lines = log.read_text(encoding="utf-8").splitlines()
    assert len([line for line in lines if "nope..HEAD" in line.split()]) == 1
