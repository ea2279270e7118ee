"""Run record, GitHub outputs and step summary: what workflows read."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

from relkit.core.model import Artifact, ImagePin, ReleasePlan, StepOutcome, StepRecord, Version
from relkit.core.reporting import (
    PlainReporter,
    TerminalReporter,
    github_outputs,
    make_reporter,
    run_record,
    step_summary_markdown,
    write_github_outputs,
    write_run_record,
)

PLAN = ReleasePlan(
    version=Version.parse("1.2.0"),
    tag="v1.2.0",
    commit="c" * 40,
    committed_at=datetime(2024, 1, 2, tzinfo=UTC),
    previous_tag="v1.1.0",
    notes="## Features",
    images=(ImagePin("localhost:5000/acme/web:1.2.0", "sha256:" + "1" * 64),),
)
RECORDS = (
    StepRecord(
        "chart",
        StepOutcome.DONE,
        "pushed",
        1.5,
        (Artifact("chart", "app", digest="sha256:" + "2" * 64, reference="oci://r/app:1.2.0"),),
    ),
    StepRecord("bundle", StepOutcome.ALREADY_DONE, "same content", 0.2),
    StepRecord(
        "release", StepOutcome.DONE, "", 0.3, (Artifact("release", "v1.2.0", url="https://x/r"),)
    ),
    StepRecord("promote", StepOutcome.SKIPPED, "skipped by --skip/--only"),
)


def test_run_record_has_every_step_and_artifact(tmp_path: Path) -> None:
    record = run_record(PLAN, RECORDS, dry_run=False, error=None)
    path = tmp_path / "dist" / "relkit-release.json"
    write_run_record(path, record)
    loaded = json.loads(path.read_text())
    assert loaded["version"] == "1.2.0" and loaded["commit"] == "c" * 40
    assert [s["outcome"] for s in loaded["steps"]] == ["done", "already done", "done", "skipped"]
    assert loaded["artifacts"][0] == {
        "kind": "chart",
        "name": "app",
        "digest": "sha256:" + "2" * 64,
        "reference": "oci://r/app:1.2.0",
    }
    assert loaded["released"] is True and loaded["complete"] is True
    assert not list(path.parent.glob("*.tmp"))


def test_rerun_of_finished_release_is_not_released() -> None:
    rerun = tuple(StepRecord(r.name, StepOutcome.ALREADY_DONE) for r in RECORDS)
    assert run_record(PLAN, rerun, dry_run=False, error=None)["released"] is False
    assert github_outputs(PLAN, rerun, dry_run=False, error=None)["released"] == "false"


def test_github_outputs_file_uses_heredoc_delimiters(tmp_path: Path) -> None:
    out = tmp_path / "output"
    outputs = github_outputs(PLAN, RECORDS, dry_run=False, error=None)
    write_github_outputs(out, outputs)
    text = out.read_text()
    parsed: dict[str, str] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        key, delimiter = lines[i].split("<<")
        parsed[key] = lines[i + 1]
        assert lines[i + 2] == delimiter
        i += 3
    assert parsed == {
        "version": "1.2.0",
        "tag": "v1.2.0",
        "chart_digest": "sha256:" + "2" * 64,
        "bundle_digest": "",
        "release_url": "https://x/r",
        "pr_url": "",
        "released": "true",
    }


def test_step_summary_is_a_markdown_table() -> None:
    summary = step_summary_markdown(PLAN, RECORDS)
    assert summary.splitlines()[2] == "| step | outcome | duration | details |"
    assert "| chart | ✓ done | 1.50s | pushed<br>chart `app` oci://r/app:1.2.0 |" in summary
    assert "| promote | - skipped |" in summary


def test_plain_reporter_groups_and_annotates_in_actions() -> None:
    out = io.StringIO()
    reporter = PlainReporter(out, github_actions=True)
    reporter.step_started("chart", "Helm chart")
    reporter.step_finished(StepRecord("chart", StepOutcome.FAILED, "registry down", 0.1))
    assert out.getvalue().splitlines() == [
        "::group::relkit chart: Helm chart",
        "relkit: step chart: started (Helm chart)",
        "relkit: step chart: failed (0.10s) - registry down",
        "::endgroup::",
        "::error title=relkit chart::registry down",
    ]


def test_terminal_reporter_replaces_the_spinner_with_the_outcome() -> None:
    out = io.StringIO()
    reporter = TerminalReporter(out)
    reporter.step_started("bundle", "sign the bundle")
    reporter.step_finished(StepRecord("bundle", StepOutcome.ALREADY_DONE, "same content", 0.25))
    text = out.getvalue()
    assert text.startswith("\x1b[2K  bundle: sign the bundle")
    assert text.endswith("\r\x1b[2K= bundle: already done (0.25s)  same content\n")


def test_reporter_choice_follows_the_environment() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert isinstance(make_reporter(Tty(), {}), TerminalReporter)
    assert isinstance(make_reporter(Tty(), {"CI": "true"}), PlainReporter)
    assert isinstance(make_reporter(io.StringIO(), {}), PlainReporter)
