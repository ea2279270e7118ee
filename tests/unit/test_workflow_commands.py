"""Workflow-command guards and GITHUB_OUTPUT blocks (issue 15 §4), against a model of the
runner's parser (tests/fixtures/actions_runner.py)."""

from __future__ import annotations

import io
import secrets
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relkit.core.model import StepOutcome, StepRecord
from relkit.core.reporting import PlainReporter, github_output_block, write_github_outputs
from relkit.core.workflow_commands import guarded, json_safe, write_untrusted
from tests.fixtures.actions_runner import commands
from tests.hypothesis_profiles import property_settings

HOSTILE = [
    "::add-mask::x",
    "   ::set-output name=version::9.9.9",
    "\t::stop-commands::t",
    "::t::",
    "text ##[error]fake",
    "##[add-mask]hunter2",
    "::endgroup::",
]

_lines = st.lists(
    st.one_of(
        st.sampled_from(HOSTILE),
        st.text(alphabet=st.characters(blacklist_characters="\r\n\x85\u2028\u2029"), max_size=40),
        st.text(alphabet=":#[]relkit-0123456789abcdef ", max_size=40),
    ),
    max_size=8,
)


@property_settings(300)
@given(_lines)
def test_guarded_text_runs_no_command(lines: list[str]) -> None:
    text = "\n".join(lines)
    assert commands(guarded(text)) == []


@property_settings(300)
@given(_lines)
def test_the_guard_ends_and_later_commands_run_again(lines: list[str]) -> None:
    # The text cannot hold the block open: relkit's next annotation is executed.
    output = guarded("\n".join(lines)) + "::error::relkit's own\n"
    assert [c.data for c in commands(output)] == ["relkit's own"]


def test_without_the_guard_the_model_sees_the_attack() -> None:
    # The model must be able to fail: bare hostile lines are commands.
    assert {c.name for c in commands("\n".join(HOSTILE))} >= {"add-mask", "set-output", "error"}


def test_a_token_in_the_text_is_never_the_guards(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn = iter(["a" * 32, "b" * 32])
    monkeypatch.setattr(secrets, "token_hex", lambda _n: next(drawn))
    text = f"::relkit-{'a' * 32}::\n::add-mask::x\n"
    out = guarded(text)
    assert out.startswith(f"::stop-commands::relkit-{'b' * 32}\n")
    assert commands(out) == []


def test_only_github_actions_gets_the_guard(tmp_path: Path) -> None:
    stream = io.StringIO()
    write_untrusted(stream, "::add-mask::x\n", env={})
    assert stream.getvalue() == "::add-mask::x\n"
    write_untrusted(stream := io.StringIO(), "::add-mask::x\n", env={"GITHUB_ACTIONS": "true"})
    assert stream.getvalue().startswith("::stop-commands::relkit-")
    # A regular file (`relkit notes v1 > notes.md`) is not read by the runner: bare text.
    with (tmp_path / "notes.md").open("w", encoding="utf-8") as handle:
        write_untrusted(handle, "::add-mask::x\n", env={"GITHUB_ACTIONS": "true"})
    assert (tmp_path / "notes.md").read_text() == "::add-mask::x\n"


def test_json_stays_json_and_holds_no_legacy_command() -> None:
    import json

    document = json.dumps({"subject": "x ##[add-mask]y", "l": ["::add-mask::z"]}, indent=2)
    safe = json_safe(document)
    assert json.loads(safe) == json.loads(document)
    assert commands(safe) == []


def test_plain_reporter_guards_planned_actions() -> None:
    out = io.StringIO()
    reporter = PlainReporter(out, github_actions=True)
    reporter.step_planned("chart", ["copy chart ##[add-mask]x", "  ::set-output name=a::b"])
    reporter.step_finished(StepRecord("chart", StepOutcome.FAILED, "bad ##[add-mask]y\n::x::", 0))
    executed = commands(out.getvalue())
    assert [c.name for c in executed] == ["endgroup", "error"]
    assert executed[1].data == "bad ##[add-mask]y%0A::x::"


# -- GITHUB_OUTPUT --------------------------------------------------------------------------


def _parse_outputs(text: str) -> dict[str, str]:
    """The runner's reading of a GITHUB_OUTPUT file (`key<<DELIM` heredocs, `key=value`)."""
    found: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            key, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, i + 1)  # the first line equal to the delimiter
            found[key] = "\n".join(lines[i + 1 : end])
            i = end + 1
        elif "=" in line:
            key, value = line.split("=", 1)
            found[key] = value
            i += 1
        else:
            i += 1
    return found


@property_settings(300)
@given(
    st.dictionaries(
        st.sampled_from(["version", "tag", "pr_url", "branch"]),
        st.text(
            alphabet=st.characters(blacklist_characters="\r", blacklist_categories=("Cs",)),
            max_size=60,
        )
        | st.sampled_from(["x\nrelkit_0\nversion=9.9.9", "a\nEOF\nreleased=true"]),
        max_size=4,
    )
)
def test_github_outputs_read_back_exactly(
    tmp_path_factory: pytest.TempPathFactory, values: dict[str, str]
) -> None:
    path = tmp_path_factory.mktemp("out") / "github_output"
    write_github_outputs(path, values)
    assert _parse_outputs(path.read_text(encoding="utf-8")) == values


def test_a_value_holding_the_delimiter_gets_another(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn = iter(["a" * 32, "b" * 32])
    monkeypatch.setattr(secrets, "token_hex", lambda _n: next(drawn))
    value = f"1.0.0\nrelkit_{'a' * 32}\nreleased=true"
    block = github_output_block("version", value)
    assert block.startswith(f"version<<relkit_{'b' * 32}\n")
    assert _parse_outputs(block) == {"version": value}


@pytest.mark.parametrize("key", ["", "a\nb", "a=b", "a<<b"])
def test_an_output_name_cannot_start_another_entry(key: str) -> None:
    with pytest.raises(ValueError):
        github_output_block(key, "x")
