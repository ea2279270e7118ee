"""Issue 15, §4: commit text and PR titles never become workflow commands of the job.

The real CLI's stdout and stderr go through a model of the runner's command parser
(tests/fixtures/actions_runner.py): indented `::cmd::`, `##[cmd]` anywhere in a line and an
attacker's own `::stop-commands::` must all stay text. relkit's own annotations still work.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures import relkit_cli
from tests.fixtures.actions_runner import Command, commands
from tests.fixtures.canary import Run, Runner
from tests.fixtures.gitrepo import BuiltRepo

Maker = Callable[..., BuiltRepo]

HOSTILE_BODY = (
    "BREAKING CHANGE: the flag is gone\n"
    "  ::add-mask::x\n"
    "    ::set-output name=version::9.9.9\n"
    "::stop-commands::t\n"
    "::warning::from the body\n"
)
HOSTILE_SUBJECT = "fix: trim ##[add-mask]hunter2 and ##[error]fake failure"


def _hostile_repo(make_repo: Maker) -> Path:
    spec: list[dict[str, Any]] = [
        {"commit": "feat: first", "files": {"README.md": "x\n"}},
        {"tag": "v1.0.0", "annotated": True, "message": "v1.0.0"},
        {"commit": "feat!: drop the flag", "body": HOSTILE_BODY, "files": {"a": "1\n"}},
        {"commit": HOSTILE_SUBJECT, "files": {"b": "1\n"}},
        # Not conventional: `relkit check --range` quotes its subject.
        {"commit": "Update ##[add-mask]hunter2 docs", "files": {"d": "1\n"}},
        {"tag": "v2.0.0", "annotated": True, "message": "v2.0.0"},
        {"commit": "fix: after", "files": {"c": "1\n"}},
    ]
    return make_repo(spec).path


def _executed(run: Run) -> list[Command]:
    return commands(run.stdout) + commands(run.stderr)


def _only_relkits_own(run: Run) -> None:
    for command in _executed(run):
        # relkit's annotations: ::error title=relkit …:: / ::error::<escaped one line>
        assert command.name in ("error", "warning", "group", "endgroup"), command
        assert command.line.startswith(("::error", "::warning", "::group", "::endgroup")), command
        assert "hunter2" not in command.properties


@pytest.mark.parametrize(
    "command",
    [
        ["notes", "v2.0.0"],
        ["changelog", "--stdout"],
        ["cut", "--dry-run", "--no-push"],
        ["check", "--range", "v1.0.0..v2.0.0"],
    ],
)
def test_commit_text_never_becomes_a_workflow_command(
    make_repo: Maker, canary_runner: Runner, command: list[str]
) -> None:
    repo = _hostile_repo(make_repo)
    run = canary_runner.run(repo, *command)
    assert "::add-mask::x" in run.stdout or "hunter2" in run.stdout  # the text is still shown
    _only_relkits_own(run)
    assert not any(c.name in ("add-mask", "set-output") for c in _executed(run))
    canary_runner.assert_clean(run, repo)


def test_a_pr_title_never_becomes_a_workflow_command(
    make_repo: Maker, canary_runner: Runner
) -> None:
    repo = _hostile_repo(make_repo)
    title = "feat: x ##[add-mask]hunter2"
    run = canary_runner.run(repo, "check", "--title", title)
    assert "##[add-mask]hunter2" in run.stdout
    _only_relkits_own(run)
    canary_runner.assert_clean(run, repo)


def test_an_error_quoting_user_data_is_not_a_command(
    make_repo: Maker, canary_runner: Runner
) -> None:
    repo = _hostile_repo(make_repo)
    run = canary_runner.run(repo, "notes", "##[add-mask]hunter2")
    assert run.code == 2
    assert "hunter2" in run.stderr
    _only_relkits_own(run)
    # relkit's own annotation of the failure is still executed, as one escaped line.
    assert [c.name for c in _executed(run)] == ["error"]


def test_output_to_a_file_is_the_bare_text(make_repo: Maker, canary_runner: Runner) -> None:
    repo = _hostile_repo(make_repo)
    target = canary_runner.outputs / "notes.md"
    with target.open("w", encoding="utf-8") as handle:
        relkit_cli.run(
            [sys.executable, "-m", "relkit", "-C", str(repo), "notes", "v2.0.0"],
            env={**canary_runner.env, "GITHUB_ACTIONS": "true"},
            stdout=handle,
            check=True,
        )
    text = target.read_text(encoding="utf-8")
    assert "::stop-commands::relkit-" not in text
    assert text.startswith("## ") or text.startswith("### ")


def test_outside_actions_the_text_is_unchanged(make_repo: Maker, canary_runner: Runner) -> None:
    repo = _hostile_repo(make_repo)
    run = canary_runner.run(repo, "notes", "v2.0.0", github_actions=False)
    assert "stop-commands::relkit" not in run.stdout
    assert "  ::add-mask::x" in run.stdout


def _unreleased_hostile_repo(make_repo: Maker) -> Path:
    spec: list[dict[str, Any]] = [
        {"commit": "feat: first", "files": {"README.md": "x\n"}},
        {"tag": "v1.0.0", "annotated": True, "message": "v1.0.0"},
        {"commit": "feat!: drop ##[add-mask]hunter2 now", "files": {"a": "1\n"}},
    ]
    return make_repo(spec).path


@pytest.mark.parametrize(
    "command",
    [
        ["cut", "--no-push"],  # "version 2.0.0: major change … (<header>)"
        ["cut", "1.1.0", "--force", "--no-push"],  # the --force warning names the header
    ],
)
def test_a_cut_quoting_a_header_runs_no_command(
    make_repo: Maker, canary_runner: Runner, command: list[str]
) -> None:
    repo = _unreleased_hostile_repo(make_repo)
    run = canary_runner.run(repo, *command)
    assert run.code == 0, run.stderr
    assert "##[add-mask]hunter2" in run.stdout + run.stderr  # the text is still shown
    _only_relkits_own(run)
    assert not any(c.name == "add-mask" for c in _executed(run))
