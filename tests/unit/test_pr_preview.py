"""The PR preview comment's text: folding, GitHub's size limit, untrusted commit text."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from relkit.cut.pr_preview import MARKER, MAX_COMMENT, Preview, render_preview
from relkit.history.conventional import ConventionalCommit, Person
from tests.fixtures.markdown_reader import live_mentions


def _commit(header: str, n: int = 0) -> ConventionalCommit:
    kind, _, subject = header.partition(": ")
    return ConventionalCommit(
        sha=f"{n:040x}",
        type=kind,
        scope=None,
        subject=subject,
        body="",
        breaking=False,
        breaking_descriptions=(),
        footers=(),
        conventional=True,
        author=Person(name="a", email="a@example.com"),
        committed_at=datetime.fromtimestamp(0, UTC),
        header=header,
    )


SHOWN = {"feat": "Features", "fix": "Bug Fixes"}


def test_a_short_preview_is_shown_open() -> None:
    body = render_preview(Preview("v1.2.0", "minor bump", [_commit("feat: cart")], SHOWN, [], []))
    assert body.startswith(MARKER + "\n")
    assert "<details>" not in body and "- Features: feat: cart (0000000)" in body


def test_a_huge_pr_folds_and_stays_under_the_limit() -> None:
    commits = [_commit("feat: " + "x" * 300, n) for n in range(2000)]
    failures = [("check", "y" * 500)] * 300
    body = render_preview(Preview("v2.0.0", "r", commits, SHOWN, ["- a"] * 500, failures))
    assert len(body) <= MAX_COMMENT
    assert body.count("<details>") == 3 and "cut to fit" in body
    assert body.rstrip().endswith("</sub>")


@given(st.text(max_size=300))
def test_commit_text_never_forms_the_marker_or_a_mention(text: str) -> None:
    body = render_preview(
        Preview(None, text, [_commit("feat: " + text)], SHOWN, [], [(text, text)])
    )
    assert body.count("<!--") == 1  # relkit's own marker only
    # No mention a reader would see: each `@login` outside code is part of a word.
    assert live_mentions(body) == []
    assert not re.search(r"^#", body.replace("### relkit preview", ""), re.MULTILINE)


@given(st.text(alphabet="@bo`\\<>[]()|-_*&#64;~ \n", max_size=60))
def test_hostile_markdown_around_a_mention_never_pings(text: str) -> None:
    body = render_preview(
        Preview(None, text, [_commit("feat: " + text)], SHOWN, [], [(text, text)])
    )
    assert live_mentions(body) == []


def test_kept_mentions_stay_live() -> None:
    preview = Preview(None, "r", [_commit("feat: ask @bob")], SHOWN, [], [], mentions="keep")
    assert "feat: ask @bob (" in render_preview(preview)
