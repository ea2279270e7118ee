"""GitHub Release: a draft, then its assets, then published — never a release missing assets.

The step looks before it acts. An existing release for the tag (draft or published) is
completed rather than duplicated; an asset already uploaded with the same bytes is skipped;
one with different bytes stops the step before anything changes (unless replace_assets).
Re-running a finished release changes nothing and reports ALREADY_DONE.

`write_local_release` is the `--forge none` twin: notes and assets in `dist/release/`.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

from relkit.adapters.github import GitHubApiError, Release, ReleaseAsset
from relkit.core.dist_files import write_atomic
from relkit.core.errors import RelkitError, UsageError
from relkit.core.model import Artifact, ReleasePlan, StepOutcome, StepRecord, Version
from relkit.core.records import record

__all__ = [
    "LOCAL_METADATA",
    "LOCAL_NOTES",
    "STEP_NAME",
    "ReleaseApi",
    "describe_github_release",
    "is_latest",
    "publish_github_release",
    "release_title",
    "write_local_release",
]

STEP_NAME = "github-release"
LOCAL_NOTES = "RELEASE_NOTES.md"
LOCAL_METADATA = "release.json"
_CHUNK = 1 << 20


class ReleaseApi(Protocol):
    """The part of `relkit.adapters.github.GitHubClient` this step uses."""

    def find_release(self, repo: str, tag: str) -> Release | None: ...
    def list_releases(self, repo: str) -> list[Release]: ...
    def create_release(
        self,
        repo: str,
        *,
        tag: str,
        name: str,
        body: str,
        prerelease: bool,
        draft: bool = ...,
        target_commitish: str | None = ...,
    ) -> Release: ...
    def update_release(
        self,
        repo: str,
        release_id: int,
        *,
        name: str | None = ...,
        body: str | None = ...,
        draft: bool | None = ...,
        prerelease: bool | None = ...,
        make_latest: bool | None = ...,
    ) -> Release: ...
    def list_assets(self, repo: str, release_id: int) -> list[ReleaseAsset]: ...
    def upload_asset(
        self,
        release: Release,
        path: Path,
        *,
        name: str | None = ...,
        content_type: str | None = ...,
    ) -> ReleaseAsset: ...
    def delete_asset(self, repo: str, asset_id: int) -> None: ...
    def download_asset(self, repo: str, asset_id: int) -> bytes: ...


@record
class _LocalFile:
    path: Path
    size: int
    sha256: str


def release_title(plan: ReleasePlan) -> str:
    """The release title: the tag itself (`v1.2.0`), as GitHub shows untitled releases."""
    return plan.tag


def is_latest(version: Version, published: Iterable[Release], *, tag: str = "") -> bool:
    """Only the highest stable version is "latest": a 1.4.2 patch after 2.0.0 is not.

    `published` are the repository's releases; drafts, pre-releases, the release's own tag
    and tags that are not semantic versions are ignored. Pre-releases are never latest.
    """
    if version.is_prerelease:
        return False
    for release in published:
        if release.draft or release.prerelease or release.tag == tag:
            continue
        if Version.is_valid(release.tag) and Version.parse(release.tag) > version:
            return False
    return True


def _inspect(assets: Sequence[Path]) -> list[_LocalFile]:
    missing = [str(p) for p in assets if not p.is_file()]
    if missing:
        raise UsageError(
            f"release asset not found: {', '.join(missing)}",
            hint="build the bundle and chart first (relkit release runs the steps in order)",
        )
    names = [p.name for p in assets]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise UsageError(
            f"two release assets share the file name {', '.join(dupes)}",
            hint="GitHub keys assets by name; rename one of them",
        )
    return [_LocalFile(p, p.stat().st_size, _sha256_file(p)) for p in assets]


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _same_content(client: ReleaseApi, repo: str, remote: ReleaseAsset, local: _LocalFile) -> bool:
    if remote.size != local.size:
        return False
    if remote.digest and remote.digest.startswith("sha256:"):
        return remote.digest.removeprefix("sha256:") == local.sha256
    # Older GitHub (Enterprise) versions report no digest: compare the bytes themselves.
    return hashlib.sha256(client.download_asset(repo, remote.id)).hexdigest() == local.sha256


def describe_github_release(
    repo: str, plan: ReleasePlan, assets: Sequence[Path], *, replace_assets: bool = False
) -> list[str]:
    """What publish would do, for --dry-run (no GitHub request is made)."""
    kind = "pre-release" if plan.prerelease else "release"
    lines = [
        f"find or create draft {kind} {plan.tag} in {repo} "
        f"(title {release_title(plan)!r}, notes {len(plan.notes.splitlines())} lines)"
    ]
    policy = "replace" if replace_assets else "fail"
    for path in assets:
        lines.append(f"upload asset {path.name} (same content: skip; different: {policy})")
    latest = "never latest (pre-release)" if plan.prerelease else "latest only if highest stable"
    lines.append(f"publish {plan.tag}: {latest}")
    return lines


def publish_github_release(
    client: ReleaseApi,
    repo: str,
    plan: ReleasePlan,
    assets: list[Path],
    *,
    replace_assets: bool,
) -> StepRecord:
    """Create or complete the GitHub Release for `plan.tag`; see the module docstring."""
    started = time.monotonic()
    local = _inspect(assets)
    title = release_title(plan)
    changes: list[str] = []

    release = client.find_release(repo, plan.tag)
    remote: dict[str, ReleaseAsset] = {}
    to_upload: list[_LocalFile] = []
    to_replace: list[tuple[ReleaseAsset, _LocalFile]] = []
    if release is not None:
        remote = {a.name: a for a in client.list_assets(repo, release.id)}
    # Decide everything before the first write, so a conflict leaves GitHub untouched.
    for item in local:
        existing = remote.get(item.path.name)
        if existing is None:
            to_upload.append(item)
        elif not existing.complete:
            to_replace.append((existing, item))  # a half-finished upload: never user content
        elif not _same_content(client, repo, existing, item):
            if not replace_assets:
                raise RelkitError(
                    f"release {plan.tag} already has an asset {item.path.name} "
                    "with different content",
                    hint="re-run with --replace-assets to replace it, "
                    "or delete the asset on GitHub",
                )
            to_replace.append((existing, item))

    if release is None:
        release = _create_draft(client, repo, plan, title)
        changes.append("created draft")

    for old, item in to_replace:
        client.delete_asset(repo, old.id)
        _upload(client, repo, release, item)
        changes.append(f"replaced {item.path.name}")
    uploaded = [_upload(client, repo, release, item) for item in to_upload]
    if uploaded:
        changes.append(f"uploaded {len(uploaded)} asset{'s' if len(uploaded) != 1 else ''}")

    release = _finish(client, repo, plan, release, title, changes)

    artifacts = [Artifact(kind="release", name=plan.tag, url=release.html_url)]
    by_name = {a.name: a for a in client.list_assets(repo, release.id)} if changes else remote
    for item in local:
        asset = by_name.get(item.path.name)
        artifacts.append(
            Artifact(
                kind="release-asset",
                name=item.path.name,
                path=str(item.path),
                digest=f"sha256:{item.sha256}",
                url=asset.download_url if asset else None,
            )
        )
    outcome = StepOutcome.DONE if changes else StepOutcome.ALREADY_DONE
    detail = (
        f"{plan.tag}: {', '.join(changes)}"
        if changes
        else f"{plan.tag} already published with {len(local)} assets"
    )
    return StepRecord(
        name=STEP_NAME,
        outcome=outcome,
        detail=detail,
        duration_s=time.monotonic() - started,
        artifacts=tuple(artifacts),
    )


def _create_draft(client: ReleaseApi, repo: str, plan: ReleasePlan, title: str) -> Release:
    try:
        return client.create_release(
            repo,
            tag=plan.tag,
            name=title,
            body=plan.notes,
            prerelease=plan.prerelease,
            draft=True,
            target_commitish=plan.commit or None,
        )
    except GitHubApiError as err:
        if not err.already_exists:
            raise
        # Created meanwhile (a parallel run, or a reply lost to a dropped connection).
        found = client.find_release(repo, plan.tag)
        if found is None:
            raise
        return found


def _upload(client: ReleaseApi, repo: str, release: Release, item: _LocalFile) -> ReleaseAsset:
    try:
        return client.upload_asset(release, item.path)
    except GitHubApiError as err:
        if not err.already_exists:
            raise
        # The upload landed although its reply was lost (accept it if the bytes match), or
        # GitHub left an empty "open" asset after a 502 (delete it and upload again).
        current = {a.name: a for a in client.list_assets(repo, release.id)}
        existing = current.get(item.path.name)
        if existing is None:
            raise
        if not existing.complete:
            client.delete_asset(repo, existing.id)
            return client.upload_asset(release, item.path)
        if _same_content(client, repo, existing, item):
            return existing
        raise


def _finish(
    client: ReleaseApi,
    repo: str,
    plan: ReleasePlan,
    release: Release,
    title: str,
    changes: list[str],
) -> Release:
    """Publish the draft (deciding "latest"), or bring a published release's text up to date."""
    if release.draft:
        latest = is_latest(plan.version, client.list_releases(repo), tag=plan.tag)
        published = client.update_release(
            repo,
            release.id,
            name=title,
            body=plan.notes,
            prerelease=plan.prerelease,
            draft=False,
            make_latest=latest,
        )
        changes.append("published" + (" as latest" if latest else ""))
        return published
    if (release.name, release.body, release.prerelease) != (title, plan.notes, plan.prerelease):
        changes.append("updated title/notes")
        return client.update_release(
            repo, release.id, name=title, body=plan.notes, prerelease=plan.prerelease
        )
    return release


# ---------------------------------------------------------------- --forge none


def write_local_release(
    plan: ReleasePlan, assets: Sequence[Path], dist_dir: Path, *, replace_assets: bool = False
) -> StepRecord:
    """Write `dist_dir/release/`: RELEASE_NOTES.md, release.json and a copy of each asset.

    Idempotent like the GitHub step: identical files are left alone, a different file with
    the same name is an error unless `replace_assets`.
    """
    started = time.monotonic()
    local = _inspect(assets)
    reserved = {LOCAL_NOTES, LOCAL_METADATA} & {item.path.name for item in local}
    if reserved:
        raise UsageError(
            f"release asset name {', '.join(sorted(reserved))} is reserved for relkit's "
            "own files in dist/release/",
            hint="rename the asset",
        )
    target = dist_dir / "release"
    target.mkdir(parents=True, exist_ok=True)
    metadata = {
        "tag": plan.tag,
        "version": str(plan.version),
        "title": release_title(plan),
        "prerelease": plan.prerelease,
        "commit": plan.commit,
        "assets": [
            {"name": item.path.name, "size": item.size, "sha256": item.sha256} for item in local
        ],
    }
    payloads: list[tuple[str, bytes | Path, str]] = [
        (LOCAL_NOTES, plan.notes.encode(), hashlib.sha256(plan.notes.encode()).hexdigest()),
    ]
    meta_bytes = (json.dumps(metadata, indent=2) + "\n").encode()
    payloads.append((LOCAL_METADATA, meta_bytes, hashlib.sha256(meta_bytes).hexdigest()))
    payloads.extend((item.path.name, item.path, item.sha256) for item in local)

    # Check every conflict first: a refused run leaves dist/release/ as it was.
    writes: list[tuple[str, bytes | Path]] = []
    for name, source, digest in payloads:
        dest = target / name
        if dest.exists() and _sha256_file(dest) == digest:
            continue
        own_file = name in (LOCAL_NOTES, LOCAL_METADATA)
        if dest.exists() and not own_file and not replace_assets:
            raise RelkitError(
                f"{dest} already exists with different content",
                hint="re-run with --replace-assets to replace it, or clean dist/release/",
            )
        writes.append((name, source))

    for name, source in writes:
        _write_atomic(target / name, source)
    artifacts = [Artifact(kind="release", name=plan.tag, path=str(target))]
    artifacts.extend(
        Artifact(
            kind="release-asset",
            name=item.path.name,
            path=str(target / item.path.name),
            digest=f"sha256:{item.sha256}",
        )
        for item in local
    )
    return StepRecord(
        name=STEP_NAME,
        outcome=StepOutcome.DONE if writes else StepOutcome.ALREADY_DONE,
        detail=(
            f"{plan.tag}: wrote {len(writes)} file{'s' if len(writes) != 1 else ''} to {target}"
            if writes
            else f"{plan.tag} already in {target}"
        ),
        duration_s=time.monotonic() - started,
        artifacts=tuple(artifacts),
    )


def _write_atomic(dest: Path, source: bytes | Path) -> None:
    # Write beside the destination and rename, so a crash never leaves a truncated asset;
    # the temporary name is one `sweep_stale` recognises if the run is killed meanwhile.
    write_atomic(dest, source)
