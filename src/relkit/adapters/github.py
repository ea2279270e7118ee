"""GitHub REST client: releases, release assets and pull requests, on githubkit.

githubkit does the HTTP and the auth flows (token, GitHub App installation); this module
adds what relkit needs on top:

- one retry policy: backoff on 5xx and network errors, primary and secondary rate limits
  honoured (`Retry-After`, `x-ratelimit-reset`) within a bounded total wait (`max_wait_s`);
- every failure becomes one `RelkitError` line naming the operation and the HTTP status —
  never the token;
- small frozen dataclasses instead of githubkit models, so callers do not depend on them.

Responses are read leniently (issue 12): only the fields relkit uses are parsed, and an
unknown enum value or a missing optional key is never fatal. githubkit's generated models
are strict about the whole object (every enum value, every key of the current API
description), so real answers broke them: an asset in state `starter` after a 502 upload,
GitHub Enterprise Server versions without the asset `digest` key, labels without
`archived_at`. A missing *required* field (an id, a name) is still a one-line error.
"""

from __future__ import annotations

import base64
import logging
import mimetypes
import random
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import httpx
from githubkit import AppInstallationAuthStrategy, GitHub, TokenAuthStrategy
from githubkit.exception import (
    GitHubException,
    PrimaryRateLimitExceeded,
    RateLimitExceeded,
    RequestError,
    RequestFailed,
    RequestTimeout,
)
from githubkit.response import Response
from githubkit.retry import RetryOption
from pydantic import ValidationError

from relkit.adapters.tls import shared_ssl_context
from relkit.core.errors import ConfigError, RelkitError
from relkit.core.records import record

__all__ = [
    "DEFAULT_API_URL",
    "GitCommit",
    "GitHubApiError",
    "GitHubClient",
    "IssueComment",
    "PullRequest",
    "Release",
    "ReleaseAsset",
    "content_type_for",
]

DEFAULT_API_URL = "https://api.github.com"
_PER_PAGE = 100
# Methods that may be re-sent after a network error: re-sending them cannot create a
# second object. A POST whose connection dropped is not re-sent; the caller's idempotent
# step (look, then act) finishes the work on its next run instead.
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"})
_MAX_RATE_LIMIT_RETRIES = 20

log = logging.getLogger(__name__)
T = TypeVar("T")


@record
class PullRequest:
    number: int
    url: str  # html_url, for people
    head_branch: str
    base: str
    state: str
    title: str
    body: str
    labels: tuple[str, ...] = ()
    requested_reviewers: tuple[str, ...] = ()  # logins with a pending review request
    merged: bool = False  # merged_at is set
    merge_commit_sha: str | None = None
    head_sha: str = ""
    head_repo: str | None = None  # owner/name of the head repository (a fork's differs)


@record
class IssueComment:
    id: int
    body: str
    author: str  # user.login


@record
class GitCommit:
    """A commit created through the Git Data API and whether GitHub signed it."""

    sha: str
    tree: str
    parents: tuple[str, ...]
    verified: bool
    verification_reason: str


@record
class ReleaseAsset:
    id: int
    name: str
    size: int
    content_type: str
    digest: str | None  # "sha256:<hex>" where GitHub reports it (2025+), else None
    api_url: str
    download_url: str  # browser_download_url
    # Anything but "uploaded" is an upload that never completed: GitHub's docs say a 502
    # may leave an empty asset in state "starter" (older answers said "open").
    state: str = "uploaded"

    @property
    def complete(self) -> bool:
        return self.state == "uploaded"


@record
class Release:
    id: int
    tag: str
    name: str | None
    body: str
    draft: bool
    prerelease: bool
    html_url: str
    upload_url: str  # RFC 6570 template on the uploads host
    assets: tuple[ReleaseAsset, ...] = ()

    def asset(self, name: str) -> ReleaseAsset | None:
        return next((a for a in self.assets if a.name == name), None)


class GitHubApiError(RelkitError):
    """GitHub answered with an error status; `status` and the 422 `error_codes` are kept."""

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        *,
        status: int = 0,
        error_codes: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message, hint)
        self.status = status
        self.error_codes = error_codes

    @property
    def already_exists(self) -> bool:
        return self.status == 422 and "already_exists" in self.error_codes


# Types GitHub's web UI and `gh` use for release assets; mimetypes knows none of these.
_CONTENT_TYPES = {
    ".tgz": "application/gzip",
    ".gz": "application/gzip",
    ".sig": "application/octet-stream",
    ".pem": "application/x-pem-file",
    ".sigstore": "application/json",
    ".json": "application/json",
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
}


_CHECKSUM_LISTS = ("SHA256SUMS", "SHA512SUMS", "CHECKSUMS")


def content_type_for(path: Path) -> str:
    """The Content-Type an asset is uploaded with (`SHA256SUMS` and friends are text)."""
    # Checksum lists first: `web-1.2.0.SHA256SUMS` has the "suffix" .SHA256SUMS.
    if path.name.upper().endswith(_CHECKSUM_LISTS):
        return "text/plain"
    suffix = "".join(path.suffixes[-1:]).lower()
    if suffix in _CONTENT_TYPES:
        return _CONTENT_TYPES[suffix]
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


class _RetryPolicy:
    """githubkit retry decision: what to retry, how long to wait, when to give up.

    The wait budget (`max_wait_s`) is per request: a long run is never failed by the sum of
    short, successful waits, while a single request never blocks for more than the budget.
    """

    def __init__(self, *, retries: int, backoff_s: float, max_wait_s: float) -> None:
        self.retries = retries
        self.backoff_s = backoff_s
        self.max_wait_s = max_wait_s
        self.waited_s = 0.0
        self.gave_up_wait_s: float | None = None

    def __call__(self, exc: GitHubException, retry_count: int) -> RetryOption:
        if retry_count == 0:
            self.waited_s = 0.0
            self.gave_up_wait_s = None
        delay = self._delay(exc, retry_count)
        if delay is None:
            return RetryOption(False)
        if self.waited_s + delay > self.max_wait_s:
            self.gave_up_wait_s = delay
            return RetryOption(False)
        self.waited_s += delay
        log.info("GitHub: %s; retrying in %.1fs", _describe(exc), delay)
        return RetryOption(True, timedelta(seconds=delay))

    def _delay(self, exc: GitHubException, retry_count: int) -> float | None:
        if isinstance(exc, RateLimitExceeded):
            if retry_count >= _MAX_RATE_LIMIT_RETRIES:
                return None
            # A reset already in the past still needs a moment for the window to roll over.
            return max(float(exc.retry_after.total_seconds()), 0.05)
        if retry_count >= self.retries:
            return None
        # Jitter keeps parallel CI jobs from retrying in lockstep.
        backoff = self.backoff_s * (2.0**retry_count) * (1 + random.random() / 4)  # noqa: S311
        if isinstance(exc, RequestFailed):
            return backoff if exc.response.status_code >= 500 else None
        if isinstance(exc, RequestError):
            request = _request_of(exc)
            if request is not None and request.method.upper() in _IDEMPOTENT:
                return backoff
        return None


def _request_of(exc: RequestError[Any]) -> httpx.Request | None:
    try:
        request = exc.exc.request
    except (AttributeError, RuntimeError):  # httpx raises RuntimeError when unset
        return None
    return request if isinstance(request, httpx.Request) else None


def _describe(exc: GitHubException) -> str:
    if isinstance(exc, RequestFailed):
        return f"HTTP {exc.response.status_code}"
    if isinstance(exc, RequestError):
        return f"network error ({type(exc.exc).__name__})"
    return type(exc).__name__


def _max_wait_from(env: Mapping[str, str], default: float) -> float:
    raw = env.get("RELKIT_GITHUB_MAX_WAIT_S")
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value < 0:
        raise ConfigError(
            f"RELKIT_GITHUB_MAX_WAIT_S={raw!r} is not a number of seconds",
            hint="e.g. RELKIT_GITHUB_MAX_WAIT_S=300",
        )
    return value


def _check_private_key(pem: str) -> None:
    # Fail here with a clear message rather than deep inside the JWT signing of a request.
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        raise ConfigError(
            "RELKIT_GITHUB_APP_PRIVATE_KEY is not an unencrypted PEM private key",
            hint="use the .pem file downloaded from the GitHub App's settings",
        ) from None


def _split_repo(repo: str) -> tuple[str, str]:
    owner, sep, name = repo.partition("/")
    if not sep or not owner or not name or "/" in name:
        raise ConfigError(
            f"GitHub repository {repo!r} is not owner/name", hint="e.g. acme/web-platform"
        )
    return owner, name


class GitHubClient:
    """Operations relkit performs on GitHub. Every method raises `RelkitError` on failure."""

    def __init__(
        self,
        token: str,
        *,
        api_url: str = DEFAULT_API_URL,
        max_wait_s: float = 60.0,
        retries: int = 3,
        backoff_s: float = 1.0,
        timeout_s: float = 30.0,
    ) -> None:
        if not token:
            raise ConfigError("GitHub token is empty", hint="set GITHUB_TOKEN or GH_TOKEN")
        self._init(TokenAuthStrategy(token), api_url, max_wait_s, retries, backoff_s, timeout_s)
        self._secret = token

    def _init(
        self,
        auth: TokenAuthStrategy | AppInstallationAuthStrategy,
        api_url: str,
        max_wait_s: float,
        retries: int,
        backoff_s: float,
        timeout_s: float,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.max_wait_s = max_wait_s
        self._policy = _RetryPolicy(retries=retries, backoff_s=backoff_s, max_wait_s=max_wait_s)
        self._gh: GitHub[Any] = GitHub(
            auth,
            base_url=self.api_url + "/",
            user_agent="relkit",
            timeout=timeout_s,
            http_cache=False,  # a release run must see GitHub's current state, not a cache
            auto_retry=self._policy,
            # githubkit makes an httpx client per request; without this each one would parse
            # certifi's CA bundle again (adapters/tls.py).
            ssl_verify=shared_ssl_context(),
        )

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str],
        api_url: str = DEFAULT_API_URL,
        token_env_names: Iterable[str] = ("GITHUB_TOKEN", "GH_TOKEN"),
        *,
        max_wait_s: float = 60.0,
        retries: int = 3,
        backoff_s: float = 1.0,
    ) -> GitHubClient:
        """A client authenticated by the first token variable set, or as a GitHub App.

        RELKIT_GITHUB_MAX_WAIT_S, when set, overrides `max_wait_s` (the longest a single
        request may wait for retries and rate limits).

        The App is used when RELKIT_GITHUB_APP_ID, RELKIT_GITHUB_APP_PRIVATE_KEY (PEM text,
        or a path to a PEM file) and RELKIT_GITHUB_APP_INSTALLATION_ID are all set; githubkit
        then mints and renews the installation token itself.
        """
        names = tuple(token_env_names)
        max_wait_s = _max_wait_from(env, max_wait_s)
        for name in names:
            if env.get(name):
                return cls(
                    env[name],
                    api_url=api_url,
                    max_wait_s=max_wait_s,
                    retries=retries,
                    backoff_s=backoff_s,
                )
        app_keys = (
            "RELKIT_GITHUB_APP_ID",
            "RELKIT_GITHUB_APP_PRIVATE_KEY",
            "RELKIT_GITHUB_APP_INSTALLATION_ID",
        )
        if all(env.get(k) for k in app_keys):
            app_id, key, installation = (env[k] for k in app_keys)
            if not installation.isdigit():
                raise ConfigError(
                    "RELKIT_GITHUB_APP_INSTALLATION_ID is not a number",
                    hint="copy the id from the App installation's settings URL",
                )
            if "-----BEGIN" not in key:
                key_path = Path(key)
                if not key_path.is_file():
                    raise ConfigError(
                        "RELKIT_GITHUB_APP_PRIVATE_KEY is neither a PEM key nor a key file",
                        hint="pass the PEM text or the path of the downloaded .pem file",
                    )
                key = key_path.read_text()
            _check_private_key(key)
            client = cls.__new__(cls)
            client._init(
                AppInstallationAuthStrategy(app_id, key, int(installation)),
                api_url,
                max_wait_s,
                retries,
                backoff_s,
                30.0,
            )
            client._secret = key
            return client
        partial = [k for k in app_keys if env.get(k)]
        if partial:
            missing = [k for k in app_keys if not env.get(k)]
            raise ConfigError(
                f"GitHub App credentials incomplete: {', '.join(missing)} not set",
                hint="set all three RELKIT_GITHUB_APP_* variables, or GITHUB_TOKEN",
            )
        raise ConfigError(
            f"no GitHub credentials: none of {', '.join(names)} is set",
            hint="export GITHUB_TOKEN (or a GitHub App via RELKIT_GITHUB_APP_ID, "
            "RELKIT_GITHUB_APP_PRIVATE_KEY, RELKIT_GITHUB_APP_INSTALLATION_ID)",
        )

    def __repr__(self) -> str:
        return f"GitHubClient(api_url={self.api_url!r})"  # never the token

    # ------------------------------------------------------------------ error mapping

    def _call(self, op: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except RateLimitExceeded as exc:
            kind = "primary" if isinstance(exc, PrimaryRateLimitExceeded) else "secondary"
            wait = self._policy.gave_up_wait_s
            more = f"; waiting {wait:.0f}s more" if wait is not None else ""
            raise GitHubApiError(
                self._scrub(
                    f"GitHub {op} failed: {kind} rate limit exceeded "
                    f"(HTTP {exc.response.status_code}){more} would exceed "
                    f"max_wait_s={self.max_wait_s:g}s"
                ),
                hint="retry after the limit resets, or raise the wait budget",
                status=exc.response.status_code,
            ) from None
        except RequestFailed as exc:
            raise self._status_error(op, exc) from None
        except RequestTimeout:
            raise RelkitError(
                f"GitHub {op} failed: timed out talking to {urlsplit(self.api_url).netloc}",
                hint="check the network or GitHub's status page, then re-run",
            ) from None
        except RequestError as exc:
            raise RelkitError(
                f"GitHub {op} failed: network error ({type(exc.exc).__name__})",
                hint="re-run: every GitHub step resumes where it stopped",
            ) from None
        except _BadShape as exc:
            raise RelkitError(
                f"GitHub {op} failed: unexpected response shape ({exc.where} missing or invalid)",
                hint="is api_url a GitHub (Enterprise) REST API?",
            ) from None
        except ValidationError as exc:
            first = exc.errors()[0] if exc.error_count() else None
            where = ".".join(str(p) for p in first["loc"]) if first else "?"
            raise RelkitError(
                f"GitHub {op} failed: unexpected response shape "
                f"({exc.error_count()} errors, first at {where})",
                hint="is api_url a GitHub (Enterprise) REST API?",
            ) from None

    def _status_error(self, op: str, exc: RequestFailed) -> GitHubApiError:
        status = exc.response.status_code
        try:
            payload = exc.response.raw_response.json()
        except ValueError:
            payload = {}
        payload = payload if isinstance(payload, dict) else {}
        message = str(payload.get("message") or exc.response.raw_response.reason_phrase)
        raw_errors = payload.get("errors")
        errors: list[Any] = raw_errors if isinstance(raw_errors, list) else []
        codes = tuple(str(e.get("code")) for e in errors if isinstance(e, dict))
        details = [
            str(e.get("message") or f"{e.get('field')} {e.get('code')}")
            for e in errors
            if isinstance(e, dict)
        ]
        text = f"GitHub {op} failed: HTTP {status} {message}"
        if details:
            text += f" ({'; '.join(details)})"
        hints = {
            401: "the token is invalid or expired: check GITHUB_TOKEN / GH_TOKEN",
            403: "the token lacks permission (contents: write, pull-requests: write)",
            404: "check the repository name and that the token can see it",
        }
        return GitHubApiError(
            self._scrub(text), hints.get(status), status=status, error_codes=codes
        )

    def _scrub(self, text: str) -> str:
        # GitHub never echoes credentials, but a message must not leak one even if it did.
        secret = getattr(self, "_secret", "")
        return text.replace(secret, "***") if secret else text

    # ------------------------------------------------------------------ repositories

    def default_branch(self, repo: str) -> str:
        owner, name = _split_repo(repo)
        return self._call(
            f"get repository {repo}",
            lambda: _text(
                _object(self._get(f"repos/{owner}/{name}"), "repository"),
                "default_branch",
                "repository",
            ),
        )

    # ------------------------------------------------------------------ releases

    def find_release(self, repo: str, tag: str) -> Release | None:
        """The release for `tag`, published or draft, or None.

        "Get a release by tag" never returns drafts (they have no tag yet), so when it
        answers 404 the release list is searched for a draft with that tag_name.
        """
        owner, name = _split_repo(repo)
        try:
            return self._call(
                f"get release {tag} of {repo}",
                lambda: _release(self._get(f"repos/{owner}/{name}/releases/tags/{_seg(tag)}")),
            )
        except GitHubApiError as err:
            if err.status != 404:
                raise
        drafts = [r for r in self.list_releases(repo) if r.tag == tag]
        # Oldest first: a crashed run may have left two drafts; always complete the same one.
        return min(drafts, key=lambda r: r.id) if drafts else None

    def list_releases(self, repo: str) -> list[Release]:
        owner, name = _split_repo(repo)
        return self._call(
            f"list releases of {repo}",
            lambda: [_release(r) for r in self._get_all(f"repos/{owner}/{name}/releases")],
        )

    def create_release(
        self,
        repo: str,
        *,
        tag: str,
        name: str,
        body: str,
        prerelease: bool,
        draft: bool = True,
        target_commitish: str | None = None,
    ) -> Release:
        owner, repo_name = _split_repo(repo)
        payload: dict[str, Any] = {
            "tag_name": tag,
            "name": name,
            "body": body,
            "draft": draft,
            "prerelease": prerelease,
        }
        if target_commitish:
            payload["target_commitish"] = target_commitish
        return self._call(
            f"create release {tag} in {repo}",
            lambda: _release(self._send("POST", f"repos/{owner}/{repo_name}/releases", payload)),
        )

    def update_release(
        self,
        repo: str,
        release_id: int,
        *,
        name: str | None = None,
        body: str | None = None,
        draft: bool | None = None,
        prerelease: bool | None = None,
        make_latest: bool | None = None,
    ) -> Release:
        """PATCH the release; `make_latest` is sent as GitHub's "true"/"false" strings."""
        owner, repo_name = _split_repo(repo)
        latest = None if make_latest is None else ("true" if make_latest else "false")
        given = {
            "name": name,
            "body": body,
            "draft": draft,
            "prerelease": prerelease,
            "make_latest": latest,
        }
        fields: dict[str, Any] = {key: value for key, value in given.items() if value is not None}
        return self._call(
            f"update release {release_id} in {repo}",
            lambda: _release(
                self._send("PATCH", f"repos/{owner}/{repo_name}/releases/{release_id}", fields)
            ),
        )

    def list_assets(self, repo: str, release_id: int) -> list[ReleaseAsset]:
        owner, name = _split_repo(repo)
        return self._call(
            f"list assets of release {release_id} in {repo}",
            lambda: [
                _asset(a)
                for a in self._get_all(f"repos/{owner}/{name}/releases/{release_id}/assets")
            ],
        )

    def upload_asset(
        self,
        release: Release,
        path: Path,
        *,
        name: str | None = None,
        content_type: str | None = None,
    ) -> ReleaseAsset:
        """Upload `path` to the release's `upload_url` (the separate uploads host).

        githubkit's generated `upload_release_asset` posts to the API host; github.com and
        GitHub Enterprise serve uploads elsewhere (uploads.github.com, /api/uploads), so the
        request goes through githubkit's generic `request` to the URL GitHub handed out.
        """
        asset_name = name or path.name
        url = release.upload_url.split("{", 1)[0]
        data = path.read_bytes()
        ctype = content_type or content_type_for(path)
        return self._call(
            f"upload asset {asset_name} to release {release.tag}",
            lambda: _asset(
                self._gh.request(
                    "POST",
                    url,
                    params={"name": asset_name},
                    content=data,
                    headers={"Content-Type": ctype},
                ).json()
            ),
        )

    def delete_asset(self, repo: str, asset_id: int) -> None:
        owner, name = _split_repo(repo)
        self._call(
            f"delete asset {asset_id} in {repo}",
            lambda: self._gh.request("DELETE", f"repos/{owner}/{name}/releases/assets/{asset_id}"),
        )

    def download_asset(self, repo: str, asset_id: int) -> bytes:
        """The asset's bytes, through the API (works for drafts and private repositories).

        `Accept: application/octet-stream` makes GitHub redirect to its storage host; httpx
        follows it and drops the Authorization header on the way (different origin).
        """
        owner, name = _split_repo(repo)
        return self._call(
            f"download asset {asset_id} in {repo}",
            lambda: (
                self._gh.request(
                    "GET",
                    f"repos/{owner}/{name}/releases/assets/{asset_id}",
                    headers={"Accept": "application/octet-stream"},
                ).raw_response.content
            ),
        )

    # ------------------------------------------------------------------ attestations

    def create_attestation(self, repo: str, bundle: Mapping[str, Any]) -> int:
        """Store a Sigstore bundle with GitHub's artifact attestations; returns its id.

        `POST /repos/{owner}/{repo}/attestations` (needs `attestations: write`), so that
        `gh attestation verify --owner OWNER` finds it by the subjects' digests.
        """
        owner, name = _split_repo(repo)
        response = self._call(
            f"store attestation in {repo}",
            lambda: self._gh.request(
                "POST", f"repos/{owner}/{name}/attestations", json={"bundle": dict(bundle)}
            ),
        )
        body = response.raw_response.json()
        return int(body.get("id", 0)) if isinstance(body, dict) else 0

    def list_attestations(self, repo: str, subject_digest: str) -> list[dict[str, Any]]:
        """The Sigstore bundles stored for a subject digest (`sha256:…`); none → []."""
        owner, name = _split_repo(repo)
        try:
            response = self._call(
                f"list attestations of {subject_digest} in {repo}",
                lambda: self._gh.request(
                    "GET", f"repos/{owner}/{name}/attestations/{subject_digest}"
                ),
            )
        except GitHubApiError as exc:
            if exc.status == 404:
                return []
            raise
        body = response.raw_response.json()
        items = body.get("attestations") if isinstance(body, dict) else None
        return [
            item["bundle"]
            for item in items or []
            if isinstance(item, dict) and isinstance(item.get("bundle"), dict)
        ]

    # ------------------------------------------------------------------ pull requests

    def find_open_pull(self, repo: str, head_branch: str, base: str) -> PullRequest | None:
        owner, name = _split_repo(repo)
        pulls = self._call(
            f"list pull requests of {repo}",
            lambda: [
                _pull(pr)
                for pr in self._get_all(
                    f"repos/{owner}/{name}/pulls",
                    {"state": "open", "head": f"{owner}:{head_branch}", "base": base},
                )
            ],
        )
        # Filter again: the head filter is the API's, the guarantee is ours.
        for pr in pulls:
            if pr.head_branch == head_branch and pr.base == base:
                return pr
        return None

    def create_pull(
        self,
        repo: str,
        *,
        head_branch: str,
        base: str,
        title: str,
        body: str,
        draft: bool = False,
    ) -> PullRequest:
        """Open a PR; a 422 "already exists" surfaces as `GitHubApiError` (status 422)."""
        owner, name = _split_repo(repo)
        return self._call(
            f"create pull request {head_branch} -> {base} in {repo}",
            lambda: _pull(
                self._send(
                    "POST",
                    f"repos/{owner}/{name}/pulls",
                    {
                        "head": f"{owner}:{head_branch}",
                        "base": base,
                        "title": title,
                        "body": body,
                        "draft": draft,
                    },
                )
            ),
        )

    def update_pull(self, repo: str, number: int, *, title: str, body: str) -> PullRequest:
        owner, name = _split_repo(repo)
        return self._call(
            f"update pull request #{number} in {repo}",
            lambda: _pull(
                self._send(
                    "PATCH", f"repos/{owner}/{name}/pulls/{number}", {"title": title, "body": body}
                )
            ),
        )

    def close_pull(self, repo: str, number: int, *, comment: str | None = None) -> PullRequest:
        """Close a PR, first saying why in a comment (so its reviewers know where to look)."""
        owner, name = _split_repo(repo)
        if comment:
            self._call(
                f"comment on #{number} in {repo}",
                lambda: self._send(
                    "POST", f"repos/{owner}/{name}/issues/{number}/comments", {"body": comment}
                ),
            )
        return self._call(
            f"close pull request #{number} in {repo}",
            lambda: _pull(
                self._send("PATCH", f"repos/{owner}/{name}/pulls/{number}", {"state": "closed"})
            ),
        )

    def add_labels(self, repo: str, number: int, labels: list[str]) -> None:
        if not labels:
            return
        owner, name = _split_repo(repo)
        self._call(
            f"add labels to #{number} in {repo}",
            lambda: self._send(
                "POST", f"repos/{owner}/{name}/issues/{number}/labels", {"labels": labels}
            ),
        )

    def request_reviewers(self, repo: str, number: int, reviewers: list[str]) -> None:
        if not reviewers:
            return
        owner, name = _split_repo(repo)
        self._call(
            f"request reviewers on #{number} in {repo}",
            lambda: self._send(
                "POST",
                f"repos/{owner}/{name}/pulls/{number}/requested_reviewers",
                {"reviewers": reviewers},
            ),
        )

    def reviewed_by(self, repo: str, number: int) -> set[str]:
        """Logins that already submitted a review (GitHub drops them from the requests)."""
        owner, name = _split_repo(repo)
        reviews = self._call(
            f"list reviews of #{number} in {repo}",
            lambda: self._get_all(f"repos/{owner}/{name}/pulls/{number}/reviews"),
        )
        logins: set[str] = set()
        for review in reviews:
            user = review.get("user") if isinstance(review, dict) else None
            login = user.get("login") if isinstance(user, dict) else None
            if isinstance(login, str):
                logins.add(login)
        return logins

    def get_pull(self, repo: str, number: int) -> PullRequest:
        owner, name = _split_repo(repo)
        return self._call(
            f"get pull request #{number} of {repo}",
            lambda: _pull(self._get(f"repos/{owner}/{name}/pulls/{number}")),
        )

    def pulls_for_commit(self, repo: str, sha: str) -> list[PullRequest]:
        """`GET /repos/{r}/commits/{sha}/pulls`: for a commit of the default branch, the
        merged PR that introduced it; otherwise the open PRs that hold it."""
        owner, name = _split_repo(repo)
        return self._call(
            f"list pull requests of commit {sha[:12]} in {repo}",
            lambda: [
                _pull(pr) for pr in self._get_all(f"repos/{owner}/{name}/commits/{sha}/pulls")
            ],
        )

    # ------------------------------------------------------------------ issue comments

    def list_comments(self, repo: str, number: int) -> list[IssueComment]:
        owner, name = _split_repo(repo)
        return self._call(
            f"list comments of #{number} in {repo}",
            lambda: [
                _comment(c) for c in self._get_all(f"repos/{owner}/{name}/issues/{number}/comments")
            ],
        )

    def create_comment(self, repo: str, number: int, body: str) -> IssueComment:
        owner, name = _split_repo(repo)
        return self._call(
            f"comment on #{number} in {repo}",
            lambda: _comment(
                self._send("POST", f"repos/{owner}/{name}/issues/{number}/comments", {"body": body})
            ),
        )

    def update_comment(self, repo: str, comment_id: int, body: str) -> IssueComment:
        owner, name = _split_repo(repo)
        return self._call(
            f"update comment {comment_id} in {repo}",
            lambda: _comment(
                self._send(
                    "PATCH", f"repos/{owner}/{name}/issues/comments/{comment_id}", {"body": body}
                )
            ),
        )

    # ------------------------------------------------------------------ git data

    def get_ref(self, repo: str, ref: str) -> str | None:
        """The sha `ref` (`heads/x`, `tags/v1`) points at, or None when it does not exist."""
        owner, name = _split_repo(repo)
        path = f"repos/{owner}/{name}/git/ref/{_ref_path(ref)}"
        data = self._get_unless_missing(f"get ref {ref} of {repo}", path)
        if data is None:
            return None
        target = _object(_object(data, "ref").get("object"), "ref.object")
        return _text(target, "sha", "ref.object")

    def create_ref(self, repo: str, ref: str, sha: str) -> None:
        """Create `refs/<ref>`; an existing one is a `GitHubApiError` with status 422."""
        owner, name = _split_repo(repo)
        self._call(
            f"create ref {ref} in {repo}",
            lambda: self._send(
                "POST", f"repos/{owner}/{name}/git/refs", {"ref": f"refs/{ref}", "sha": sha}
            ),
        )

    def update_ref(self, repo: str, ref: str, sha: str, *, force: bool) -> None:
        owner, name = _split_repo(repo)
        self._call(
            f"update ref {ref} in {repo}",
            lambda: self._send(
                "PATCH",
                f"repos/{owner}/{name}/git/refs/{_ref_path(ref)}",
                {"sha": sha, "force": force},
            ),
        )

    def delete_ref(self, repo: str, ref: str) -> bool:
        """Delete `refs/<ref>`; False when it did not exist (GitHub answers 422)."""
        owner, name = _split_repo(repo)
        try:
            self._call(
                f"delete ref {ref} in {repo}",
                lambda: self._gh.request(
                    "DELETE", f"repos/{owner}/{name}/git/refs/{_ref_path(ref)}"
                ),
            )
        except GitHubApiError as exc:
            if exc.status in (404, 422):
                return False
            raise
        return True

    def create_blob(self, repo: str, content: bytes) -> str:
        owner, name = _split_repo(repo)
        payload = {"content": base64.b64encode(content).decode(), "encoding": "base64"}
        data = self._call(
            f"create blob in {repo}",
            lambda: self._send("POST", f"repos/{owner}/{name}/git/blobs", payload),
        )
        return self._call(
            f"create blob in {repo}", lambda: _text(_object(data, "blob"), "sha", "blob")
        )

    def create_tree(self, repo: str, base_tree: str, files: Mapping[str, str]) -> str:
        """A tree: `base_tree` with each path set to its blob sha (mode 100644)."""
        owner, name = _split_repo(repo)
        entries = [
            {"path": path, "mode": "100644", "type": "blob", "sha": sha}
            for path, sha in sorted(files.items())
        ]
        data = self._call(
            f"create tree in {repo}",
            lambda: self._send(
                "POST", f"repos/{owner}/{name}/git/trees", {"base_tree": base_tree, "tree": entries}
            ),
        )
        return self._call(
            f"create tree in {repo}", lambda: _text(_object(data, "tree"), "sha", "tree")
        )

    def create_commit(self, repo: str, *, message: str, tree: str, parents: list[str]) -> GitCommit:
        """`POST /git/commits` without author, committer or signature: that is what lets
        GitHub sign it for an App installation token (GITHUB_TOKEN is one)."""
        owner, name = _split_repo(repo)
        payload = {"message": message, "tree": tree, "parents": parents}
        return self._call(
            f"create commit in {repo}",
            lambda: _git_commit(self._send("POST", f"repos/{owner}/{name}/git/commits", payload)),
        )

    def get_commit(self, repo: str, sha: str) -> GitCommit:
        owner, name = _split_repo(repo)
        return self._call(
            f"get commit {sha[:12]} of {repo}",
            lambda: _git_commit(self._get(f"repos/{owner}/{name}/git/commits/{sha}")),
        )

    def create_tag_object(self, repo: str, *, tag: str, message: str, sha: str) -> str:
        """An annotated tag object on commit `sha` (the ref is created separately)."""
        owner, name = _split_repo(repo)
        payload = {"tag": tag, "message": message, "object": sha, "type": "commit"}
        data = self._call(
            f"create tag {tag} in {repo}",
            lambda: self._send("POST", f"repos/{owner}/{name}/git/tags", payload),
        )
        return self._call(
            f"create tag {tag} in {repo}", lambda: _text(_object(data, "tag"), "sha", "tag")
        )

    def peel_tag(self, repo: str, sha: str) -> str:
        """The commit an annotated tag object points at (a commit sha is returned as is)."""
        owner, name = _split_repo(repo)
        path = f"repos/{owner}/{name}/git/tags/{sha}"
        data = self._get_unless_missing(f"get tag {sha[:12]} of {repo}", path)
        if data is None:
            return sha
        target = _object(_object(data, "tag").get("object"), "tag.object")
        return _text(target, "sha", "tag.object")

    # ------------------------------------------------------------------ raw requests

    def _get(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        return self._gh.request("GET", path, params=dict(params or {})).json()

    def _get_unless_missing(self, what: str, path: str) -> Any | None:
        """`_get(path)` through `_call`, or None when GitHub answers 404 (no such object)."""
        try:
            return self._call(what, lambda: self._get(path))
        except GitHubApiError as exc:
            if exc.status == 404:
                return None
            raise

    def _send(self, method: str, path: str, payload: Mapping[str, Any]) -> Any:
        response = self._gh.request(method, path, json=dict(payload))
        return response.json() if response.content else None

    def _get_all(self, path: str, params: Mapping[str, str] | None = None) -> list[Any]:
        """Every item of a list endpoint, following GitHub's `Link: rel="next"` pages."""
        items: list[Any] = []
        url: str = path
        query: dict[str, Any] | None = {**(params or {}), "per_page": _PER_PAGE}
        while True:
            response: Response[Any] = self._gh.request("GET", url, params=query)
            page = response.json()
            if not isinstance(page, list):
                raise _BadShape(path)
            items.extend(page)
            following = _next_link(response.headers.get("link", ""))
            if following is None:
                return items
            url, query = following, None  # the next link carries every parameter


class _BadShape(Exception):
    """A field relkit needs is missing or has the wrong type."""

    def __init__(self, where: str) -> None:
        super().__init__(where)
        self.where = where


_NEXT_LINK = re.compile(r'<([^<>]+)>;\s*rel="next"')


def _next_link(header: str) -> str | None:
    match = _NEXT_LINK.search(header)
    return match.group(1) if match else None


def _seg(value: str) -> str:
    return quote(value, safe="")


def _object(data: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(data, dict):
        raise _BadShape(where)
    return data


def _text(data: Mapping[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise _BadShape(f"{where}.{key}")
    return value


def _number(data: Mapping[str, Any], key: str, where: str) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise _BadShape(f"{where}.{key}")
    return value


def _maybe_text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


def _flag(data: Mapping[str, Any], key: str) -> bool:
    return data.get(key) is True


def _names(items: Any, key: str) -> tuple[str, ...]:
    if not isinstance(items, list):
        return ()
    return tuple(
        item[key] for item in items if isinstance(item, dict) and isinstance(item.get(key), str)
    )


def _asset(raw: Any) -> ReleaseAsset:
    a = _object(raw, "asset")
    size = a.get("size")
    return ReleaseAsset(
        id=_number(a, "id", "asset"),
        name=_text(a, "name", "asset"),
        size=size if isinstance(size, int) and not isinstance(size, bool) else -1,
        content_type=_maybe_text(a, "content_type") or "",
        # Absent on GitHub Enterprise Server versions before the key existed; null or ""
        # on github.com for assets uploaded before GitHub computed digests.
        digest=_maybe_text(a, "digest") or None,
        api_url=_maybe_text(a, "url") or "",
        download_url=_maybe_text(a, "browser_download_url") or "",
        state=_maybe_text(a, "state") or "uploaded",
    )


def _release(raw: Any) -> Release:
    r = _object(raw, "release")
    assets = r.get("assets")
    return Release(
        id=_number(r, "id", "release"),
        tag=_text(r, "tag_name", "release"),
        name=_maybe_text(r, "name"),
        body=_maybe_text(r, "body") or "",
        draft=_flag(r, "draft"),
        prerelease=_flag(r, "prerelease"),
        html_url=_maybe_text(r, "html_url") or "",
        upload_url=_text(r, "upload_url", "release"),
        assets=tuple(_asset(a) for a in assets) if isinstance(assets, list) else (),
    )


def _ref_path(ref: str) -> str:
    return "/".join(_seg(part) for part in ref.removeprefix("refs/").split("/"))


def _comment(raw: Any) -> IssueComment:
    c = _object(raw, "comment")
    user = c.get("user")
    author = _maybe_text(user, "login") if isinstance(user, dict) else None
    return IssueComment(
        id=_number(c, "id", "comment"), body=_maybe_text(c, "body") or "", author=author or ""
    )


def _git_commit(raw: Any) -> GitCommit:
    c = _object(raw, "commit")
    verification = c.get("verification")
    verification = verification if isinstance(verification, dict) else {}
    parents = c.get("parents")
    return GitCommit(
        sha=_text(c, "sha", "commit"),
        tree=_text(_object(c.get("tree"), "commit.tree"), "sha", "commit.tree"),
        parents=_names(parents, "sha"),
        verified=_flag(verification, "verified"),
        verification_reason=_maybe_text(verification, "reason") or "unsigned",
    )


def _pull(raw: Any) -> PullRequest:
    pr = _object(raw, "pull request")
    head = _object(pr.get("head"), "pull request.head")
    head_repo = head.get("repo")
    return PullRequest(
        number=_number(pr, "number", "pull request"),
        url=_maybe_text(pr, "html_url") or "",
        head_branch=_text(_object(pr.get("head"), "pull request.head"), "ref", "pull request.head"),
        base=_text(_object(pr.get("base"), "pull request.base"), "ref", "pull request.base"),
        state=_maybe_text(pr, "state") or "open",
        title=_maybe_text(pr, "title") or "",
        body=_maybe_text(pr, "body") or "",
        labels=_names(pr.get("labels"), "name"),
        requested_reviewers=_names(pr.get("requested_reviewers"), "login"),
        merged=isinstance(pr.get("merged_at"), str),
        merge_commit_sha=_maybe_text(pr, "merge_commit_sha"),
        head_sha=_maybe_text(head, "sha") or "",
        head_repo=_maybe_text(head_repo, "full_name") if isinstance(head_repo, dict) else None,
    )
