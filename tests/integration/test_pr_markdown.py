"""Commit text in the release PR body and the PR preview, as a reader of the Markdown sees it.

Both are built from real repositories and read back with a CommonMark parser
(tests/fixtures/markdown_reader.py): each piece of commit text is escaped once
(`core/markdown_text`, per field), so what a reader sees is the text as written, with
mentions per `changelog.mentions`, and no escape shows up in it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from markdown_it.token import Token

from relkit.adapters.git_history import HistorySnapshot
from relkit.cli import main
from relkit.core.config import load_config
from relkit.core.model import Version
from relkit.cut.release_pr import render_body
from relkit.history.releases import plan_release
from tests.fixtures.gitrepo import BuiltRepo
from tests.fixtures.markdown_reader import GITHUB, live_mentions

Maker = Callable[..., BuiltRepo]

SUBJECT = r"a\b <!-- relkit:release-pr --> ask @acme/team `Vec<T>` *now* mail bob@example.com"
SEEN = r"a\b <!-- relkit:release-pr --> ask @acme/team Vec<T> now mail bob@example.com"


def _repo(make_repo: Maker, config: str = "") -> BuiltRepo:
    repo = make_repo(
        [
            {"commit": "feat: first", "files": {"relkit.toml": config, "a": "1\n"}},
            {"tag": "v1.0.0", "annotated": True, "message": "v1.0.0"},
            {"commit": f"fix: {SUBJECT}", "files": {"a": "2\n"}},
        ]
    )
    repo.git("remote", "add", "origin", "git@github.com:acme/shop.git")
    return repo


def _pr_body(root: Path, component: str | None = None) -> str:
    config = load_config(root, None)
    version = Version(1, 0, 1)
    plan = plan_release(HistorySnapshot(root), config, version=version, component=component)
    return render_body(
        root_notes=plan.notes,
        config=config,
        component=component,
        version=version,
        tag=plan.tag,
        reason="patch bump since 1.0.0, required by 1a2b3c4 (fix: ask @acme/team)",
        release_as_line=None,
    )


def _preview(root: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    for name in ("GITHUB_TOKEN", "GH_TOKEN", "GITHUB_STEP_SUMMARY", "GITHUB_ACTIONS"):
        monkeypatch.delenv(name, raising=False)
    capsys.readouterr()
    main(["-C", str(root), "check", "--range", "v1.0.0..HEAD", "--comment", "--pr-number", "1"])
    out = str(capsys.readouterr().out)
    return out[out.index("<!-- relkit:pr-preview -->") :]


def _inline(markdown: str) -> Iterator[Token]:
    for token in GITHUB.parse(markdown):
        yield token
        yield from token.children or ()


def _item_with(markdown: str, needle: str) -> list[Token]:
    """The inline tokens of the line (list item, paragraph) whose visible text holds `needle`."""
    for token in GITHUB.parse(markdown):
        children = token.children or []
        if token.type == "inline" and needle in _visible(children):
            return children
    raise AssertionError(f"no line shows {needle!r}:\n{markdown}")


def _visible(tokens: list[Token]) -> str:
    return "".join(t.content for t in tokens if t.type in ("text", "code_inline", "html_inline"))


def _reads_as_written(markdown: str, mention_as_code: bool) -> None:
    item = _item_with(markdown, "Vec<T>")
    assert SEEN in _visible(item)  # no escape shows: not `&lt;`, not a word joiner
    codes = [t.content for t in item if t.type == "code_inline"]
    assert "Vec<T>" in codes
    assert ("@acme/team" in codes) is mention_as_code
    assert "\u2060" not in markdown
    if mention_as_code:
        assert live_mentions(markdown) == []
    # Commit text makes no HTML: the only comment is relkit's marker.
    html = [t.content for t in _inline(markdown) if t.type in ("html_block", "html_inline")]
    assert sum("<!--" in h for h in html) == 1, html


def test_the_release_pr_body_shows_commit_text_once_escaped(make_repo: Maker) -> None:
    repo = _repo(make_repo)
    body = _pr_body(repo.path)
    _reads_as_written(body, mention_as_code=True)
    headings = [t.content for t in _inline(body) if t.type == "inline" and "v1.0.1" in t.content]
    assert headings[0] == "v1.0.1"


def test_the_pr_preview_shows_commit_text_once_escaped(
    make_repo: Maker, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _repo(make_repo)
    _reads_as_written(_preview(repo.path, capsys, monkeypatch), mention_as_code=True)


def test_kept_mentions_stay_live_in_the_pr_body_and_the_preview(
    make_repo: Maker, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _repo(make_repo, '[changelog]\nmentions = "keep"\n')
    _reads_as_written(_pr_body(repo.path), mention_as_code=False)
    _reads_as_written(_preview(repo.path, capsys, monkeypatch), mention_as_code=False)


def test_a_component_tag_with_an_at_keeps_its_links_whole(make_repo: Maker) -> None:
    config = '[[components]]\nname = "pkg"\npaths = ["."]\ntag_prefix = "pkg@"\n'
    repo = make_repo(
        [
            {"commit": "feat: first", "files": {"relkit.toml": config, "a": "1\n"}},
            {"tag": "pkg@v1.0.0", "annotated": True, "message": "pkg@v1.0.0"},
            {"commit": "fix: second", "files": {"a": "2\n"}},
        ]
    )
    repo.git("remote", "add", "origin", "git@github.com:acme/shop.git")
    body = _pr_body(repo.path, component="pkg")
    compare = "https://github.com/acme/shop/compare/pkg@v1.0.0...pkg@v1.0.1"
    assert compare in _visible(list(_inline(body)))
