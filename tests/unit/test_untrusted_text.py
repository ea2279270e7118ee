"""Commit text on its way to the runner's log: frames no runner reads.

The Markdown side (no marker, no heading, mentions per config) is tested where it is
escaped: tests/unit/test_markdown_text.py, tests/unit/test_pr_preview.py and
tests/integration/test_pr_markdown.py."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from relkit.core.workflow_commands import guarded


@given(st.text(max_size=200))
def test_guarded_frames_any_text(text: str) -> None:
    framed = guarded(text or "x")
    first, *_middle, last = framed.rstrip("\n").split("\n")
    token = first.removeprefix("::stop-commands::")
    assert re.fullmatch(r"relkit-[0-9a-f]{32}", token)
    assert last == f"::{token}::"
    assert framed.count(f"::{token}::") == 1  # the text cannot end the frame early
