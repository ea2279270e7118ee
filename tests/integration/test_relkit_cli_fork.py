"""The forked `relkit` runs of tests/fixtures/relkit_cli.py behave as fresh processes do.

The e2e tests trust the fork server to stand in for `subprocess.run([relkit, ...])`: same
output, exit status, environment, working directory and pipes, and a process of its own
that SIGKILL stops. Each case here runs both ways and compares.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.scenario import relkit_command
from tests.fixtures import relkit_cli
from tests.fixtures.gitrepo import BuiltRepo

MakeRepo = Callable[..., BuiltRepo]

HISTORY = [
    {"commit": "feat: first", "files": {"a.txt": "a\n"}},
    {"tag": "v1.0.0", "annotated": True, "message": "v1.0.0"},
    {"commit": "fix: second", "files": {"a.txt": "b\n"}},
]


Outcome = tuple[int, str, str]


def _both(
    args: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None
) -> tuple[Outcome, Outcome]:
    """(exit status, stdout, stderr) of `args` run fresh, then forked."""
    fresh = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    forked = relkit_cli.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    return (
        (fresh.returncode, fresh.stdout, fresh.stderr),
        (forked.returncode, forked.stdout, forked.stderr),
    )


@pytest.mark.parametrize("form", ["script", "python -m"])
def test_a_forked_run_prints_and_exits_as_a_fresh_one(
    make_repo: MakeRepo, tmp_path: Path, form: str
) -> None:
    repo = make_repo(HISTORY)
    base = relkit_command() if form == "script" else [sys.executable, "-m", "relkit"]
    empty = tmp_path / "empty"
    empty.mkdir()
    for args in (
        ["--version"],
        ["-C", str(repo.path), "version", "--json"],
        ["-C", str(repo.path), "changelog", "--stdout"],
        ["-C", str(repo.path), "no-such-command"],
        ["-C", str(empty), "version"],
    ):
        fresh, forked = _both([*base, *args])
        assert forked == fresh, args


def test_a_forked_run_takes_the_callers_directory_and_environment(
    make_repo: MakeRepo,
) -> None:
    repo = make_repo(HISTORY)
    # No -C: the working directory decides the repository. GITHUB_ACTIONS decides whether
    # commit text is guarded by stop-commands (only on a pipe, not a regular file).
    env = {**os.environ, "GITHUB_ACTIONS": "true"}
    fresh, forked = _both([*relkit_command(), "notes", "--help"], cwd=repo.path, env=env)
    assert forked == fresh
    fresh, forked = _both([*relkit_command(), "changelog", "--stdout"], cwd=repo.path, env=env)
    assert "::stop-commands::" in forked[1]
    # The stop-commands token is random per run (so per forked run too): compare around it.
    tokens = re.compile(r"relkit-[0-9a-f]{32}")
    assert tokens.findall(forked[1]) != tokens.findall(fresh[1])
    assert tokens.sub("TOKEN", forked[1]) == tokens.sub("TOKEN", fresh[1])
    assert (forked[0], forked[2]) == (fresh[0], fresh[2])
    without = {k: v for k, v in env.items() if k != "GITHUB_ACTIONS"}
    plain = relkit_cli.run(
        [*relkit_command(), "changelog", "--stdout"],
        cwd=repo.path,
        env=without,
        capture_output=True,
        text=True,
    )
    assert plain.returncode == 0 and "::stop-commands::" not in plain.stdout


def test_a_forked_run_is_a_process_sigkill_stops(tmp_path: Path) -> None:
    # A registry that accepts the connection and never answers: relkit waits on it.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        host = f"127.0.0.1:{listener.getsockname()[1]}"
        process = relkit_cli.popen(
            [*relkit_command(), "verify", f"oci://{host}/acme/app:1.0.0", "--unsigned"],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        connection, _ = listener.accept()
        with connection:
            assert process.pid != os.getpid() and process.poll() is None
            with pytest.raises(subprocess.TimeoutExpired):
                process.wait(timeout=0.01)
            os.kill(process.pid, signal.SIGKILL)
            assert process.wait(timeout=60) == -signal.SIGKILL
        assert process.stderr is not None
        assert process.stderr.read() == ""
        process.stderr.close()
