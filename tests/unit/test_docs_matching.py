"""Properties of the matchers the docs tests rely on: a quoted line with `...` and a message
skeleton with fields. A matcher that accepts everything would make those tests pass vacuously;
one that rejects a faithful quote would make them cry wolf."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from tests.docs_pages import ANY, could_be_equal, fences, line_matches
from tests.hypothesis_profiles import property_settings

_TEXT = st.text(st.characters(blacklist_characters="\x00\n\r.…", codec="utf-8"), max_size=40)


@property_settings(300)
@given(_TEXT, _TEXT, _TEXT)
def test_a_field_stands_for_any_text(before: str, value: str, after: str) -> None:
    printed = before + value + after
    assert could_be_equal(before + ANY + after, printed)
    assert could_be_equal(printed, before + ANY + after)  # symmetric
    assert could_be_equal(printed, printed)


@property_settings(300)
@given(_TEXT.filter(lambda t: t.strip() != ""), _TEXT)
def test_a_changed_literal_is_not_equal(text: str, other: str) -> None:
    if text != other:
        assert not could_be_equal(text, other)


@property_settings(300)
@given(_TEXT, _TEXT, _TEXT)
def test_an_elided_quote_matches_the_printed_line(before: str, value: str, after: str) -> None:
    line = (before + value + after).strip()
    assert line_matches(f"{before}...{after}", line)
    assert line_matches(line, line)


def test_fences_reads_blocks_their_marker_and_adjacency(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text(
        "intro\n\n<!-- tutorial -->\n```sh\necho hi\n```\n\n```text\nhi\n```\n\ntext\n"
        "```toml\na = 1\n```\n",
        encoding="utf-8",
    )
    found = fences(page)
    assert [(f.lang, f.marker, f.after_previous) for f in found] == [
        ("sh", "tutorial", False),
        ("text", None, True),
        ("toml", None, False),
    ]
    assert found[0].body == "echo hi\n"
