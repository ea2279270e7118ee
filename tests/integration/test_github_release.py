"""The GitHub Release step against the fake GitHub: order, idempotency, latest, faults."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from relkit.adapters.github import GitHubClient
from relkit.core.errors import RelkitError, UsageError
from relkit.core.model import ReleasePlan, StepOutcome, Version
from relkit.release.steps.github_release import (
    describe_github_release,
    is_latest,
    publish_github_release,
    write_local_release,
)
from tests.fakes.github_server import FakeGitHub, FakeRepo

REPO = "acme/web"
NOTES = "## 1.2.0\n\n### Features\n\n- checkout page (abc1234)\n"


def make_plan(version: str = "1.2.0", notes: str = NOTES) -> ReleasePlan:
    return ReleasePlan(
        version=Version.parse(version),
        tag=f"v{version}",
        commit="0" * 39 + "1",
        committed_at=datetime(2026, 11, 1, tzinfo=UTC),
        previous_tag=None,
        notes=notes,
        repository=REPO,
    )


@pytest.fixture
def assets(tmp_path: Path) -> list[Path]:
    files = {
        "web-1.2.0.tar.gz": b"bundle bytes " * 100,
        "web-1.2.0.tar.gz.sigstore.json": b'{"mediaType": "bundle"}',
        "SHA256SUMS": b"abc  web-1.2.0.tar.gz\n",
        "digests.txt": b"web sha256:0123\n",
        "web-chart-1.2.0.tgz": b"chart bytes",
    }
    paths = []
    for name, data in files.items():
        path = tmp_path / "dist" / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        paths.append(path)
    return paths


@pytest.fixture
def repo(fake_github: FakeGitHub) -> FakeRepo:
    return fake_github.create_repo(REPO)


@pytest.fixture
def gh(fake_github: FakeGitHub, repo: FakeRepo) -> GitHubClient:
    return GitHubClient(fake_github.token, api_url=fake_github.api_url, backoff_s=0.01)


def writes(fake: FakeGitHub) -> list[str]:
    return [f"{c.method} {c.host} {c.path}" for c in fake.calls if c.method != "GET"]


def test_draft_then_assets_then_publish(
    gh: GitHubClient, fake_github: FakeGitHub, repo: FakeRepo, assets: list[Path]
) -> None:
    record = publish_github_release(gh, REPO, make_plan(), assets, replace_assets=False)

    assert record.outcome is StepOutcome.DONE
    assert record.detail == "v1.2.0: created draft, uploaded 5 assets, published as latest"
    log = writes(fake_github)
    assert log[0] == f"POST api /repos/{REPO}/releases"
    assert fake_github.calls[[c.method for c in fake_github.calls].index("POST")].json()["draft"]
    uploads = log[1:6]
    assert all(w.startswith("POST uploads /repos/acme/web/releases/") for w in uploads)
    assert log[6].startswith(f"PATCH api /repos/{REPO}/releases/")
    assert len(log) == 7
    publish = fake_github.requests("PATCH")[0].json()
    assert publish["draft"] is False and publish["make_latest"] == "true"

    (release,) = repo.releases.values()
    assert (release.tag_name, release.name, release.body) == ("v1.2.0", "v1.2.0", NOTES)
    assert not release.draft and not release.prerelease
    assert repo.latest_release_id == release.id
    by_name = {a.name: a for a in release.assets.values()}
    assert sorted(by_name) == sorted(p.name for p in assets)
    for path in assets:
        assert by_name[path.name].data == path.read_bytes()
    assert by_name["SHA256SUMS"].content_type == "text/plain"
    assert by_name["web-chart-1.2.0.tgz"].content_type == "application/gzip"
    urls = {a.name: a.url for a in record.artifacts if a.kind == "release-asset"}
    assert urls["SHA256SUMS"] == (
        f"{fake_github.web_url}/{REPO}/releases/download/v1.2.0/SHA256SUMS"
    )


def test_rerun_changes_nothing(
    gh: GitHubClient, fake_github: FakeGitHub, repo: FakeRepo, assets: list[Path]
) -> None:
    publish_github_release(gh, REPO, make_plan(), assets, replace_assets=False)
    before = len(writes(fake_github))

    again = publish_github_release(gh, REPO, make_plan(), assets, replace_assets=False)

    assert again.outcome is StepOutcome.ALREADY_DONE
    assert again.detail == "v1.2.0 already published with 5 assets"
    assert len(writes(fake_github)) == before
    assert len(repo.releases) == 1
    assert len(next(iter(repo.releases.values())).assets) == 5


def test_patch_after_major_is_not_latest(
    gh: GitHubClient, fake_github: FakeGitHub, repo: FakeRepo, assets: list[Path]
) -> None:
    newer = repo.add_release("v2.0.0")
    publish_github_release(gh, REPO, make_plan("1.4.2"), assets, replace_assets=False)
    assert fake_github.requests("PATCH")[0].json()["make_latest"] == "false"
    assert repo.latest_release_id == newer.id


def test_prerelease_is_marked_and_never_latest(
    gh: GitHubClient, fake_github: FakeGitHub, repo: FakeRepo, assets: list[Path]
) -> None:
    stable = repo.add_release("v1.0.0")
    record = publish_github_release(gh, REPO, make_plan("2.0.0-rc.1"), assets, replace_assets=False)
    rel = repo.release_by_tag("v2.0.0-rc.1")
    assert rel is not None and rel.prerelease and not rel.draft
    assert fake_github.requests("POST", f"/repos/{REPO}/releases")[0].json()["prerelease"]
    assert fake_github.requests("PATCH")[0].json()["make_latest"] == "false"
    assert repo.latest_release_id == stable.id
    assert record.detail.endswith("published")


def test_is_latest_ignores_drafts_prereleases_and_foreign_tags(
    gh: GitHubClient, repo: FakeRepo
) -> None:
    repo.add_release("v3.0.0", draft=True)
    repo.add_release("v3.0.0-rc.1", prerelease=True)
    repo.add_release("nightly")
    repo.add_release("v1.9.0")
    published = gh.list_releases(REPO)
    assert is_latest(Version.parse("2.0.0"), published)
    assert not is_latest(Version.parse("1.8.0"), published)
    assert not is_latest(Version.parse("2.0.0-rc.1"), published)


def test_same_asset_already_uploaded_is_skipped(
    gh: GitHubClient, fake_github: FakeGitHub, repo: FakeRepo, assets: list[Path]
) -> None:
    draft = repo.add_release("v1.2.0", draft=True)
    publish_github_release(gh, REPO, make_plan(), assets[:2], replace_assets=False)
    fake_github.calls.clear()

    record = publish_github_release(gh, REPO, make_plan(), assets, replace_assets=False)

    # The draft left by an earlier run is completed, not duplicated.
    assert len(repo.releases) == 1 and draft.id in repo.releases
    uploads = fake_github.requests("POST", "/repos/*/assets")
    assert [c.query["name"] for c in uploads] == [p.name for p in assets[2:]]
    assert record.detail == "v1.2.0: uploaded 3 assets"


def test_existing_published_release_without_assets_is_completed(
    gh: GitHubClient, fake_github: FakeGitHub, repo: FakeRepo, assets: list[Path]
) -> None:
    rel = repo.add_release("v1.2.0", body="hand-written")
    record = publish_github_release(gh, REPO, make_plan(), assets, replace_assets=False)
    assert record.detail == "v1.2.0: uploaded 5 assets, updated title/notes"
    assert len(repo.releases) == 1 and len(rel.assets) == 5 and rel.body == NOTES
    assert not fake_github.requests("POST", f"/repos/{REPO}/releases")


def test_different_asset_content_is_refused_without_changes(
    gh: GitHubClient, fake_github: FakeGitHub, repo: FakeRepo, assets: list[Path]
) -> None:
    publish_github_release(gh, REPO, make_plan(), assets, replace_assets=False)
    assets[2].write_bytes(b"other sums\n")
    before = writes(fake_github)

    with pytest.raises(RelkitError) as info:
        publish_github_release(gh, REPO, make_plan(), assets, replace_assets=False)

    assert str(info.value) == (
        "release v1.2.0 already has an asset SHA256SUMS with different content (hint: re-run "
        "with --replace-assets to replace it, or delete the asset on GitHub)"
    )
    assert writes(fake_github) == before


def test_replace_assets_deletes_and_reuploads(
    gh: GitHubClient, fake_github: FakeGitHub, repo: FakeRepo, assets: list[Path]
) -> None:
    publish_github_release(gh, REPO, make_plan(), assets, replace_assets=False)
    assets[2].write_bytes(b"other sums\n")
    fake_github.calls.clear()

    record = publish_github_release(gh, REPO, make_plan(), assets, replace_assets=True)

    assert record.detail == "v1.2.0: replaced SHA256SUMS"
    assert [c.method for c in fake_github.calls if c.method != "GET"] == ["DELETE", "POST"]
    (rel,) = repo.releases.values()
    sums = [a for a in rel.assets.values() if a.name == "SHA256SUMS"]
    assert len(sums) == 1 and sums[0].data == b"other sums\n"


def test_without_digest_field_the_content_is_downloaded_and_compared(
    tmp_path: Path, assets: list[Path]
) -> None:
    fake = FakeGitHub(asset_digests=False).start()
    try:
        repo = fake.create_repo(REPO)
        gh = GitHubClient(fake.token, api_url=fake.api_url, backoff_s=0.01)
        publish_github_release(gh, REPO, make_plan(), assets, replace_assets=False)
        fake.calls.clear()
        again = publish_github_release(gh, REPO, make_plan(), assets, replace_assets=False)
        assert again.outcome is StepOutcome.ALREADY_DONE
        downloads = [c for c in fake.calls if c.host == "web" and c.path.startswith("/_storage/")]
        assert len(downloads) == 5
        # The API request carried the token; the redirected storage request must not.
        assert all("authorization" not in c.headers for c in downloads)
        assert len(next(iter(repo.releases.values())).assets) == 5
    finally:
        fake.stop()


def test_fail_after_draft_then_rerun_completes(
    gh: GitHubClient, fake_github: FakeGitHub, repo: FakeRepo, assets: list[Path]
) -> None:
    fake_github.fail_after_draft_created(REPO)
    with pytest.raises(RelkitError, match=r"HTTP 500") as info:
        publish_github_release(gh, REPO, make_plan(), assets, replace_assets=False)
    assert fake_github.token not in str(info.value)
    (draft,) = repo.releases.values()
    assert draft.draft and not draft.assets

    fake_github.clear_faults()
    fake_github.hooks.clear()
    record = publish_github_release(gh, REPO, make_plan(), assets, replace_assets=False)

    assert record.detail == "v1.2.0: uploaded 5 assets, published as latest"
    (rel,) = repo.releases.values()
    assert rel.id == draft.id and not rel.draft and len(rel.assets) == 5


def test_dropped_connection_mid_upload_then_rerun_completes(
    gh: GitHubClient, fake_github: FakeGitHub, repo: FakeRepo, assets: list[Path]
) -> None:
    fake_github.inject("drop", "POST", f"/repos/{REPO}/releases/*/assets", nth=3)
    with pytest.raises(RelkitError, match=r"network error") as info:
        publish_github_release(gh, REPO, make_plan(), assets, replace_assets=False)
    assert fake_github.token not in str(info.value)
    (rel,) = repo.releases.values()
    assert rel.draft and len(rel.assets) == 2  # users never saw a half release

    record = publish_github_release(gh, REPO, make_plan(), assets, replace_assets=False)

    assert record.detail == "v1.2.0: uploaded 3 assets, published as latest"
    assert len(repo.releases) == 1 and not rel.draft
    assert sorted(a.name for a in rel.assets.values()) == sorted(p.name for p in assets)


def test_one_server_error_is_retried_within_the_run(
    gh: GitHubClient, fake_github: FakeGitHub, repo: FakeRepo, assets: list[Path]
) -> None:
    fake_github.inject("500", "POST", f"/repos/{REPO}/releases/*/assets", nth=2)
    record = publish_github_release(gh, REPO, make_plan(), assets, replace_assets=False)
    assert record.outcome is StepOutcome.DONE
    (rel,) = repo.releases.values()
    assert len(rel.assets) == 5
    statuses = [c.status for c in fake_github.requests("POST", "/repos/*/assets")]
    assert statuses == [201, 500, 201, 201, 201, 201]


def test_upload_502_leaving_an_empty_asset_is_cleaned_up(
    gh: GitHubClient, fake_github: FakeGitHub, repo: FakeRepo, assets: list[Path]
) -> None:
    fake_github.inject("upload_502", "POST", f"/repos/{REPO}/releases/*/assets", nth=2)
    record = publish_github_release(gh, REPO, make_plan(), assets, replace_assets=False)
    assert record.outcome is StepOutcome.DONE
    (rel,) = repo.releases.values()
    assert all(a.state == "uploaded" and a.data for a in rel.assets.values())
    assert sorted(a.name for a in rel.assets.values()) == sorted(p.name for p in assets)
    # 502 → retried → 422 already_exists → the empty asset deleted → uploaded again
    statuses = [(c.method, c.status) for c in fake_github.calls if "assets" in c.path]
    assert statuses == [
        ("POST", 201),
        ("POST", 502),
        ("POST", 422),
        ("GET", 200),
        ("DELETE", 204),
        ("POST", 201),
        ("POST", 201),
        ("POST", 201),
        ("POST", 201),
        ("GET", 200),
    ]


def test_leftover_open_asset_from_an_earlier_run_is_replaced(
    gh: GitHubClient, fake_github: FakeGitHub, repo: FakeRepo, assets: list[Path]
) -> None:
    fake_github.inject("upload_502", "POST", f"/repos/{REPO}/releases/*/assets", nth=1, times=4)
    with pytest.raises(RelkitError, match="HTTP 502"):
        publish_github_release(gh, REPO, make_plan(), assets, replace_assets=False)
    (rel,) = repo.releases.values()
    assert [a.state for a in rel.assets.values()] == ["starter"]

    fake_github.clear_faults()
    record = publish_github_release(gh, REPO, make_plan(), assets, replace_assets=False)
    assert (
        record.detail
        == f"v1.2.0: replaced {assets[0].name}, uploaded 4 assets, published as latest"
    )
    assert all(a.state == "uploaded" for a in rel.assets.values()) and len(rel.assets) == 5


def test_missing_asset_file_is_a_usage_error(gh: GitHubClient, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="release asset not found"):
        publish_github_release(gh, REPO, make_plan(), [tmp_path / "nope.tgz"], replace_assets=False)


def test_describe_makes_no_request(fake_github: FakeGitHub, assets: list[Path]) -> None:
    lines = describe_github_release(REPO, make_plan("2.0.0-rc.1"), assets[:1])
    assert lines == [
        "find or create draft pre-release v2.0.0-rc.1 in acme/web (title 'v2.0.0-rc.1', "
        "notes 5 lines)",
        "upload asset web-1.2.0.tar.gz (same content: skip; different: fail)",
        "publish v2.0.0-rc.1: never latest (pre-release)",
    ]
    assert fake_github.calls == []


# ---------------------------------------------------------------- --forge none


def test_local_release_layout_and_rerun(tmp_path: Path, assets: list[Path]) -> None:
    dist = tmp_path / "out"
    record = write_local_release(make_plan(), assets, dist)
    assert record.outcome is StepOutcome.DONE
    target = dist / "release"
    assert sorted(p.name for p in target.iterdir()) == sorted(
        [p.name for p in assets] + ["RELEASE_NOTES.md", "release.json"]
    )
    assert (target / "RELEASE_NOTES.md").read_text() == NOTES
    golden = Path(__file__).parents[1] / "golden" / "github" / "release.json"
    assert (target / "release.json").read_text() == golden.read_text()
    for path in assets:
        assert (target / path.name).read_bytes() == path.read_bytes()

    again = write_local_release(make_plan(), assets, dist)
    assert again.outcome is StepOutcome.ALREADY_DONE


def test_local_release_conflict_and_replace(tmp_path: Path, assets: list[Path]) -> None:
    dist = tmp_path / "out"
    write_local_release(make_plan(), assets, dist)
    assets[0].write_bytes(b"rebuilt")
    with pytest.raises(RelkitError, match="already exists with different content"):
        write_local_release(make_plan(), assets, dist)
    record = write_local_release(make_plan(), assets, dist, replace_assets=True)
    assert record.outcome is StepOutcome.DONE
    copied = dist / "release" / assets[0].name
    assert hashlib.sha256(copied.read_bytes()).hexdigest() == hashlib.sha256(b"rebuilt").hexdigest()


def test_rerun_after_502_left_a_starter_asset_replaces_it(
    gh: GitHubClient, fake_github: FakeGitHub, repo: FakeRepo, assets: list[Path]
) -> None:
    """GitHub's docs: a 502 may leave an empty asset in state `starter`; listing it must work."""
    fake_github.inject("upload_502", "POST", f"/repos/{REPO}/releases/*/assets", nth=1, times=4)
    with pytest.raises(RelkitError, match="HTTP 502"):
        publish_github_release(gh, REPO, make_plan(), assets, replace_assets=False)
    fake_github.clear_faults()
    (rel,) = repo.releases.values()
    (starter,) = rel.assets.values()

    for _ in range(2):  # the state is read on every re-run, not only on the first one
        assert [a.state for a in gh.list_assets(REPO, rel.id)] == ["starter"]
    record = publish_github_release(gh, REPO, make_plan(), assets, replace_assets=False)

    assert record.outcome is StepOutcome.DONE
    assert starter.id not in rel.assets
    assert [c.path for c in fake_github.requests("DELETE")] == [
        f"/repos/{REPO}/releases/assets/{starter.id}"
    ]
    assert all(a.state == "uploaded" and a.data for a in rel.assets.values())


def test_ghes_without_the_digest_key_publishes_on_the_first_run(
    tmp_path: Path, assets: list[Path]
) -> None:
    fake = FakeGitHub(asset_digests=False).start()
    try:
        repo = fake.create_repo(REPO)
        gh = GitHubClient(fake.token, api_url=fake.api_url, backoff_s=0.01)
        record = publish_github_release(gh, REPO, make_plan(), assets, replace_assets=False)
        assert record.detail == "v1.2.0: created draft, uploaded 5 assets, published as latest"
        (rel,) = fake.repo(REPO).releases.values()
        # The fake answers as such a GHES does: no digest key at all (not null).
        assert all("digest" not in fake.asset_json(repo, rel, a) for a in rel.assets.values())
        assert all(a.digest is None for a in gh.list_assets(REPO, rel.id))
    finally:
        fake.stop()


def test_unknown_asset_state_and_missing_optional_keys_are_not_fatal(
    gh: GitHubClient, fake_github: FakeGitHub, repo: FakeRepo, assets: list[Path]
) -> None:
    publish_github_release(gh, REPO, make_plan(), assets, replace_assets=False)
    (rel,) = repo.releases.values()
    first = next(iter(rel.assets.values()))
    first.state = "quarantined"  # a value GitHub may add one day
    listed = {a.name: a for a in gh.list_assets(REPO, rel.id)}
    assert listed[first.name].state == "quarantined"
    assert not listed[first.name].complete


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("web-1.2.0.SHA256SUMS", "text/plain"),
        ("SHA256SUMS", "text/plain"),
        ("web-1.2.0.tar.gz", "application/gzip"),
        ("web-1.2.0.tar.gz.sigstore.json", "application/json"),
    ],
)
def test_asset_content_types(name: str, expected: str) -> None:
    from relkit.adapters.github import content_type_for

    assert content_type_for(Path(name)) == expected


def test_named_sha256sums_is_uploaded_as_text_plain(
    gh: GitHubClient, fake_github: FakeGitHub, repo: FakeRepo, tmp_path: Path
) -> None:
    sums = tmp_path / "web-1.2.0.SHA256SUMS"
    sums.write_bytes(b"abc  web-1.2.0.tar.gz\n")
    publish_github_release(gh, REPO, make_plan(), [sums], replace_assets=False)
    (rel,) = repo.releases.values()
    (asset,) = rel.assets.values()
    assert asset.content_type == "text/plain"
