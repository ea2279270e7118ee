"""`relkit version`, `changelog`, `notes` and `plan_release` on real git repositories."""

from __future__ import annotations

import gc
import json
import os
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from relkit.adapters import git_history
from relkit.cli import main
from relkit.core.config import RelkitConfig, load_config
from relkit.core.errors import EXIT_NO_RELEASE, EXIT_OK, EXIT_USAGE, NothingToRelease, RelkitError
from relkit.core.model import Version
from relkit.history import releases
from relkit.history.releases import changelog_text, plan_release
from relkit.release.plan import build_plan
from tests.fixtures.gitrepo import BuiltRepo

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "changelog"
MakeRepo = Callable[..., BuiltRepo]

# A realistic history: lightweight and annotated tags, a merged branch, a squash merge, a
# revert within the same release, a non-conventional commit, a release commit, a foreign tag.
HISTORY: list[dict[str, Any]] = [
    {"commit": "feat: first cut", "files": {"app.py": "1"}, "date": "2024-01-02T10:00:00Z"},
    {"commit": "docs: readme", "files": {"README.md": "hi"}, "date": "2024-01-03T10:00:00Z"},
    {"tag": "v0.1.0"},
    {"tag": "not-a-release"},
    {
        "commit": "fix(cli): crash on empty input (#7)",
        "body": "Fixes #6",
        "files": {"app.py": "2"},
        "id": "crash",
        "date": "2024-02-01T10:00:00Z",
    },
    {"branch": "feature"},
    {
        "commit": "feat(ui): dark mode",
        "files": {"ui.py": "dark"},
        "author": "Bea <bea@example.com>",
        "date": "2024-02-02T10:00:00Z",
    },
    {"checkout": "main"},
    {
        "merge": "feature",
        "message": "Merge pull request #8 from acme/feature",
        "date": "2024-02-03T10:00:00Z",
    },
    {"commit": "Tidy things up", "files": {"misc.txt": "x"}, "date": "2024-02-04T10:00:00Z"},
    {
        "commit": "chore(release): v0.2.0",
        "files": {"VERSION": "0.2.0"},
        "date": "2024-02-05T09:00:00Z",
    },
    {
        "tag": "v0.2.0",
        "annotated": True,
        "message": "Release v0.2.0",
        "date": "2024-02-05T10:00:00Z",
    },
    {"branch": "login"},
    {"commit": "wip", "files": {"auth.py": "1"}},
    {"checkout": "main"},
    {
        "squash": "login",
        "message": "Login (#12)\n\n* feat(auth): login form\n\n* fix(auth): label typo\n\n"
        "Co-authored-by: Cyd <cyd@example.com>",
        "author": "Dan <dan@example.com>",
        "date": "2024-03-01T10:00:00Z",
    },
    {
        "commit": "perf: cache the index",
        "files": {"app.py": "3"},
        "id": "cache",
        "date": "2024-03-02T10:00:00Z",
    },
    {"revert": "cache", "date": "2024-03-03T10:00:00Z"},
    {
        "commit": "feat(api)!: drop the v1 API",
        "body": "BREAKING CHANGE: clients must call /v2.\nCloses #11",
        "files": {"api.py": "v2"},
        "date": "2024-03-04T10:00:00Z",
    },
]


def build(make_repo: MakeRepo, spec: Sequence[Mapping[str, Any]] = HISTORY) -> BuiltRepo:
    repo = make_repo(spec)
    repo.git("remote", "add", "origin", "git@github.com:acme/widget.git")
    return repo


def run(repo: BuiltRepo, *args: str) -> int:
    return main(["-C", str(repo.path), *args])


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("RELKIT_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode())
    assert path.read_bytes().decode() == text


def test_version_prints_the_next_version(make_repo: MakeRepo, capsys: Any) -> None:
    repo = build(make_repo)
    assert run(repo, "version") == EXIT_OK
    # Breaking change while 0.x: minor, not major.
    assert capsys.readouterr().out == "0.3.0\n"


def test_version_json_names_the_commits_behind_the_bump(make_repo: MakeRepo, capsys: Any) -> None:
    repo = build(make_repo)
    assert run(repo, "version", "--json") == EXIT_OK
    document = json.loads(capsys.readouterr().out)
    assert document["version"] == "0.3.0"
    assert document["tag"] == "v0.3.0"
    assert document["previous_tag"] == "v0.2.0"
    assert document["bump"] == "major"
    assert [r["header"] for r in document["reasons"]] == ["feat(api)!: drop the v1 API"]
    assert document["reasons"][0]["sha"] == repo.sha(-1)
    # Since v0.2.0: the squash (two entries), perf, its revert, the breaking feat.
    assert (document["commits"], document["non_conventional"]) == (4, 0)


def test_major_on_zero_makes_a_breaking_change_1_0_0(make_repo: MakeRepo, capsys: Any) -> None:
    repo = build(make_repo)
    (repo.path / "relkit.toml").write_text("major_on_zero = true\n")
    assert run(repo, "version") == EXIT_OK
    assert capsys.readouterr().out == "1.0.0\n"


def test_nothing_to_release_exits_3(make_repo: MakeRepo, capsys: Any) -> None:
    repo = build(
        make_repo,
        [
            {"commit": "feat: a", "files": {"a": "1"}},
            {"tag": "v1.0.0"},
            {"commit": "docs: b", "files": {"b": "1"}},
            {"commit": "Merge-ish note", "files": {"c": "1"}},
        ],
    )
    assert run(repo, "version") == EXIT_NO_RELEASE
    err = capsys.readouterr().err
    assert "no releasable commit since 1.0.0" in err
    assert "Traceback" not in err
    assert run(repo, "version", "--json") == EXIT_NO_RELEASE
    assert json.loads(capsys.readouterr().out)["version"] is None


def test_a_feature_reverted_before_release_bumps_nothing(make_repo: MakeRepo, capsys: Any) -> None:
    repo = build(
        make_repo,
        [
            {"commit": "feat: a", "files": {"a": "1"}},
            {"tag": "v1.0.0"},
            {"commit": "feat: risky", "files": {"b": "1"}, "id": "risky"},
            {"revert": "risky"},
        ],
    )
    assert run(repo, "version") == EXIT_NO_RELEASE
    assert "no releasable commit since 1.0.0" in capsys.readouterr().err


def test_pre_releases_count_up_and_promote(make_repo: MakeRepo, capsys: Any) -> None:
    spec: list[dict[str, Any]] = [
        {"commit": "feat: a", "files": {"a": "1"}},
        {"tag": "v1.2.0"},
        {"commit": "feat: b", "files": {"b": "1"}},
    ]
    repo = build(make_repo, spec)
    assert run(repo, "version", "--pre", "rc") == EXIT_OK
    assert capsys.readouterr().out == "1.3.0-rc.1\n"
    repo.git("tag", "v1.3.0-rc.1")
    repo.git("commit", "--allow-empty", "-q", "-m", "fix: c")
    # --pre without a token uses prerelease_token from the config ("rc").
    assert run(repo, "version", "--pre") == EXIT_OK
    assert capsys.readouterr().out == "1.3.0-rc.2\n"
    repo.git("tag", "-a", "-m", "rc2", "v1.3.0-rc.2")
    assert run(repo, "version") == EXIT_OK
    assert capsys.readouterr().out == "1.3.0\n"


def test_tags_not_reachable_from_head_are_ignored(make_repo: MakeRepo, capsys: Any) -> None:
    repo = build(
        make_repo,
        [
            {"commit": "feat: a", "files": {"a": "1"}},
            {"tag": "v1.0.0"},
            {"branch": "maint"},
            {"commit": "fix: backport", "files": {"m": "1"}},
            {"tag": "v5.0.0"},
            {"checkout": "main"},
            {"commit": "fix: b", "files": {"b": "1"}},
        ],
    )
    assert run(repo, "version") == EXIT_OK
    assert capsys.readouterr().out == "1.0.1\n"
    assert run(repo, "changelog", "--stdout") == EXIT_OK
    assert "5.0.0" not in capsys.readouterr().out


def test_notes_of_one_version_golden(make_repo: MakeRepo, capsys: Any) -> None:
    repo = build(make_repo)
    assert run(repo, "notes", "v0.2.0") == EXIT_OK
    notes = capsys.readouterr().out
    check_golden("repo_notes_v0.2.0.md", notes)
    # The version alone works too.
    assert run(repo, "notes", "0.2.0") == EXIT_OK
    assert capsys.readouterr().out == notes


def test_notes_of_an_unknown_version_is_a_usage_error(make_repo: MakeRepo, capsys: Any) -> None:
    repo = build(make_repo)
    assert run(repo, "notes", "v9.9.9") == EXIT_USAGE
    assert "tag v9.9.9 does not exist" in capsys.readouterr().err
    assert run(repo, "notes", "nine") == EXIT_USAGE
    assert "not a semantic version" in capsys.readouterr().err


def test_changelog_init_writes_the_whole_history(make_repo: MakeRepo, capsys: Any) -> None:
    repo = build(make_repo)
    assert run(repo, "changelog") == EXIT_OK
    text = (repo.path / "CHANGELOG.md").read_text()
    check_golden("repo_full.md", text)
    # Merge commits, release commits and the cancelled perf/revert pair are not entries.
    assert "Merge pull request" not in text
    assert "chore(release)" not in text and "cache the index" not in text
    # The tagged release was not reachable as HEAD's upcoming version: no 0.3.0 yet.
    assert "0.3.0" not in text


def test_changelog_update_inserts_only_the_new_section(make_repo: MakeRepo, capsys: Any) -> None:
    repo = build(make_repo)
    existing = (
        "# Changelog\r\n\r\nKept exactly as written.   \r\n\r\n## 0.2.0 (by hand)\r\n\r\n"
        "* whatever we wrote\r\n"
    )
    (repo.path / "CHANGELOG.md").write_bytes(existing.encode())
    repo.git("tag", "v0.3.0")
    assert run(repo, "changelog") == EXIT_OK
    result = (repo.path / "CHANGELOG.md").read_bytes().decode()
    head, _, tail = existing.partition("## 0.2.0")
    assert result.startswith(head) and result.endswith("## 0.2.0" + tail)
    inserted = result[len(head) : len(result) - len(tail) - len("## 0.2.0")]
    assert inserted.startswith("## [0.3.0](https://github.com/acme/widget/compare/v0.2.0...v0.3.0)")
    assert "clients must call /v2." in inserted
    # A second run finds nothing new and leaves the file alone.
    capsys.readouterr()
    assert run(repo, "changelog") == EXIT_OK
    assert "up to date" in capsys.readouterr().out
    assert (repo.path / "CHANGELOG.md").read_bytes().decode() == result


def test_changelog_full_regenerates_and_output_and_stdout(make_repo: MakeRepo, capsys: Any) -> None:
    repo = build(make_repo)
    (repo.path / "CHANGELOG.md").write_text("# Old\n\n## 0.2.0\n\n* hand\n")
    assert run(repo, "changelog", "--full", "--output", "out/CHANGES.md") == EXIT_OK
    written = (repo.path / "out" / "CHANGES.md").read_text()
    assert written == (GOLDEN / "repo_full.md").read_text()
    assert (repo.path / "CHANGELOG.md").read_text() == "# Old\n\n## 0.2.0\n\n* hand\n"
    capsys.readouterr()
    assert run(repo, "changelog", "--full", "--stdout") == EXIT_OK
    assert capsys.readouterr().out == written


def test_changelog_with_upcoming_version_for_cut(make_repo: MakeRepo) -> None:
    repo = build(make_repo)
    config = RelkitConfig()
    full = changelog_text(repo.path, config, None, upcoming=Version(0, 3, 0))
    assert full.index("## [0.3.0]") < full.index("## [0.2.0]")
    existing = changelog_text(repo.path, config, None)
    updated = changelog_text(repo.path, config, existing, upcoming=Version(0, 3, 0))
    assert updated.replace(
        updated[updated.index("## [0.3.0]") : updated.index("## [0.2.0]")], ""
    ) == (existing)


def test_changelog_builds_with_the_collector_paused(
    make_repo: MakeRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []
    real = releases._all_releases

    def spy(*args: Any) -> Any:
        seen.append(gc.isenabled())
        return real(*args)

    monkeypatch.setattr(releases, "_all_releases", spy)
    repo = build(make_repo)
    assert "## [0.2.0]" in changelog_text(repo.path, RelkitConfig(), None)
    assert seen == [False]
    assert gc.isenabled()


def test_template_override_from_the_repository(make_repo: MakeRepo, capsys: Any) -> None:
    repo = build(make_repo)
    (repo.path / "relkit.toml").write_text('[changelog]\ntemplate_dir = ".relkit"\n')
    (repo.path / ".relkit").mkdir()
    (repo.path / ".relkit" / "release_notes.md.j2").write_text(
        "Release {{ release.title }} with {{ release.commit_count }} commits\n"
    )
    assert run(repo, "notes", "v0.2.0") == EXIT_OK
    assert capsys.readouterr().out == "Release 0.2.0 with 3 commits\n"


def test_plan_release_for_a_tag_and_for_head(make_repo: MakeRepo) -> None:
    repo = build(make_repo)
    config = load_config(repo.path)
    tagged = plan_release(repo.path, config, tag="v0.2.0")
    assert (str(tagged.version), tagged.tag, tagged.previous_tag) == ("0.2.0", "v0.2.0", "v0.1.0")
    assert tagged.sha == repo.tag_sha("v0.2.0")
    assert {c.subject for c in tagged.commits} == {
        "crash on empty input",
        "dark mode",
        "Tidy things up",
    }
    head = plan_release(repo.path, config)
    assert (str(head.version), head.tag, head.previous_tag) == ("0.3.0", "v0.3.0", "v0.2.0")
    assert head.sha == repo.head
    assert "### ⚠ BREAKING CHANGES" in head.notes
    assert head.notes.index("BREAKING") < head.notes.index("### Features")
    assert "[#11](https://github.com/acme/widget/issues/11)" in head.notes
    assert "* Cyd" in head.notes and "* Dan" in head.notes


def test_plan_release_with_nothing_to_release_raises(make_repo: MakeRepo) -> None:
    repo = build(make_repo, [{"commit": "docs: only", "files": {"a": "1"}}])
    with pytest.raises(NothingToRelease):
        plan_release(repo.path, RelkitConfig())


COMPONENTS = """
[[components]]
name = "api"
paths = ["api"]
tag_prefix = "api/"

[[components]]
name = "web"
paths = ["web"]
tag_prefix = "web/"
changelog_file = "web/CHANGES.md"
"""


def test_components_have_their_own_history_and_tags(make_repo: MakeRepo, capsys: Any) -> None:
    repo = build(
        make_repo,
        [
            {"commit": "feat(api): endpoints", "files": {"api/a.py": "1"}},
            {"commit": "feat(web): pages", "files": {"web/p.html": "1"}},
            {"tag": "api/v1.0.0"},
            {"tag": "web/v2.0.0"},
            {"commit": "fix(api): status code", "files": {"api/a.py": "2"}},
            {"commit": "feat(web)!: new layout", "files": {"web/p.html": "2"}},
            {"commit": "docs: root readme", "files": {"README.md": "x"}},
            {"tag": "v9.0.0"},
        ],
    )
    (repo.path / "relkit.toml").write_text(COMPONENTS)
    repo.git("add", "relkit.toml")
    repo.git("commit", "-q", "-m", "ci: components config")
    assert run(repo, "version", "--component", "api") == EXIT_OK
    assert capsys.readouterr().out == "1.0.1\n"
    assert run(repo, "version", "--component", "web", "--json") == EXIT_OK
    document = json.loads(capsys.readouterr().out)
    assert (document["version"], document["tag"]) == ("3.0.0", "web/v3.0.0")
    repo.git("tag", "api/v1.0.1")
    assert run(repo, "notes", "api/v1.0.1", "--component", "api") == EXIT_OK
    notes = capsys.readouterr().out
    assert "status code" in notes and "new layout" not in notes and "readme" not in notes
    assert "compare/api/v1.0.0...api/v1.0.1" in notes
    assert run(repo, "changelog", "--component", "web") == EXIT_OK
    changes = (repo.path / "web" / "CHANGES.md").read_text()
    assert "## [2.0.0](https://github.com/acme/widget/commits/web/v2.0.0)" in changes
    assert "pages" in changes and "endpoints" not in changes
    assert run(repo, "version", "--component", "nope") == EXIT_USAGE
    assert "unknown component 'nope'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("url", "web"),
    [
        ("git@github.com:acme/widget.git", "https://github.com/acme/widget"),
        ("https://github.com/acme/widget.git", "https://github.com/acme/widget"),
        (
            "https://x-access-token:ghs_secret@github.com/acme/widget",
            "https://github.com/acme/widget",
        ),
        (
            "ssh://git@github.example.com:2222/acme/widget.git/",
            "https://github.example.com/acme/widget",
        ),
        # a password holding `@`, an scp-like remote with a password
        (
            "https://x-access-token:ghs_se@cret@github.com/acme/widget",
            "https://github.com/acme/widget",
        ),
        ("user:secret@github.com:acme/widget.git", "https://github.com/acme/widget"),
        ("https://git.example.com:8443/acme/widget", "https://git.example.com:8443/acme/widget"),
        ("/srv/git/widget.git", None),
        ("file:///srv/git/widget.git", None),
        ("https://github.com/", None),
        ("", None),
    ],
)
def test_remote_url_to_web_url_never_keeps_credentials(url: str, web: str | None) -> None:
    result = git_history.web_url_from_remote(url)
    assert result == web
    assert "secret" not in (result or "") and "cret" not in (result or "")


def test_tags_are_peeled_and_marked_annotated(make_repo: MakeRepo) -> None:
    repo = build(make_repo)
    tags = {t.name: t for t in git_history.list_tags(repo.path)}
    assert tags["v0.2.0"].annotated and tags["v0.2.0"].sha == repo.tag_sha("v0.2.0")
    assert not tags["v0.1.0"].annotated and tags["v0.1.0"].sha == repo.tag_sha("v0.1.0")
    assert set(tags) == {"v0.1.0", "v0.2.0", "not-a-release"}


def test_commits_carry_parents_authors_and_full_messages(make_repo: MakeRepo) -> None:
    repo = build(make_repo)
    commits = git_history.read_commits(repo.path, ("v0.1.0..v0.2.0",))
    by_subject = {c.message.splitlines()[0]: c for c in commits}
    merge = by_subject["Merge pull request #8 from acme/feature"]
    assert merge.is_merge and len(merge.parents) == 2
    crash = by_subject["fix(cli): crash on empty input (#7)"]
    assert crash.message == "fix(cli): crash on empty input (#7)\n\nFixes #6\n"
    assert (crash.author_name, crash.author_email) == ("Relkit Test", "test@example.com")
    assert crash.committed_at.isoformat() == "2024-02-01T10:00:00+00:00"
    assert git_history.read_commits(repo.path, ("v0.2.0..v0.2.0",)) == []


def test_a_repository_without_commits_is_a_usage_error(tmp_path: Path, capsys: Any) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    assert main(["-C", str(tmp_path), "version"]) == EXIT_USAGE
    assert main(["-C", str(tmp_path), "changelog", "--stdout"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "has no commits" in err and "Traceback" not in err


def test_a_bad_revision_is_a_relkit_error(make_repo: MakeRepo) -> None:
    repo = build(make_repo)
    with pytest.raises(RelkitError, match="git log failed"):
        git_history.read_commits(repo.path, ("v7.7.7..HEAD",))


def test_a_branch_forked_before_a_release_and_merged_after_is_in_the_next_release(
    make_repo: MakeRepo, capsys: Any
) -> None:
    repo = build(
        make_repo,
        [
            {"commit": "feat: base", "files": {"a": "1"}},
            {"branch": "side"},
            {"commit": "feat(side): long running work", "files": {"s": "1"}},
            {"checkout": "main"},
            {"commit": "fix: quick fix", "files": {"a": "2"}},
            {"tag": "v1.0.0"},
            {"merge": "side", "message": "Merge branch 'side'"},
            {"commit": "docs: after", "files": {"d": "1"}},
            {"tag": "v1.1.0"},
        ],
    )
    assert run(repo, "changelog", "--stdout") == EXIT_OK
    text = capsys.readouterr().out
    newer, _, older = text.partition("## [1.0.0]")
    assert "long running work" in newer and "long running work" not in older
    assert "quick fix" in older and "base" in older


def test_release_candidates_fold_into_the_final_release(make_repo: MakeRepo, capsys: Any) -> None:
    repo = build(
        make_repo,
        [
            {"commit": "feat: a", "files": {"a": "1"}},
            {"tag": "v1.0.0"},
            {"commit": "feat: b", "files": {"b": "1"}},
            {"tag": "v1.1.0-rc.1"},
            {"commit": "fix: c", "files": {"c": "1"}},
            {"tag": "v1.1.0-rc.2"},
            {"commit": "fix: d", "files": {"d": "1"}},
            {"tag": "v1.1.0"},
        ],
    )
    # A pre-release's notes start at the previous tag of any kind...
    assert run(repo, "notes", "v1.1.0-rc.2") == EXIT_OK
    rc2 = capsys.readouterr().out
    assert "* c (" in rc2 and "* b (" not in rc2
    assert "compare/v1.1.0-rc.1...v1.1.0-rc.2" in rc2
    # ...a final's notes at the previous final, so they include what the rcs shipped.
    assert run(repo, "notes", "v1.1.0") == EXIT_OK
    final = capsys.readouterr().out
    assert all(f"* {s} (" in final for s in "bcd")
    assert "compare/v1.0.0...v1.1.0" in final
    assert run(repo, "changelog", "--stdout") == EXIT_OK
    text = capsys.readouterr().out
    assert [line for line in text.splitlines() if line.startswith("## ")] == [
        "## [1.1.0](https://github.com/acme/widget/compare/v1.0.0...v1.1.0) (2024-01-01)",
        "## [1.0.0](https://github.com/acme/widget/commits/v1.0.0) (2024-01-01)",
    ]


# -- hostile histories (issue 8) -----------------------------------------------------------


def forge_commit(repo: BuiltRepo, message: str, raw_date: str) -> str:
    """A commit on HEAD with a date `git commit` refuses to write but real histories hold."""
    tree = repo.git("rev-parse", "HEAD^{tree}").strip()
    parent = repo.head
    body = (
        f"tree {tree}\nparent {parent}\n"
        f"author Old Tool <old@example.com> {raw_date}\n"
        f"committer Old Tool <old@example.com> {raw_date}\n\n{message}\n"
    )
    result = subprocess.run(
        ["git", "hash-object", "-t", "commit", "-w", "--literally", "--stdin"],
        cwd=repo.path,
        input=body.encode(),
        capture_output=True,
        check=True,
    )
    sha = result.stdout.decode().strip()
    repo.git("update-ref", "HEAD", sha)
    return sha


@pytest.mark.parametrize(
    ("raw_date", "shown"),
    [
        ("1700000000 +051800", "2023-11-14"),  # the instant kept, the bogus offset dropped
        ("1700000000 +9900", "2023-11-14"),
        ("1700000000 -1130", "2023-11-14"),  # a valid offset stays
        ("253402300800 +0000", "9999-12-31"),  # year 10000: clamped, not a crash
    ],
)
def test_commit_dates_out_of_range_never_crash(
    make_repo: MakeRepo, capsys: Any, raw_date: str, shown: str
) -> None:
    repo = build(make_repo, [{"commit": "feat: a", "files": {"a": "1"}}, {"tag": "v1.0.0"}])
    sha = forge_commit(repo, "fix: from an old importer", raw_date)
    repo.git("tag", "v1.0.1")
    [commit] = git_history.read_commits(repo.path, ("v1.0.0..HEAD",))
    assert commit.sha == sha
    assert git_history.commit_time(repo.path, sha) == commit.committed_at
    assert git_history.commit_graph(repo.path)[0] == (sha, commit.parents, commit.committed_at)
    if raw_date.startswith("1700000000"):
        assert commit.committed_at.timestamp() == 1700000000  # the raw instant
    assert run(repo, "notes", "v1.0.1") == EXIT_OK
    assert run(repo, "changelog", "--stdout") == EXIT_OK
    out = capsys.readouterr().out
    assert f"[1.0.1](https://github.com/acme/widget/compare/v1.0.0...v1.0.1) ({shown})" in out
    assert plan_release(repo.path, RelkitConfig(), tag="v1.0.1").committed_at == (
        commit.committed_at
    )


def test_a_version_with_a_4400_digit_number_is_a_one_line_error(
    make_repo: MakeRepo, capsys: Any
) -> None:
    repo = build(make_repo, [{"commit": "feat: a", "files": {"a": "1"}}, {"tag": "v1.0.0"}])
    huge = "1" + "0" * 4400
    # A tag like that must not break the history either (too long for a loose ref file).
    with (repo.path / ".git" / "packed-refs").open("a") as refs:
        refs.write(f"{repo.head} refs/tags/v{huge}.0.0\n")
    assert run(repo, "notes", f"{huge}.0.0") == EXIT_USAGE
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) <= 2 and "digits" in err and len(err) < 400
    assert run(repo, "changelog", "--stdout") == EXIT_OK
    assert "## [1.0.0]" in capsys.readouterr().out
    assert run(repo, "notes", "v1\u0663.0.0") == EXIT_USAGE  # not 13.0.0


def headings(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("## ")]


def section(text: str, title: str) -> str:
    """The body of the changelog section whose heading names `title`."""
    start = next(i for i, line in enumerate(text.splitlines()) if line.startswith(f"## [{title}]"))
    lines = text.splitlines()[start + 1 :]
    end = next((i for i, line in enumerate(lines) if line.startswith("## ")), len(lines))
    return "\n".join(lines[:end])


# v1.0.0 → beta: feat!, v2.0.0-beta.1 → main: fix, v1.0.1 → main merged into beta → beta
# merged into main, v2.0.0. Topological order lists 1.0.1's fix below the beta's tag.
BETA_MERGED_MAIN: list[dict[str, Any]] = [
    {"commit": "feat: base", "files": {"a": "1"}},
    {"tag": "v1.0.0"},
    {"branch": "beta"},
    {"commit": "feat!: x", "body": "BREAKING CHANGE: x replaces w", "files": {"x": "1"}},
    {"tag": "v2.0.0-beta.1"},
    {"checkout": "main"},
    {"commit": "fix: y", "files": {"y": "1"}},
    {"tag": "v1.0.1"},
    {"checkout": "beta"},
    {"merge": "main", "message": "Merge branch 'main' into beta"},
    {"checkout": "main"},
    {"merge": "beta", "message": "Merge branch 'beta'"},
    {"tag": "v2.0.0"},
]


def test_a_beta_that_merged_main_keeps_its_breaking_change_in_the_final(
    make_repo: MakeRepo, capsys: Any
) -> None:
    repo = build(make_repo, BETA_MERGED_MAIN)
    assert run(repo, "changelog", "--stdout") == EXIT_OK
    text = capsys.readouterr().out
    assert [h.split("]")[0] for h in headings(text)] == ["## [2.0.0", "## [1.0.1", "## [1.0.0"]
    assert "compare/v1.0.1...v2.0.0" in headings(text)[0]
    final = section(text, "2.0.0")
    assert "BREAKING CHANGES" in final and "x replaces w" in final and "* y (" not in final
    assert "* y (" in section(text, "1.0.1") and "replaces" not in section(text, "1.0.1")
    # The notes of 2.0.0 tell the same story.
    assert run(repo, "notes", "v2.0.0") == EXIT_OK
    notes = capsys.readouterr().out
    assert "x replaces w" in notes and "* y (" not in notes


def test_a_beta_that_merged_main_with_pre_releases_in_own_sections(
    make_repo: MakeRepo, capsys: Any
) -> None:
    repo = build(make_repo, BETA_MERGED_MAIN)
    (repo.path / "relkit.toml").write_text('[changelog]\nprereleases = "own"\n')
    assert run(repo, "changelog", "--stdout") == EXIT_OK
    text = capsys.readouterr().out
    assert [h.split("]")[0] for h in headings(text)] == [
        "## [2.0.0",
        "## [2.0.0-beta.1",
        "## [1.0.1",
        "## [1.0.0",
    ]
    assert "compare/v2.0.0-beta.1...v2.0.0" in headings(text)[0]
    assert "x replaces w" in section(text, "2.0.0-beta.1")
    assert "x replaces w" not in section(text, "2.0.0") and "* y (" not in section(text, "2.0.0")


def test_tags_on_merge_commits_hold_what_the_merges_brought(
    make_repo: MakeRepo, capsys: Any
) -> None:
    # git-flow: main only receives merges of develop, and the merges are tagged.
    repo = build(
        make_repo,
        [
            {"commit": "chore: init", "files": {"i": "1"}},
            {"branch": "develop"},
            {"commit": "feat: a", "files": {"a": "1"}},
            {"checkout": "main"},
            {"merge": "develop", "message": "Merge branch 'develop'"},
            {"tag": "v1.0.0"},
            {"checkout": "develop"},
            {"commit": "feat: b", "files": {"b": "1"}},
            {"commit": "fix: c", "files": {"c": "1"}},
            {"checkout": "main"},
            {"merge": "develop", "message": "Merge branch 'develop'"},
            {"tag": "v1.1.0"},
        ],
    )
    assert run(repo, "changelog", "--stdout") == EXIT_OK
    text = capsys.readouterr().out
    newest = section(text, "1.1.0")
    assert "* b (" in newest and "* c (" in newest and "* a (" not in newest
    assert "* a (" in section(text, "1.0.0") and "* b (" not in section(text, "1.0.0")


def test_two_tags_on_one_commit_both_appear(make_repo: MakeRepo, capsys: Any) -> None:
    repo = build(
        make_repo,
        [
            {"commit": "feat: a", "files": {"a": "1"}},
            {"tag": "v12.3.0"},
            {"commit": "fix: b", "files": {"b": "1"}},
            {"tag": "v12.4.0"},
            {"tag": "v12.4.1"},
        ],
    )
    assert run(repo, "changelog", "--stdout") == EXIT_OK
    text = capsys.readouterr().out
    assert [h.split("]")[0] for h in headings(text)] == ["## [12.4.1", "## [12.4.0", "## [12.3.0"]
    retag = section(text, "12.4.1")
    assert "Re-tags the same commit as v12.4.0" in retag and "* b (" not in retag
    assert "compare/v12.4.0...v12.4.1" in headings(text)[0]
    assert "* b (" in section(text, "12.4.0")
    assert run(repo, "notes", "v12.4.1") == EXIT_OK
    assert "Re-tags the same commit as v12.4.0" in capsys.readouterr().out


RC_HISTORY: list[dict[str, Any]] = [
    {"commit": "feat: a", "files": {"a": "1"}, "date": "2024-01-02T10:00:00Z"},
    {"tag": "v1.0.0"},
    {"commit": "feat: b", "files": {"b": "1"}, "date": "2024-01-03T10:00:00Z"},
    {"tag": "v1.1.0-rc.1"},
    {"commit": "fix: c", "files": {"c": "1"}, "date": "2024-01-04T10:00:00Z"},
    {"tag": "v1.1.0-rc.2"},
    {"commit": "fix: d", "files": {"d": "1"}, "date": "2024-01-05T10:00:00Z"},
    {"tag": "v1.1.0"},
    {"commit": "feat: e", "files": {"e": "1"}, "date": "2024-01-06T10:00:00Z"},
    {"tag": "v1.2.0-beta.1"},
]


def test_pre_releases_in_their_own_sections_golden(make_repo: MakeRepo, capsys: Any) -> None:
    repo = build(make_repo, RC_HISTORY)
    (repo.path / "relkit.toml").write_text('[changelog]\nprereleases = "own"\n')
    assert run(repo, "changelog", "--stdout") == EXIT_OK
    text = capsys.readouterr().out
    check_golden("prereleases_own.md", text)
    assert [h.split("]")[0] for h in headings(text)] == [
        "## [1.2.0-beta.1",
        "## [1.1.0",
        "## [1.1.0-rc.2",
        "## [1.1.0-rc.1",
        "## [1.0.0",
    ]
    # The final's notes are its section: what it added since the last pre-release.
    assert run(repo, "notes", "v1.1.0") == EXIT_OK
    notes = capsys.readouterr().out
    check_golden("prereleases_own_notes_v1.1.0.md", notes)
    assert "* d (" in notes and "* c (" not in notes and "compare/v1.1.0-rc.2...v1.1.0" in notes


def test_pre_releases_fold_by_default_golden(make_repo: MakeRepo, capsys: Any) -> None:
    repo = build(make_repo, RC_HISTORY)
    assert run(repo, "changelog", "--stdout") == EXIT_OK
    text = capsys.readouterr().out
    check_golden("prereleases_fold.md", text)
    # A pre-release no final release reaches yet keeps its section.
    assert [h.split("]")[0] for h in headings(text)] == [
        "## [1.2.0-beta.1",
        "## [1.1.0",
        "## [1.0.0",
    ]


def test_an_unknown_prereleases_mode_is_a_usage_error(make_repo: MakeRepo, capsys: Any) -> None:
    repo = build(make_repo, RC_HISTORY)
    (repo.path / "relkit.toml").write_text('[changelog]\nprereleases = "separate"\n')
    assert run(repo, "changelog", "--stdout") == EXIT_USAGE
    assert "prereleases" in capsys.readouterr().err


def test_a_shallow_clone_warns_for_notes_and_fails_cut_and_release(
    make_repo: MakeRepo, capsys: Any, tmp_path: Path
) -> None:
    repo = build(make_repo)
    shallow = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{repo.path}", str(shallow)],
        check=True,
        capture_output=True,
    )
    subprocess.run(["git", "-C", str(shallow), "tag", "v0.3.0"], check=True)
    # changelog and notes still print (a preview is useful), with a warning saying why the
    # previous release is missing.
    assert main(["-C", str(shallow), "notes", "v0.3.0"]) == EXIT_OK
    captured = capsys.readouterr()
    assert "shallow clone" in captured.err and "fetch-depth: 0" in captured.err
    assert main(["-C", str(shallow), "changelog", "--stdout"]) == EXIT_OK
    assert "fetch-depth: 0" in capsys.readouterr().err
    # cut and release refuse: what they publish would be silently truncated.
    assert main(["-C", str(shallow), "cut", "--no-push", "--dry-run"]) != EXIT_OK
    err = capsys.readouterr().err
    assert "shallow clone" in err and "fetch-depth: 0" in err and len(err.splitlines()) <= 2
    with pytest.raises(RelkitError, match="shallow clone") as caught:
        build_plan(shallow, RelkitConfig(), "v0.3.0", env={}, resolver=lambda _refs: {})
    assert "fetch-depth: 0" in str(caught.value)
    # The full repository is not shallow: no warning there.
    assert run(repo, "notes", "v0.2.0") == EXIT_OK
    assert "shallow" not in capsys.readouterr().err


@pytest.mark.parametrize(
    "revert",
    [
        'Revert "feat: add x (#1)" (#2)\n\nThis reverts commit {sha:x}.',  # GitHub's button
        'Revert "feat: add x (#1)" (#2)',  # the body edited away: the title still names it
        'Revert "feat: add x (#1)"\n\nThis reverts commit {sha:x}.',  # git revert
    ],
)
def test_a_github_revert_cancels_the_feature(make_repo: MakeRepo, capsys: Any, revert: str) -> None:
    repo = build(
        make_repo,
        [
            {"commit": "fix: a", "files": {"a": "1"}},
            {"tag": "v1.0.0"},
            {"commit": "feat: add x (#1)", "files": {"x": "1"}, "id": "x"},
            {"commit": revert, "files": {"x": None}},
            {"commit": "fix: b", "files": {"b": "1"}},
            {"tag": "v1.0.1"},
        ],
    )
    assert run(repo, "changelog", "--stdout") == EXIT_OK
    newest = section(capsys.readouterr().out, "1.0.1")
    assert "add x" not in newest and "Revert" not in newest and "* b (" in newest
    assert run(repo, "notes", "v1.0.1") == EXIT_OK
    assert "add x" not in capsys.readouterr().out


def test_a_tag_on_the_merge_of_a_branch_that_merged_main_is_not_empty(
    make_repo: MakeRepo, capsys: Any
) -> None:
    # The branch merged main (and its v1.0.0) before being merged back; v1.1.0 is on that
    # merge. Topologically v1.0.0 comes right after the merges, above the branch's commit.
    repo = build(
        make_repo,
        [
            {"commit": "chore: init", "files": {"i": "1"}},
            {"branch": "feature"},
            {"commit": "feat: long running work", "files": {"f": "1"}},
            {"checkout": "main"},
            {"commit": "fix: quick fix", "files": {"q": "1"}},
            {"tag": "v1.0.0"},
            {"checkout": "feature"},
            {"merge": "main", "message": "Merge branch 'main' into feature"},
            {"checkout": "main"},
            {"merge": "feature", "message": "Merge pull request #3 from acme/feature"},
            {"tag": "v1.1.0"},
        ],
    )
    assert run(repo, "changelog", "--stdout") == EXIT_OK
    text = capsys.readouterr().out
    assert "* long running work (" in section(text, "1.1.0")
    assert "long running work" not in section(text, "1.0.0")


def test_notes_leave_out_an_older_maintenance_line_merged_with_the_release(
    make_repo: MakeRepo, capsys: Any
) -> None:
    # 1.0.1 and 1.1.1 are maintenance releases, both merged into main before 1.2.0. The
    # notes start at 1.1.1, but 1.0.1's fix is not reachable from it: it is 1.0.1's change.
    repo = build(
        make_repo,
        [
            {"commit": "feat: base", "files": {"a": "1"}},
            {"tag": "v1.0.0"},
            {"branch": "maint-1.0"},
            {"commit": "fix: old line", "files": {"o": "1"}},
            {"tag": "v1.0.1"},
            {"checkout": "main"},
            {"commit": "feat: f", "files": {"f": "1"}},
            {"tag": "v1.1.0"},
            {"branch": "maint-1.1"},
            {"commit": "fix: newer line", "files": {"n": "1"}},
            {"tag": "v1.1.1"},
            {"checkout": "main"},
            {"merge": "maint-1.0", "message": "Merge branch 'maint-1.0'"},
            {"merge": "maint-1.1", "message": "Merge branch 'maint-1.1'"},
            {"commit": "feat: g", "files": {"g": "1"}},
            {"tag": "v1.2.0"},
        ],
    )
    assert run(repo, "notes", "v1.2.0") == EXIT_OK
    notes = capsys.readouterr().out
    assert "* g (" in notes and "old line" not in notes and "newer line" not in notes
    assert "compare/v1.1.1...v1.2.0" in notes
    assert run(repo, "changelog", "--stdout") == EXIT_OK
    text = capsys.readouterr().out
    assert "old line" in section(text, "1.0.1") and "old line" not in section(text, "1.2.0")
