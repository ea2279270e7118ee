"""Promotion names: the app in the title, and "(added)" for a key that did not exist (issue 12)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relkit.core.config import RelkitConfig
from relkit.core.model import ReleasePlan, Version
from relkit.promote.body import render_pr_body
from relkit.promote.changes import EditChange, Promotion
from relkit.promote.naming import app_name, commit_message, repository_name, title
from relkit.release.steps.promote import app_name_of

DIGEST = "sha256:" + "a" * 64


def plan(repository: str | None = None) -> ReleasePlan:
    return ReleasePlan(
        version=Version.parse("0.2.0"),
        tag="v0.2.0",
        commit="0" * 39 + "1",
        committed_at=datetime(2026, 11, 1, tzinfo=UTC),
        previous_tag="v0.1.0",
        notes="## 0.2.0\n",
        repository=repository,
    )


def promotion(old: str | None) -> Promotion:
    edit = EditChange("apps/web/kustomization.yaml", "images[web].digest", old, DIGEST)
    return Promotion("staging", Version.parse("0.2.0"), (edit,), (), None)


def test_a_key_that_did_not_exist_says_added_not_none() -> None:
    message = commit_message(promotion(None), plan("acme/web"))
    assert "- apps/web/kustomization.yaml: images[web].digest: (added) -> sha256:" in message
    assert "None" not in message
    body = render_pr_body(promotion(None), plan("acme/web"), release_url=None, chart_version=None)
    assert "| _(added)_ |" in body and "None" not in body


def test_an_empty_value_says_empty() -> None:
    message = commit_message(promotion(""), plan("acme/web"))
    assert "images[web].digest: (empty) -> sha256:" in message
    assert "images[web].digest: sha256:1 -> sha256:" in commit_message(
        promotion("sha256:1"), plan("acme/web")
    )


def test_without_github_repository_the_app_is_the_origin_repository_name(tmp_path: Path) -> None:
    import subprocess

    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(
        ["git", "-C", str(tmp_path), "remote", "add", "origin", "git@github.com:acme/web-shop.git"],
        check=True,
    )
    app = app_name_of(tmp_path, RelkitConfig())
    assert app == "web-shop"
    assert title(promotion(None), plan(), app) == "chore(staging): promote web-shop to v0.2.0"
    assert commit_message(promotion(None), plan(), app).startswith(
        "chore(staging): promote web-shop to v0.2.0\n"
    )
    body = render_pr_body(promotion(None), plan(), release_url=None, chart_version=None, app=app)
    assert "**web-shop v0.2.0**" in body
    # repository_url wins over origin; github.repository wins over both.
    config = RelkitConfig(repository_url="https://git.example.com/acme/storefront")
    assert app_name_of(tmp_path, config) == "storefront"
    assert app_name(plan("acme/web"), "storefront") == "web"


def test_no_origin_and_no_repository_url_falls_back_to_release(tmp_path: Path) -> None:
    assert app_name_of(tmp_path, RelkitConfig()) is None
    assert app_name(plan(), None) == "release"


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://github.com/acme/web.git", "web"),
        ("https://x-access-token:secret@github.com/acme/web", "web"),
        ("git@github.com:acme/web.git", "web"),
        ("ssh://git@host:2222/acme/web.git/", "web"),
        ("/srv/git/web.git", "web"),
        ("file:///srv/git/web", "web"),
        ("web", "web"),
        ("", None),
        # a host is not a repository's name: the app is then "release"
        ("https://github.com/", None),
        ("https://x-access-token:se@cret@github.com/acme/web", "web"),
        ("user:secret@host:acme/web.git", "web"),
        ("/home/me/web/.git", "web"),
        ("git@host:", None),
        (None, None),
    ],
)
def test_repository_name(url: str | None, name: str | None) -> None:
    assert repository_name(url) == name


@settings(derandomize=True, max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_repository_name_never_fails_and_never_keeps_a_separator(url: str) -> None:
    name = repository_name(url)
    if name is not None:
        assert name and not any(sep in name for sep in "/:\\@")
