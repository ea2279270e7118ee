"""`relkit --version` is the installed distribution's version, which is pyproject's."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from relkit.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_version_option_prints_the_pyproject_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    assert capsys.readouterr().out.strip() == f"relkit {project['version']}"
