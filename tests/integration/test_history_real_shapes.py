"""Release shapes found on public histories (issue 8), rebuilt as small synthetic repositories.

- helm, vite: pre-releases whose own final is not reachable from HEAD (`v2.8.0-rc.1` without
  `v2.8.0`; `v1.0.0-rc.5`..`rc.13` without `v1.0.0`) were folded into the next higher final
  of another version (3.6.0, 2.0.0). A pre-release folds only into its own final.
- git.git: maintenance releases tagged on a merge of the older maintenance line (`v2.44.2`
  merges `v2.43.5`) own no commit: their section said nothing at all.
"""

from __future__ import annotations

from typing import Any

from relkit.core.errors import EXIT_OK
from tests.integration.test_history_commands import (
    MakeRepo,
    build,
    check_golden,
    headings,
    run,
    section,
)

# v0.9.0, then two release candidates of 1.0.0 on main; 1.0.0 itself was tagged on a release
# branch that main never merged (helm's v2.8.0, vite's v1.0.0); main went on to 2.0.0 with
# a release candidate of its own.
ORPHAN_RCS: list[dict[str, Any]] = [
    {"commit": "feat: a", "files": {"a": "1"}, "date": "2024-01-02T10:00:00Z"},
    {"tag": "v0.9.0"},
    {"commit": "feat: b", "files": {"b": "1"}, "date": "2024-01-03T10:00:00Z"},
    {"tag": "v1.0.0-rc.1"},
    {"commit": "fix: c", "files": {"c": "1"}, "date": "2024-01-04T10:00:00Z"},
    {"tag": "v1.0.0-rc.2"},
    {"branch": "release-1.0"},
    {"commit": "fix: only on the release branch", "files": {"r": "1"}},
    {"tag": "v1.0.0"},
    {"checkout": "main"},
    {"commit": "feat: e", "files": {"e": "1"}, "date": "2024-01-06T10:00:00Z"},
    {"tag": "v2.0.0-rc.1"},
    {"commit": "fix: f", "files": {"f": "1"}, "date": "2024-01-07T10:00:00Z"},
    {"tag": "v2.0.0"},
]


def titles(text: str) -> list[str]:
    return [h.split("]")[0].removeprefix("## [") for h in headings(text)]


def test_a_pre_release_folds_only_into_the_final_of_its_own_version(
    make_repo: MakeRepo, capsys: Any
) -> None:
    repo = build(make_repo, ORPHAN_RCS)
    assert run(repo, "changelog", "--stdout") == EXIT_OK
    text = capsys.readouterr().out
    check_golden("prereleases_fold_orphans.md", text)
    # 2.0.0-rc.1 folds into 2.0.0; 1.0.0's candidates keep their sections: their final is
    # not in this history.
    assert titles(text) == ["2.0.0", "1.0.0-rc.2", "1.0.0-rc.1", "0.9.0"]
    final = section(text, "2.0.0")
    assert "* e (" in final and "* f (" in final and "* b (" not in final and "* c (" not in final
    assert "compare/v1.0.0-rc.2...v2.0.0" in headings(text)[0]
    assert "* c (" in section(text, "1.0.0-rc.2") and "* b (" not in section(text, "1.0.0-rc.2")
    assert "* b (" in section(text, "1.0.0-rc.1")


def test_notes_agree_with_the_changelog_on_orphan_pre_releases(
    make_repo: MakeRepo, capsys: Any
) -> None:
    repo = build(make_repo, ORPHAN_RCS)
    assert run(repo, "notes", "v2.0.0") == EXIT_OK
    notes = capsys.readouterr().out
    check_golden("prereleases_fold_orphans_notes_v2.0.0.md", notes)
    assert "* e (" in notes and "* f (" in notes and "* b (" not in notes and "* c (" not in notes
    assert "compare/v1.0.0-rc.2...v2.0.0" in notes
    assert run(repo, "notes", "v1.0.0-rc.2") == EXIT_OK
    notes = capsys.readouterr().out
    assert "* c (" in notes and "* b (" not in notes
    assert "compare/v1.0.0-rc.1...v1.0.0-rc.2" in notes
    # 1.0.0 itself (on its release branch) holds its candidates: they are its own version.
    assert run(repo, "notes", "v1.0.0") == EXIT_OK
    notes = capsys.readouterr().out
    assert all(f"* {s} (" in notes for s in ("b", "c", "only on the release branch"))
    assert "* a (" not in notes and "compare/v0.9.0...v1.0.0" in notes


def test_a_pre_release_of_a_later_version_merged_into_its_final_still_folds(
    make_repo: MakeRepo, capsys: Any
) -> None:
    # The common shape must not regress: a beta branch with its pre-releases, merged into
    # main and released as that same version.
    repo = build(
        make_repo,
        [
            {"commit": "feat: a", "files": {"a": "1"}},
            {"tag": "v1.0.0"},
            {"branch": "next"},
            {"commit": "feat!: b", "files": {"b": "1"}},
            {"tag": "v2.0.0-beta.1"},
            {"checkout": "main"},
            {"commit": "fix: c", "files": {"c": "1"}},
            {"tag": "v1.0.1"},
            {"merge": "next", "message": "Merge branch 'next'"},
            {"tag": "v2.0.0"},
        ],
    )
    assert run(repo, "changelog", "--stdout") == EXIT_OK
    text = capsys.readouterr().out
    assert titles(text) == ["2.0.0", "1.0.1", "1.0.0"]
    assert "* b (" in section(text, "2.0.0")
    assert run(repo, "notes", "v2.0.0") == EXIT_OK
    assert "* b (" in capsys.readouterr().out


# git.git's maintenance tracks: each older line's security fix is merged into the next line
# and that merge is tagged (v2.44.2 = v2.44.1 + a merge of v2.43.5).
MAINTENANCE_MERGES: list[dict[str, Any]] = [
    {"commit": "feat: a", "files": {"a": "1"}, "date": "2024-01-02T10:00:00Z"},
    {"tag": "v1.0.0"},
    {"branch": "maint-1.0"},
    {"checkout": "main"},
    {"commit": "feat: b", "files": {"b": "1"}, "date": "2024-01-03T10:00:00Z"},
    {"tag": "v1.1.0"},
    {"branch": "maint-1.1"},
    {"checkout": "maint-1.0"},
    {"commit": "fix: security", "files": {"s": "1"}, "date": "2024-01-04T10:00:00Z"},
    {"tag": "v1.0.1"},
    {"checkout": "maint-1.1"},
    {
        "merge": "maint-1.0",
        "message": "Merge branch 'maint-1.0' into maint-1.1",
        "date": "2024-01-05T10:00:00Z",
    },
    {"tag": "v1.1.1"},
    {"checkout": "main"},
    {"merge": "maint-1.1", "message": "Merge branch 'maint-1.1'", "date": "2024-01-06T10:00:00Z"},
    {"tag": "v1.2.0"},
]


def test_a_release_that_only_merges_a_lower_release_says_so(
    make_repo: MakeRepo, capsys: Any
) -> None:
    repo = build(make_repo, MAINTENANCE_MERGES)
    assert run(repo, "changelog", "--stdout") == EXIT_OK
    text = capsys.readouterr().out
    check_golden("merges_only.md", text)
    assert titles(text) == ["1.2.0", "1.1.1", "1.1.0", "1.0.1", "1.0.0"]
    assert section(text, "1.1.1").strip() == "No changes of its own: it merges v1.0.1."
    assert section(text, "1.2.0").strip() == "No changes of its own: it merges v1.1.1."
    assert "* security (" in section(text, "1.0.1")
    # The notes say the same, not an empty body.
    assert run(repo, "notes", "v1.1.1") == EXIT_OK
    notes = capsys.readouterr().out
    check_golden("merges_only_notes_v1.1.1.md", notes)
    assert "No changes of its own: it merges v1.0.1." in notes
    assert run(repo, "notes", "v1.2.0") == EXIT_OK
    assert "No changes of its own: it merges v1.1.1." in capsys.readouterr().out


def test_a_release_that_merges_two_lower_lines_names_both(make_repo: MakeRepo, capsys: Any) -> None:
    repo = build(
        make_repo,
        [
            {"commit": "feat: a", "files": {"a": "1"}},
            {"tag": "v1.0.0"},
            {"branch": "maint-1.0"},
            {"commit": "fix: old", "files": {"o": "1"}},
            {"tag": "v1.0.1"},
            {"checkout": "main"},
            {"commit": "feat: b", "files": {"b": "1"}},
            {"tag": "v1.1.0"},
            {"branch": "maint-1.1"},
            {"commit": "fix: newer", "files": {"n": "1"}},
            {"tag": "v1.1.1"},
            {"checkout": "main"},
            {"merge": "maint-1.0", "message": "Merge branch 'maint-1.0'"},
            {"merge": "maint-1.1", "message": "Merge branch 'maint-1.1'"},
            {"tag": "v1.2.0"},
        ],
    )
    assert run(repo, "changelog", "--stdout") == EXIT_OK
    text = capsys.readouterr().out
    expected = "No changes of its own: it merges v1.1.1 and v1.0.1."
    assert section(text, "1.2.0").strip() == expected
    assert run(repo, "notes", "v1.2.0") == EXIT_OK
    assert expected in capsys.readouterr().out


def test_a_release_whose_merge_brings_nothing_named_says_no_changes(
    make_repo: MakeRepo, capsys: Any
) -> None:
    # The merged branch forked below v1.1.0 and has nothing of its own: v1.2.0 brings no
    # commit and no other release.
    repo = build(
        make_repo,
        [
            {"commit": "feat: a", "files": {"a": "1"}},
            {"tag": "v1.0.0"},
            {"commit": "feat: b", "files": {"b": "1"}},
            {"branch": "topic"},
            {"checkout": "main"},
            {"commit": "fix: c", "files": {"c": "1"}},
            {"tag": "v1.1.0"},
            {"merge": "topic", "message": "Merge branch 'topic'"},
            {"tag": "v1.2.0"},
        ],
    )
    assert run(repo, "changelog", "--stdout") == EXIT_OK
    text = capsys.readouterr().out
    assert section(text, "1.2.0").strip() == "No changes of its own."
    assert "* b (" in section(text, "1.1.0")
    assert run(repo, "notes", "v1.2.0") == EXIT_OK
    notes = capsys.readouterr().out
    assert "No changes of its own." in notes and "merges" not in notes


def test_a_release_with_commits_says_nothing_about_changes(
    make_repo: MakeRepo, capsys: Any
) -> None:
    # Hostile neighbour of the above: a tagged merge that brings commits is a normal section,
    # and a release whose commits are all hidden is not "without changes".
    repo = build(
        make_repo,
        [
            {"commit": "feat: a", "files": {"a": "1"}},
            {"tag": "v1.0.0"},
            {"branch": "topic"},
            {"commit": "feat: t", "files": {"t": "1"}},
            {"checkout": "main"},
            {"merge": "topic", "message": "Merge branch 'topic'"},
            {"tag": "v1.1.0"},
            {"commit": "Tidy up", "files": {"x": "1"}},
            {"tag": "v1.1.1"},
        ],
    )
    (repo.path / "relkit.toml").write_text('[changelog]\nother_commits = "drop"\n')
    assert run(repo, "changelog", "--stdout") == EXIT_OK
    text = capsys.readouterr().out
    assert "No changes" not in text
    assert "* t (" in section(text, "1.1.0")


def test_a_component_release_merging_its_maintenance_line_says_so(
    make_repo: MakeRepo, capsys: Any
) -> None:
    # The merge commits touch no file of the component: the names come from the whole graph,
    # in the changelog and in the notes alike.
    spec = [
        {**step, "files": {f"api/{p}": c for p, c in step["files"].items()}}
        if "files" in step
        else {**step, "tag": f"api/{step['tag']}"}
        if "tag" in step
        else step
        for step in MAINTENANCE_MERGES
    ]
    repo = build(make_repo, spec)
    (repo.path / "relkit.toml").write_text(
        '[[components]]\nname = "api"\npaths = ["api"]\ntag_prefix = "api/"\n'
    )
    assert run(repo, "changelog", "--stdout", "--component", "api") == EXIT_OK
    text = capsys.readouterr().out
    assert section(text, "1.1.1").strip() == "No changes of its own: it merges api/v1.0.1."
    assert "* security (" in section(text, "1.0.1")
    assert run(repo, "notes", "api/v1.1.1", "--component", "api") == EXIT_OK
    assert "No changes of its own: it merges api/v1.0.1." in capsys.readouterr().out
