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
from relkit.conventional import ConventionalCommit, cancel_reverts, parse_commits
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


def release_tags(root: Path, scope: Scope) -> list[ReleaseTag]:
    """Every release tag of `scope` (reachable or not), highest version first."""
    found: list[ReleaseTag] = []
    for tag in git_history.list_tags(root):
        version = scope.tag_format.parse(tag.name)
        if version is not None:
            found.append(ReleaseTag(tag.name, tag.sha, version))
    found.sort(key=lambda t: t.version.precedence, reverse=True)
    return found


def _reachable(
    root: Path, tags: Sequence[ReleaseTag], target: str, *, finals_only: bool = False
) -> ReleaseTag | None:
    """The highest of `tags` (sorted highest first) whose commit is an ancestor of `target`.

    Tags on other branches are not releases of this line of history. One `merge-base` per
    candidate: normally the first one is it, so this is cheap on any number of tags.
    """
    for tag in tags:
        if finals_only and tag.version.is_prerelease:
            continue
        if tag.sha == target or git_history.is_ancestor(root, tag.sha, target):
            return tag
    return None


def _links(root: Path, config: RelkitConfig) -> Links:
    base = config.repository_url or git_history.remote_web_url(root)
    return Links(base.rstrip("/") if base else None)


def _previous(
    root: Path, tags: Sequence[ReleaseTag], version: Version, target: str
) -> ReleaseTag | None:
    """The release a version's notes start from: the last final one reachable from `target`
    (for a pre-release, the last release of any kind)."""
    # `tags` is sorted highest first: skip to the first one below `version`.
    start = next((i for i, t in enumerate(tags) if t.version < version), len(tags))
    below = tags[start:]
    return _reachable(root, below, target, finals_only=not version.is_prerelease)


def _parse(raws: Sequence[RawCommit], config: RelkitConfig) -> list[ConventionalCommit]:
    return parse_commits(raws, config.exclude_patterns)


def _date(when: datetime) -> date:
    try:
        return when.astimezone(UTC).date()
    except OverflowError:  # the UTC day of 9999-12-31T23:00-02:00 is in year 10000
        return when.date()


def compute_next_version(
    root: Path,
    config: RelkitConfig,
    *,
    component: str | None = None,
    pre: str | None = None,
) -> tuple[NextVersion, list[ConventionalCommit]]:
    """The next version at HEAD and the parsed commits since the last final release."""
    scope = scope_for(config, component)
    head = git_history.resolve(root, "HEAD")
    if head is None:
        raise UsageError(f"repository {root} has no commits", hint="commit something first")
    tags = release_tags(root, scope)
    base = _reachable(root, tags, head, finals_only=True)
    revision = f"{base.sha}..HEAD" if base else "HEAD"
    commits = _parse(git_history.read_commits(root, (revision,), scope.paths), config)
    # The base is the last final release reachable from HEAD; pre-release numbers count every
    # tag of the format (reachable or not) so a new rc never reuses an existing tag name.
    known = [
        *([base.version] if base else []),
        *(t.version for t in tags if t.version.is_prerelease),
    ]
    result = next_version(
        cancel_reverts(commits),  # a feature reverted before release bumps nothing
        known,
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
    previous = _previous(root, tags, version, sha)
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
        tags = [t for t in release_tags(root, scope) if t.name != tag]
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
    # Parse while git log streams (git formats on one core, we parse on the other).
    patterns = tuple(config.exclude_patterns)
    entries: dict[str, list[ConventionalCommit]] = {}
    walk: list[tuple[str, datetime]] = []
    for raw in git_history.iter_commits(root, ("HEAD",), scope.paths):
        entries[raw.sha] = parse_commits((raw,), patterns)
        walk.append((raw.sha, raw.committed_at))
    if scope.paths:
        # Tagged commits may not touch the component's paths: walk the full order.
        walk = git_history.topo_order(root)
    tags = release_tags(root, scope)
    by_sha: dict[str, ReleaseTag] = {}
    for known in tags:  # highest version first: the first tag of a commit wins
        by_sha.setdefault(known.sha, known)

    # Walk newest first; a tagged commit opens the next (older) release.
    groups: list[tuple[ReleaseTag | None, datetime | None, list[ConventionalCommit]]] = [
        (None, walk[0][1] if walk else None, [])
    ]
    # An upcoming final release folds the pre-releases of its history like a tagged one.
    newest_final = upcoming if upcoming is not None and not upcoming.is_prerelease else None
    for sha, when in walk:
        opening = by_sha.get(sha)
        if opening is not None:
            version = opening.version
            if not (version.is_prerelease and newest_final is not None and version < newest_final):
                groups.append((opening, when, []))
                if not version.is_prerelease:
                    newest_final = version
            # else: folded into the final release above it
        found = entries.get(sha)
        if found:
            groups[-1][2].extend(found)

    releases: list[Release] = []
    opened = [tag for tag, _, _ in groups[1:] if tag is not None]
    for index, (tag, stamp, commits) in enumerate(groups):
        # groups[0] is HEAD's unreleased work; groups[i] is opened[i - 1].
        previous = opened[index] if index < len(opened) else None
        if tag is None:
            if upcoming is None or not commits:
                continue
            version, name = upcoming, scope.tag_format.render(upcoming)
        else:
            version, name = tag.version, tag.name
        releases.append(
            build_release(
                commits,
                version=version,
                tag=name,
                previous_tag=previous.name if previous else None,
                released_on=_date(stamp) if stamp else None,
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
    if git_history.resolve(root, "HEAD") is None:
        raise UsageError(f"repository {root} has no commits", hint="commit something first")
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
