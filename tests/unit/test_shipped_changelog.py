"""The shipped changelog in Python is the shipped template's render, byte for byte.

`render_full_changelog` writes the shipped changelog in Python when no template is overridden;
these tests hold it to the Jinja render of `changelog.md.j2` over generated releases (hostile
commit text, links or none, both mention policies) and check when each path is taken.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relkit.core.errors import RelkitError
from relkit.core.markdown_text import Mentions
from relkit.core.model import Version
from relkit.history.changelog import (
    CHANGELOG_TEMPLATE,
    INSERT_MARKER,
    Links,
    Release,
    Section,
    release_context,
    render_changelog,
)
from relkit.history.conventional import ConventionalCommit, Person
from relkit.history.shipped_changelog import (
    TEMPLATES,
    render_full_changelog,
    render_shipped_changelog,
)
from relkit.history.templating import TemplateRenderer
from tests.hypothesis_profiles import property_settings

# What the escaping and the template care about: headings, comments, mentions, code spans,
# entities, line breaks, link brackets, setext underlines, markup-looking text.
_PIECES = st.sampled_from(
    [
        *("#", "@bob", "@", "`", "``", "<!--", "&#64;", "\n", "\n\n", "[", "]", "(", ")"),
        *("<b>", "-", "=", "---", " ", "\t", "a", "fix", "é", "…", "{{ x }}", "*", "_", "\\"),
        *("|", ":"),
    ]
)
TEXT = st.lists(_PIECES, max_size=8).map("".join)
NAMES = st.lists(st.sampled_from(["v1.0.0", "v2.0.0-rc.1", "x", "@team", "#1"]), max_size=4)
PEOPLE = st.builds(Person, TEXT, st.sampled_from(["", "a@example.com", "b@x.org"]))
SHAS = st.text("0123456789abcdef", min_size=40, max_size=40)
OPTIONAL_TEXT = st.none() | TEXT


@st.composite
def commits(draw: st.DrawFn) -> ConventionalCommit:
    return ConventionalCommit(
        sha=draw(SHAS),
        type=draw(st.sampled_from(["", "feat", "fix"])),
        scope=draw(OPTIONAL_TEXT),
        subject=draw(TEXT),
        body=draw(TEXT),
        breaking=draw(st.booleans()),
        breaking_descriptions=tuple(draw(st.lists(TEXT, max_size=3))),
        footers=(),
        conventional=draw(st.booleans()),
        author=draw(PEOPLE),
        committed_at=datetime(2024, 1, 1, tzinfo=UTC),
        header=draw(TEXT),
        pr=draw(st.none() | st.integers(0, 10**18)),
        issues=tuple(draw(st.lists(st.integers(0, 10**6), max_size=3))),
    )


@st.composite
def releases(draw: st.DrawFn) -> Release:
    entries = st.lists(commits(), max_size=4).map(tuple)
    sections = st.lists(st.builds(Section, TEXT, entries), max_size=3).map(tuple)
    version = draw(st.none() | st.builds(Version, st.integers(0, 99), st.integers(0, 9)))
    return Release(
        version=version,
        tag=draw(st.none() | st.sampled_from(["v1.2.3", "pkg@1.0.0", ""])),
        previous_tag=draw(st.none() | st.sampled_from(["v1.2.2", "pkg@0.9.0"])),
        date=draw(st.none() | st.dates(date(1, 1, 1), date(9999, 12, 31))),
        sections=draw(sections),
        breaking=tuple(draw(st.lists(commits(), max_size=3))),
        contributors=tuple(draw(st.lists(PEOPLE, max_size=3))),
        commits=(),
        retags=draw(st.none() | st.sampled_from(["", "v1.2.2"])),
        merges=draw(st.none() | NAMES.map(tuple)),
    )


LINKS = st.sampled_from([Links(None), Links(""), Links("https://github.com/acme/widget")])
MENTIONS: Any = st.sampled_from(["code", "keep"])


def jinja_changelog(
    renderer: TemplateRenderer, history: list[Release], links: Links, mentions: Mentions
) -> str:
    """What `render_changelog` renders through the template."""
    contexts = [release_context(r, links, mentions) for r in history]
    return renderer.render(
        CHANGELOG_TEMPLATE,
        {"releases": contexts, "insert_marker": INSERT_MARKER, "repository_url": links.base},
    )


@property_settings(300)
@given(st.lists(releases(), max_size=4), LINKS, MENTIONS)
def test_the_python_changelog_is_the_template_render(
    history: list[Release], links: Links, mentions: Mentions
) -> None:
    expected = jinja_changelog(TemplateRenderer(), history, links, mentions)
    assert render_changelog(history, links, TemplateRenderer(), mentions) == expected
    assert render_shipped_changelog(history, links, mentions) == expected
    assert render_full_changelog(history, links, TemplateRenderer(), mentions) == expected


@pytest.mark.parametrize(
    ("files", "shipped"),
    [
        ({}, True),
        ({"release_notes.md.j2": "notes"}, True),  # not a template of the changelog
        ({"changelog.md.j2": "mine"}, False),
        ({"_macros.md.j2": "{% macro release_section(r) %}mine{% endmacro %}"}, False),
    ],
)
def test_an_override_of_either_template_takes_the_template_path(
    tmp_path: Path, files: dict[str, str], shipped: bool
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    renderer = TemplateRenderer(tmp_path)
    assert renderer.ships(*TEMPLATES) is shipped
    release = Release(Version(1, 0, 0), "v1.0.0", None, None, (), (), (), ())
    text = render_full_changelog([release], Links(None), renderer)
    assert ("mine" in text) is not shipped


def test_a_template_it_cannot_read_is_reported_by_the_render(tmp_path: Path) -> None:
    (tmp_path / "_macros.md.j2").write_bytes(b"caf\xe9")
    renderer = TemplateRenderer(tmp_path)
    assert not renderer.ships(*TEMPLATES)
    with pytest.raises(RelkitError, match="not UTF-8"):
        render_full_changelog([], Links(None), renderer)


def test_an_added_filter_takes_the_template_path() -> None:
    renderer = TemplateRenderer()
    renderer.add_filter("replace", lambda *args: "replaced")
    assert not renderer.ships(*TEMPLATES)


def test_the_output_cap_fails_both_paths_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("relkit.history.templating.MAX_OUTPUT_CHARS", 300)
    entry = ConventionalCommit(
        "a" * 40, "feat", None, "x" * 400, "", False, (), (), True, Person("A", "a@x"),
        datetime(2024, 1, 1, tzinfo=UTC), "feat: x",
    )  # fmt: skip
    history = [
        Release(Version(1, 0, 0), "v1.0.0", None, None, (Section("F", (entry,)),), (), (), ())
    ]
    with pytest.raises(RelkitError) as jinja:
        jinja_changelog(TemplateRenderer(), history, Links(None), "code")
    with pytest.raises(RelkitError) as python:
        render_full_changelog(history, Links(None), TemplateRenderer())
    assert str(python.value) == str(jinja.value)
    assert "output larger than 300 characters" in str(python.value)
