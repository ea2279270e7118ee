"""Commit text on its way to GitHub: Markdown that acts on nothing, frames no runner reads."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from relkit.core.markdown_text import markdown_safe
from relkit.core.workflow_commands import guarded


def test_markdown_safe_defangs_html_and_mentions() -> None:
    text = markdown_safe("hi @alice <!-- relkit:pr-preview --> <details>")
    assert text == "hi @\u2060alice &lt;!-- relkit:pr-preview --> &lt;details>"


@given(st.text(max_size=200))
def test_markdown_safe_leaves_no_tag_and_no_mention(text: str) -> None:
    safe = markdown_safe(text)
    assert "<" not in safe
    assert re.search(r"@[A-Za-z0-9_-]", safe) is None


@given(st.text(max_size=200))
def test_guarded_frames_any_text(text: str) -> None:
    framed = guarded(text or "x")
    first, *_middle, last = framed.rstrip("\n").split("\n")
    token = first.removeprefix("::stop-commands::")
    assert re.fullmatch(r"relkit-[0-9a-f]{32}", token)
    assert last == f"::{token}::"
    assert framed.count(f"::{token}::") == 1  # the text cannot end the frame early
