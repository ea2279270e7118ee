"""How a release run talks to people and to workflows.

- `TerminalReporter`: a live per-step line (spinner replaced by the outcome) for humans.
- `PlainReporter`: one grep-able line per event, with `::group::` log groups in GitHub Actions.
- `run_record` / `write_github_outputs` / `step_summary_markdown`: the machine-readable results.
Nothing here ever receives a secret: records carry names, digests and URLs only.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any, TextIO

from relkit import __version__
from relkit.core.dist_files import write_atomic
from relkit.core.markdown_text import safe_inline
from relkit.core.model import Artifact, ReleasePlan, StepOutcome, StepRecord
from relkit.core.workflow_commands import escape_data, escape_property, guarded

__all__ = [
    "PlainReporter",
    "TerminalReporter",
    "github_output_block",
    "github_outputs",
    "make_reporter",
    "run_record",
    "step_summary_markdown",
    "write_github_outputs",
    "write_run_record",
]

_SYMBOL = {
    StepOutcome.DONE: "✓",
    StepOutcome.ALREADY_DONE: "=",
    StepOutcome.SKIPPED: "-",
    StepOutcome.FAILED: "✗",
    StepOutcome.PLANNED: "•",
}


class PlainReporter:
    """Line-oriented progress for logs; log groups when running in GitHub Actions."""

    def __init__(self, stream: TextIO, *, github_actions: bool = False) -> None:
        self._out = stream
        self._groups = github_actions

    # Summaries, details and planned actions quote paths, names and errors from the
    # repository: in GitHub Actions they go out between stop-commands lines.
    def _lines(self, text: str) -> None:
        if self._groups:
            self._out.write(guarded(text))
        else:
            self._out.write(text)

    def step_started(self, name: str, summary: str) -> None:
        if self._groups:
            self._out.write(f"::group::relkit {escape_data(name)}: {escape_data(summary)}\n")
        self._lines(f"relkit: step {name}: started ({summary})\n")
        self._out.flush()

    def step_finished(self, record: StepRecord) -> None:
        detail = f" - {record.detail}" if record.detail else ""
        outcome = f"{record.outcome.value} ({record.duration_s:.2f}s)"
        self._lines(f"relkit: step {record.name}: {outcome}{detail}\n")
        if self._groups:
            self._out.write("::endgroup::\n")
        if record.outcome is StepOutcome.FAILED and self._groups:
            title = escape_property(f"relkit {record.name}")
            self._out.write(f"::error title={title}::{escape_data(record.detail)}\n")
        self._out.flush()

    def step_planned(self, name: str, actions: Sequence[str]) -> None:
        text = f"relkit: step {name}: would:\n" + "".join(f"  - {a}\n" for a in actions)
        self._lines(text)
        self._out.flush()


class TerminalReporter:
    """A live line per step: a spinner while it runs, then its outcome and duration."""

    _FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"

    def __init__(self, stream: TextIO) -> None:
        self._out = stream
        self._stop = threading.Event()
        self._spinner: threading.Thread | None = None
        self._lock = threading.Lock()

    def step_started(self, name: str, summary: str) -> None:
        self._stop.clear()
        label = f"{name}: {summary}"

        def spin() -> None:
            frame = 0
            while not self._stop.wait(0.1):
                with self._lock:
                    self._out.write(f"\r\x1b[2K{self._FRAMES[frame % len(self._FRAMES)]} {label}")
                    self._out.flush()
                frame += 1

        with self._lock:
            self._out.write(f"\x1b[2K  {label}")
            self._out.flush()
        self._spinner = threading.Thread(target=spin, daemon=True)
        self._spinner.start()

    def step_finished(self, record: StepRecord) -> None:
        self._stop.set()
        if self._spinner is not None:
            self._spinner.join()
        detail = f"  {record.detail}" if record.detail else ""
        with self._lock:
            self._out.write(
                f"\r\x1b[2K{_SYMBOL[record.outcome]} {record.name}: {record.outcome.value}"
                f" ({record.duration_s:.2f}s){detail}\n"
            )
            self._out.flush()

    def step_planned(self, name: str, actions: Sequence[str]) -> None:
        self._out.write(f"{_SYMBOL[StepOutcome.PLANNED]} {name} would:\n")
        for action in actions:
            self._out.write(f"    {action}\n")
        self._out.flush()


def make_reporter(
    stream: TextIO | None = None, env: Mapping[str, str] | None = None
) -> PlainReporter | TerminalReporter:
    stream = stream or sys.stderr
    env = env if env is not None else os.environ
    if stream.isatty() and env.get("CI") != "true" and env.get("TERM") != "dumb":
        return TerminalReporter(stream)
    return PlainReporter(stream, github_actions=env.get("GITHUB_ACTIONS") == "true")


def _artifact_json(artifact: Artifact) -> dict[str, Any]:
    values = ((f.name, getattr(artifact, f.name)) for f in fields(artifact))
    return {name: value for name, value in values if value is not None}


def run_record(
    plan: ReleasePlan, records: Sequence[StepRecord], *, dry_run: bool, error: str | None
) -> dict[str, Any]:
    """The run record: what was released, every artifact, each step's outcome and duration."""
    return {
        "relkit_version": __version__,
        "version": str(plan.version),
        "tag": plan.tag,
        "commit": plan.commit,
        "previous_tag": plan.previous_tag,
        "prerelease": plan.prerelease,
        "dry_run": dry_run,
        "released": released(records) and not dry_run and error is None,
        "complete": error is None and not dry_run,
        "error": error,
        "images": [{"reference": p.reference, "digest": p.digest} for p in plan.images],
        "steps": [
            {
                "name": r.name,
                "outcome": r.outcome.value,
                "detail": r.detail,
                "duration_s": r.duration_s,
                "artifacts": [_artifact_json(a) for a in r.artifacts],
            }
            for r in records
        ],
        "artifacts": [_artifact_json(a) for r in records for a in r.artifacts],
    }


def released(records: Sequence[StepRecord]) -> bool:
    """True when this run published something new (a re-run of a finished release is False)."""
    return any(r.outcome is StepOutcome.DONE for r in records)


def write_run_record(path: Path, record: Mapping[str, Any]) -> None:
    # Atomic: a killed run never leaves a truncated record (nor a temporary file a later run
    # would not recognise).
    write_atomic(path, (json.dumps(record, indent=2) + "\n").encode("utf-8"))


def _first(records: Sequence[StepRecord], kind: str, attr: str) -> str:
    for record in records:
        for artifact in record.artifacts:
            if artifact.kind == kind and getattr(artifact, attr):
                return str(getattr(artifact, attr))
    return ""


def github_outputs(
    plan: ReleasePlan, records: Sequence[StepRecord], *, dry_run: bool, error: str | None
) -> dict[str, str]:
    return {
        "version": str(plan.version),
        "tag": plan.tag,
        "chart_digest": _first(records, "chart", "digest"),
        "bundle_digest": _first(records, "bundle", "digest"),
        "release_url": _first(records, "release", "url"),
        "pr_url": _first(records, "pr", "url"),
        "released": "true" if released(records) and not dry_run and error is None else "false",
    }


def github_output_block(key: str, value: str) -> str:
    """One `$GITHUB_OUTPUT` entry: `key<<DELIM`, the value, `DELIM`.

    The delimiter is random and drawn again until no line of the value equals it (nor
    contains it): a value cannot end its own block and set another output, by construction.
    """
    if not key or any(c in key for c in "\r\n=<"):
        raise ValueError(f"not an output name: {key!r}")
    while True:
        delimiter = f"relkit_{secrets.token_hex(16)}"
        if delimiter not in value:
            return f"{key}<<{delimiter}\n{value}\n{delimiter}\n"


def write_github_outputs(path: Path, outputs: Mapping[str, str]) -> None:
    """Append to $GITHUB_OUTPUT, using a random heredoc delimiter for every value."""
    with path.open("a", encoding="utf-8") as handle:
        for key, value in outputs.items():
            handle.write(github_output_block(key, value))


def step_summary_markdown(plan: ReleasePlan, records: Sequence[StepRecord]) -> str:
    lines = [
        f"### relkit release {plan.tag}",
        "",
        "| step | outcome | duration | details |",
        "|---|---|---|---|",
    ]
    for r in records:
        details = [r.detail] if r.detail else []
        for a in r.artifacts:
            where = a.url or a.reference or a.path or ""
            details.append(f"{a.kind} `{a.name}`" + (f" {where}" if where else ""))
        # Details quote errors and names: escaped so they make no comment, heading or column.
        cell = "<br>".join(safe_inline(d, "keep").replace("|", "\\|") for d in details)
        lines.append(
            f"| {r.name} | {_SYMBOL[r.outcome]} {r.outcome.value} | {r.duration_s:.2f}s | {cell} |"
        )
    return "\n".join(lines) + "\n"
