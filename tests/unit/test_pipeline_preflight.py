"""The pipeline checks every selected step's needs before any step runs (issue 12 §3)."""

from __future__ import annotations

import io
from pathlib import Path

from relkit.core.errors import RelkitError
from relkit.core.model import StepOutcome, StepRecord
from relkit.core.reporting import PlainReporter
from relkit.release.pipeline import Step, StepContext, run_pipeline
from tests.unit.test_pipeline import _context


def _steps(calls: list[str], missing: str = "") -> list[Step]:
    def make(name: str) -> Step:
        def run(context: StepContext) -> StepRecord:
            calls.append(f"run {name}")
            return StepRecord(name, StepOutcome.DONE)

        def check(context: StepContext) -> None:
            calls.append(f"check {name}")
            if name == missing:
                raise RelkitError(f"preflight for step {name}: token refused")

        return Step(name, name, run, lambda context: [name], check)

    return [make(name) for name in ("chart", "bundle", "release", "promote")]


def test_a_failed_check_stops_the_run_before_any_step(tmp_path: Path) -> None:
    calls: list[str] = []
    out = io.StringIO()
    result = run_pipeline(
        _steps(calls, missing="release"),
        _context(tmp_path),
        PlainReporter(out, github_actions=True),
    )
    assert calls == ["check chart", "check bundle", "check release"]
    assert result.error is not None
    assert result.error.message == "preflight for step release: token refused"
    assert [(r.name, r.outcome) for r in result.records] == [("release", StepOutcome.FAILED)]
    assert "::error title=relkit release::preflight for step release: token refused" in (
        out.getvalue()
    )


def test_only_selected_steps_are_checked_and_then_all_run(tmp_path: Path) -> None:
    calls: list[str] = []
    steps = _steps(calls, missing="promote")
    result = run_pipeline(steps, _context(tmp_path), PlainReporter(io.StringIO()), skip=["promote"])
    assert result.error is None
    assert calls == [
        "check chart",
        "check bundle",
        "check release",
        "run chart",
        "run bundle",
        "run release",
    ]


def test_dry_run_checks_nothing(tmp_path: Path) -> None:
    calls: list[str] = []
    steps = _steps(calls, missing="chart")
    result = run_pipeline(steps, _context(tmp_path), PlainReporter(io.StringIO()), dry_run=True)
    assert result.error is None
    assert calls == []
