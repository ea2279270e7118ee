"""The fake GitHub's Git Data API, commit->pulls and issue comments, through GitHubClient.

The repository is git-backed (a real bare repository), so what the API creates is what
`git` sees, and GitHub's strictness is kept: 422 on an existing ref, on a non-fast-forward
update without `force`, on a comment over 65,536 characters; 403 for a read-only token.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from relkit.adapters.github import GitHubApiError, GitHubClient
from tests.fakes.github_server import MAX_BODY, FakeGitHub
from tests.fixtures.gitrepo import build_repo

REPO = "acme/shop"


@pytest.fixture
def world(tmp_path: Path, fake_github: FakeGitHub) -> Any:
    built = build_repo(
        [
            {"commit": "feat: one", "files": {"a.txt": "a\n"}},
            {"commit": "fix: two", "files": {"b.txt": "b\n"}},
        ],
        tmp_path / "work",
        bare_remote=True,
    )
    assert built.remote is not None
    fake_github.create_repo(REPO, git_dir=built.remote)
    client = GitHubClient(fake_github.token, api_url=fake_github.api_url, backoff_s=0.01)
    return built, client, fake_github


def _git(git_dir: Path, *args: str) -> str:
    return subprocess.run(
        ["git", f"--git-dir={git_dir}", *args], capture_output=True, text=True, check=True
    ).stdout


def test_a_commit_made_through_the_api_is_a_real_commit(world: Any) -> None:
    built, client, _fake = world
    main = client.get_ref(REPO, "heads/main")
    assert main == built.head
    base_tree = _git(built.remote, "rev-parse", f"{main}^{{tree}}").strip()
    blob = client.create_blob(REPO, b"1.2.0\n")
    tree = client.create_tree(REPO, base_tree, {"VERSION": blob, "docs/notes.md": blob})
    commit = client.create_commit(REPO, message="chore(release): v1.2.0", tree=tree, parents=[main])
    assert commit.parents == (main,) and commit.tree == tree
    client.create_ref(REPO, "heads/relkit/release", commit.sha)
    assert _git(built.remote, "show", "relkit/release:docs/notes.md") == "1.2.0\n"
    assert _git(built.remote, "show", "relkit/release:a.txt") == "a\n"  # base tree kept
    assert _git(built.remote, "log", "-1", "--format=%s", "relkit/release").strip() == (
        "chore(release): v1.2.0"
    )
    # A personal token (octocat) is no App: GitHub does not sign the commit.
    assert (commit.verified, commit.verification_reason) == (False, "unsigned")


def test_an_app_token_gets_a_signed_commit_unless_author_is_custom(world: Any) -> None:
    built, _client, fake = world
    fake.tokens["ghs_actions"] = "github-actions[bot]"
    bot = GitHubClient("ghs_actions", api_url=fake.api_url, backoff_s=0.01)
    main = built.head
    tree = _git(built.remote, "rev-parse", f"{main}^{{tree}}").strip()
    signed = bot.create_commit(REPO, message="m", tree=tree, parents=[main])
    assert signed.verified
    # With a custom author GitHub does not sign (the docs' "signature verification for bots").
    import httpx

    raw = httpx.post(
        f"{fake.api_url}/repos/{REPO}/git/commits",
        headers={"Authorization": "token ghs_actions"},
        json={
            "message": "m",
            "tree": tree,
            "parents": [main],
            "author": {"name": "x", "email": "x@y"},
        },
    )
    assert raw.status_code == 201 and raw.json()["verification"]["verified"] is False


def test_refs_are_strict_like_github(world: Any) -> None:
    built, client, _fake = world
    first, second = built.sha(0), built.head
    client.create_ref(REPO, "heads/topic", second)
    with pytest.raises(GitHubApiError) as existing:
        client.create_ref(REPO, "heads/topic", second)
    assert existing.value.status == 422 and "Reference already exists" in existing.value.message
    with pytest.raises(GitHubApiError) as backwards:
        client.update_ref(REPO, "heads/topic", first, force=False)
    assert "Update is not a fast forward" in backwards.value.message
    client.update_ref(REPO, "heads/topic", first, force=True)
    assert client.get_ref(REPO, "heads/topic") == first
    with pytest.raises(GitHubApiError) as missing:
        client.create_ref(REPO, "heads/other", "1" * 40)
    assert "Object does not exist" in missing.value.message
    assert client.delete_ref(REPO, "heads/topic") is True
    assert client.delete_ref(REPO, "heads/topic") is False
    assert client.get_ref(REPO, "heads/topic") is None


def test_annotated_tag_through_the_api(world: Any) -> None:
    built, client, _fake = world
    tag = client.create_tag_object(REPO, tag="v1.0.0", message="Release v1.0.0", sha=built.head)
    client.create_ref(REPO, "tags/v1.0.0", tag)
    assert _git(built.remote, "cat-file", "-t", "v1.0.0").strip() == "tag"
    assert _git(built.remote, "rev-parse", "v1.0.0^{commit}").strip() == built.head
    assert client.peel_tag(REPO, tag) == built.head


def test_commit_pulls_finds_the_merged_pr_not_the_message(world: Any) -> None:
    built, client, fake = world
    repo = fake.repo(REPO)
    pr = repo.add_pull("relkit/release", "main", "chore(release): v1.2.0")
    other = repo.add_pull("feature/x", "main", "chore(release): v9.9.9")
    assert client.pulls_for_commit(REPO, built.head) == []
    repo.merge_pull(pr.number, built.head, [built.head])
    (found,) = client.pulls_for_commit(REPO, built.head)
    assert (found.number, found.merged, found.merge_commit_sha) == (pr.number, True, built.head)
    assert other.number != found.number


def test_comments_list_create_update_and_the_length_limit(world: Any) -> None:
    _built, client, fake = world
    pr = fake.repo(REPO).add_pull("feature/x", "main")
    made = client.create_comment(REPO, pr.number, "first")
    client.update_comment(REPO, made.id, "second")
    assert [c.body for c in client.list_comments(REPO, pr.number)] == ["second"]
    with pytest.raises(GitHubApiError) as too_long:
        client.create_comment(REPO, pr.number, "x" * (MAX_BODY + 1))
    assert too_long.value.status == 422 and "body is too long" in too_long.value.message
    with pytest.raises(GitHubApiError):
        client.update_comment(REPO, made.id, "x" * (MAX_BODY + 1))
    client.create_comment(REPO, pr.number, "x" * MAX_BODY)  # exactly the limit is fine


def test_a_read_only_token_cannot_write(world: Any) -> None:
    _built, _client, fake = world
    fake.tokens["ghs_fork"] = "fork-reader[bot]"
    fake.read_only.add("fork-reader[bot]")
    reader = GitHubClient("ghs_fork", api_url=fake.api_url, backoff_s=0.01)
    pr = fake.repo(REPO).add_pull("feature/x", "main")
    assert reader.list_comments(REPO, pr.number) == []
    with pytest.raises(GitHubApiError) as denied:
        reader.create_comment(REPO, pr.number, "hi")
    assert denied.value.status == 403
    assert fake.repo(REPO).issues[pr.number].comments == []
