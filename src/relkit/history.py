"""The repository's release history: git (through the adapter) + the pure core.

This is the one place that reads git for versions, changelogs and notes; the commands and the
release pipeline call these functions, the pure modules (`conventional`, `versioning`,
`changelog`) never touch git.

Releases are the tags matching the tag format (with the component prefix), reachable from
the commit in question. A full history is read with ONE `git log`; commits are assigned to
releases walking it newest first in topological order, a tagged commit opening the next
(older) release. Pre-release tags below a final release already seen are folded into that
final release: the 1.3.0 section holds the commits of 1.3.0-rc.1 and -rc.2.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from relkit.adapters import git_history
from relkit.changelog import (
    Links,
    Release,
    build_release,
    changelog_renderer,
    has_release,
    insert_sections,
    render_changelog,
    render_notes,
    render_sections,
)
from relkit.config import ComponentConfig, RelkitConfig
from relkit.conventional import ConventionalCommit, parse_commits
from relkit.errors import NothingToRelease, UsageError
from relkit.model import RawCommit, Version
from relkit.versioning import NextVersion, TagFormat, next_version

__all__ = [
    "ReleaseInfo",
    "ReleaseTag",
    "Scope",
    "changelog_text",
    "compute_next_version",
    "plan_release",
    "release_notes",
    "release_tags",
    "scope_for",
]


@dataclass(frozen=True)
class Scope:
    """What part of the repository a history is about: all of it or one component."""

    tag_format: TagFormat
    paths: tuple[str, ...] = ()
    changelog_file: str = "CHANGELOG.md"
    component: str | None = None


def scope_for(config: RelkitConfig, component: str | None = None) -> Scope:
    if component is None:
        return Scope(TagFormat(config.tag_format), (), config.changelog.file)
    found: ComponentConfig = config.component(component)
    return Scope(
        TagFormat(config.tag_format, found.tag_prefix),
        tuple(found.paths),
        found.changelog_file or str(Path(found.paths[0]) / config.changelog.file)
        if found.paths
        else config.changelog.file,
        found.name,
    )


@dataclass(frozen=True)
class ReleaseTag:
    name: str
    sha: str
    version: Version


def release_tags(root: Path, scope: Scope, merged_into: str = "HEAD") -> list[ReleaseTag]:
    """Release tags of `scope` reachable from `merged_into`, highest version first."""
    found: list[ReleaseTag] = []
    for tag in git_history.list_tags(root, merged_into):
        version = scope.tag_format.parse(tag.name)
        if version is not None:
            found.append(ReleaseTag(tag.name, tag.sha, version))
    found.sort(key=lambda t: t.version, reverse=True)
    return found


def _links(root: Path, config: RelkitConfig) -> Links:
    base = config.repository_url or git_history.remote_web_url(root)
    return Links(base.rstrip("/") if base else None)


def _previous(tags: Sequence[ReleaseTag], version: Version) -> ReleaseTag | None:
    """The release a version's notes start from: the last final (any tag for a pre-release)."""
    for tag in tags:  # highest first
        if tag.version < version and (version.is_prerelease or not tag.version.is_prerelease):
            return tag
    return None


def _parse(raws: Sequence[RawCommit], config: RelkitConfig) -> list[ConventionalCommit]:
    return parse_commits(raws, config.exclude_patterns)


def _date(when: datetime) -> date:
    return when.astimezone(UTC).date()


def compute_next_version(
    root: Path,
    config: RelkitConfig,
    *,
    component: str | None = None,
    pre: str | None = None,
) -> tuple[NextVersion, list[ConventionalCommit]]:
    """The next version at HEAD and the parsed commits since the last final release."""
    scope = scope_for(config, component)
    tags = release_tags(root, scope)
    if git_history.resolve(root, "HEAD") is None:
        raise UsageError(f"repository {root} has no commits", hint="commit something first")
    finals = [t for t in tags if not t.version.is_prerelease]
    revision = f"{finals[0].sha}..HEAD" if finals else "HEAD"
    commits = _parse(git_history.read_commits(root, (revision,), scope.paths), config)
    result = next_version(
        commits,
        [t.version for t in tags],
        dict(config.commit_types),
        major_on_zero=config.major_on_zero,
        pre=pre,
    )
    return result, commits


@dataclass(frozen=True)
class ReleaseInfo:
    """What the release pipeline needs about one release (a tag, or HEAD as `version`)."""

    version: Version
    tag: str
    sha: str
    committed_at: datetime
    previous_tag: str | None
    notes: str
    commits: tuple[ConventionalCommit, ...]
    release: Release


def _release_for(
    root: Path,
    config: RelkitConfig,
    scope: Scope,
    version: Version,
    tag: str,
    sha: str,
    tags: Sequence[ReleaseTag],
) -> ReleaseInfo:
    previous = _previous(tags, version)
    revision = f"{previous.sha}..{sha}" if previous else sha
    commits = _parse(git_history.read_commits(root, (revision,), scope.paths), config)
    committed_at = git_history.commit_time(root, sha)
    release = build_release(
        commits,
        version=version,
        tag=tag,
        previous_tag=previous.name if previous else None,
        released_on=_date(committed_at),
        commit_types=config.commit_types,
        other_commits=config.changelog.other_commits,
    )
    notes = render_notes(release, _links(root, config), changelog_renderer(config, root))
    return ReleaseInfo(
        version=version,
        tag=tag,
        sha=sha,
        committed_at=committed_at,
        previous_tag=release.previous_tag,
        notes=notes,
        commits=release.commits,
        release=release,
    )


def plan_release(
    root: Path,
    config: RelkitConfig,
    *,
    tag: str | None = None,
    version: Version | None = None,
    component: str | None = None,
) -> ReleaseInfo:
    """Version, tag, previous tag, notes and commits of one release.

    `tag`: an existing release tag (what CI does on a tag push). Otherwise HEAD released as
    `version` (default: the computed next version; raises `NothingToRelease` if there is none).
    Only that release's range is read, so this is fast whatever the history length.
    """
    scope = scope_for(config, component)
    if tag is not None:
        parsed = scope.tag_format.parse(tag)
        if parsed is None:
            raise UsageError(
                f"tag {tag!r} does not match the tag format {scope.tag_format.template!r}",
                hint="pass a release tag such as " + scope.tag_format.render(Version(1, 0, 0)),
            )
        sha = git_history.resolve(root, f"refs/tags/{tag}")
        if sha is None:
            raise UsageError(f"tag {tag} does not exist", hint="run `git fetch --tags`")
        tags = [t for t in release_tags(root, scope, sha) if t.name != tag]
        return _release_for(root, config, scope, parsed, tag, sha, tags)
    head = git_history.resolve(root, "HEAD")
    if head is None:
        raise UsageError(f"repository {root} has no commits", hint="commit something first")
    if version is None:
        computed, _ = compute_next_version(root, config, component=component)
        if computed.version is None:
            raise NothingToRelease(
                f"no releasable commit since {computed.previous or 'the start'}",
                hint="feat/fix/perf commits or breaking changes make a release",
            )
        version = computed.version
    tags = release_tags(root, scope)
    return _release_for(root, config, scope, version, scope.tag_format.render(version), head, tags)


def release_notes(
    root: Path, config: RelkitConfig, version_or_tag: str, *, component: str | None = None
) -> str:
    """The notes of an existing release, named by tag (`v1.2.0`) or version (`1.2.0`)."""
    scope = scope_for(config, component)
    tag = version_or_tag
    if scope.tag_format.parse(tag) is None:
        tag = scope.tag_format.render(Version.parse(version_or_tag))
    return plan_release(root, config, tag=tag, component=component).notes


def _all_releases(
    root: Path, config: RelkitConfig, scope: Scope, upcoming: Version | None
) -> list[Release]:
    """Every release of the history, newest first (plus `upcoming` at HEAD, if given)."""
    tags = release_tags(root, scope)
    by_sha: dict[str, list[ReleaseTag]] = {}
    for known in tags:
        by_sha.setdefault(known.sha, []).append(known)
    raws = git_history.read_commits(root, ("HEAD",), scope.paths)
    # With paths, tagged commits may not touch them: walk the full order for boundaries.
    order = git_history.topo_order(root) if scope.paths else [r.sha for r in raws]
    by_sha_raw = {r.sha: r for r in raws}
    commit_time = {r.sha: r.committed_at for r in raws}

    # Group raw commits per release, newest release first.
    groups: list[tuple[ReleaseTag | None, list[RawCommit]]] = [(None, [])]
    # An upcoming final release folds the pre-releases of its history like a tagged one.
    newest_final = upcoming if upcoming is not None and not upcoming.is_prerelease else None
    for sha in order:
        for opening in sorted(by_sha.get(sha, ()), key=lambda t: t.version, reverse=True)[:1]:
            if (
                opening.version.is_prerelease
                and newest_final is not None
                and opening.version < newest_final
            ):
                continue  # folded into the final release above it
            groups.append((opening, []))
            if not opening.version.is_prerelease:
                newest_final = opening.version
        raw = by_sha_raw.get(sha)
        if raw is not None:
            groups[-1][1].append(raw)

    releases: list[Release] = []
    release_order = [opened for opened, _ in groups[1:] if opened is not None]
    for index, (tag, group) in enumerate(groups):
        previous: ReleaseTag | None = None
        if tag is None:
            previous = release_order[0] if release_order else None
        elif index < len(release_order):
            previous = release_order[index]
        commits = _parse(group, config)
        if tag is None:
            if upcoming is None or not commits:
                continue
            head = git_history.resolve(root, "HEAD")
            when = git_history.commit_time(root, head) if head else datetime.now(UTC)
            releases.append(
                build_release(
                    commits,
                    version=upcoming,
                    tag=scope.tag_format.render(upcoming),
                    previous_tag=previous.name if previous else None,
                    released_on=_date(when),
                    commit_types=config.commit_types,
                    other_commits=config.changelog.other_commits,
                )
            )
            continue
        when = commit_time.get(tag.sha) or git_history.commit_time(root, tag.sha)
        releases.append(
            build_release(
                commits,
                version=tag.version,
                tag=tag.name,
                previous_tag=previous.name if previous else None,
                released_on=_date(when),
                commit_types=config.commit_types,
                other_commits=config.changelog.other_commits,
            )
        )
    return releases


def changelog_text(
    root: Path,
    config: RelkitConfig,
    existing: str | None,
    *,
    component: str | None = None,
    full: bool = False,
    upcoming: Version | None = None,
) -> str:
    """The new changelog text.

    `existing` is the current file (`None`: there is none). With `full`, no existing file or
    `changelog.mode == "init"`, everything is regenerated. Otherwise only the releases the file
    has no heading for are inserted (normally just the newest) and the rest stays
    byte-identical. `upcoming` adds HEAD as that version (what `relkit cut` writes before the
    tag exists).
    """
    scope = scope_for(config, component)
    releases = _all_releases(root, config, scope, upcoming)
    links = _links(root, config)
    renderer = changelog_renderer(config, root)
    if full or existing is None or config.changelog.mode == "init":
        return render_changelog(releases, links, renderer)
    # Newest first, up to the first release the file already has: older releases that the
    # file lacks (it may start later) are not inserted out of order above it.
    missing: list[Release] = []
    for release in releases:
        if release.version is None or has_release(existing, release.version):
            break
        missing.append(release)
    return insert_sections(existing, render_sections(missing, links, renderer))
