"""Properties of the Markdown escaping of commit text (issue 15 §5)."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from relkit.core.markdown_text import safe_block, safe_inline
from relkit.history.changelog import insert_sections
from tests.fixtures.markdown_reader import live_mentions
from tests.hypothesis_profiles import property_settings

_text = st.text(alphabet="#<!->= @abc/\n\t `", max_size=60)


def _reader_sees(text: str) -> str:
    """What a Markdown reader sees of escaped text (no mention rendering)."""
    text = text.replace("&lt;!--", "<!--")
    return re.sub(r"^([ \t]*)\\([#=-])", r"\1\2", text, flags=re.MULTILINE)


@property_settings(400)
@given(_text)
def test_escaped_text_makes_no_structure_and_reads_the_same(text: str) -> None:
    for escaped in (safe_block(text, "keep"), safe_inline(text, "keep")):
        assert "<!--" not in escaped
        assert not re.search(r"^[ \t]*#", escaped, re.MULTILINE)
        assert _reader_sees(escaped) == text
    assert not re.search(r"^[ \t]*(=+|-+)[ \t]*$", safe_block(text, "keep"), re.MULTILINE)


@property_settings(200)
@given(_text)
def test_inserted_sections_never_land_on_escaped_text(text: str) -> None:
    existing = f"# Changelog\n\n## 1.0.0\n\n* {safe_inline(text)}\n"
    result = insert_sections(existing, "## 1.1.0\n\n* new\n")
    assert result.index("## 1.1.0") < result.index("## 1.0.0")


def test_examples() -> None:
    assert safe_inline("a <!-- relkit: insert --> b") == "a &lt;!-- relkit: insert --> b"
    assert safe_block("x\n## 9.9.9\n---") == "x\n\\## 9.9.9\n\\---"
    assert safe_inline("ping @acme/team, not a@b.c") == "ping `@acme/team`, not a@b.c"
    assert safe_inline("`@already` code") == "`@already` code"
    assert safe_inline("@bob", "keep") == "@bob"


def test_the_marker_counts_only_on_a_line_of_its_own() -> None:
    quoted = "# C\n\n## 1.0.0\n\n* see <!-- relkit: insert --> here\n"
    assert insert_sections(quoted, "## 1.1.0\n").index("## 1.1.0") == len("# C\n\n")
    own = "# C\n<!-- relkit: insert -->\n\n## 1.0.0\n"
    assert insert_sections(own, "## 1.1.0\n").startswith("# C\n<!-- relkit: insert -->\n\n## 1.1.0")


# Everything that makes Markdown around an `@`: code, escapes, HTML, links, emphasis,
# entities (`&#64;`), tables, fences.
_hostile = st.text(alphabet="@bo`\\<>[]()|-_*&#64;~ \n", max_size=40)


def _documents(scope: str, text: str) -> list[str]:
    """`text` where relkit's templates put a field: after a scope, in the preview's list, at
    a line's start (a custom template), and as a breaking description under a list item."""
    line = text.replace("\n", " ")
    block = safe_block(text)
    return [
        f"* **{safe_inline(scope)}:** {safe_inline(line)} ([abc1234](https://x))\n",
        f"- Features: feat: {safe_inline(line)} (abc1234)\n",
        f"{safe_inline(line)}\n",
        "* " + block.replace("\n", "\n  ") + " ([abc1234](https://x))\n",
        f"{block}\n",
    ]


@property_settings(1500)
@given(st.text(alphabet="@b`", max_size=6), _hostile)
def test_a_mention_made_code_is_never_live_however_the_text_is_built(scope: str, text: str) -> None:
    for document in _documents(scope, text):
        assert live_mentions(document) == [], document


def test_mentions_beside_code_escapes_html_and_entities_are_made_code() -> None:
    assert safe_inline("`@bob") == "\\``@bob`"  # a lone backtick: escaped, the mention code
    assert safe_inline("\\`@bob`") == "\\``@bob`\\`"
    assert safe_inline("``x```@bob`") == "\\`\\`x\\`\\`\\``@bob`\\`"
    assert safe_inline("`x`@bob") == "`x` `@bob`"
    assert safe_inline("`see @bob`") == "`see @bob`"  # already code
    assert safe_inline("<div>@bob") == "&lt;div>`@bob`"
    assert safe_inline("&#64;bob") == "&amp;#64;bob"
    assert safe_inline("_x_@bob") == "_x_`@bob`"
    assert safe_inline("Vec<T> for bob@example.com") == "Vec<T> for bob@example.com"
    assert safe_block("x\n```\n@app.route\n```") == "x\n```\n@app.route\n```"
    assert safe_block("a | b\n--|--\n`x|@bob` | c") == "a | b\n\\--|--\n`x|@bob` | c"
