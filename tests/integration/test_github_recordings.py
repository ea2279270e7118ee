"""Replay real recorded GitHub exchanges against the fake GitHub, so the fake stays true.

../shared/github-recordings/ holds request/response pairs recorded against api.github.com
(octokit/fixtures, normalized). For every recorded request the fake is put in the matching
state, sent the same method/path/body on the same host role (API or uploads), and must
answer with the same status, the same error body, the headers that matter (Link, Location,
Content-Type, x-ratelimit-*) and the same values in the fields relkit reads.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes.github_server import FakeAsset, FakeGitHub

# A copy of ../shared/github-recordings/ (octokit/fixtures, MIT: see its LICENSE.md), vendored
# so the replay runs wherever the repository is cloned.
RECORDINGS = Path(__file__).resolve().parents[1] / "data" / "github-recordings"
FILES = sorted(p.name for p in RECORDINGS.glob("*.json"))

# Values compared field by field (urls are compared separately, normalized).
VALUE_KEYS = {
    "tag_name",
    "name",
    "draft",
    "prerelease",
    "body",
    "label",
    "content_type",
    "state",
    "size",
    "ref",
    "sha",
    "color",
    "title",
    "number",
    "default_branch",
    "full_name",
    "message",
    "code",
    "field",
    "resource",
    "path",
    "target_commitish",
    "default",
    "description",
    "labels",
}
# Subtrees describing people and counters: the fake has its own users, not GitHub's.
SKIP_SUBTREES = {
    "owner",
    "organization",
    "user",
    "author",
    "uploader",
    "assignee",
    "closed_by",
    "committer",
    "reactions",
    "permissions",
}
# Values that are GitHub's own bookkeeping, not something a client sends or reads.
SKIP_VALUES = {"commit.sha", "commit.tree.sha", "commit.message"}
HOSTS = {
    "https://api.github.com": "API",
    "https://uploads.github.com": "UPLOADS",
    "https://raw.githubusercontent.com": "RAW",
    "https://github.com": "WEB",
    "git://github.com": "git://WEB",
    "git@github.com:": "git@WEB:",
}


def test_recordings_are_present() -> None:
    assert RECORDINGS.is_dir(), f"missing {RECORDINGS}"
    assert len(FILES) >= 9


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    fake = FakeGitHub(asset_digests=False).start()
    try:
        yield fake
    finally:
        fake.stop()
    assert fake.internal_errors == []


class Replayer:
    """Sends recorded requests to the fake, learning how recorded ids map to fake ids."""

    def __init__(self, fake: FakeGitHub) -> None:
        self.fake = fake
        self.ids: dict[tuple[str, str], str] = {}
        self.client = httpx.Client(
            headers={
                "Authorization": f"token {fake.token}",
                "Accept": "application/vnd.github.v3+json",
            },
            follow_redirects=False,
        )

    def close(self) -> None:
        self.client.close()

    def base(self, scope: str) -> str:
        return self.fake.uploads_url if "uploads." in scope else self.fake.api_url

    def map_path(self, path: str) -> str:
        def swap(m: re.Match[str]) -> str:
            return f"/{m[1]}/{self.ids.get((m[1], m[2]), m[2])}"

        return re.sub(r"/(releases|assets|repositories|issues)/(\d+)", swap, path)

    def learn(self, recorded: Any, got: Any) -> None:
        pairs = zip(recorded, got, strict=False) if isinstance(recorded, list) else []
        if isinstance(recorded, dict) and isinstance(got, dict):
            pairs = [(recorded, got)]
        for rec, new in pairs:
            if not (isinstance(rec, dict) and isinstance(new, dict)):
                continue
            rec_url, new_url = str(rec.get("url", "")), str(new.get("url", ""))
            rm = re.search(r"/(releases|assets|issues)/(\d+)$", rec_url)
            nm = re.search(r"/(releases|assets|issues)/(\d+)$", new_url)
            if rm and nm and rm[1] == nm[1]:
                self.ids[(rm[1], rm[2])] = nm[2]

    def send(self, exchange: dict[str, Any]) -> httpx.Response:
        body = exchange["body"]
        headers = {}
        if isinstance(body, dict | list):
            content = json.dumps(body).encode()
            headers["Content-Type"] = "application/json; charset=utf-8"
        else:
            content = str(body).encode()
            if exchange["reqheaders"].get("content-type"):
                headers["Content-Type"] = exchange["reqheaders"]["content-type"]
        url = self.base(exchange["scope"]) + self.map_path(exchange["path"])
        return self.client.request(
            exchange["method"].upper(), url, content=content or None, headers=headers
        )

    def normalize_url(self, value: str) -> str:
        for real, role in HOSTS.items():
            value = value.replace(real, role)
        value = value.replace(self.fake.api_url, "API").replace(self.fake.uploads_url, "UPLOADS")
        value = value.replace(self.fake.web_url + "/raw", "RAW")
        value = value.replace(self.fake.web_url, "WEB")
        web_host = self.fake.web_url.split("://", 1)[1]
        value = value.replace(f"git://{web_host}", "git://WEB").replace(
            "git@127.0.0.1:", "git@WEB:"
        )
        # Ids and commit shas differ between GitHub and the fake; the URL's shape must not.
        value = re.sub(r"\b[0-9a-f]{40}\b", "SHA", value)
        return re.sub(r"/\d+(?=/|$|\?|\{)", "/N", value)


def compare(replayer: Replayer, recorded: Any, got: Any, where: str) -> list[str]:
    """Differences between a recorded body and the fake's, in the parts relkit relies on."""
    problems: list[str] = []
    if isinstance(recorded, dict):
        if not isinstance(got, dict):
            return [f"{where}: expected an object, got {type(got).__name__}"]
        if _is_asset_or_label(recorded):
            # Not friendlier than GitHub: keys the recording lacks (an asset `digest` on a
            # GHES, label `archived_at`) must be absent from the fake's answer too.
            extra = sorted(set(got) - set(recorded))
            if extra:
                problems.append(f"{where or 'body'}: fake sends unrecorded keys {extra}")
        for key, value in recorded.items():
            path = f"{where}.{key}" if where else key
            if key not in got:
                problems.append(f"{path}: missing")
                continue
            if key in SKIP_SUBTREES:
                if isinstance(value, dict) and not isinstance(got[key], dict):
                    problems.append(f"{path}: expected an object")
                continue
            if key == "documentation_url":
                continue  # GitHub moves its docs; presence and prefix are checked below
            if key.endswith("_url") or key == "url":
                if isinstance(value, str) and isinstance(got[key], str):
                    if key in ("avatar_url", "repository_url") or "reactions" in path:
                        continue
                    if replayer.normalize_url(value) != replayer.normalize_url(got[key]):
                        problems.append(f"{path}: {value!r} vs {got[key]!r}")
                continue
            if isinstance(value, dict | list):
                problems += compare(replayer, value, got[key], path)
            elif key in VALUE_KEYS and path not in SKIP_VALUES and value != got[key]:
                problems.append(f"{path}: recorded {value!r}, fake {got[key]!r}")
    elif isinstance(recorded, list):
        if not isinstance(got, list) or len(got) != len(recorded):
            return [f"{where}: recorded {len(recorded)} items, fake {got!r:.200}"]
        for i, (rec, new) in enumerate(zip(recorded, got, strict=True)):
            problems += compare(replayer, rec, new, f"{where}[{i}]")
    return problems


def _is_asset_or_label(recorded: dict[str, Any]) -> bool:
    asset = {"browser_download_url", "state", "content_type"} <= set(recorded)
    label = {"color", "default", "name"} <= set(recorded) and "number" not in recorded
    return asset or label


def seed(
    fake: FakeGitHub, name: str, exchanges: list[dict[str, Any]]
) -> dict[int, Callable[[], None]]:
    """Put the fake in the state GitHub was in when the recording started.

    Returns changes to make just before a given exchange: state that GitHub's answers show
    appeared between two requests of the recording.
    """
    later: dict[int, Callable[[], None]] = {}
    repo_name = exchanges[0]["path"].split("/")[3]
    full = f"octokit-fixture-org/{repo_name}"
    if name == "get-repository.json":
        repo = fake.create_repo(full, default_branch="master")
        repo.topics = list(exchanges[0]["response"]["topics"])
    elif name == "paginate-issues.json":
        repo = fake.create_repo(full, repo_id=1000)
        for n in range(1, 14):
            fake._new_issue(repo, f"Test issue {n}", None, "octocat")
    elif name.startswith("release-assets"):
        repo = fake.create_repo(full)
        rel = repo.add_release("v1.0.0", name="Version 1.0.0", body="Initial release")
        rel.target_commitish = "0" * 39 + "1"
        if name == "release-assets-conflict.json":
            # The recording's release showed no assets, yet the upload then conflicted: the
            # asset was uploaded in between (by the recording's setup).
            def upload_first() -> None:
                asset = FakeAsset(
                    fake._next_id(),
                    "test-upload.txt",
                    "test",
                    "text/plain",
                    b"Hello, world!\n",
                    "u",
                )
                rel.assets[asset.id] = asset

            later[1] = upload_first
    elif name == "labels.json":
        repo = fake.create_repo(full)
        for label in exchanges[0]["response"]:
            repo.labels[label["name"].lower()] = {
                "id": fake._next_id(),
                "name": label["name"],
                "color": label["color"],
                "description": label["description"],
                "default": label["default"],
            }
    else:
        fake.create_repo(full)
    return later


def check_headers(replayer: Replayer, recorded: dict[str, Any], got: httpx.Response) -> list[str]:
    problems = []
    for key in ("link", "location"):
        if key in recorded:
            if key not in got.headers:
                problems.append(f"header {key}: missing")
            elif replayer.normalize_url(recorded[key]) != replayer.normalize_url(got.headers[key]):
                problems.append(f"header {key}: {recorded[key]!r} vs {got.headers[key]!r}")
        elif key in got.headers:
            problems.append(f"header {key}: not recorded, fake sent {got.headers[key]!r}")
    if "content-type" in recorded and got.headers.get("content-type") != recorded["content-type"]:
        problems.append(f"content-type: {got.headers.get('content-type')!r}")
    for key in ("limit", "remaining", "reset", "used", "resource"):
        name = f"x-ratelimit-{key}"
        if (name in recorded) != (name in got.headers):
            problems.append(
                f"header {name}: recorded {name in recorded}, fake {name in got.headers}"
            )
        elif name in recorded:
            pattern = r"[a-z]+" if key == "resource" else r"\d+"
            if not re.fullmatch(pattern, got.headers[name]):
                problems.append(f"header {name}: {got.headers[name]!r}")
    return problems


@pytest.mark.parametrize("name", FILES)
def test_fake_answers_like_github(fake: FakeGitHub, name: str) -> None:
    exchanges = json.loads((RECORDINGS / name).read_text())
    later = seed(fake, name, exchanges)
    replayer = Replayer(fake)
    problems: list[str] = []
    try:
        for index, exchange in enumerate(exchanges):
            if index in later:
                later[index]()
            got = replayer.send(exchange)
            label = f"{exchange['method'].upper()} {exchange['path']}"
            if got.status_code != exchange["status"]:
                problems.append(f"{label}: status {got.status_code} != {exchange['status']}")
                continue
            recorded = exchange["response"]
            body = got.json() if got.content else ""
            if exchange["status"] >= 400:
                assert isinstance(body, dict)
                assert body["documentation_url"].startswith("https://docs.github.com/")
                assert body["status"] == str(exchange["status"])
            problems += [f"{label}: {p}" for p in compare(replayer, recorded, body, "")]
            problems += [f"{label}: {p}" for p in check_headers(replayer, exchange["headers"], got)]
            replayer.learn(recorded, body)
    finally:
        replayer.close()
    assert problems == [], "\n".join(problems)
