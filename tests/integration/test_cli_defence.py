"""The CLI's last line of defence and a closed stdout pipe (issue 8 §1, issue 12 §5).

Real `relkit` processes: the behaviour under test is the process's (its exit status, what
reaches stderr, what Python prints at interpreter exit), so it is run as a user runs it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from relkit.cli import EXIT_BROKEN_PIPE, report_internal_error
from relkit.core.errors import EXIT_FAILED
from tests.fixtures.gitrepo import BuiltRepo

MakeRepo = Callable[..., BuiltRepo]
RELKIT = [sys.executable, "-m", "relkit"]


def _run_into_closed_pipe(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """Run relkit with stdout a pipe whose reader is gone, as `relkit ... | head -0` does."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # every write to stdout now fails with EPIPE
    try:
        return subprocess.run(
            [*RELKIT, *argv], cwd=cwd, stdout=write_end, stderr=subprocess.PIPE, check=False
        )
    finally:
        os.close(write_end)


@pytest.fixture
def released_repo(make_repo: MakeRepo) -> BuiltRepo:
    return make_repo(
        [
            {"commit": "feat: first", "files": {"a": "1"}},
            {"tag": "v1.0.0"},
            {"commit": "fix: second", "files": {"a": "2"}},
        ]
    )


@pytest.mark.parametrize(
    "argv",
    [["config", "--show"], ["notes", "v1.0.0"], ["version", "--json"], ["--help"]],
    ids=["config", "notes", "version", "help"],
)
def test_closed_stdout_pipe_exits_quietly(released_repo: BuiltRepo, argv: list[str]) -> None:
    result = _run_into_closed_pipe(argv, released_repo.path)
    assert result.stderr == b""
    # 128 + SIGPIPE, as the shell reports git; argparse's help swallows the error itself.
    assert result.returncode == (0 if argv == ["--help"] else EXIT_BROKEN_PIPE)


def _run_unencodable(
    repo: BuiltRepo, tmp_path: Path, debug: str
) -> subprocess.CompletedProcess[str]:
    """A genuinely unexpected failure: stdout that cannot encode the notes' characters."""
    env = {**os.environ, "TMPDIR": str(tmp_path), "RELKIT_DEBUG": debug}
    env["PYTHONIOENCODING"] = "ascii:strict"
    return subprocess.run(
        [*RELKIT, "notes", "v1.0.0"],
        cwd=repo.path,
        capture_output=True,
        env=env,
        check=False,
        text=True,
        encoding="utf-8",
    )


@pytest.fixture
def accented_repo(make_repo: MakeRepo) -> BuiltRepo:
    return make_repo(
        [{"commit": "feat: caf\u00e9 au lait", "files": {"a": "1"}}, {"tag": "v1.0.0"}]
    )


def test_unexpected_exception_is_one_line_and_a_traceback_file(
    accented_repo: BuiltRepo, tmp_path: Path
) -> None:
    result = _run_unencodable(accented_repo, tmp_path, debug="")
    assert result.returncode == EXIT_FAILED
    lines = result.stderr.splitlines()
    assert lines[0].startswith("relkit: internal error: UnicodeEncodeError: 'ascii' codec")
    match = re.fullmatch(r"relkit: the full traceback is in (\S+) \(.*RELKIT_DEBUG=1.*\)", lines[1])
    assert match, lines
    assert len(lines) == 2
    written = Path(match.group(1))
    assert written.parent == tmp_path
    assert "Traceback (most recent call last)" in written.read_text()
    assert oct(written.stat().st_mode & 0o777) == "0o600"


def test_relkit_debug_prints_the_traceback(accented_repo: BuiltRepo, tmp_path: Path) -> None:
    result = _run_unencodable(accented_repo, tmp_path, debug="1")
    assert result.returncode == EXIT_FAILED
    assert "Traceback (most recent call last)" in result.stderr
    assert "relkit: internal error: UnicodeEncodeError" in result.stderr


def test_closed_stdout_is_not_an_error(released_repo: BuiltRepo) -> None:
    # `relkit config --show >&-`: nothing to print to, nothing to complain about.
    result = subprocess.run(
        [*RELKIT, "config", "--show"],
        cwd=released_repo.path,
        stderr=subprocess.PIPE,
        check=False,
        preexec_fn=lambda: os.close(1),  # closing fd 1 in the child only
    )
    assert (result.returncode, result.stderr) == (0, b"")


def test_report_internal_error_on_a_real_exception(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.delenv("RELKIT_DEBUG", raising=False)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    try:
        {}["missing\nkey"]
    except KeyError as exc:
        code = report_internal_error(exc)
    assert code == EXIT_FAILED
    captured = capsys.readouterr()
    assert captured.err.splitlines()[0] == "relkit: internal error: KeyError: 'missing\\nkey'"
    assert captured.out == "::error::relkit: internal error: KeyError: 'missing\\nkey'\n"
    assert len(list(tmp_path.glob("relkit-traceback-*.txt"))) == 1
