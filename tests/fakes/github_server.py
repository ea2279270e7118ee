"""A stateful fake of the GitHub REST API, served over real HTTP on loopback.

Why a fake: GitHub cannot run here. It keeps GitHub's documented behaviour where relkit
depends on it, checked against real recorded exchanges in tests/integration/
test_github_recordings.py:

- three hosts like github.com: the API, the separate uploads host for release assets (the
  `upload_url` template points there) and the web host (`html_url`,
  `browser_download_url`);
- `Link` pagination (`per_page`/`page`, rel prev/next/last/first, repository-id URLs) on
  every list; rate-limit headers on every API response (the uploads host sends none, as in
  the recordings);
- error bodies `{"message", "documentation_url", "status"}` (+ `errors` for 422);
  `422 already_exists` for a duplicate release tag or asset name; `401 Bad credentials`;
- draft releases: 404 from "get release by tag", listed only for authenticated callers;
- the shapes real GitHub sends, not friendlier ones: an upload that fails with 502 may leave
  an empty asset in state `starter` (GitHub's docs); `asset_digests=False` is a GitHub
  Enterprise Server without the `digest` key (absent, as in the recordings); labels as
  recorded (no `archived_at`/`archived_by`); a submitted review removes its author from
  `requested_reviewers` (`submit_review`);
- fault injection (a one-shot 500, a primary/secondary rate limit, a dropped connection at
  the n-th matching request) and hooks that run after a request was handled.

Everything a test wants to inspect is on `FakeGitHub` (`repo(...)`, `calls`).
"""

from __future__ import annotations

import base64
import contextlib
import fnmatch
import hashlib
import json
import os
import re
import secrets
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

__all__ = [
    "Call",
    "FakeAsset",
    "FakeGitHub",
    "FakeIssue",
    "FakeRelease",
    "FakeRepo",
    "Fault",
    "GitRefs",
]

DOCS = "https://docs.github.com/rest"
RATE_LIMIT = 5000
SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try "
    "again. If you reach out to GitHub Support for help, please include the request ID "
    "0000:00000:0000000:0000000:00000000."
)

Json = Any
Hook = Callable[["Call"], None]

# GitHub's limit on an issue/PR comment and a PR body (characters), answered with a 422.
MAX_BODY = 65536


def git(
    git_dir: Path, *args: str, data: bytes | None = None, env: dict[str, str] | None = None
) -> str:
    """Run git on the bare repository behind a git-backed fake repository."""
    done = subprocess.run(
        ["git", f"--git-dir={git_dir}", *args],
        input=data,
        capture_output=True,
        env={**os.environ, **(env or {})},
        check=False,
    )
    if done.returncode != 0:
        raise subprocess.CalledProcessError(done.returncode, args, done.stdout, done.stderr)
    return done.stdout.decode().strip()


class GitRefs(MutableMapping[str, str]):
    """`FakeRepo.refs` of a git-backed repository: the bare repository's real refs.

    With it, `git push` to the bare repository (the tests' `origin`) and the Git Data API
    see one state, as on GitHub.
    """

    def __init__(self, git_dir: Path) -> None:
        self.git_dir = git_dir

    def __getitem__(self, ref: str) -> str:
        try:
            return git(self.git_dir, "rev-parse", "--verify", "--quiet", ref)
        except subprocess.CalledProcessError:
            raise KeyError(ref) from None

    def __setitem__(self, ref: str, sha: str) -> None:
        git(self.git_dir, "update-ref", ref, sha)

    def __delitem__(self, ref: str) -> None:
        if ref not in self:
            raise KeyError(ref)
        git(self.git_dir, "update-ref", "-d", ref)

    def __iter__(self) -> Iterator[str]:
        out = git(self.git_dir, "for-each-ref", "--format=%(refname)")
        return iter([line for line in out.splitlines() if line])

    def __len__(self) -> int:
        return len(list(iter(self)))

    def __contains__(self, ref: object) -> bool:
        return isinstance(ref, str) and ref.startswith("refs/") and self._exists(ref)

    def _exists(self, ref: str) -> bool:
        try:
            git(self.git_dir, "show-ref", "--verify", "--quiet", ref)
        except subprocess.CalledProcessError:
            return False
        return True


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _node_id(kind: str, ident: int) -> str:
    return base64.b64encode(f"0:{kind}{ident}".encode()).decode()


class HttpError(Exception):
    """Raised by a route to answer with a GitHub-shaped error body."""

    def __init__(
        self,
        status: int,
        message: str,
        doc: str = "",
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"message": message}
        if errors is not None:
            self.body["errors"] = errors
        self.body.update(extra or {})
        self.body["documentation_url"] = f"{DOCS}{doc}" if doc else "https://docs.github.com/rest"
        self.body["status"] = str(status)
        self.headers = headers or {}


@dataclass
class Call:
    """One request as the fake saw it, and the status it answered."""

    method: str
    host: str  # api | uploads | web
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    status: int = 0
    response: Json = None

    def json(self) -> Json:
        return json.loads(self.body) if self.body else None


@dataclass
class Fault:
    """Fail the `nth` request matching `method` + `pattern` (fnmatch on the path)."""

    # "500" | "upload_502" | "primary_rate_limit" | "secondary_rate_limit" | "secondary_429"
    # | "drop"
    kind: str
    method: str
    pattern: str
    nth: int = 1
    times: int | None = 1  # consecutive matching requests that fail; None: all from nth on
    retry_after: int = 1
    seen: int = 0
    fired: int = 0

    def matches(self, method: str, path: str) -> bool:
        wanted = self.method.upper()
        return wanted in ("*", method) and fnmatch.fnmatchcase(path, self.pattern)

    def should_fire(self) -> bool:
        self.seen += 1
        if self.seen < self.nth:
            return False
        if self.times is not None and self.fired >= self.times:
            return False
        self.fired += 1
        return True


@dataclass
class FakeAsset:
    id: int
    name: str
    label: str | None
    content_type: str
    data: bytes
    uploader: str
    created_at: str = field(default_factory=_now)
    state: str = "uploaded"
    download_count: int = 0

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def content(self) -> bytes:
        """The uploaded bytes (alias of `data`)."""
        return self.data


@dataclass
class FakeRelease:
    id: int
    tag_name: str
    name: str | None
    body: str | None
    draft: bool
    prerelease: bool
    target_commitish: str
    author: str
    created_at: str = field(default_factory=_now)
    published_at: str | None = None
    assets: dict[int, FakeAsset] = field(default_factory=dict)
    make_latest_requests: list[str] = field(default_factory=list)


@dataclass
class FakeIssue:
    """An issue, or a pull request (GitHub numbers both from one sequence)."""

    number: int
    id: int
    title: str
    body: str | None
    user: str
    state: str = "open"
    labels: list[str] = field(default_factory=list)
    created_at: str = field(default_factory=_now)
    updated_at: str = field(default_factory=_now)
    closed_at: str | None = None
    # pull request fields (None for plain issues)
    head: str | None = None  # branch name in the head repository
    head_owner: str | None = None
    base: str | None = None
    draft: bool = False
    requested_reviewers: list[str] = field(default_factory=list)
    requested_teams: list[str] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)
    reviews: list[tuple[str, str]] = field(default_factory=list)  # (login, state)
    merged_at: str | None = None
    merge_commit_sha: str | None = None
    # Commits the merge brought into the base branch (merge: the merge commit and the head's
    # commits; squash: the squash commit; rebase: the rebased copies): what
    # GET /repos/{r}/commits/{sha}/pulls answers for a commit of the default branch.
    introduced: list[str] = field(default_factory=list)

    @property
    def is_pull(self) -> bool:
        return self.head is not None


@dataclass
class FakeRepo:
    owner: str
    name: str
    id: int
    default_branch: str = "main"
    private: bool = False
    releases: dict[int, FakeRelease] = field(default_factory=dict)
    latest_release_id: int | None = None
    issues: dict[int, FakeIssue] = field(default_factory=dict)
    labels: dict[str, dict[str, Any]] = field(default_factory=dict)  # lower-case name → label
    refs: MutableMapping[str, str] = field(default_factory=dict)  # "refs/heads/main" → sha
    # A bare git repository holding the objects (Git Data API) and refs; None: refs only.
    git_dir: Path | None = None
    # Commits GitHub signed (created through the API by an App installation or GITHUB_TOKEN
    # without custom author, committer or signature).
    signed_commits: set[str] = field(default_factory=set)
    files: dict[str, bytes] = field(default_factory=dict)
    topics: list[str] = field(default_factory=list)
    # Artifact attestations (POST /repos/{owner}/{repo}/attestations): id → Sigstore bundle.
    attestations: dict[int, dict[str, Any]] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def pulls(self) -> list[FakeIssue]:
        return [i for i in self.issues.values() if i.is_pull]

    def release_by_tag(self, tag: str) -> FakeRelease | None:
        return next((r for r in self.releases.values() if r.tag_name == tag), None)

    def add_release(
        self,
        tag: str,
        *,
        draft: bool = False,
        prerelease: bool = False,
        name: str | None = None,
        body: str = "",
        latest: bool | None = None,
    ) -> FakeRelease:
        """Seed a release directly (test setup), as if created earlier through the API."""
        assert self._fake is not None
        rel = self._fake._new_release(self, tag, name or tag, body, draft, prerelease, "main")
        if not draft and not prerelease and latest is not False:
            self.latest_release_id = rel.id
        return rel

    def add_pull(
        self,
        head: str,
        base: str,
        title: str = "A pull request",
        *,
        body: str = "",
        state: str = "open",
        head_owner: str | None = None,
    ) -> FakeIssue:
        assert self._fake is not None
        issue = self._fake._new_issue(self, title, body, "octocat")
        issue.head, issue.base, issue.head_owner = head, base, head_owner or self.owner
        issue.state = state
        return issue

    def merge_pull(self, number: int, merge_commit_sha: str, introduced: list[str]) -> None:
        """Record PR `number` as merged (the test did the git side: merge, squash or rebase)."""
        pr = self.issues[number]
        pr.state, pr.merged_at, pr.closed_at = "closed", _now(), _now()
        pr.merge_commit_sha, pr.introduced = merge_commit_sha, list(introduced)

    def submit_review(self, number: int, login: str, state: str = "APPROVED") -> None:
        """`login` reviews PR `number`: as on GitHub, their review request is then fulfilled."""
        pr = self.issues[number]
        pr.reviews.append((login, state))
        if login in pr.requested_reviewers:
            pr.requested_reviewers.remove(login)

    _fake: FakeGitHub | None = field(default=None, repr=False, compare=False)


Route = Callable[["_Req", re.Match[str]], tuple[int, Json, dict[str, str]]]


@dataclass
class _Req:
    call: Call
    login: str | None  # None: anonymous


class FakeGitHub:
    """The fake: start() serves it, the attributes and methods are the test's window on it."""

    def __init__(self, *, asset_digests: bool = True) -> None:
        self.token = "ghp_" + secrets.token_hex(18)
        self.tokens: dict[str, str] = {self.token: "octocat"}
        self.read_only: set[str] = set()  # logins whose tokens may only read
        self.app_keys: dict[int, bytes] = {}  # app id → PEM public key (App installation auth)
        # GitHub added assets[].digest in 2025; False is a GHES without the key at all.
        self.asset_digests = asset_digests
        self.repos: dict[str, FakeRepo] = {}
        self.calls: list[Call] = []
        self.internal_errors: list[str] = []  # exceptions raised by routes (fake bugs)
        self.faults: list[Fault] = []
        self.hooks: list[tuple[str, str, Hook]] = []
        self.rate_used: dict[str, int] = {}
        self.rate_reset = int(time.time()) + 3600
        self._ids = 1000
        self._lock = threading.RLock()
        self._servers: dict[str, ThreadingHTTPServer] = {}
        self._threads: list[threading.Thread] = []
        self.api_url = self.uploads_url = self.web_url = ""

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> FakeGitHub:
        for host in ("api", "uploads", "web"):
            handler = type(f"{host}Handler", (_Handler,), {"fake": self, "host": host})
            server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
            server.daemon_threads = True
            self._servers[host] = server
            # A short poll interval keeps stop() (3 servers per test) quick.
            thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
            thread.start()
            self._threads.append(thread)
        self.api_url = self._base("api")
        self.uploads_url = self._base("uploads")
        self.web_url = self._base("web")
        return self

    def stop(self) -> None:
        # shutdown() waits for its server's next poll: the three wait side by side.
        stoppers = [threading.Thread(target=s.shutdown) for s in self._servers.values()]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join()
        for server in self._servers.values():
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def _base(self, host: str) -> str:
        port = self._servers[host].server_address[1]
        return f"http://127.0.0.1:{port}"

    # ---------------------------------------------------------------- test API

    def create_repo(
        self,
        full_name: str,
        *,
        default_branch: str = "main",
        repo_id: int | None = None,
        git_dir: Path | None = None,
    ) -> FakeRepo:
        """A repository; with `git_dir` (a bare repository) its refs and objects are real."""
        owner, name = full_name.split("/", 1)
        with self._lock:
            ident = repo_id if repo_id is not None else self._next_id()
            repo = FakeRepo(owner, name, ident, default_branch=default_branch)
            repo._fake = self
            if git_dir is not None:
                repo.git_dir, repo.refs = git_dir, GitRefs(git_dir)
            else:
                repo.refs[f"refs/heads/{default_branch}"] = "0" * 39 + "1"
            self.repos[full_name.lower()] = repo
            return repo

    def repo(self, full_name: str) -> FakeRepo:
        return self.repos[full_name.lower()]

    def inject(
        self,
        kind: str,
        method: str,
        pattern: str,
        *,
        nth: int = 1,
        times: int | None = 1,
        retry_after: int = 1,
    ) -> Fault:
        """Make the `nth` `method` request whose path matches `pattern` fail with `kind`."""
        fault = Fault(kind, method, pattern, nth, times, retry_after)
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def after(self, method: str, pattern: str, hook: Hook) -> None:
        """Run `hook(call)` after a successful request matching `method` + `pattern`."""
        with self._lock:
            self.hooks.append((method.upper(), pattern, hook))

    def fail_after_draft_created(self, repo: str) -> None:
        """Once a draft release is created in `repo`, every later request answers 500."""

        def arm(call: Call) -> None:
            if (call.json() or {}).get("draft"):
                self.faults.append(Fault("500", "*", "*", times=None))

        self.after("POST", f"/repos/{repo}/releases", arm)

    def set_rate_limit_remaining(self, remaining: int, *, reset_in: int = 1) -> None:
        """Spend the primary rate limit down to `remaining` for the default token."""
        with self._lock:
            self.rate_used["octocat"] = RATE_LIMIT - remaining
            self.rate_reset = int(time.time()) + reset_in

    def add_installation(self, app_id: int, public_key_pem: bytes, installation_id: int) -> None:
        """Accept App JWTs signed by the key whose public half is `public_key_pem`."""
        self.app_keys[app_id] = public_key_pem
        self._installations = {**getattr(self, "_installations", {}), installation_id: app_id}

    def requests(self, method: str | None = None, pattern: str = "*") -> list[Call]:
        with self._lock:
            return [
                c
                for c in self.calls
                if (method is None or c.method == method.upper())
                and fnmatch.fnmatchcase(c.path, pattern)
            ]

    # ---------------------------------------------------------------- internals

    def _next_id(self) -> int:
        self._ids += 1
        return self._ids

    def _new_release(
        self,
        repo: FakeRepo,
        tag: str,
        name: str | None,
        body: str | None,
        draft: bool,
        prerelease: bool,
        target: str,
    ) -> FakeRelease:
        rel = FakeRelease(self._next_id(), tag, name, body, draft, prerelease, target, "octocat")
        if not draft:
            rel.published_at = rel.created_at
        repo.releases[rel.id] = rel
        return rel

    def _new_issue(self, repo: FakeRepo, title: str, body: str | None, user: str) -> FakeIssue:
        number = max(repo.issues, default=0) + 1
        issue = FakeIssue(number, self._next_id(), title, body, user)
        repo.issues[number] = issue
        return issue

    def _find_repo(self, owner: str, name: str) -> FakeRepo:
        repo = self.repos.get(f"{owner}/{name}".lower())
        if repo is None:
            raise HttpError(404, "Not Found", "/repos/repos#get-a-repository")
        return repo

    def _repo_by_id(self, repo_id: int) -> FakeRepo | None:
        return next((r for r in self.repos.values() if r.id == repo_id), None)

    # ---------------------------------------------------------------- payloads

    def user_json(self, login: str, kind: str = "User") -> Json:
        api, web = self.api_url, self.web_url
        return {
            "login": login,
            "id": 1,
            "node_id": _node_id("User", 1),
            "avatar_url": f"{web}/avatars/{login}",
            "gravatar_id": "",
            "url": f"{api}/users/{login}",
            "html_url": f"{web}/{login}",
            "followers_url": f"{api}/users/{login}/followers",
            "following_url": f"{api}/users/{login}/following{{/other_user}}",
            "gists_url": f"{api}/users/{login}/gists{{/gist_id}}",
            "starred_url": f"{api}/users/{login}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{api}/users/{login}/subscriptions",
            "organizations_url": f"{api}/users/{login}/orgs",
            "repos_url": f"{api}/users/{login}/repos",
            "events_url": f"{api}/users/{login}/events{{/privacy}}",
            "received_events_url": f"{api}/users/{login}/received_events",
            "type": kind,
            "site_admin": False,
        }

    def repo_json(self, repo: FakeRepo) -> Json:
        u = f"{self.api_url}/repos/{repo.full_name}"
        web = f"{self.web_url}/{repo.full_name}"
        templated = {
            "forks": "/forks",
            "keys": "/keys{/key_id}",
            "collaborators": "/collaborators{/collaborator}",
            "teams": "/teams",
            "hooks": "/hooks",
            "issue_events": "/issues/events{/number}",
            "events": "/events",
            "assignees": "/assignees{/user}",
            "branches": "/branches{/branch}",
            "tags": "/tags",
            "blobs": "/git/blobs{/sha}",
            "git_tags": "/git/tags{/sha}",
            "git_refs": "/git/refs{/sha}",
            "trees": "/git/trees{/sha}",
            "statuses": "/statuses/{sha}",
            "languages": "/languages",
            "stargazers": "/stargazers",
            "contributors": "/contributors",
            "subscribers": "/subscribers",
            "subscription": "/subscription",
            "commits": "/commits{/sha}",
            "git_commits": "/git/commits{/sha}",
            "comments": "/comments{/number}",
            "issue_comment": "/issues/comments{/number}",
            "contents": "/contents/{+path}",
            "compare": "/compare/{base}...{head}",
            "merges": "/merges",
            "archive": "/{archive_format}{/ref}",
            "downloads": "/downloads",
            "issues": "/issues{/number}",
            "pulls": "/pulls{/number}",
            "milestones": "/milestones{/number}",
            "notifications": "/notifications{?since,all,participating}",
            "labels": "/labels{/name}",
            "releases": "/releases{/id}",
            "deployments": "/deployments",
        }
        data: dict[str, Any] = {
            "id": repo.id,
            "node_id": _node_id("Repository", repo.id),
            "name": repo.name,
            "full_name": repo.full_name,
            "private": repo.private,
            "owner": self.user_json(repo.owner, "Organization"),
            "html_url": web,
            "description": None,
            "fork": False,
            "url": u,
        }
        data.update({f"{k}_url": u + v for k, v in templated.items()})
        data.update(
            {
                "created_at": "2026-01-01T00:00:00Z",
                "updated_at": "2026-01-01T00:00:00Z",
                "pushed_at": "2026-01-01T00:00:00Z",
                "git_url": f"git://{web.split('://', 1)[1]}.git",
                "ssh_url": f"git@127.0.0.1:{repo.full_name}.git",
                "clone_url": f"{web}.git",
                "svn_url": web,
                "homepage": None,
                "size": 0,
                "stargazers_count": 0,
                "watchers_count": 0,
                "language": None,
                "has_issues": True,
                "has_projects": True,
                "has_downloads": True,
                "has_wiki": True,
                "has_pages": False,
                "has_discussions": False,
                "forks_count": 0,
                "mirror_url": None,
                "archived": False,
                "disabled": False,
                "open_issues_count": sum(1 for i in repo.issues.values() if i.state == "open"),
                "license": None,
                "allow_forking": True,
                "is_template": False,
                "web_commit_signoff_required": False,
                "topics": list(repo.topics),
                "visibility": "private" if repo.private else "public",
                "forks": 0,
                "open_issues": sum(1 for i in repo.issues.values() if i.state == "open"),
                "watchers": 0,
                "default_branch": repo.default_branch,
                "permissions": {
                    "admin": True,
                    "maintain": True,
                    "push": True,
                    "triage": True,
                    "pull": True,
                },
                "temp_clone_token": "",
                "allow_squash_merge": True,
                "allow_merge_commit": True,
                "allow_rebase_merge": True,
                "allow_auto_merge": False,
                "delete_branch_on_merge": False,
                "allow_update_branch": False,
                "use_squash_pr_title_as_default": False,
                "organization": self.user_json(repo.owner, "Organization"),
                "network_count": 0,
                "subscribers_count": 0,
            }
        )
        return data

    def asset_json(self, repo: FakeRepo, rel: FakeRelease, asset: FakeAsset) -> Json:
        tag = rel.tag_name if not rel.draft else f"untagged-{rel.id}"
        data: dict[str, Any] = {
            "url": f"{self.api_url}/repos/{repo.full_name}/releases/assets/{asset.id}",
            "id": asset.id,
            "node_id": _node_id("ReleaseAsset", asset.id),
            "name": asset.name,
            "label": asset.label,
            "uploader": self.user_json(asset.uploader),
            "content_type": asset.content_type,
            "state": asset.state,
            "size": len(asset.data),
            "download_count": asset.download_count,
            "created_at": asset.created_at,
            "updated_at": asset.created_at,
            "browser_download_url": (
                f"{self.web_url}/{repo.full_name}/releases/download/{tag}/{quote(asset.name)}"
            ),
        }
        if self.asset_digests:
            data["digest"] = f"sha256:{asset.sha256}"
        return data

    def release_json(self, repo: FakeRepo, rel: FakeRelease) -> Json:
        u = f"{self.api_url}/repos/{repo.full_name}/releases/{rel.id}"
        tag = rel.tag_name if not rel.draft else f"untagged-{rel.id}"
        return {
            "url": u,
            "assets_url": f"{u}/assets",
            "upload_url": (
                f"{self.uploads_url}/repos/{repo.full_name}/releases/{rel.id}/assets{{?name,label}}"
            ),
            "html_url": f"{self.web_url}/{repo.full_name}/releases/tag/{tag}",
            "id": rel.id,
            "author": self.user_json(rel.author),
            "node_id": _node_id("Release", rel.id),
            "tag_name": rel.tag_name,
            "target_commitish": rel.target_commitish,
            "name": rel.name,
            "draft": rel.draft,
            "immutable": False,
            "prerelease": rel.prerelease,
            "created_at": rel.created_at,
            "updated_at": rel.published_at or rel.created_at,
            "published_at": rel.published_at,
            "assets": [self.asset_json(repo, rel, a) for a in rel.assets.values()],
            "tarball_url": f"{self.api_url}/repos/{repo.full_name}/tarball/{rel.tag_name}",
            "zipball_url": f"{self.api_url}/repos/{repo.full_name}/zipball/{rel.tag_name}",
            "body": rel.body,
        }

    def label_json(self, repo: FakeRepo, label: dict[str, Any]) -> Json:
        return {
            "id": label["id"],
            "node_id": _node_id("Label", label["id"]),
            "url": f"{self.api_url}/repos/{repo.full_name}/labels/{quote(label['name'])}",
            "name": label["name"],
            "color": label["color"],
            "default": bool(label.get("default", False)),
            "description": label.get("description"),
            # No archived_at/archived_by: the recordings (and GHES) have no such keys, although
            # the current API description lists them.
        }

    def _issue_labels(self, repo: FakeRepo, issue: FakeIssue) -> list[Json]:
        return [self.label_json(repo, repo.labels[n.lower()]) for n in issue.labels]

    def issue_json(self, repo: FakeRepo, issue: FakeIssue) -> Json:
        u = f"{self.api_url}/repos/{repo.full_name}/issues/{issue.number}"
        data: dict[str, Any] = {
            "url": u,
            "repository_url": f"{self.api_url}/repos/{repo.full_name}",
            "labels_url": f"{u}/labels{{/name}}",
            "comments_url": f"{u}/comments",
            "events_url": f"{u}/events",
            "html_url": f"{self.web_url}/{repo.full_name}/issues/{issue.number}",
            "id": issue.id,
            "node_id": _node_id("Issue", issue.id),
            "number": issue.number,
            "title": issue.title,
            "user": self.user_json(issue.user),
            "labels": self._issue_labels(repo, issue),
            "state": issue.state,
            "locked": False,
            "assignee": None,
            "assignees": [],
            "milestone": None,
            "comments": len(issue.comments),
            "created_at": issue.created_at,
            "updated_at": issue.updated_at,
            "closed_at": issue.closed_at,
            "author_association": "MEMBER",
            "active_lock_reason": None,
            "body": issue.body,
            "reactions": {
                "url": f"{u}/reactions",
                "total_count": 0,
                "+1": 0,
                "-1": 0,
                "laugh": 0,
                "hooray": 0,
                "confused": 0,
                "heart": 0,
                "rocket": 0,
                "eyes": 0,
            },
            "timeline_url": f"{u}/timeline",
            "performed_via_github_app": None,
            "state_reason": None,
            "closed_by": None,
        }
        if issue.is_pull:
            pu = f"{self.api_url}/repos/{repo.full_name}/pulls/{issue.number}"
            data["html_url"] = f"{self.web_url}/{repo.full_name}/pull/{issue.number}"
            data["pull_request"] = {
                "url": pu,
                "html_url": data["html_url"],
                "diff_url": data["html_url"] + ".diff",
                "patch_url": data["html_url"] + ".patch",
                "merged_at": issue.merged_at,
            }
        return data

    def pull_json(self, repo: FakeRepo, pr: FakeIssue, *, full: bool = True) -> Json:
        api = f"{self.api_url}/repos/{repo.full_name}"
        u = f"{api}/pulls/{pr.number}"
        html = f"{self.web_url}/{repo.full_name}/pull/{pr.number}"
        sha = repo.refs.get(f"refs/heads/{pr.head}", "0" * 40)
        base_sha = repo.refs.get(f"refs/heads/{pr.base}", "0" * 40)
        head_owner = pr.head_owner or repo.owner

        def side(owner: str, ref: str | None, sha: str) -> Json:
            return {
                "label": f"{owner}:{ref}",
                "ref": ref,
                "sha": sha,
                "user": self.user_json(owner, "Organization"),
                "repo": self.repo_json(repo),
            }

        data: dict[str, Any] = {
            "url": u,
            "id": pr.id,
            "node_id": _node_id("PullRequest", pr.id),
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "issue_url": f"{api}/issues/{pr.number}",
            "commits_url": f"{u}/commits",
            "review_comments_url": f"{u}/comments",
            "review_comment_url": f"{api}/pulls/comments{{/number}}",
            "comments_url": f"{api}/issues/{pr.number}/comments",
            "statuses_url": f"{api}/statuses/{sha}",
            "number": pr.number,
            "state": pr.state,
            "locked": False,
            "title": pr.title,
            "user": self.user_json(pr.user),
            "body": pr.body,
            "labels": self._issue_labels(repo, pr),
            "milestone": None,
            "active_lock_reason": None,
            "created_at": pr.created_at,
            "updated_at": pr.updated_at,
            "closed_at": pr.closed_at,
            "merged_at": pr.merged_at,
            "merge_commit_sha": pr.merge_commit_sha,
            "assignee": None,
            "assignees": [],
            "requested_reviewers": [self.user_json(r) for r in pr.requested_reviewers],
            "requested_teams": [],
            "head": side(head_owner, pr.head, sha),
            "base": side(repo.owner, pr.base, base_sha),
            "_links": {
                "self": {"href": u},
                "html": {"href": html},
                "issue": {"href": f"{api}/issues/{pr.number}"},
                "comments": {"href": f"{api}/issues/{pr.number}/comments"},
                "review_comments": {"href": f"{u}/comments"},
                "review_comment": {"href": f"{api}/pulls/comments{{/number}}"},
                "commits": {"href": f"{u}/commits"},
                "statuses": {"href": f"{api}/statuses/{sha}"},
            },
            "author_association": "MEMBER",
            "auto_merge": None,
            "draft": pr.draft,
        }
        if full:
            data.update(
                {
                    "merged": pr.merged_at is not None,
                    "mergeable": True,
                    "rebaseable": True,
                    "mergeable_state": "clean",
                    "merged_by": None,
                    "comments": 0,
                    "review_comments": 0,
                    "maintainer_can_modify": False,
                    "commits": 1,
                    "additions": 1,
                    "deletions": 1,
                    "changed_files": 1,
                }
            )
        return data

    def _git_person(self) -> Json:
        return {"name": "Octo Cat", "email": "octocat@example.com", "date": _now()}

    def ref_json(self, repo: FakeRepo, ref: str) -> Json:
        sha = repo.refs[ref]
        api = f"{self.api_url}/repos/{repo.full_name}"
        return {
            "ref": ref,
            "node_id": _node_id("Ref", abs(hash(ref)) % 10_000),
            "url": f"{api}/git/{ref}",
            "object": {"sha": sha, "type": "commit", "url": f"{api}/git/commits/{sha}"},
        }

    # ---------------------------------------------------------------- pagination

    def paginate(
        self, call: Call, items: list[Json], link_base: str
    ) -> tuple[Json, dict[str, str]]:
        """Slice `items` by per_page/page and build GitHub's Link header."""
        try:
            per_page = min(max(int(call.query.get("per_page", "30")), 1), 100)
            page = max(int(call.query.get("page", "1")), 1)
        except ValueError:
            per_page, page = 30, 1
        last = max((len(items) + per_page - 1) // per_page, 1)
        chunk = items[(page - 1) * per_page : page * per_page]
        params = {k: v for k, v in call.query.items() if k != "page"}

        def url(p: int) -> str:
            return f"{self.api_url}{link_base}?{urlencode({**params, 'page': p})}"

        links = []
        if page > 1:
            links.append(f'<{url(min(page - 1, last))}>; rel="prev"')
        if page < last:
            links.append(f'<{url(page + 1)}>; rel="next"')
            links.append(f'<{url(last)}>; rel="last"')
        if page > 1:
            links.append(f'<{url(1)}>; rel="first"')
        return chunk, ({"Link": ", ".join(links)} if links else {})

    # ---------------------------------------------------------------- dispatch

    def handle(self, call: Call) -> tuple[int, Json, dict[str, str]] | None:
        """Answer one request; None means "drop the connection"."""
        with self._lock:
            self.calls.append(call)
            for fault in self.faults:
                if fault.matches(call.method, call.path) and fault.should_fire():
                    answer = self._fault_answer(fault, call)
                    if answer is None:
                        call.status = -1
                        return None
                    status, body, headers = answer
                    call.status, call.response = status, body
                    return answer
            try:
                login = self._authenticate(call)
                status, body, headers = self._route(call, login)
            except HttpError as err:
                status, body, headers = err.status, err.body, err.headers
            except Exception as exc:  # a bug in the fake: answer, and let the fixture fail
                self.internal_errors.append(f"{call.method} {call.path}: {exc!r}")
                status, body, headers = 500, {"message": f"fake GitHub bug: {exc!r}"}, {}
            call.status, call.response = status, body
            if 200 <= status < 300:
                for method, pattern, hook in list(self.hooks):
                    if method == call.method and fnmatch.fnmatchcase(call.path, pattern):
                        hook(call)
            return status, body, headers

    def _fault_answer(self, fault: Fault, call: Call) -> tuple[int, Json, dict[str, str]] | None:
        if fault.kind == "drop":
            return None
        if fault.kind == "500":
            # GitHub's 5xx bodies are short JSON messages like this one.
            return 500, {"message": "Server Error", "status": "500"}, {}
        if fault.kind == "upload_502":
            # Documented GitHub behaviour ("Upload a release asset"): an upstream failure
            # answers 502 and may leave an empty asset in state "starter", to be deleted.
            try:
                status, body, _headers = self._route(call, self._authenticate(call))
            except HttpError as err:
                status, body = err.status, err.body
            if status == 201:
                for rel in self.repos[_repo_key(call.path)].releases.values():
                    asset = rel.assets.get(body["id"])
                    if asset is not None:
                        asset.state, asset.data = "starter", b""
            return 502, {"message": "Bad Gateway", "status": "502"}, {}
        if fault.kind == "primary_rate_limit":
            reset = int(time.time()) + fault.retry_after
            err = HttpError(
                403,
                "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for "
                "help, please include the request ID 0000:00000:0000000:0000000:00000000.",
                "/overview/rate-limits-for-the-rest-api",
                headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
            )
            return err.status, err.body, err.headers
        if fault.kind in ("secondary_rate_limit", "secondary_429"):
            err = HttpError(
                429 if fault.kind == "secondary_429" else 403,
                SECONDARY_MESSAGE,
                "/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
                headers={"retry-after": str(fault.retry_after)},
            )
            return err.status, err.body, err.headers
        raise AssertionError(f"unknown fault kind {fault.kind}")

    def _authenticate(self, call: Call) -> str | None:
        header = call.headers.get("authorization", "")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token.count(".") == 2:
            return self._app_jwt(call, token)
        login = self.tokens.get(token) if scheme.lower() in ("token", "bearer") else None
        if login is None:
            raise HttpError(401, "Bad credentials", "")
        return login

    def _app_jwt(self, call: Call, token: str) -> str:
        # A GitHub App authenticates as itself with an RS256 JWT (iss = app id) only to mint
        # installation tokens; we verify it with the app's registered public key.
        import jwt

        try:
            claims = jwt.decode(token, options={"verify_signature": False})
            key = self.app_keys[int(claims["iss"])]
            jwt.decode(token, key, algorithms=["RS256"])
        except Exception as exc:
            raise HttpError(
                401,
                "A JSON web token could not be decoded",
                "",
            ) from exc
        if not call.path.startswith("/app/"):
            raise HttpError(403, "Resource not accessible by integration", "")
        return f"app:{claims['iss']}"

    def _rate_headers(self, login: str | None) -> dict[str, str]:
        who = login or "anonymous"
        used = self.rate_used.get(who, 0)
        limit = RATE_LIMIT if login else 60
        return {
            "x-ratelimit-limit": str(limit),
            "x-ratelimit-remaining": str(max(limit - used, 0)),
            "x-ratelimit-reset": str(self.rate_reset),
            "x-ratelimit-used": str(used),
            "x-ratelimit-resource": "core",
        }

    def rate_headers_for(self, call: Call) -> dict[str, str]:
        if call.host != "api":
            return {}  # the uploads host sends no rate-limit headers (see recordings)
        header = call.headers.get("authorization", "")
        login = self.tokens.get(header.partition(" ")[2])
        with self._lock:
            who = login or "anonymous"
            if call.status != -1:
                self.rate_used[who] = self.rate_used.get(who, 0) + 1
            return self._rate_headers(login)

    def _route(self, call: Call, login: str | None) -> tuple[int, Json, dict[str, str]]:
        path = call.path
        if call.host == "api":
            if time.time() >= self.rate_reset:  # a new rate-limit window
                self.rate_used.clear()
                self.rate_reset = int(time.time()) + 3600
            spent = self.rate_used.get(login or "anonymous", 0)
            if spent >= (RATE_LIMIT if login else 60):
                raise HttpError(
                    403,
                    "API rate limit exceeded for user ID 1.",
                    "/overview/rate-limits-for-the-rest-api",
                )
            m = re.match(r"^/repositories/(\d+)(/.*)?$", path)
            if m:
                aliased = self._repo_by_id(int(m.group(1)))
                if aliased is None:
                    raise HttpError(404, "Not Found", "")
                path = f"/repos/{aliased.full_name}{m.group(2) or ''}"
        if call.method != "GET" and login is None and call.host != "web":
            raise HttpError(401, "Requires authentication", "")
        if call.method != "GET" and login in self.read_only and call.host != "web":
            # A fork PR's GITHUB_TOKEN (pull_request event) can read but not write.
            raise HttpError(403, "Resource not accessible by integration", "")
        req = _Req(call, login)
        for method, host, pattern, route in _ROUTES:
            if method == call.method and host == call.host:
                m = re.fullmatch(pattern, path)
                if m:
                    return route(self, req, m)
        raise HttpError(404, "Not Found", "")


# ==================================================================== routes


def _repo_key(path: str) -> str:
    parts = path.split("/")
    return f"{parts[2]}/{parts[3]}".lower()


def _json_body(req: _Req) -> dict[str, Any]:
    try:
        data = json.loads(req.call.body or b"{}")
    except ValueError as exc:
        raise HttpError(400, "Problems parsing JSON", "") from exc
    if not isinstance(data, dict):
        raise HttpError(400, "Problems parsing JSON", "")
    return data


def _missing(resource: str, fld: str, doc: str) -> HttpError:
    return HttpError(
        422,
        "Validation Failed",
        doc,
        [{"resource": resource, "code": "missing_field", "field": fld}],
    )


_ROUTES: list[tuple[str, str, str, Callable[..., tuple[int, Json, dict[str, str]]]]] = []
R = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"


def route(method: str, pattern: str, host: str = "api") -> Callable[[Any], Any]:
    def register(fn: Any) -> Any:
        _ROUTES.append((method, host, pattern, fn))
        return fn

    return register


def _repo(fake: FakeGitHub, m: re.Match[str]) -> FakeRepo:
    return fake._find_repo(m["owner"], m["repo"])


@route("GET", R)
def _get_repo(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    return 200, fake.repo_json(_repo(fake, m)), {}


# ------------------------------------------------------------------ releases

_REL_DOC = "/releases/releases"


def _visible(req: _Req, rel: FakeRelease) -> bool:
    # Drafts are only visible to users with push access (any valid token here).
    return not rel.draft or req.login is not None


def _release(fake: FakeGitHub, req: _Req, repo: FakeRepo, rid: str) -> FakeRelease:
    rel = repo.releases.get(int(rid))
    if rel is None or not _visible(req, rel):
        raise HttpError(404, "Not Found", f"{_REL_DOC}#get-a-release")
    return rel


@route("GET", R + r"/releases")
def _list_releases(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    rels = sorted(repo.releases.values(), key=lambda r: r.id, reverse=True)
    items = [fake.release_json(repo, r) for r in rels if _visible(req, r)]
    body, headers = fake.paginate(req.call, items, f"/repositories/{repo.id}/releases")
    return 200, body, headers


@route("GET", R + r"/releases/latest")
def _latest_release(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    if repo.latest_release_id is None:
        raise HttpError(404, "Not Found", f"{_REL_DOC}#get-the-latest-release")
    return 200, fake.release_json(repo, repo.releases[repo.latest_release_id]), {}


@route("GET", R + r"/releases/tags/(?P<tag>.+)")
def _release_by_tag(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    tag = unquote(m["tag"])
    # GitHub only returns published releases here; drafts have no tag yet.
    rel = next((r for r in repo.releases.values() if r.tag_name == tag and not r.draft), None)
    if rel is None:
        raise HttpError(404, "Not Found", f"{_REL_DOC}#get-a-release-by-tag-name")
    return 200, fake.release_json(repo, rel), {}


def _apply_latest(repo: FakeRepo, rel: FakeRelease, make_latest: str | None) -> None:
    if make_latest is not None:
        rel.make_latest_requests.append(make_latest)
    if rel.draft or rel.prerelease:
        return
    if make_latest in (None, "true", "legacy"):
        repo.latest_release_id = rel.id


def _check_make_latest(data: dict[str, Any], doc: str) -> str | None:
    value = data.get("make_latest")
    if value is not None and value not in ("true", "false", "legacy"):
        raise HttpError(
            422,
            "Validation Failed",
            doc,
            [{"resource": "Release", "code": "invalid", "field": "make_latest"}],
        )
    return value


@route("POST", R + r"/releases")
def _create_release(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    data = _json_body(req)
    doc = f"{_REL_DOC}#create-a-release"
    tag = data.get("tag_name")
    if not tag:
        raise _missing("Release", "tag_name", doc)
    make_latest = _check_make_latest(data, doc)
    if repo.release_by_tag(tag) is not None:
        raise HttpError(
            422,
            "Validation Failed",
            doc,
            [{"resource": "Release", "code": "already_exists", "field": "tag_name"}],
        )
    rel = fake._new_release(
        repo,
        tag,
        data.get("name"),
        data.get("body"),
        bool(data.get("draft", False)),
        bool(data.get("prerelease", False)),
        data.get("target_commitish") or repo.default_branch,
    )
    _apply_latest(repo, rel, make_latest)
    body = fake.release_json(repo, rel)
    return 201, body, {"Location": body["url"]}


@route("GET", R + r"/releases/(?P<rid>\d+)")
def _get_release(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    return 200, fake.release_json(repo, _release(fake, req, repo, m["rid"])), {}


@route("PATCH", R + r"/releases/(?P<rid>\d+)")
def _update_release(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    rel = _release(fake, req, repo, m["rid"])
    data = _json_body(req)
    doc = f"{_REL_DOC}#update-a-release"
    make_latest = _check_make_latest(data, doc)
    new_tag = data.get("tag_name")
    if new_tag and new_tag != rel.tag_name:
        other = repo.release_by_tag(new_tag)
        if other is not None:
            raise HttpError(
                422,
                "Validation Failed",
                doc,
                [{"resource": "Release", "code": "already_exists", "field": "tag_name"}],
            )
        rel.tag_name = new_tag
    for key in ("name", "body", "target_commitish"):
        if key in data:
            setattr(rel, key, data[key])
    if "prerelease" in data:
        rel.prerelease = bool(data["prerelease"])
    if "draft" in data:
        was_draft = rel.draft
        rel.draft = bool(data["draft"])
        if was_draft and not rel.draft:
            rel.published_at = _now()
    _apply_latest(repo, rel, make_latest)
    if rel.prerelease and repo.latest_release_id == rel.id:
        repo.latest_release_id = None
    return 200, fake.release_json(repo, rel), {}


@route("DELETE", R + r"/releases/(?P<rid>\d+)")
def _delete_release(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    rel = _release(fake, req, repo, m["rid"])
    del repo.releases[rel.id]
    if repo.latest_release_id == rel.id:
        repo.latest_release_id = None
    return 204, None, {}


# ------------------------------------------------------------------ assets

_ASSET_DOC = "/releases/assets"


def _find_asset(repo: FakeRepo, aid: str) -> tuple[FakeRelease, FakeAsset]:
    for rel in repo.releases.values():
        asset = rel.assets.get(int(aid))
        if asset is not None:
            return rel, asset
    raise HttpError(404, "Not Found", f"{_ASSET_DOC}#get-a-release-asset")


@route("GET", R + r"/releases/(?P<rid>\d+)/assets")
def _list_assets(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    rel = _release(fake, req, repo, m["rid"])
    items = [fake.asset_json(repo, rel, a) for a in rel.assets.values()]
    link_base = f"/repositories/{repo.id}/releases/{rel.id}/assets"
    body, headers = fake.paginate(req.call, items, link_base)
    return 200, body, headers


@route("POST", R + r"/releases/(?P<rid>\d+)/assets", host="uploads")
def _upload_asset(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    rel = _release(fake, req, repo, m["rid"])
    name = req.call.query.get("name")
    doc = f"{_ASSET_DOC}#upload-a-release-asset"
    if not name:
        raise HttpError(422, "Bad Content-Length: ", doc)
    request_id = {"request_id": "0000:00000:0000000:0000000:00000000"}
    if any(a.name == name for a in rel.assets.values()):
        # The recorded body: Validation Failed, errors[0].code already_exists, request_id.
        raise HttpError(
            422,
            "Validation Failed",
            doc,
            [{"resource": "ReleaseAsset", "code": "already_exists", "field": "name"}],
            extra=request_id,
        )
    content_type = req.call.headers.get("content-type")
    if not content_type:
        raise HttpError(422, "Content-Type header is required", doc, extra=request_id)
    asset = FakeAsset(
        fake._next_id(),
        name,
        req.call.query.get("label"),
        content_type,
        req.call.body,
        req.login or "octocat",
    )
    rel.assets[asset.id] = asset
    return 201, fake.asset_json(repo, rel, asset), {}


@route("GET", R + r"/releases/assets/(?P<aid>\d+)")
def _get_asset(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    rel, asset = _find_asset(repo, m["aid"])
    if "application/octet-stream" in req.call.headers.get("accept", ""):
        # GitHub redirects binary downloads to its object storage (another host, no auth).
        target = f"{fake.web_url}/_storage/{repo.full_name}/{asset.id}"
        return 302, None, {"Location": target}
    return 200, fake.asset_json(repo, rel, asset), {}


@route("PATCH", R + r"/releases/assets/(?P<aid>\d+)")
def _update_asset(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    rel, asset = _find_asset(repo, m["aid"])
    data = _json_body(req)
    asset.name = data.get("name", asset.name)
    asset.label = data.get("label", asset.label)
    return 200, fake.asset_json(repo, rel, asset), {}


@route("DELETE", R + r"/releases/assets/(?P<aid>\d+)")
def _delete_asset(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    rel, asset = _find_asset(repo, m["aid"])
    del rel.assets[asset.id]
    return 204, None, {}


def _web_asset(fake: FakeGitHub, repo: FakeRepo, asset: FakeAsset) -> Any:
    asset.download_count += 1
    return 200, asset.data, {"Content-Type": "application/octet-stream"}


@route("GET", r"/_storage/(?P<owner>[^/]+)/(?P<repo>[^/]+)/(?P<aid>\d+)", host="web")
def _storage_download(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    _rel, asset = _find_asset(repo, m["aid"])
    return _web_asset(fake, repo, asset)


@route(
    "GET",
    r"/(?P<owner>[^/]+)/(?P<repo>[^/]+)/releases/download/(?P<tag>[^/]+)/(?P<name>[^/]+)",
    host="web",
)
def _browser_download(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    tag, name = unquote(m["tag"]), unquote(m["name"])
    for rel in repo.releases.values():
        published = not rel.draft and rel.tag_name == tag
        draft = rel.draft and tag == f"untagged-{rel.id}" and req.login is not None
        if published or draft:
            for asset in rel.assets.values():
                if asset.name == name:
                    return _web_asset(fake, repo, asset)
    raise HttpError(404, "Not Found", "")


# ------------------------------------------------------------------ git refs

_REF_DOC = "/git/refs"


@route("GET", R + r"/git/refs/?")
@route("GET", R + r"/git/matching-refs/(?P<prefix>.*)")
def _list_refs(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    prefix = "refs/" + (m.groupdict().get("prefix") or "")
    items = [fake.ref_json(repo, r) for r in sorted(repo.refs) if r.startswith(prefix)]
    body, headers = fake.paginate(req.call, items, f"/repositories/{repo.id}/git/refs")
    headers["X-Poll-Interval"] = "300"
    return 200, body, headers


@route("GET", R + r"/git/ref/(?P<ref>.+)")
def _get_ref(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    ref = "refs/" + m["ref"]
    if ref not in repo.refs:
        raise HttpError(404, "Not Found", f"{_REF_DOC}#get-a-reference")
    return 200, fake.ref_json(repo, ref), {}


@route("POST", R + r"/git/refs")
def _create_ref(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    data = _json_body(req)
    doc = f"{_REF_DOC}#create-a-reference"
    ref, sha = data.get("ref"), data.get("sha")
    if not ref or not sha:
        raise _missing("Reference", "ref" if not ref else "sha", doc)
    if not ref.startswith("refs/") or ref.count("/") < 2:
        raise HttpError(422, "Reference name must start with 'refs/'.", doc)
    if ref in repo.refs:
        raise HttpError(422, "Reference already exists", doc)
    if repo.git_dir is not None and _object_type(repo.git_dir, sha) is None:
        raise HttpError(422, "Object does not exist", doc)
    repo.refs[ref] = sha
    body = fake.ref_json(repo, ref)
    return 201, body, {"Location": body["url"]}


@route("PATCH", R + r"/git/refs/(?P<ref>.+)")
def _update_ref(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    ref = "refs/" + m["ref"]
    data = _json_body(req)
    doc = f"{_REF_DOC}#update-a-reference"
    if ref not in repo.refs:
        raise HttpError(422, "Reference does not exist", doc)
    sha = data.get("sha")
    if not isinstance(sha, str) or not sha:
        raise _missing("Reference", "sha", doc)
    if repo.git_dir is not None:
        # Only a git-backed repository knows the history: without `force`, GitHub refuses
        # an update that is not a fast forward (the recordings use unrelated fake shas).
        if _object_type(repo.git_dir, sha) is None:
            raise HttpError(422, "Object does not exist", doc)
        if data.get("force") is not True and not _is_ancestor(repo.git_dir, repo.refs[ref], sha):
            raise HttpError(422, "Update is not a fast forward", doc)
    repo.refs[ref] = sha
    return 200, fake.ref_json(repo, ref), {}


@route("DELETE", R + r"/git/refs/(?P<ref>.+)")
def _delete_ref(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    ref = "refs/" + m["ref"]
    if ref not in repo.refs:
        raise HttpError(422, "Reference does not exist", f"{_REF_DOC}#delete-a-reference")
    del repo.refs[ref]
    return 204, None, {}


# ------------------------------------------------------------------ contents


@route("PUT", R + r"/contents/(?P<path>.+)")
def _put_file(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    data = _json_body(req)
    doc = "/repos/contents#create-or-update-file-contents"
    if "message" not in data or "content" not in data:
        raise _missing("Commit", "message" if "message" not in data else "content", doc)
    path = unquote(m["path"])
    content = base64.b64decode(data["content"])
    created = path not in repo.files
    repo.files[path] = content
    blob_sha = hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()  # noqa: S324
    api, web = f"{fake.api_url}/repos/{repo.full_name}", f"{fake.web_url}/{repo.full_name}"
    branch = data.get("branch") or repo.default_branch
    commit_sha = hashlib.sha1(f"{path}{blob_sha}{time.time()}".encode()).hexdigest()  # noqa: S324
    tree_sha = hashlib.sha1(f"tree {path}{blob_sha}".encode()).hexdigest()  # noqa: S324
    repo.refs[f"refs/heads/{branch}"] = commit_sha
    body = {
        "content": {
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "sha": blob_sha,
            "size": len(content),
            "url": f"{api}/contents/{path}?ref={branch}",
            "html_url": f"{web}/blob/{branch}/{path}",
            "git_url": f"{api}/git/blobs/{blob_sha}",
            "download_url": f"{fake.web_url}/raw/{repo.full_name}/{branch}/{path}",
            "type": "file",
            "_links": {
                "self": f"{api}/contents/{path}?ref={branch}",
                "git": f"{api}/git/blobs/{blob_sha}",
                "html": f"{web}/blob/{branch}/{path}",
            },
        },
        "commit": {
            "sha": commit_sha,
            "node_id": _node_id("Commit", 1),
            "url": f"{api}/git/commits/{commit_sha}",
            "html_url": f"{web}/commit/{commit_sha}",
            "author": fake._git_person(),
            "committer": fake._git_person(),
            "tree": {
                "sha": tree_sha,
                "url": f"{api}/git/trees/{tree_sha}",
            },
            "message": data["message"],
            "parents": [],
            "verification": {
                "verified": False,
                "reason": "unsigned",
                "signature": None,
                "payload": None,
            },
        },
    }
    return (201 if created else 200), body, {}


# ------------------------------------------------------------------ labels

_LABEL_DOC = "/issues/labels"


def _get_label_or_404(repo: FakeRepo, name: str) -> dict[str, Any]:
    label = repo.labels.get(unquote(name).lower())
    if label is None:
        raise HttpError(404, "Not Found", f"{_LABEL_DOC}#get-a-label")
    return label


def _valid_color(color: str) -> bool:
    return re.fullmatch(r"[0-9a-fA-F]{6}", color) is not None


@route("GET", R + r"/labels")
def _list_labels(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    items = [fake.label_json(repo, lab) for lab in repo.labels.values()]
    body, headers = fake.paginate(req.call, items, f"/repositories/{repo.id}/labels")
    return 200, body, headers


@route("POST", R + r"/labels")
def _create_label(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    data = _json_body(req)
    doc = f"{_LABEL_DOC}#create-a-label"
    name = data.get("name")
    if not name:
        raise _missing("Label", "name", doc)
    color = data.get("color", "ededed").lstrip("#")
    if not _valid_color(color):
        raise HttpError(
            422,
            "Validation Failed",
            doc,
            [{"resource": "Label", "code": "invalid", "field": "color"}],
        )
    if name.lower() in repo.labels:
        raise HttpError(
            422,
            "Validation Failed",
            doc,
            [{"resource": "Label", "code": "already_exists", "field": "name"}],
        )
    label = {
        "id": fake._next_id(),
        "name": name,
        "color": color,
        "description": data.get("description"),
    }
    repo.labels[name.lower()] = label
    body = fake.label_json(repo, label)
    return 201, body, {"Location": body["url"]}


@route("GET", R + r"/labels/(?P<name>[^/]+)")
def _get_label(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    return 200, fake.label_json(repo, _get_label_or_404(repo, m["name"])), {}


@route("PATCH", R + r"/labels/(?P<name>[^/]+)")
def _update_label(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    label = _get_label_or_404(repo, m["name"])
    data = _json_body(req)
    color = data.get("color", label["color"]).lstrip("#")
    if not _valid_color(color):
        raise HttpError(
            422,
            "Validation Failed",
            f"{_LABEL_DOC}#update-a-label",
            [{"resource": "Label", "code": "invalid", "field": "color"}],
        )
    del repo.labels[label["name"].lower()]
    label.update(
        name=data.get("new_name", label["name"]),
        color=color,
        description=data.get("description", label.get("description")),
    )
    repo.labels[label["name"].lower()] = label
    return 200, fake.label_json(repo, label), {}


@route("DELETE", R + r"/labels/(?P<name>[^/]+)")
def _delete_label(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    label = _get_label_or_404(repo, m["name"])
    del repo.labels[label["name"].lower()]
    for issue in repo.issues.values():
        issue.labels = [n for n in issue.labels if n.lower() != label["name"].lower()]
    return 204, None, {}


# ------------------------------------------------------------------ issues


def _issue_or_404(repo: FakeRepo, number: str, doc: str) -> FakeIssue:
    issue = repo.issues.get(int(number))
    if issue is None:
        raise HttpError(404, "Not Found", doc)
    return issue


@route("POST", R + r"/issues")
def _create_issue(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    data = _json_body(req)
    if not data.get("title"):
        raise _missing("Issue", "title", "/issues/issues#create-an-issue")
    issue = fake._new_issue(repo, data["title"], data.get("body"), req.login or "octocat")
    body = fake.issue_json(repo, issue)
    return 201, body, {"Location": body["url"]}


@route("GET", R + r"/issues")
def _list_issues(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    state = req.call.query.get("state", "open")
    issues = sorted(repo.issues.values(), key=lambda i: i.number, reverse=True)
    items = [fake.issue_json(repo, i) for i in issues if state in ("all", i.state)]
    body, headers = fake.paginate(req.call, items, f"/repositories/{repo.id}/issues")
    return 200, body, headers


@route("GET", R + r"/issues/(?P<number>\d+)")
def _get_issue(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    issue = _issue_or_404(repo, m["number"], "/issues/issues#get-an-issue")
    return 200, fake.issue_json(repo, issue), {}


@route("POST", R + r"/issues/(?P<number>\d+)/labels")
def _add_issue_labels(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    doc = f"{_LABEL_DOC}#add-labels-to-an-issue"
    issue = _issue_or_404(repo, m["number"], doc)
    data = _json_body(req)
    names = data.get("labels")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise _missing("Label", "labels", doc)
    for name in names:
        if name.lower() not in repo.labels:
            # GitHub creates unknown labels on the fly with the default grey colour.
            repo.labels[name.lower()] = {
                "id": fake._next_id(),
                "name": name,
                "color": "ededed",
                "description": None,
            }
        if name.lower() not in (n.lower() for n in issue.labels):
            issue.labels.append(repo.labels[name.lower()]["name"])
    return 200, fake._issue_labels(repo, issue), {}


@route("POST", R + r"/issues/(?P<number>\d+)/comments")
def _create_issue_comment(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    doc = "/issues/comments#create-an-issue-comment"
    issue = _issue_or_404(repo, m["number"], doc)
    data = _json_body(req)
    if not isinstance(data.get("body"), str) or not data["body"]:
        raise _missing("IssueComment", "body", doc)
    if len(data["body"]) > MAX_BODY:
        raise _too_long("IssueComment", doc)
    ident = fake._next_id()
    now = _now()
    api = f"{fake.api_url}/repos/{repo.full_name}"
    kind = "pull" if issue.is_pull else "issues"
    comment = {
        "id": ident,
        "node_id": _node_id("IssueComment", ident),
        "url": f"{api}/issues/comments/{ident}",
        "html_url": f"{fake.web_url}/{repo.full_name}/{kind}/{issue.number}#issuecomment-{ident}",
        "body": data["body"],
        "user": fake.user_json(req.login or "octocat"),
        "created_at": now,
        "updated_at": now,
        "issue_url": f"{api}/issues/{issue.number}",
        "author_association": "MEMBER",
        "performed_via_github_app": None,
    }
    issue.comments.append(comment)
    return 201, comment, {"Location": comment["url"]}


@route("GET", R + r"/issues/(?P<number>\d+)/labels")
def _list_issue_labels(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    issue = _issue_or_404(repo, m["number"], f"{_LABEL_DOC}#list-labels-for-an-issue")
    link_base = f"/repositories/{repo.id}/issues/{issue.number}/labels"
    body, headers = fake.paginate(req.call, fake._issue_labels(repo, issue), link_base)
    return 200, body, headers


# ------------------------------------------------------------------ pulls

_PULL_DOC = "/pulls/pulls"


def _pull_or_404(repo: FakeRepo, number: str, doc: str) -> FakeIssue:
    pr = repo.issues.get(int(number))
    if pr is None or not pr.is_pull:
        raise HttpError(404, "Not Found", doc)
    return pr


def _split_head(repo: FakeRepo, head: str) -> tuple[str, str]:
    owner, sep, branch = head.partition(":")
    return (owner, branch) if sep else (repo.owner, head)


@route("POST", R + r"/pulls")
def _create_pull(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    data = _json_body(req)
    doc = f"{_PULL_DOC}#create-a-pull-request"
    for key in ("head", "base"):
        if not data.get(key):
            raise _missing("PullRequest", key, doc)
    if not data.get("title") and not data.get("issue"):
        raise _missing("PullRequest", "title", doc)
    if len(data.get("body") or "") > MAX_BODY:
        raise _too_long("PullRequest", doc)
    owner, branch = _split_head(repo, data["head"])
    for pr in repo.pulls:
        same = (pr.head_owner or repo.owner).lower() == owner.lower() and pr.head == branch
        if same and pr.base == data["base"] and pr.state == "open":
            raise HttpError(
                422,
                "Validation Failed",
                doc,
                [
                    {
                        "resource": "PullRequest",
                        "code": "custom",
                        "message": f"A pull request already exists for {owner}:{branch}.",
                    }
                ],
            )
    if branch == data["base"] and owner.lower() == repo.owner.lower():
        raise HttpError(
            422,
            "Validation Failed",
            doc,
            [
                {
                    "resource": "PullRequest",
                    "code": "custom",
                    "message": f"No commits between {data['base']} and {branch}",
                }
            ],
        )
    pr = fake._new_issue(repo, data["title"], data.get("body"), req.login or "octocat")
    pr.head, pr.base, pr.head_owner = branch, data["base"], owner
    pr.draft = bool(data.get("draft", False))
    body = fake.pull_json(repo, pr)
    return 201, body, {"Location": body["url"]}


@route("GET", R + r"/pulls")
def _list_pulls(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    q = req.call.query
    state = q.get("state", "open")
    pulls = sorted(repo.pulls, key=lambda p: p.number, reverse=True)
    if state != "all":
        pulls = [p for p in pulls if p.state == state]
    if "head" in q:
        # GitHub filters by "user:ref-name"; a head without the user part matches nothing.
        owner, sep, branch = q["head"].partition(":")
        pulls = [
            p
            for p in pulls
            if sep and (p.head_owner or repo.owner).lower() == owner.lower() and p.head == branch
        ]
    if "base" in q:
        pulls = [p for p in pulls if p.base == q["base"]]
    items = [fake.pull_json(repo, p, full=False) for p in pulls]
    body, headers = fake.paginate(req.call, items, f"/repositories/{repo.id}/pulls")
    return 200, body, headers


@route("GET", R + r"/pulls/(?P<number>\d+)")
def _get_pull(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    pr = _pull_or_404(repo, m["number"], f"{_PULL_DOC}#get-a-pull-request")
    return 200, fake.pull_json(repo, pr), {}


@route("PATCH", R + r"/pulls/(?P<number>\d+)")
def _update_pull(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    doc = f"{_PULL_DOC}#update-a-pull-request"
    pr = _pull_or_404(repo, m["number"], doc)
    data = _json_body(req)
    if "state" in data and data["state"] not in ("open", "closed"):
        raise HttpError(
            422,
            "Validation Failed",
            doc,
            [{"resource": "PullRequest", "code": "invalid", "field": "state"}],
        )
    if len(data.get("body") or "") > MAX_BODY:
        raise _too_long("PullRequest", doc)
    for key in ("title", "body", "base", "state"):
        if key in data:
            setattr(pr, key, data[key])
    pr.closed_at = _now() if pr.state == "closed" else None
    pr.updated_at = _now()
    return 200, fake.pull_json(repo, pr), {}


@route("POST", R + r"/pulls/(?P<number>\d+)/requested_reviewers")
def _request_reviewers(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    doc = "/pulls/review-requests#request-reviewers-for-a-pull-request"
    pr = _pull_or_404(repo, m["number"], doc)
    data = _json_body(req)
    reviewers = data.get("reviewers", [])
    if pr.user in reviewers:
        raise HttpError(
            422,
            "Review cannot be requested from pull request author.",
            doc,
        )
    for login in reviewers:
        if login not in pr.requested_reviewers:
            pr.requested_reviewers.append(login)
    for team in data.get("team_reviewers", []):
        if team not in pr.requested_teams:
            pr.requested_teams.append(team)
    return 201, fake.pull_json(repo, pr, full=False), {}


@route("GET", R + r"/pulls/(?P<number>\d+)/requested_reviewers")
def _list_reviewers(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    pr = _pull_or_404(repo, m["number"], "/pulls/review-requests")
    return 200, {"users": [fake.user_json(u) for u in pr.requested_reviewers], "teams": []}, {}


@route("GET", R + r"/pulls/(?P<number>\d+)/reviews")
def _list_reviews(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    pr = _pull_or_404(repo, m["number"], "/pulls/reviews#list-reviews-for-a-pull-request")
    html = f"{fake.web_url}/{repo.full_name}/pull/{pr.number}"
    items = [
        {
            "id": 80 + index,
            "node_id": _node_id("PullRequestReview", 80 + index),
            "user": fake.user_json(login),
            "body": "",
            "state": state,
            "html_url": f"{html}#pullrequestreview-{80 + index}",
            "pull_request_url": f"{fake.api_url}/repos/{repo.full_name}/pulls/{pr.number}",
            "author_association": "MEMBER",
            "submitted_at": pr.updated_at,
            "commit_id": repo.refs.get(f"refs/heads/{pr.head}", "0" * 40),
        }
        for index, (login, state) in enumerate(pr.reviews)
    ]
    link_base = f"/repositories/{repo.id}/pulls/{pr.number}/reviews"
    body, headers = fake.paginate(req.call, items, link_base)
    return 200, body, headers


# ------------------------------------------------------------------ GitHub App


@route("POST", r"/app/installations/(?P<iid>\d+)/access_tokens")
def _installation_token(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    installations: dict[int, int] = getattr(fake, "_installations", {})
    app = installations.get(int(m["iid"]))
    if app is None or req.login != f"app:{app}":
        raise HttpError(
            404, "Not Found", "/apps/apps#create-an-installation-access-token-for-an-app"
        )
    token = "ghs_" + secrets.token_hex(18)
    fake.tokens[token] = f"app-installation-{m['iid']}[bot]"
    expires = datetime.fromtimestamp(time.time() + 3600, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return 201, {"token": token, "expires_at": expires, "permissions": {}}, {}


# ------------------------------------------------------------------ git data (objects)
#
# docs.github.com/rest/git: objects live in a bare git repository (`FakeRepo.git_dir`), so a
# commit made through the API is a real commit that `git fetch` sees, and a `git push` is
# visible to the API. A repository without one answers 409 "Git Repository is empty." as
# GitHub does for a repository without objects.

_GIT_DOC = "/git"
_MODES = {
    "100644": "blob",
    "100755": "blob",
    "040000": "tree",
    "160000": "commit",
    "120000": "blob",
}


def _git_dir(repo: FakeRepo, doc: str) -> Path:
    if repo.git_dir is None:
        raise HttpError(409, "Git Repository is empty.", doc)
    return repo.git_dir


def _object_type(git_dir: Path, sha: str) -> str | None:
    if not re.fullmatch(r"[0-9a-f]{40}", sha or ""):
        return None
    try:
        return git(git_dir, "cat-file", "-t", sha)
    except subprocess.CalledProcessError:
        return None


def _is_ancestor(git_dir: Path, old: str, new: str) -> bool:
    try:
        git(git_dir, "merge-base", "--is-ancestor", old, new)
    except subprocess.CalledProcessError:
        return False
    return True


def _invalid(resource: str, fld: str, doc: str, message: str = "Validation Failed") -> HttpError:
    return HttpError(422, message, doc, [{"resource": resource, "code": "invalid", "field": fld}])


@route("POST", R + r"/git/blobs")
def _create_blob(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    doc = f"{_GIT_DOC}/blobs#create-a-blob"
    git_dir = _git_dir(repo, doc)
    data = _json_body(req)
    content, encoding = data.get("content"), data.get("encoding", "utf-8")
    if not isinstance(content, str):
        raise _missing("Blob", "content", doc)
    if encoding == "base64":
        try:
            raw = base64.b64decode(content, validate=False)
        except ValueError as exc:
            raise _invalid("Blob", "content", doc) from exc
    elif encoding == "utf-8":
        raw = content.encode("utf-8")
    else:
        raise _invalid("Blob", "encoding", doc)
    sha = git(git_dir, "hash-object", "-w", "--stdin", data=raw)
    url = f"{fake.api_url}/repos/{repo.full_name}/git/blobs/{sha}"
    return 201, {"url": url, "sha": sha}, {"Location": url}


@route("GET", R + r"/git/blobs/(?P<sha>[0-9a-f]{40})")
def _get_blob(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    doc = f"{_GIT_DOC}/blobs#get-a-blob"
    git_dir = _git_dir(repo, doc)
    if _object_type(git_dir, m["sha"]) != "blob":
        raise HttpError(404, "Not Found", doc)
    raw = subprocess.run(
        ["git", f"--git-dir={git_dir}", "cat-file", "blob", m["sha"]],
        capture_output=True,
        check=True,
    ).stdout
    encoded = base64.encodebytes(raw).decode()  # GitHub wraps the base64 at 60 columns
    return (
        200,
        {
            "sha": m["sha"],
            "node_id": _node_id("Blob", len(raw)),
            "size": len(raw),
            "url": f"{fake.api_url}/repos/{repo.full_name}/git/blobs/{m['sha']}",
            "content": encoded,
            "encoding": "base64",
        },
        {},
    )


def _tree_entries(fake: FakeGitHub, repo: FakeRepo, sha: str, *, recursive: bool) -> list[Json]:
    assert repo.git_dir is not None
    args = ["ls-tree", "-l", *(["-r", "-t"] if recursive else []), sha]
    entries = []
    for line in git(repo.git_dir, *args).splitlines():
        meta, _, path = line.partition("\t")
        mode, kind, obj, size = meta.split()
        item: dict[str, Any] = {"path": path, "mode": mode, "type": kind, "sha": obj}
        if kind == "blob":
            item["size"] = int(size)
        item["url"] = f"{fake.api_url}/repos/{repo.full_name}/git/{kind}s/{obj}"
        entries.append(item)
    return entries


def _tree_json(fake: FakeGitHub, repo: FakeRepo, sha: str, *, recursive: bool = False) -> Json:
    return {
        "sha": sha,
        "url": f"{fake.api_url}/repos/{repo.full_name}/git/trees/{sha}",
        "tree": _tree_entries(fake, repo, sha, recursive=recursive),
        "truncated": False,
    }


@route("POST", R + r"/git/trees")
def _create_tree(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    doc = f"{_GIT_DOC}/trees#create-a-tree"
    git_dir = _git_dir(repo, doc)
    data = _json_body(req)
    entries = data.get("tree")
    if not isinstance(entries, list):
        raise _missing("Tree", "tree", doc)
    base = data.get("base_tree")
    if base is not None and _object_type(git_dir, base) not in ("tree", "commit"):
        raise HttpError(422, "Invalid tree info", doc)
    with tempfile.TemporaryDirectory() as scratch:
        env = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
        if base is not None:
            git(git_dir, "read-tree", base, env=env)
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
                raise _invalid("Tree", "path", doc)
            path, mode = entry["path"], entry.get("mode", "100644")
            if mode not in _MODES or path.startswith("/") or path.endswith("/"):
                raise HttpError(422, "Invalid tree info", doc)
            if "content" in entry and entry.get("sha") is None and "sha" not in entry:
                sha = git(git_dir, "hash-object", "-w", "--stdin", data=entry["content"].encode())
            elif "sha" in entry and entry["sha"] is None:
                # `"sha": null` deletes the path from the base tree.
                git(git_dir, "update-index", "--force-remove", "--", path, env=env)
                continue
            else:
                sha = entry.get("sha")
                if _object_type(git_dir, sha) != _MODES[mode]:
                    raise HttpError(422, "Invalid tree info", doc)
            git(git_dir, "update-index", "--add", "--cacheinfo", f"{mode},{sha},{path}", env=env)
        tree = git(git_dir, "write-tree", env=env)
    body = _tree_json(fake, repo, tree)
    return 201, body, {"Location": body["url"]}


@route("GET", R + r"/git/trees/(?P<sha>[0-9a-f]{40})")
def _get_tree(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    doc = f"{_GIT_DOC}/trees#get-a-tree"
    git_dir = _git_dir(repo, doc)
    kind = _object_type(git_dir, m["sha"])
    if kind not in ("tree", "commit"):
        raise HttpError(404, "Not Found", doc)
    tree = git(git_dir, "rev-parse", f"{m['sha']}^{{tree}}")
    recursive = req.call.query.get("recursive") not in (None, "", "0", "false")
    return 200, _tree_json(fake, repo, tree, recursive=recursive), {}


def _person(raw: str) -> Json:
    match = re.fullmatch(r"(?P<name>.*) <(?P<email>.*)> (?P<ts>\d+) (?P<tz>[+-]\d{4})", raw)
    if match is None:
        return {"name": raw, "email": "", "date": _now()}
    when = datetime.fromtimestamp(int(match["ts"]), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"name": match["name"], "email": match["email"], "date": when}


def _commit_json(fake: FakeGitHub, repo: FakeRepo, sha: str) -> Json:
    assert repo.git_dir is not None
    raw = git(repo.git_dir, "cat-file", "commit", sha)
    header, _, message = raw.partition("\n\n")
    fields: dict[str, list[str]] = {}
    for line in header.splitlines():
        key, _, value = line.partition(" ")
        fields.setdefault(key, []).append(value)
    api, web = f"{fake.api_url}/repos/{repo.full_name}", f"{fake.web_url}/{repo.full_name}"
    tree = fields["tree"][0]
    signed = sha in repo.signed_commits or "gpgsig" in fields
    return {
        "sha": sha,
        "node_id": _node_id("Commit", int(sha[:6], 16)),
        "url": f"{api}/git/commits/{sha}",
        "html_url": f"{web}/commit/{sha}",
        "author": _person(fields["author"][0]),
        "committer": _person(fields["committer"][0]),
        "tree": {"sha": tree, "url": f"{api}/git/trees/{tree}"},
        "message": message,
        "parents": [
            {"sha": p, "url": f"{api}/git/commits/{p}", "html_url": f"{web}/commit/{p}"}
            for p in fields.get("parent", [])
        ],
        "verification": {
            "verified": signed,
            "reason": "valid" if signed else "unsigned",
            "signature": None,
            "payload": None,
            "verified_at": _now() if signed else None,
        },
    }


def _bot_login(login: str | None) -> bool:
    """An App installation token (GITHUB_TOKEN is the GitHub Actions App's): `...[bot]`."""
    return bool(login) and str(login).endswith("[bot]")


@route("POST", R + r"/git/commits")
def _create_commit(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    doc = f"{_GIT_DOC}/commits#create-a-commit"
    git_dir = _git_dir(repo, doc)
    data = _json_body(req)
    message, tree = data.get("message"), data.get("tree")
    if not isinstance(message, str):
        raise _missing("Commit", "message", doc)
    if not isinstance(tree, str):
        raise _missing("Commit", "tree", doc)
    if _object_type(git_dir, tree) != "tree":
        raise HttpError(422, "Tree SHA does not exist", doc)
    parents = data.get("parents", [])
    if not isinstance(parents, list):
        raise _invalid("Commit", "parents", doc)
    for parent in parents:
        if _object_type(git_dir, parent) != "commit":
            raise HttpError(422, "Parent SHA does not exist or is not a commit object", doc)
    login = req.login or "octocat"
    author = data.get("author") or {}
    committer = data.get("committer") or author
    env = {
        "GIT_AUTHOR_NAME": author.get("name", login),
        "GIT_AUTHOR_EMAIL": author.get("email", f"{login}@users.noreply.github.com"),
        "GIT_COMMITTER_NAME": committer.get("name", "GitHub"),
        "GIT_COMMITTER_EMAIL": committer.get("email", "noreply@github.com"),
    }
    for key, when in (
        ("GIT_AUTHOR_DATE", author.get("date")),
        ("GIT_COMMITTER_DATE", committer.get("date")),
    ):
        if when:
            env[key] = when
    args = ["commit-tree", tree]
    for parent in parents:
        args += ["-p", parent]
    sha = git(git_dir, *args, data=message.encode(), env=env)
    # docs.github.com/authentication/managing-commit-signature-verification/
    # about-commit-signature-verification#signature-verification-for-bots: GitHub signs a
    # commit made by an App (bot) through the API when the request has no custom author,
    # committer or signature.
    custom = any(k in data for k in ("author", "committer", "signature"))
    if _bot_login(req.login) and not custom:
        repo.signed_commits.add(sha)
    body = _commit_json(fake, repo, sha)
    return 201, body, {"Location": body["url"]}


@route("GET", R + r"/git/commits/(?P<sha>[0-9a-f]{40})")
def _get_commit(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    doc = f"{_GIT_DOC}/commits#get-a-commit-object"
    git_dir = _git_dir(repo, doc)
    if _object_type(git_dir, m["sha"]) != "commit":
        raise HttpError(404, "Not Found", doc)
    return 200, _commit_json(fake, repo, m["sha"]), {}


def _tag_json(fake: FakeGitHub, repo: FakeRepo, sha: str) -> Json:
    assert repo.git_dir is not None
    raw = git(repo.git_dir, "cat-file", "tag", sha)
    header, _, message = raw.partition("\n\n")
    fields = dict(line.partition(" ")[::2] for line in header.splitlines())
    api = f"{fake.api_url}/repos/{repo.full_name}"
    kind, obj = fields["type"], fields["object"]
    return {
        "node_id": _node_id("Tag", int(sha[:6], 16)),
        "tag": fields["tag"],
        "sha": sha,
        "url": f"{api}/git/tags/{sha}",
        "message": message,
        "tagger": _person(fields.get("tagger", "")),
        "object": {"type": kind, "sha": obj, "url": f"{api}/git/{kind}s/{obj}"},
        "verification": {
            "verified": False,
            "reason": "unsigned",
            "signature": None,
            "payload": None,
            "verified_at": None,
        },
    }


@route("POST", R + r"/git/tags")
def _create_tag(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    doc = f"{_GIT_DOC}/tags#create-a-tag-object"
    git_dir = _git_dir(repo, doc)
    data = _json_body(req)
    for key in ("tag", "message", "object", "type"):
        if not isinstance(data.get(key), str):
            raise _missing("Tag", key, doc)
    if data["type"] not in ("commit", "tree", "blob"):
        raise _invalid("Tag", "type", doc)
    if _object_type(git_dir, data["object"]) != data["type"]:
        raise HttpError(422, "Object does not exist", doc)
    login = req.login or "octocat"
    tagger = data.get("tagger") or {}
    when = int(time.time())
    text = (
        f"object {data['object']}\ntype {data['type']}\ntag {data['tag']}\n"
        f"tagger {tagger.get('name', login)} "
        f"<{tagger.get('email', f'{login}@users.noreply.github.com')}> {when} +0000\n\n"
        f"{data['message']}"
    )
    if not text.endswith("\n"):
        text += "\n"
    sha = git(git_dir, "mktag", data=text.encode())
    body = _tag_json(fake, repo, sha)
    return 201, body, {"Location": body["url"]}


@route("GET", R + r"/git/tags/(?P<sha>[0-9a-f]{40})")
def _get_tag(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    doc = f"{_GIT_DOC}/tags#get-a-tag"
    git_dir = _git_dir(repo, doc)
    if _object_type(git_dir, m["sha"]) != "tag":
        raise HttpError(404, "Not Found", doc)
    return 200, _tag_json(fake, repo, m["sha"]), {}


# ------------------------------------------------------------------ commit -> pulls


@route("GET", R + r"/commits/(?P<sha>[0-9a-f]{40})/pulls")
def _commit_pulls(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    """docs.github.com/rest/commits/commits#list-pull-requests-associated-with-a-commit:
    for a commit of the default branch, the merged PR that introduced it; for any other
    commit, the open PRs whose head holds it."""
    repo = _repo(fake, m)
    sha = m["sha"]
    merged = [p for p in repo.pulls if p.merged_at is not None and sha in p.introduced]
    if merged:
        found = merged
    else:
        found = []
        for pr in repo.pulls:
            head = repo.refs.get(f"refs/heads/{pr.head}")
            if pr.state != "open" or head is None:
                continue
            if head == sha or (repo.git_dir is not None and _is_ancestor(repo.git_dir, sha, head)):
                found.append(pr)
    items = [fake.pull_json(repo, p, full=False) for p in sorted(found, key=lambda p: p.number)]
    body, headers = fake.paginate(req.call, items, f"/repositories/{repo.id}/commits/{sha}/pulls")
    return 200, body, headers


# ------------------------------------------------------------------ issue comments

_COMMENT_DOC = "/issues/comments"


def _too_long(resource: str, doc: str) -> HttpError:
    # What GitHub answers for a body over 65,536 characters.
    return HttpError(
        422,
        "Validation Failed",
        doc,
        [
            {
                "resource": resource,
                "code": "custom",
                "field": "body",
                "message": f"body is too long (maximum is {MAX_BODY} characters)",
            }
        ],
    )


def _find_comment(repo: FakeRepo, ident: str, doc: str) -> tuple[FakeIssue, dict[str, Any]]:
    for issue in repo.issues.values():
        for comment in issue.comments:
            if comment["id"] == int(ident):
                return issue, comment
    raise HttpError(404, "Not Found", doc)


@route("GET", R + r"/issues/(?P<number>\d+)/comments")
def _list_issue_comments(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    issue = _issue_or_404(repo, m["number"], f"{_COMMENT_DOC}#list-issue-comments")
    link_base = f"/repositories/{repo.id}/issues/{issue.number}/comments"
    body, headers = fake.paginate(req.call, list(issue.comments), link_base)
    return 200, body, headers


@route("GET", R + r"/issues/comments/(?P<cid>\d+)")
def _get_issue_comment(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    _issue, comment = _find_comment(repo, m["cid"], f"{_COMMENT_DOC}#get-an-issue-comment")
    return 200, comment, {}


@route("PATCH", R + r"/issues/comments/(?P<cid>\d+)")
def _update_issue_comment(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    doc = f"{_COMMENT_DOC}#update-an-issue-comment"
    _issue, comment = _find_comment(repo, m["cid"], doc)
    data = _json_body(req)
    if not isinstance(data.get("body"), str) or not data["body"]:
        raise _missing("IssueComment", "body", doc)
    if len(data["body"]) > MAX_BODY:
        raise _too_long("IssueComment", doc)
    comment["body"], comment["updated_at"] = data["body"], _now()
    return 200, comment, {}


@route("DELETE", R + r"/issues/comments/(?P<cid>\d+)")
def _delete_issue_comment(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    issue, comment = _find_comment(repo, m["cid"], f"{_COMMENT_DOC}#delete-an-issue-comment")
    issue.comments.remove(comment)
    return 204, None, {}


# ==================================================================== HTTP


class _Handler(BaseHTTPRequestHandler):
    fake: FakeGitHub
    host: str
    protocol_version = "HTTP/1.1"  # keep-alive, like GitHub; every answer has a length

    def log_message(self, format: str, *args: Any) -> None:
        pass  # tests read fake.calls instead of stderr noise

    def _serve(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        call = Call(
            method=self.command,
            host=self.host,
            path=unquote(split.path),
            query={k: v[-1] for k, v in parse_qs(split.query).items()},
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        answer = self.fake.handle(call)
        if answer is None:
            # A dropped connection: the request was read, no answer is ever written.
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        status, payload, headers = answer
        if isinstance(payload, bytes):
            data = payload
        elif payload is None:
            data = b""
        else:
            data = json.dumps(payload).encode()
        self.send_response(status)
        out = {**self.fake.rate_headers_for(call), **headers}
        if data and not isinstance(payload, bytes):
            out.setdefault("Content-Type", "application/json; charset=utf-8")
        for key, value in out.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _serve


# ------------------------------------------------------------------ artifact attestations
#
# docs.github.com/rest/repos/attestations: "Create an attestation" takes {"bundle": <a
# Sigstore bundle>} and answers 201 {"id": N}; "List attestations" by subject digest answers
# {"attestations": [{"bundle": ..., "repository_id": ..., "bundle_url": ...}]}. GitHub
# refuses a body without a Sigstore bundle with 422; we keep that, and index each bundle by
# the sha256 subjects of its in-toto statement, as GitHub does.

_ATT_DOC = "/repos/attestations"


def _statement_digests(bundle: dict[str, Any]) -> list[str]:
    envelope = bundle.get("dsseEnvelope")
    if not isinstance(envelope, dict):
        return []
    try:
        statement = json.loads(base64.b64decode(str(envelope.get("payload", ""))))
    except ValueError:
        return []
    subjects = statement.get("subject") if isinstance(statement, dict) else None
    return [
        f"sha256:{s['digest']['sha256']}"
        for s in subjects or []
        if isinstance(s, dict) and isinstance(s.get("digest"), dict) and "sha256" in s["digest"]
    ]


@route("POST", R + r"/attestations")
def _create_attestation(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    data = _json_body(req)
    bundle = data.get("bundle")
    if not isinstance(bundle, dict):
        raise _missing("Attestation", "bundle", f"{_ATT_DOC}#create-an-attestation")
    media_type = str(bundle.get("mediaType", ""))
    if not media_type.startswith("application/vnd.dev.sigstore.bundle") or not _statement_digests(
        bundle
    ):
        raise HttpError(
            422,
            "Validation Failed",
            f"{_ATT_DOC}#create-an-attestation",
            [{"resource": "Attestation", "code": "invalid", "field": "bundle"}],
        )
    with fake._lock:
        ident = fake._next_id()
        repo.attestations[ident] = bundle
    return 201, {"id": ident}, {}


@route("GET", R + r"/attestations/(?P<digest>[^/]+)")
def _list_attestations(fake: FakeGitHub, req: _Req, m: re.Match[str]) -> Any:
    repo = _repo(fake, m)
    digest = unquote(m["digest"])
    items = [
        {
            "bundle": bundle,
            "repository_id": repo.id,
            "bundle_url": f"{fake.api_url}/repos/{repo.full_name}/attestations/{ident}/bundle",
        }
        for ident, bundle in sorted(repo.attestations.items())
        if digest in _statement_digests(bundle)
    ]
    if not items:
        raise HttpError(404, "Not Found", f"{_ATT_DOC}#list-attestations")
    return 200, {"attestations": items}, {}
