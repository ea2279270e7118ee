"""Releases → sections → Markdown; update-mode insertion; template overrides."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from relkit.core.config import DEFAULT_COMMIT_TYPES
from relkit.core.errors import RelkitError
from relkit.core.model import RawCommit, Version
from relkit.history.changelog import (
    INSERT_MARKER,
    Links,
    Release,
    build_release,
    has_release,
    insert_sections,
    render_changelog,
    render_notes,
    render_sections,
    section_order,
)
from relkit.history.conventional import parse_commits
from relkit.history.templating import TemplateRenderer

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "changelog"
LINKS = Links("https://github.com/acme/widget")


def check_golden(name: str, text: str) -> None:
    """Compare with tests/golden/changelog/NAME; RELKIT_UPDATE_GOLDEN=1 rewrites it."""
    path = GOLDEN / name
    if os.environ.get("RELKIT_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode())
    assert path.read_bytes().decode() == text


def raws() -> list[RawCommit]:
    def commit(
        n: int, message: str, name: str = "Ada", email: str = "ada@example.com"
    ) -> RawCommit:
        return RawCommit(
            f"{n:02d}" * 20, message, name, email, datetime(2024, 3, n, tzinfo=UTC), ("f" * 40,)
        )

    # Newest first, as git log lists them.
    return [
        commit(9, "chore(release): v1.1.0"),
        commit(8, "Tweak the build script", "Carol", "carol@example.com"),
        commit(7, "ci: cache deps"),
        commit(6, 'Revert "fix: off by one"\n\nThis reverts commit ' + "05" * 20 + "."),
        commit(5, "fix: off by one"),
        commit(
            4,
            "Login (#31)\n\n* feat(auth): login form\n\n* fix(auth): label typo\n\n"
            "Co-authored-by: Bob <bob@example.com>",
            "Dan",
            "dan@example.com",
        ),
        commit(
            3,
            "feat(api)!: remove v1 endpoints (#30)\n\nBREAKING CHANGE: /v1 is gone.\n"
            "Use /v2 instead.\nCloses #12",
        ),
        commit(2, "perf: faster startup"),
        commit(1, "docs: usage"),
    ]


def release(other: str = "list", links_version: str = "1.1.0") -> Release:
    return build_release(
        parse_commits(raws(), [r"^chore\(release\):"]),
        version=Version.parse(links_version),
        tag=f"v{links_version}",
        previous_tag="v1.0.0",
        released_on=date(2024, 3, 9),
        commit_types=DEFAULT_COMMIT_TYPES,
        other_commits=other,
    )


def test_sections_follow_config_order_with_breaking_first_and_other_last() -> None:
    built = release()
    assert [s.title for s in built.sections] == [
        "Features",
        "Bug Fixes",
        "Performance",
        "Documentation",
        "Other",
    ]
    assert [c.subject for c in built.breaking] == ["remove v1 endpoints"]
    # The revert and the commit it reverts cancel out; ci and release commits are hidden.
    all_subjects = [c.subject for s in built.sections for c in s.entries]
    assert "off by one" not in all_subjects
    assert not any("cache deps" in s or "v1.1.0" in s for s in all_subjects)


def test_other_commits_can_be_dropped() -> None:
    built = release(other="drop")
    assert "Other" not in [s.title for s in built.sections]


def test_contributors_include_co_authors_once_sorted_by_name() -> None:
    names = [p.name for p in release().contributors]
    assert names == ["Ada", "Bob", "Carol", "Dan"]


def test_release_section_golden() -> None:
    renderer = TemplateRenderer()
    check_golden("section.md", render_sections([release()], LINKS, renderer))


def test_release_notes_golden() -> None:
    check_golden("notes.md", render_notes(release(), LINKS, TemplateRenderer()))


def test_notes_without_a_repository_url_have_no_links() -> None:
    text = render_notes(release(), Links(None), TemplateRenderer())
    assert "](" not in text
    assert "(#30)" in text and "closes #12" in text


def test_full_changelog_golden() -> None:
    first = build_release(
        parse_commits(raws()[-1:]),
        version=Version(1, 0, 0),
        tag="v1.0.0",
        previous_tag=None,
        released_on=date(2024, 3, 1),
        commit_types=DEFAULT_COMMIT_TYPES,
    )
    text = render_changelog([release(), first], LINKS, TemplateRenderer())
    assert INSERT_MARKER in text
    assert "https://github.com/acme/widget/commits/v1.0.0" in text
    check_golden("full.md", text)


EXISTING = (
    "# Changelog\n\nHand-written intro.\r\n\n## 1.0.0 (2024-01-01)\n\n* old entry  \n\n"
    "## 0.9.0\n\n* older\n"
)


def test_insert_above_the_first_release_heading_keeps_everything_else() -> None:
    section = "## 1.1.0\n\n* new\n"
    result = insert_sections(EXISTING, section)
    head, _, tail = EXISTING.partition("## 1.0.0")
    assert result == head + section + "\n" + "## 1.0.0" + tail


def test_insert_below_the_marker_when_present() -> None:
    existing = f"# Changelog\n\n{INSERT_MARKER}\n\n## 1.0.0\n\n* old\n"
    result = insert_sections(existing, "## 1.1.0\n\n* new\n")
    assert result == f"# Changelog\n\n{INSERT_MARKER}\n\n## 1.1.0\n\n* new\n\n## 1.0.0\n\n* old\n"


def test_insert_into_a_file_without_releases_appends() -> None:
    assert insert_sections("# Changelog\n", "## 1.0.0\n") == "# Changelog\n\n## 1.0.0\n"
    assert insert_sections("", "## 1.0.0\n") == "## 1.0.0\n"
    assert insert_sections("# Changelog\n", "") == "# Changelog\n"


@pytest.mark.parametrize(
    ("text", "version", "found"),
    [
        ("## [1.2.0](https://x/compare/v1.1.0...v1.2.0) (2024-01-01)\n", "1.2.0", True),
        ("## v1.2.0\n", "1.2.0", True),
        ("### 1.2.0 - today\n", "1.2.0", True),
        ("## 1.2.0-rc.1\n", "1.2.0", False),
        ("## 11.2.0\n", "1.2.0", False),
        ("* mentions 1.2.0 in a bullet\n", "1.2.0", False),
        ("## [1.3.0](https://x/compare/v1.2.0...v1.3.0)\n", "1.2.0", False),
    ],
)
def test_has_release(text: str, version: str, found: bool) -> None:
    assert has_release(text, Version.parse(version)) is found


def test_a_template_override_wins_by_name(tmp_path: Path) -> None:
    (tmp_path / "release_notes.md.j2").write_text(
        "{{ release.title }}: {% for s in release.sections %}{{ s.title }};{% endfor %}\n"
    )
    text = render_notes(release(), LINKS, TemplateRenderer(tmp_path))
    # trim_blocks eats the newline after the closing block tag.
    assert text == "1.1.0: Features;Bug Fixes;Performance;Documentation;Other;"


def test_a_template_cannot_reach_python_internals(tmp_path: Path) -> None:
    (tmp_path / "release_notes.md.j2").write_text("{{ ''.__class__.__mro__ }}")
    with pytest.raises(RelkitError, match="template release_notes.md.j2"):
        render_notes(release(), LINKS, TemplateRenderer(tmp_path))


@pytest.mark.parametrize(
    ("merges", "line"),
    [
        ((), "No changes of its own."),
        (("v2.43.5",), "No changes of its own: it merges v2.43.5."),
        (("v1.1.1", "v1.0.1"), "No changes of its own: it merges v1.1.1 and v1.0.1."),
        (
            ("v3.1.1", "v2.0.4", "v1.0.9"),
            "No changes of its own: it merges v3.1.1, v2.0.4 and v1.0.9.",
        ),
    ],
)
def test_a_release_without_commits_of_its_own_says_why(merges: tuple[str, ...], line: str) -> None:
    empty = build_release(
        [],
        version=Version(4, 0, 1),
        tag="v4.0.1",
        previous_tag="v4.0.0",
        released_on=date(2024, 3, 1),
        commit_types=DEFAULT_COMMIT_TYPES,
        merges=merges,
    )
    section = render_sections([empty], LINKS, TemplateRenderer())
    assert section.splitlines()[2:] == [line]
    assert render_notes(empty, LINKS, TemplateRenderer()).startswith(line + "\n")
    # Not computed (a release built from commits): no such line, even when all are hidden.
    hidden = build_release(
        parse_commits(raws()[:1], [r"^chore"]),
        version=Version(4, 0, 1),
        tag="v4.0.1",
        previous_tag="v4.0.0",
        released_on=date(2024, 3, 1),
        commit_types=DEFAULT_COMMIT_TYPES,
    )
    assert "No changes" not in render_sections([hidden], LINKS, TemplateRenderer())


def test_section_order_follows_the_commit_types_then_other() -> None:
    order = section_order(DEFAULT_COMMIT_TYPES)
    assert order[-1] == "Other"
    assert len(order) == len(set(order))
    sections = [t.section for t in DEFAULT_COMMIT_TYPES.values() if t.section]
    assert list(order[:-1]) == list(dict.fromkeys(sections))


def test_a_given_section_order_builds_the_same_release() -> None:
    commits = parse_commits(raws(), [r"^chore\(release\):"])
    given = build_release(
        commits,
        version=Version(1, 1, 0),
        tag="v1.1.0",
        previous_tag="v1.0.0",
        released_on=date(2024, 3, 9),
        commit_types=DEFAULT_COMMIT_TYPES,
        order=section_order(DEFAULT_COMMIT_TYPES),
    )
    assert given == release()
    assert len(given.sections) > 1
