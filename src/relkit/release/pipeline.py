"""The ordered publish steps: skip/only, dry-run, stop on failure, the run record.

One loop composes the steps (GoReleaser's pipeline idea without its mutable context): every
step gets the frozen plan plus the records of the steps before it, looks at remote state,
does only what is missing and returns a `StepRecord`. Dry-run lives here and only here: it
asks each step to describe what it would do instead of running it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import field
from pathlib import Path
from typing import Protocol

from relkit.core.config import RelkitConfig
from relkit.core.errors import RelkitError, UsageError
from relkit.core.model import Artifact, ReleasePlan, StepOutcome, StepRecord
from relkit.core.records import record

__all__ = [
    "PipelineResult",
    "ProgressReporter",
    "PublishOptions",
    "Step",
    "StepContext",
    "run_pipeline",
    "select_steps",
]


@record
class PublishOptions:
    """Flags that change what publishing may do (never what the plan is)."""

    forge: str = "github"  # "github" | "none"
    force: bool = False  # overwrite a released chart/bundle with different content
    replace_assets: bool = False
    allow_downgrade: bool = False


@record
class StepContext:
    """What a step may read: the plan, the config, where to write, and earlier records."""

    plan: ReleasePlan
    config: RelkitConfig
    root: Path
    dist_dir: Path
    work_dir: Path
    options: PublishOptions
    env: dict[str, str]
    previous: tuple[StepRecord, ...] = ()

    def artifacts(self, kind: str | None = None) -> list[Artifact]:
        """Artifacts of earlier steps, optionally of one kind."""
        found = [a for record in self.previous for a in record.artifacts]
        return [a for a in found if kind is None or a.kind == kind]


@record
class Step:
    name: str
    summary: str
    run: Callable[[StepContext], StepRecord]
    describe: Callable[[StepContext], list[str]]
    # Raises a RelkitError when a credential the step will need is missing or refused;
    # run for every selected step before the first one publishes (relkit.release.preflight).
    check: Callable[[StepContext], None] | None = None


class ProgressReporter(Protocol):
    def step_started(self, name: str, summary: str) -> None: ...
    def step_finished(self, record: StepRecord) -> None: ...
    def step_planned(self, name: str, actions: Sequence[str]) -> None: ...


@record
class PipelineResult:
    records: tuple[StepRecord, ...]
    error: RelkitError | None = None
    planned: dict[str, list[str]] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.error is not None

    @property
    def changed_anything(self) -> bool:
        return any(r.outcome is StepOutcome.DONE for r in self.records)


def select_steps(
    steps: Sequence[Step], *, skip: Sequence[str] = (), only: Sequence[str] = ()
) -> tuple[list[Step], list[str]]:
    """Apply --skip/--only; return (steps to run, names skipped). Unknown names are usage errors."""
    known = [s.name for s in steps]
    for name in [*skip, *only]:
        if name not in known:
            raise UsageError(f"unknown step {name!r}", hint=f"steps are: {', '.join(known)}")
    if skip and only:
        raise UsageError("--skip and --only cannot be combined")
    chosen = [s for s in steps if (s.name in only if only else s.name not in skip)]
    skipped = [s.name for s in steps if s not in chosen]
    return chosen, skipped


def run_pipeline(
    all_steps: Sequence[Step],
    base: StepContext,
    reporter: ProgressReporter,
    *,
    skip: Sequence[str] = (),
    only: Sequence[str] = (),
    dry_run: bool = False,
) -> PipelineResult:
    """Run (or, with dry_run, describe) the selected steps in order; stop at the first failure."""
    steps, skipped = select_steps(all_steps, skip=skip, only=only)
    order = [s.name for s in all_steps]
    records: list[StepRecord] = [
        StepRecord(name, StepOutcome.SKIPPED, "skipped by --skip/--only") for name in skipped
    ]
    if dry_run:
        planned: dict[str, list[str]] = {}
        for step in steps:
            actions = step.describe(base)
            planned[step.name] = actions
            reporter.step_planned(step.name, actions)
            records.append(StepRecord(step.name, StepOutcome.PLANNED, "; ".join(actions)))
        return PipelineResult(tuple(_in_step_order(records, order)), planned=planned)

    failed = _preflight(steps, base, reporter)
    if failed is not None:
        record, error = failed
        return PipelineResult(tuple(_in_step_order([*records, record], order)), error=error)

    done: list[StepRecord] = []
    for step in steps:
        context = _with_previous(base, tuple(done))
        reporter.step_started(step.name, step.summary)
        started = time.monotonic()
        try:
            record = step.run(context)
        except RelkitError as exc:
            record = StepRecord(
                step.name, StepOutcome.FAILED, exc.message, time.monotonic() - started
            )
            reporter.step_finished(record)
            done.append(record)
            records.extend(done)
            return PipelineResult(tuple(_in_step_order(records, order)), error=exc)
        record = StepRecord(
            step.name,  # one name per step in records and outputs, whatever the step calls itself
            record.outcome,
            record.detail,
            round(time.monotonic() - started, 3),
            record.artifacts,
        )
        reporter.step_finished(record)
        done.append(record)
    records.extend(done)
    return PipelineResult(tuple(_in_step_order(records, order)))


def _preflight(
    steps: Sequence[Step], base: StepContext, reporter: ProgressReporter
) -> tuple[StepRecord, RelkitError] | None:
    """Check what every selected step needs before any step publishes: a missing
    credential fails the run with nothing published, not half-way through it."""
    for step in steps:
        if step.check is None:
            continue
        started = time.monotonic()
        try:
            step.check(base)
        except RelkitError as exc:
            record = StepRecord(
                step.name, StepOutcome.FAILED, exc.message, round(time.monotonic() - started, 3)
            )
            reporter.step_finished(record)
            return record, exc
    return None


def _with_previous(base: StepContext, previous: tuple[StepRecord, ...]) -> StepContext:
    return StepContext(
        plan=base.plan,
        config=base.config,
        root=base.root,
        dist_dir=base.dist_dir,
        work_dir=base.work_dir,
        options=base.options,
        env=base.env,
        previous=previous,
    )


def _in_step_order(records: list[StepRecord], order: Sequence[str]) -> list[StepRecord]:
    # Keep the record in pipeline order whatever mix of skipped and run steps there was.
    index = {name: position for position, name in enumerate(order)}
    return sorted(records, key=lambda r: index.get(r.name, len(index)))
