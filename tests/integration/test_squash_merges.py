"""A squash-merging project's history through `relkit changelog`, `version`, `cut` and
`check` on real git repositories (issue 16)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from relkit.cli import main
from relkit.core.errors import EXIT_FAILED, EXIT_OK
from tests.fixtures.gitrepo import BuiltRepo

MakeRepo = Callable[..., BuiltRepo]
GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "changelog"
ACTIONS_BOT = "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>"

# What GitHub writes when it squash-merges: the PR title, then each branch commit as a bullet.
HISTORY: list[dict[str, Any]] = [
    {"commit": "feat: search index", "files": {"a.py": "1"}, "date": "2024-01-02T10:00:00Z"},
    {"tag": "v1.0.0"},
    {
        "commit": "feat: add BM25 scorers (#7692)",
        "body": "* feat: add BM25 scorers\n\n* fix: first part\n\n* fix: second part\n\n"
        "* fix: review comments\n\n* fix: review comments\n\n---------\n\n"
        f"Co-authored-by: Bob <bob@example.com>\nCo-authored-by: {ACTIONS_BOT}",
        "files": {"a.py": "2"},
        "author": "Ada <ada@example.com>",
        "date": "2024-02-01T10:00:00Z",
    },
    {
        # GitHub's wrap of a title too long for a subject line.
        "commit": "fix(search): handle empty queries when the index holds no docum… (#7701)",
        "body": "…ents yet\n\nFixes #7700",
        "files": {"b.py": "1"},
        "author": "Cy <cy@example.com>",
        "date": "2024-02-02T10:00:00Z",
    },
    {
        "commit": "chore(deps): bump lodash from 4.17.20 to 4.17.21 (#7705)",
        "files": {"package.json": "{}"},
        "author": "dependabot[bot] <49699333+dependabot[bot]@users.noreply.github.com>",
        "date": "2024-02-03T10:00:00Z",
    },
    {
        # A breaking change hidden in a bullet of a non-breaking title, and a bad bullet.
        "commit": "feat(server): stream results (#7710)",
        "body": "* feat(server): stream results\n\n* feat(api)!: drop the v1 search endpoint\n\n"
        "* wip: try things\n\n* fix: review comments",
        "files": {"c.py": "1"},
        "author": "Ada <ada@example.com>",
        "date": "2024-02-04T10:00:00Z",
        "id": "stream",
    },
    {
        # Not conventional: its conventional bullets are the entries, as they always were.
        "commit": "Update dependencies (#7720)",
        "body": "* fix(deps): bump tantivy to 0.22\n\n* chore: regenerate the lock file",
        "files": {"d.py": "1"},
        "author": "Dee <dee@example.com>",
        "date": "2024-02-05T10:00:00Z",
    },
    {
        "commit": "Tidy the README",
        "files": {"README.md": "x"},
        "author": "Dee <dee@example.com>",
        "date": "2024-02-06T10:00:00Z",
    },
]

CONFIG = '[github]\nrepository = "acme/search"\n'


@dataclass(frozen=True)
class Setup:
    repo: BuiltRepo
    config: Path  # outside the work tree: `cut` wants a clean one


def build(
    make_repo: MakeRepo, tmp_path: Path, mode: str | None, *, tag: bool = False, **kwargs: Any
) -> Setup:
    repo = make_repo([*HISTORY, {"tag": "v2.0.0"}] if tag else HISTORY, **kwargs)
    config = tmp_path / f"relkit-{mode}.toml"
    extra = f'\n[changelog]\nsquash_bullets = "{mode}"\n' if mode else ""
    config.write_text(CONFIG + extra)
    return Setup(repo, config)


def run(setup: Setup, *args: str) -> int:
    return main(["-C", str(setup.repo.path), "--config", str(setup.config), *args])


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("RELKIT_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode())
    assert path.read_bytes().decode() == text


@pytest.mark.parametrize("mode", ["title", "split"])
def test_the_changelog_of_a_squash_merging_project_golden(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str], mode: str
) -> None:
    setup = build(make_repo, tmp_path, mode, tag=True, bare_remote=True)  # origin: local
    assert run(setup, "changelog", "--full", "--stdout") == EXIT_OK
    text = capsys.readouterr().out
    check_golden(f"squash_{mode}.md", text)
    # Links come from [github] repository: origin is a local path.
    assert "## [2.0.0](https://github.com/acme/search/compare/v1.0.0...v2.0.0)" in text
    assert "](https://github.com/acme/search/pull/7692)" in text
    assert "](https://github.com/acme/search/commits/v1.0.0)" in text
    # One PR, one entry: the wrapped title is joined, the repeated first bullet not listed.
    assert "handle empty queries when the index holds no documents yet" in text
    assert text.count("add BM25 scorers") == 1
    assert "…" not in text
    # The breaking bullet is listed as breaking, with its own description and scope.
    assert "* **api:** drop the v1 search endpoint (" in text
    # Bots are not contributors: neither an author nor a co-author.
    assert "[bot]" not in text and "github-actions" not in text and "dependabot" not in text
    assert "* Bob\n" in text


def test_title_lists_one_entry_per_pr_and_split_lists_the_bullets(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    texts = {}
    for mode in ("title", "split"):
        setup = build(make_repo, tmp_path, mode, tag=True)
        assert run(setup, "changelog", "--full", "--stdout") == EXIT_OK
        texts[mode] = capsys.readouterr().out
    # Each PR lists its own "review comments" bullet once, however often it repeats.
    for bullet, times in (("first part", 1), ("second part", 1), ("review comments", 2)):
        assert bullet not in texts["title"]
        assert texts["split"].count(bullet) == times
    # A non-conventional squash title keeps its bullets as entries in both modes.
    for text in texts.values():
        assert "bump tantivy to 0.22" in text


def test_version_and_cut_compute_the_same_bump_in_both_modes(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    found = {}
    for mode in ("title", "split", None):
        setup = build(make_repo, tmp_path, mode, bare_remote=True)
        assert run(setup, "version", "--json") == EXIT_OK
        version = json.loads(capsys.readouterr().out)
        assert run(setup, "cut", "--dry-run", "--json") == EXIT_OK
        cut = json.loads(capsys.readouterr().out)
        found[mode] = (version["version"], version["bump"], version["reasons"], cut["version"])
    assert found["title"] == found["split"] == found[None]
    assert found["title"][:2] == ("2.0.0", "major")
    # The breaking bullet is the reason, though the title is not breaking.
    assert [r["header"] for r in found["title"][2]] == ["feat(api)!: drop the v1 search endpoint"]
    assert found["title"][3] == "2.0.0"


def test_check_names_a_bad_bullet_by_its_squash_and_counts_like_version(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    setup = build(make_repo, tmp_path, None)
    repo = setup.repo
    assert run(setup, "check", "--range", "v1.0.0..HEAD", "--json") == EXIT_FAILED
    checks = json.loads(capsys.readouterr().out)["checks"]
    [commits] = [c for c in checks if c["name"] == "commits v1.0.0..HEAD"]
    stream = repo.sha("stream")[:7]
    tidy = repo.head[:7]
    assert commits["details"] == [  # newest first, as git lists them
        f"{tidy} 'Tidy the README': not a Conventional Commit: expected "
        "'type(scope)!: description' (scope and ! optional)",
        f"bullet 3 of {stream} 'feat(server): stream results (#7710)': 'wip: try things': "
        "type 'wip' is not one of the configured types (build, chore, ci, deps, docs, feat, fix, "
        "perf, refactor, revert, style, test)",
    ]
    counted = re.match(
        r"(\d+) of (\d+) commit\(s\) not conventional, 1 entry of an unknown type: ",
        commits["message"],
    )
    assert counted is not None, commits["message"]
    assert run(setup, "version", "--json") == EXIT_OK
    version = json.loads(capsys.readouterr().out)
    assert (int(counted.group(1)), int(counted.group(2))) == (
        version["non_conventional"],
        version["commits"],
    )
    assert (version["non_conventional"], version["commits"]) == (1, 6)


@pytest.mark.parametrize(
    ("config", "base"),
    [
        ('[github]\nrepository = "acme/search"\n', "https://github.com/acme/search"),
        (
            '[github]\nrepository = "acme/search"\napi_url = "https://ghe.example.com/api/v3"\n',
            "https://ghe.example.com/acme/search",
        ),
        (
            'repository_url = "https://git.example.com/acme/search/"\n'
            '[github]\nrepository = "other/name"\n',
            "https://git.example.com/acme/search",
        ),
    ],
)
@pytest.mark.parametrize("origin", ["absent", "local path"])
def test_links_without_a_web_origin_come_from_the_config(
    make_repo: MakeRepo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    config: str,
    base: str,
    origin: str,
) -> None:
    repo = make_repo([*HISTORY[:3], {"tag": "v1.1.0"}], bare_remote=origin == "local path")
    assert ("origin" in repo.git("remote").split()) == (origin == "local path")
    path = tmp_path / "relkit.toml"
    path.write_text(config)
    setup = Setup(repo, path)
    assert run(setup, "notes", "v1.0.0") == EXIT_OK
    notes = capsys.readouterr().out
    assert f"({base}/commit/{repo.sha(0)})" in notes
    assert run(setup, "changelog", "--full", "--stdout") == EXIT_OK
    text = capsys.readouterr().out
    assert f"]({base}/pull/7692)" in text
    assert f"]({base}/commits/v1.0.0)" in text


def test_a_web_origin_still_wins_over_the_github_repository(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo([*HISTORY[:3], {"tag": "v1.1.0"}])
    repo.git("remote", "add", "origin", "git@github.com:acme/real.git")
    path = tmp_path / "relkit.toml"
    path.write_text('[github]\nrepository = "acme/search"\n')
    assert run(Setup(repo, path), "changelog", "--full", "--stdout") == EXIT_OK
    text = capsys.readouterr().out
    assert "](https://github.com/acme/real/pull/7692)" in text
    assert "acme/search" not in text
