"""GitHubClient against the fake GitHub: pull requests, releases, retries, rate limits, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from relkit.adapters.github import GitHubApiError, GitHubClient, content_type_for
from relkit.errors import ConfigError, RelkitError
from tests.fakes.github_server import FakeGitHub

REPO = "acme/gitops"


def client_for(fake: FakeGitHub, **kwargs: float) -> GitHubClient:
    # Small backoff so retry tests stay quick; the logic under test is the same.
    return GitHubClient(fake.token, api_url=fake.api_url, backoff_s=0.01, **kwargs)


@pytest.fixture
def gh(fake_github: FakeGitHub) -> GitHubClient:
    fake_github.create_repo(REPO)
    return client_for(fake_github)


# ---------------------------------------------------------------- pull requests


def test_create_find_update_pull(gh: GitHubClient, fake_github: FakeGitHub) -> None:
    assert gh.find_open_pull(REPO, "relkit/promote-staging-1.2.0", "main") is None

    pr = gh.create_pull(
        REPO,
        head_branch="relkit/promote-staging-1.2.0",
        base="main",
        title="chore(staging): promote 1.2.0",
        body="moves staging to 1.2.0",
    )
    assert (pr.number, pr.head_branch, pr.base, pr.state) == (
        1,
        "relkit/promote-staging-1.2.0",
        "main",
        "open",
    )
    assert pr.url == f"{fake_github.web_url}/{REPO}/pull/1"
    sent = fake_github.requests("POST", f"/repos/{REPO}/pulls")[0].json()
    assert sent["head"] == "acme:relkit/promote-staging-1.2.0"

    found = gh.find_open_pull(REPO, "relkit/promote-staging-1.2.0", "main")
    assert found == pr
    assert gh.find_open_pull(REPO, "relkit/promote-staging-1.2.0", "release") is None

    updated = gh.update_pull(REPO, pr.number, title="new title", body="new body")
    assert (updated.title, updated.body) == ("new title", "new body")
    assert fake_github.repo(REPO).issues[1].body == "new body"


def test_duplicate_pull_is_a_422_error(gh: GitHubClient) -> None:
    gh.create_pull(REPO, head_branch="b", base="main", title="t", body="")
    with pytest.raises(GitHubApiError) as info:
        gh.create_pull(REPO, head_branch="b", base="main", title="t", body="")
    assert info.value.status == 422
    assert "A pull request already exists for acme:b" in str(info.value)


def test_find_open_pull_paginates(gh: GitHubClient, fake_github: FakeGitHub) -> None:
    repo = fake_github.repo(REPO)
    for i in range(130):
        repo.add_pull(f"feature-{i}", "main")
    # The fake's head filter would find it on page 1; without the filter it is on page 2,
    # so list every open PR of another base to make the client walk the pages.
    repo.add_pull("wanted", "main")
    for i in range(120):
        repo.add_pull(f"other-{i}", "develop")
    found = gh.find_open_pull(REPO, "wanted", "main")
    assert found is not None and found.head_branch == "wanted"


def test_update_missing_pull_is_404(gh: GitHubClient) -> None:
    with pytest.raises(GitHubApiError) as info:
        gh.update_pull(REPO, 99, title="t", body="b")
    assert info.value.status == 404
    assert str(info.value).startswith(f"GitHub update pull request #99 in {REPO} failed: HTTP 404")


def test_labels_and_reviewers(gh: GitHubClient, fake_github: FakeGitHub) -> None:
    pr = gh.create_pull(REPO, head_branch="b", base="main", title="t", body="")
    gh.add_labels(REPO, pr.number, ["promotion", "staging"])
    gh.add_labels(REPO, pr.number, ["staging"])
    gh.request_reviewers(REPO, pr.number, ["alice", "bob"])
    state = fake_github.repo(REPO).issues[pr.number]
    assert state.labels == ["promotion", "staging"]
    assert state.requested_reviewers == ["alice", "bob"]


# ---------------------------------------------------------------- helpers


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("chart-1.2.0.tgz", "application/gzip"),
        ("SHA256SUMS", "text/plain"),
        ("digests.txt", "text/plain"),
        ("bundle.tar.gz.sig", "application/octet-stream"),
        ("bundle.tar.gz.sigstore.json", "application/json"),
        ("bundle.tar.gz", "application/gzip"),
    ],
)
def test_content_types(name: str, expected: str) -> None:
    assert content_type_for(Path(name)) == expected


def test_bad_repo_name_is_a_config_error(gh: GitHubClient) -> None:
    with pytest.raises(ConfigError, match="not owner/name"):
        gh.find_open_pull("acme", "b", "main")


def test_wrong_token_is_401_and_never_echoed(fake_github: FakeGitHub) -> None:
    fake_github.create_repo(REPO)
    secret = "ghp_wrongwrongwrongwrongwrongwrongwrong"
    client = GitHubClient(secret, api_url=fake_github.api_url, backoff_s=0.01)
    with pytest.raises(GitHubApiError) as info:
        client.find_open_pull(REPO, "b", "main")
    assert info.value.status == 401
    assert "Bad credentials" in str(info.value)
    assert secret not in str(info.value) and secret not in repr(client)


def test_from_env_prefers_github_token(fake_github: FakeGitHub) -> None:
    fake_github.create_repo(REPO)
    env = {"GH_TOKEN": "ghp_wrong", "GITHUB_TOKEN": fake_github.token}
    client = GitHubClient.from_env(env, fake_github.api_url)
    assert client.find_open_pull(REPO, "b", "main") is None


def test_from_env_without_credentials() -> None:
    with pytest.raises(ConfigError, match="no GitHub credentials"):
        GitHubClient.from_env({}, "http://127.0.0.1:9")


def test_errors_are_relkit_errors(gh: GitHubClient) -> None:
    with pytest.raises(RelkitError, match="HTTP 404"):
        gh.find_open_pull("acme/missing", "b", "main")
