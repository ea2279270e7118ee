"""Issue 15, §5: commit text never makes relkit's markers, HTML comments or headings.

The real CLI on real repositories: a subject holding `<!-- relkit: insert -->`, a breaking
change whose description holds a heading, mentions of teams. Properties of the escaping
itself: tests/unit/test_markdown_text.py.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.fixtures.canary import Runner
from tests.fixtures.gitrepo import BuiltRepo

Maker = Callable[..., BuiltRepo]

HAND_WRITTEN = "# Changelog\n\nAll notable changes.\n\n## 1.0.0\n\n* the first release\n"


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def _repo(make_repo: Maker, *commits: dict[str, Any]) -> Path:
    spec: list[dict[str, Any]] = [
        {"commit": "feat: first", "files": {"CHANGELOG.md": HAND_WRITTEN}},
        {"tag": "v1.0.0", "annotated": True, "message": "v1.0.0"},
        *commits,
    ]
    return make_repo(spec).path


def test_a_subject_holding_the_insert_marker_does_not_steer_the_next_update(
    make_repo: Maker, canary_runner: Runner
) -> None:
    repo = _repo(
        make_repo,
        {"commit": "fix: keep <!-- relkit: insert --> out", "files": {"a": "1\n"}},
        {"tag": "v1.1.0", "annotated": True, "message": "v1.1.0"},
    )
    first = canary_runner.run(repo, "changelog")
    assert first.code == 0, first.stderr
    _git(repo, "commit", "-qam", "chore(release): v1.1.0")
    (repo / "b").write_text("1\n")
    _git(repo, "add", "b")
    _git(repo, "commit", "-qm", "fix: second")
    _git(repo, "tag", "-a", "v1.2.0", "-m", "v1.2.0")
    second = canary_runner.run(repo, "changelog")
    assert second.code == 0, second.stderr
    text = (repo / "CHANGELOG.md").read_text()
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert [h.split()[1].strip("[]") for h in headings][:3] == ["1.2.0", "1.1.0", "1.0.0"], text
    assert "<!-- relkit: insert -->" not in text
    assert "keep &lt;!-- relkit: insert --> out" in text
    # The 1.1.0 section is whole: nothing was inserted into it.
    section = text[text.index("## 1.1.0") if "## 1.1.0" in text else text.index("## [1.1.0") :]
    section = section[: section.index("## 1.0.0")]
    assert "second" not in section
    canary_runner.assert_clean(second, repo)


def test_a_breaking_description_cannot_write_a_heading_or_a_comment(
    make_repo: Maker, canary_runner: Runner
) -> None:
    body = "BREAKING CHANGE: gone\n## 9.9.9\n<!-- hide the rest\n---\n"
    repo = _repo(
        make_repo,
        {"commit": "feat!: drop", "body": body, "files": {"a": "1\n"}},
        {"tag": "v2.0.0", "annotated": True, "message": "v2.0.0"},
    )
    run = canary_runner.run(repo, "notes", "v2.0.0", github_actions=False)
    assert run.code == 0, run.stderr
    for line in run.stdout.splitlines():
        assert not re.match(r"^ {0,3}#{1,6}\s+9\.9\.9", line), line
        assert not re.match(r"^ {0,3}-{3,}\s*$", line), line
    assert "<!--" not in run.stdout
    changelog = canary_runner.run(repo, "changelog", "--stdout", github_actions=False)
    assert "## 9.9.9" not in changelog.stdout.replace("\\## 9.9.9", "")
    canary_runner.assert_clean(run, repo)


def test_mentions_are_code_by_default_and_live_when_kept(
    make_repo: Maker, canary_runner: Runner
) -> None:
    repo = _repo(
        make_repo,
        {"commit": "fix: ask @acme/release-team and @bob (mail bob@example.com)"},
        {"tag": "v1.0.1", "annotated": True, "message": "v1.0.1"},
    )
    run = canary_runner.run(repo, "notes", "v1.0.1", github_actions=False)
    assert "ask `@acme/release-team` and `@bob` (mail bob@example.com)" in run.stdout
    (repo / "relkit.toml").write_text('[changelog]\nmentions = "keep"\n')
    kept = canary_runner.run(repo, "notes", "v1.0.1", github_actions=False)
    assert "ask @acme/release-team and @bob (mail bob@example.com)" in kept.stdout
