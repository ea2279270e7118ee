"""The pipeline loop: order, skip/only, dry-run, stop on failure, records."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from relkit.core.config import RelkitConfig
from relkit.core.errors import RelkitError, UsageError
from relkit.core.model import Artifact, ReleasePlan, StepOutcome, StepRecord, Version
from relkit.core.reporting import PlainReporter
from relkit.release.pipeline import PublishOptions, Step, StepContext, run_pipeline, select_steps


def _context(tmp_path: Path) -> StepContext:
    plan = ReleasePlan(
        version=Version.parse("1.2.0"),
        tag="v1.2.0",
        commit="a" * 40,
        committed_at=datetime(2024, 1, 2, tzinfo=UTC),
        previous_tag="v1.1.0",
        notes="notes",
    )
    return StepContext(
        plan=plan,
        config=RelkitConfig(),
        root=tmp_path,
        dist_dir=tmp_path / "dist",
        work_dir=tmp_path / "work",
        options=PublishOptions(),
        env={},
    )


class _Journal:
    """Steps that write what they saw into a list, so the loop's behaviour is observable."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def step(
        self, name: str, *, fail: bool = False, outcome: StepOutcome = StepOutcome.DONE
    ) -> Step:
        def run(context: StepContext) -> StepRecord:
            seen = ",".join(a.name for a in context.artifacts())
            self.calls.append(f"{name}[{seen}]")
            if fail:
                raise RelkitError(f"{name} broke")
            return StepRecord(name, outcome, artifacts=(Artifact(kind=name, name=f"{name}-out"),))

        def describe(context: StepContext) -> list[str]:
            return [f"would {name} {context.plan.tag}"]

        return Step(name, f"the {name} step", run, describe)


def _steps(journal: _Journal, failing: str = "") -> list[Step]:
    return [journal.step(n, fail=n == failing) for n in ("chart", "bundle", "release", "promote")]


def test_steps_run_in_order_and_see_earlier_artifacts(tmp_path: Path) -> None:
    journal = _Journal()
    result = run_pipeline(_steps(journal), _context(tmp_path), PlainReporter(io.StringIO()))
    assert journal.calls == [
        "chart[]",
        "bundle[chart-out]",
        "release[chart-out,bundle-out]",
        "promote[chart-out,bundle-out,release-out]",
    ]
    assert [r.outcome for r in result.records] == [StepOutcome.DONE] * 4
    assert not result.failed and result.changed_anything


def test_failure_stops_the_run_and_is_recorded(tmp_path: Path) -> None:
    journal = _Journal()
    result = run_pipeline(
        _steps(journal, failing="release"), _context(tmp_path), PlainReporter(io.StringIO())
    )
    assert journal.calls[-1].startswith("release")
    assert len(journal.calls) == 3
    assert [(r.name, r.outcome) for r in result.records] == [
        ("chart", StepOutcome.DONE),
        ("bundle", StepOutcome.DONE),
        ("release", StepOutcome.FAILED),
    ]
    assert result.error is not None and result.error.message == "release broke"


def test_skip_keeps_pipeline_order_in_records(tmp_path: Path) -> None:
    journal = _Journal()
    result = run_pipeline(
        _steps(journal), _context(tmp_path), PlainReporter(io.StringIO()), skip=["bundle"]
    )
    assert [r.name for r in result.records] == ["chart", "bundle", "release", "promote"]
    assert result.records[1].outcome is StepOutcome.SKIPPED
    assert "bundle" not in "".join(c.split("[")[0] for c in journal.calls)


def test_only_runs_just_those(tmp_path: Path) -> None:
    journal = _Journal()
    run_pipeline(
        _steps(journal), _context(tmp_path), PlainReporter(io.StringIO()), only=["promote"]
    )
    assert journal.calls == ["promote[]"]


def test_dry_run_describes_and_runs_nothing(tmp_path: Path) -> None:
    journal = _Journal()
    out = io.StringIO()
    result = run_pipeline(_steps(journal), _context(tmp_path), PlainReporter(out), dry_run=True)
    assert journal.calls == []
    assert {r.outcome for r in result.records} == {StepOutcome.PLANNED}
    assert "relkit: step chart: would:\n  - would chart v1.2.0\n" in out.getvalue()
    assert not result.changed_anything


def test_unknown_or_conflicting_step_names_are_usage_errors() -> None:
    journal = _Journal()
    with pytest.raises(UsageError, match="unknown step 'charts'"):
        select_steps(_steps(journal), skip=["charts"])
    with pytest.raises(UsageError, match="cannot be combined"):
        select_steps(_steps(journal), skip=["chart"], only=["bundle"])


def test_durations_are_measured(tmp_path: Path) -> None:
    journal = _Journal()
    result = run_pipeline(_steps(journal), _context(tmp_path), PlainReporter(io.StringIO()))
    assert all(r.duration_s >= 0.0 for r in result.records)
