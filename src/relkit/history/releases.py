"""The repository's release history: git (through the adapter) + the pure core.

This is the one place that reads git for versions, changelogs and notes; the commands and the
release pipeline call these functions, the pure modules (`conventional`, `versioning`,
`changelog`) never touch git.

Releases are the tags matching the tag format (with the component prefix), reachable from
the commit in question. A full history is read with ONE `git log`; each commit belongs to
the lowest release that reaches it (`relkit.history.attribution`). With `[changelog] prereleases =
"fold"` (the default) pre-release tags that the final release of their own version reaches
are folded into it: the 1.3.0 section holds the commits of 1.3.0-rc.1 and -rc.2; with "own"
each keeps its section.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from itertools import islice
from pathlib import Path

from relkit.adapters.git_history import HistorySnapshot, snapshot_of
from relkit.core.config import ComponentConfig, RelkitConfig
from relkit.core.errors import NothingToRelease, RelkitError, UsageError
from relkit.core.model import RawCommit, Version
from relkit.core.records import collector_paused, record
from relkit.core.tag_format import TagFormat
from relkit.history import attribution
from relkit.history.changelog import (
    ContributorFilter,
    Links,
    Release,
    build_release,
    changelog_renderer,
    has_release,
    insert_sections,
    release_of,
    render_notes,
    render_sections,
    section_order,
)
from relkit.history.conventional import (
    ConventionalCommit,
    cancel_reverts,
    commit_parser,
    parse_commits,
)
from relkit.history.release_tags import ReleaseTag, ReleaseTags, read_release_tags
from relkit.history.shipped_changelog import render_full_changelog
from relkit.history.versioning import NextVersion, next_version

__all__ = [
    "ReleaseInfo",
    "ReleaseTag",
    "Scope",
    "changelog_text",
    "compute_next_version",
    "plan_release",
    "reachable_release",
    "release_notes",
    "release_tags",
    "require_full_history",
    "scope_for",
    "shallow_warning",
]


@record
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


def release_tags(root: Path | HistorySnapshot, scope: Scope) -> ReleaseTags:
    """Every release tag of `scope` (reachable or not), highest version first.

    Read once per snapshot and tag format (the plan asks several times); a tag's
    `ReleaseTag` is built when a reader reaches it.
    """
    history = snapshot_of(root)
    key = f"release-tags {scope.tag_format.template}"
    return history.memo(key, lambda: read_release_tags(history.tags(), scope.tag_format))


def reachable_release(
    history: HistorySnapshot,
    tags: Iterable[ReleaseTag],
    target: str,
) -> ReleaseTag | None:
    """The first of `tags` (sorted highest first) whose commit is an ancestor of `target`.

    Tags on other branches are not releases of this line of history. Asked in batches that
    grow (8, 32, 128, ...), one git process each: normally the first tag is it, and a
    repository whose newest tags sit on other release lines needs one or two processes
    instead of one per tag. `tags` is read only as far as the answer.
    """
    remaining = iter(tags)
    size = 8
    while batch := list(islice(remaining, size)):
        if batch[0].sha == target:
            return batch[0]
        merged = history.merged_tags([t.name for t in batch], target)
        for tag in batch:
            if tag.sha == target or tag.name in merged:
                return tag
        size = min(size * 4, 4096)  # a bounded command line
    return None


# CI checkouts are shallow by default (actions/checkout fetches one commit): the history
# then stops early and the notes silently lose the previous release and its commits.
SHALLOW_HINT = (
    "fetch the whole history: actions/checkout with fetch-depth: 0, or git fetch --unshallow"
)


def shallow_warning(root: Path | HistorySnapshot) -> str | None:
    """A one-line warning when `root` is a shallow clone (changelog, notes: still printed)."""
    history = snapshot_of(root)
    if not history.is_shallow():
        return None
    return (
        f"{history.root} is a shallow clone: the history is cut short, so releases and commits may"
        f" be missing (hint: {SHALLOW_HINT})"
    )


def require_full_history(root: Path | HistorySnapshot, action: str) -> None:
    """Refuse to `action` (cut, release) from a shallow clone: it would publish wrong notes."""
    history = snapshot_of(root)
    if history.is_shallow():
        raise RelkitError(
            f"{history.root} is a shallow clone: cannot {action} from a cut-short history",
            hint=SHALLOW_HINT,
        )


def _links(history: HistorySnapshot, config: RelkitConfig) -> Links:
    """Where commit, PR and compare links point: `repository_url`, else the origin remote's
    web address, else `[github] repository` (origin a local path or absent: a mirror, a
    checkout made by a script; issue 16)."""
    base = (
        config.repository_url
        or history.remote_web_url()
        or _github_web_url(config.github.repository, config.github.api_url)
    )
    return Links(base.rstrip("/") if base else None)


def _github_web_url(repository: str | None, api_url: str | None) -> str | None:
    """`https://github.com/owner/name`, or on GitHub Enterprise Server the web host of its
    API URL (`https://ghe.example.com/api/v3` → `https://ghe.example.com/owner/name`)."""
    if not repository:
        return None
    host = "https://github.com"
    if api_url:
        scheme, _, rest = api_url.rstrip("/").partition("://")
        name = rest.split("/", 1)[0]
        if scheme in ("http", "https") and name and name != "api.github.com":
            host = f"{scheme}://{name}"
    return f"{host}/{repository.strip('/')}"


def _folds_into(tag: ReleaseTag, version: Version, *, fold: bool) -> bool:
    """Whether `tag` is part of `version`'s release rather than one of its own: with "fold",
    the pre-releases of that very version (1.3.0-rc.1 in 1.3.0). A pre-release of another
    version (helm's v2.8.0-rc.1 below 3.6.0, its own final never merged) keeps its own."""
    return (
        fold
        and tag.version.is_prerelease
        and not version.is_prerelease
        and tag.version.core == version.core
    )


def _previous(
    history: HistorySnapshot,
    tags: ReleaseTags,
    version: Version,
    target: str,
    *,
    fold: bool,
) -> ReleaseTag | None:
    """The release a version's notes start from: the highest release below it reachable from
    `target` that is not folded into it: the same range as its changelog section."""
    # `tags` is sorted highest first: skip to the first one below `version`.
    start = next((i for i, t in enumerate(tags) if t.version < version), len(tags))
    below = (tags[i] for i in range(start, len(tags)))
    return reachable_release(
        history, (t for t in below if not _folds_into(t, version, fold=fold)), target
    )


def _parse(raws: Sequence[RawCommit], config: RelkitConfig) -> list[ConventionalCommit]:
    return parse_commits(raws, config.exclude_patterns)


def _date(when: datetime) -> date:
    try:
        return when.astimezone(UTC).date()
    except OverflowError:  # the UTC day of 9999-12-31T23:00-02:00 is in year 10000
        return when.date()


def compute_next_version(
    root: Path | HistorySnapshot,
    config: RelkitConfig,
    *,
    component: str | None = None,
    pre: str | None = None,
) -> tuple[NextVersion, list[ConventionalCommit]]:
    """The next version at HEAD and the parsed commits since the last final release."""
    history = snapshot_of(root)
    scope = scope_for(config, component)
    head = history.resolve("HEAD")
    if head is None:
        raise UsageError(f"repository {history.root} has no commits", hint="commit something first")
    tags = release_tags(history, scope)
    base = reachable_release(history, tags.finals(), head)
    revision = f"{base.sha}..HEAD" if base else "HEAD"
    commits = _parse(history.read_commits((revision,), scope.paths), config)
    # The base is the last final release reachable from HEAD; pre-release numbers count every
    # tag of the format (reachable or not) so a new rc never reuses an existing tag name.
    known = [
        *([base.version] if base else []),
        *(t.version for t in tags.prereleases()),
    ]
    result = next_version(
        cancel_reverts(commits),  # a feature reverted before release bumps nothing
        known,
        dict(config.commit_types),
        major_on_zero=config.major_on_zero,
        pre=pre,
    )
    return result, commits


@record
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
    history: HistorySnapshot,
    config: RelkitConfig,
    scope: Scope,
    version: Version,
    tag: str,
    sha: str,
    tags: ReleaseTags,
) -> ReleaseInfo:
    fold = config.changelog.prereleases == "fold"
    previous = _previous(history, tags, version, sha, fold=fold)
    revisions: tuple[str, ...] = (f"{previous.sha}..{sha}" if previous else sha,)
    raws = history.read_commits(revisions, scope.paths)
    # The changelog's rule: a release holds what no LOWER release reaches. `previous..tag`
    # is that set unless another lower release was merged in from a line `previous` does
    # not contain (two maintenance lines merged into main): its tagged commit is then in
    # the range, and its history comes out too. Checking costs one set lookup per tag.
    in_range = {raw.sha for raw in raws}
    merged = [
        t.sha
        for t in tags.on_commits(in_range)
        if t.version < version and not _folds_into(t, version, fold=fold)
    ]
    if merged:
        excluded = [f"^{other}" for other in (previous.sha if previous else None, *merged) if other]
        revisions = (sha, *excluded)
        raws = history.read_commits(revisions, scope.paths)
    commits = _parse(raws, config)
    retags = previous.name if previous is not None and previous.sha == sha else None
    merges = None
    if not commits and retags is None:
        # Nothing of its own (a tag on the merge of a maintenance line): say which lower
        # releases it brings. Only here, so the usual notes read no more of the history.
        graph = history.read_commits(revisions) if scope.paths else raws
        merges = _merged_tags(history, graph, sha, tags, version, fold=fold)
    committed_at = history.commit_time(sha)
    contributors = ContributorFilter.of(config)
    release = build_release(
        commits,
        version=version,
        tag=tag,
        previous_tag=previous.name if previous else None,
        released_on=_date(committed_at),
        commit_types=config.commit_types,
        other_commits=config.changelog.other_commits,
        squash_bullets=config.changelog.squash_bullets,
        contributors=contributors,
        retags=retags,
        merges=merges,
    )
    notes = render_notes(
        release,
        _links(history, config),
        changelog_renderer(config, history.root),
        config.changelog.mentions,
    )
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


def _first_parent_exit(parents: Mapping[str, Sequence[str]], sha: str) -> str | None:
    """Where the first-parent line from `sha` leaves `parents` (the commits of one release):
    the line the release was made on. Its tagged commit is the base, not something merged."""
    while sha in parents:
        if not parents[sha]:
            return None
        sha = parents[sha][0]
    return sha


def _merged_tags(
    history: HistorySnapshot,
    graph: Sequence[RawCommit],
    sha: str,
    tags: ReleaseTags,
    version: Version,
    *,
    fold: bool,
) -> tuple[str, ...]:
    """The lower releases whose tagged commits the merges of a release without commits of
    its own bring in (its notes; `_merged_candidates` is the changelog's twin), highest
    first. Only tagged commits are named: an untagged one's release is not known cheaply."""
    parents = {raw.sha: raw.parents for raw in graph}
    base = _first_parent_exit(parents, sha)
    brought = {p for ps in parents.values() for p in ps if p not in parents and p != base}
    named: dict[str, ReleaseTag] = {}
    # Lowest first: a commit is named by the lowest tag on it.
    for tag in reversed(list(tags.on_commits(brought))):
        if tag.sha in named or not tag.version < version:
            continue
        if fold and tag.version.is_prerelease and _folded_elsewhere(history, tag, tags):
            continue  # the changelog has no section for it
        named[tag.sha] = tag
    ordered = sorted(named.values(), key=lambda t: t.version.precedence, reverse=True)
    return tuple(t.name for t in ordered)


def _folded_elsewhere(history: HistorySnapshot, tag: ReleaseTag, tags: ReleaseTags) -> bool:
    """Whether a final release of `tag`'s own version contains it ("fold": no section)."""
    return any(
        t.version.core == tag.version.core
        and (t.sha == tag.sha or history.is_ancestor(tag.sha, t.sha))
        for t in tags.finals()
    )


def plan_release(
    root: Path | HistorySnapshot,
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
    history = snapshot_of(root)
    scope = scope_for(config, component)
    if tag is not None:
        parsed = scope.tag_format.parse(tag)
        if parsed is None:
            raise UsageError(
                f"tag {tag!r} does not match the tag format {scope.tag_format.template!r}",
                hint="pass a release tag such as " + scope.tag_format.render(Version(1, 0, 0)),
            )
        sha = history.resolve(f"refs/tags/{tag}")
        if sha is None:
            raise UsageError(f"tag {tag} does not exist", hint="run `git fetch --tags`")
        others = release_tags(history, scope).without(tag)
        return _release_for(history, config, scope, parsed, tag, sha, others)
    head = history.resolve("HEAD")
    if head is None:
        raise UsageError(f"repository {history.root} has no commits", hint="commit something first")
    if version is None:
        computed, _ = compute_next_version(history, config, component=component)
        if computed.version is None:
            raise NothingToRelease(
                f"no releasable commit since {computed.previous or 'the start'}",
                hint="feat/fix/perf commits or breaking changes make a release",
            )
        version = computed.version
    tags = release_tags(history, scope)
    return _release_for(
        history, config, scope, version, scope.tag_format.render(version), head, tags
    )


def release_notes(
    root: Path | HistorySnapshot,
    config: RelkitConfig,
    version_or_tag: str,
    *,
    component: str | None = None,
) -> str:
    """The notes of an existing release, named by tag (`v1.2.0`) or version (`1.2.0`)."""
    scope = scope_for(config, component)
    tag = version_or_tag
    if scope.tag_format.parse(tag) is None:
        tag = scope.tag_format.render(Version.parse(version_or_tag))
    return plan_release(root, config, tag=tag, component=component).notes


# A release of the changelog: a reachable tag, or HEAD as the upcoming version (the tag it
# will have). The release tags themselves, not a copy of each (23,000 on the corpus).
_Candidate = ReleaseTag


def _fold(parents: dict[str, tuple[str, ...]], candidates: list[_Candidate]) -> list[_Candidate]:
    """`candidates` without the pre-releases that the final release of their own version
    reaches ("fold": 1.3.0-rc.1 into 1.3.0).

    A pre-release whose final is not in this history keeps its section, even when a final
    of a later version reaches it: helm's v2.8.0-rc.1 (v2.8.0 was tagged on a branch never
    merged) is not part of 3.6.0, nor vite's v1.0.0-rc.13 part of 2.0.0.
    """
    if not any(c.version.prerelease for c in candidates):
        return candidates  # nothing to fold: no walk of the history for the finals
    finals = sorted(
        (c for c in candidates if not c.version.is_prerelease),
        key=lambda c: c.version.precedence,
    )
    # Lowest first: each commit's owner is the LOWEST final release reaching it, which is the
    # pre-release's own final when that one reaches it (a lower final reaching a pre-release
    # of a higher version does not happen in practice; the pre-release then keeps its section).
    lowest = attribution.claim(parents, [c.sha for c in finals]).owner
    kept: list[_Candidate] = []
    for candidate in candidates:
        if candidate.version.is_prerelease:
            owner = lowest.get(candidate.sha)
            if owner is not None and finals[owner].version.core == candidate.version.core:
                continue  # folded into its own final release
        kept.append(candidate)
    return kept


def _merged_candidates(
    parents: Mapping[str, Sequence[str]],
    owner: Mapping[str, int],
    index: int,
    start: str,
    lowest_on: Mapping[str, int],
) -> list[int]:
    """The lower releases whose tagged commits the merges of release `index` (which has no
    commit of its own) bring in, highest first: git.git's v2.44.2 merges v2.43.5.

    Walks the commits the release owns from its tag `start` (merges, or for a component
    commits outside its paths: each commit is walked for one release at most); its
    first-parent line leaves them at its base, which is where it was made, not merged.
    """
    sha = start
    while owner.get(sha) == index and parents.get(sha):  # along the first parents
        sha = parents[sha][0]
    base = sha if owner.get(sha) != index else None
    own = {start}
    stack = [start]
    brought: set[int] = set()
    while stack:
        for parent in parents.get(stack.pop(), ()):
            if owner.get(parent) == index:
                if parent not in own:
                    own.add(parent)
                    stack.append(parent)
            elif parent != base and lowest_on.get(parent, index) < index:
                brought.add(lowest_on[parent])  # (a higher tag on an old commit: not merged)
    return sorted(brought, reverse=True)


def _all_releases(
    history: HistorySnapshot, config: RelkitConfig, scope: Scope, upcoming: Version | None
) -> Iterator[Release]:
    """Every release of the history, highest version first (plus `upcoming` at HEAD).

    A release holds the commits reachable from its tag and from no lower release
    (`relkit.history.attribution`); with `prereleases = "fold"` a pre-release that a higher final
    release reaches is not a release of its own: its commits belong to that final one.

    The history is read and attributed here; each `Release` is made as the caller reads it
    (`_built`): the changelog writes each section and drops the release, whose commits are no
    longer held either, so the next release is made in the memory the last one freed
    (23,000 releases on the corpus).
    """
    # Parse while git log streams (git formats on one core, we parse on the other).
    parse = commit_parser(config.exclude_patterns)
    entries: dict[str, list[ConventionalCommit]] = {}
    parents: dict[str, tuple[str, ...]] = {}
    times: dict[str, datetime] = {}
    for raw in history.iter_commits(("HEAD",), scope.paths):
        sha = raw.sha
        entries[sha] = parse(raw)
        parents[sha] = raw.parents
        times[sha] = raw.committed_at
    order: Iterable[str] = entries  # topological order: a dict keeps its insertion order
    if scope.paths:
        # Tagged commits may not touch the component's paths: attribute on the full graph.
        graph: list[str] = []
        parents, times, order = {}, {}, graph
        for sha, commit_parents, when in history.commit_graph():
            parents[sha] = commit_parents
            times[sha] = when
            graph.append(sha)
    if not parents:
        return iter(())

    # Tags on other branches are not releases of this history. Lowest first; the name breaks
    # ties (v1.0.0 and v1.0.0+build) so output is stable.
    tags = release_tags(history, scope)
    fold = config.changelog.prereleases == "fold"
    if upcoming is None:
        candidates = tags.lowest_first_on(parents)  # in that order already
        if fold:
            candidates = _fold(parents, candidates)  # (keeps the order)
    else:
        candidates = list(tags.on_commits(parents))
        head = next(iter(parents))  # the newest commit
        candidates.append(_Candidate(scope.tag_format.render(upcoming), head, upcoming))
        if fold:
            candidates = _fold(parents, candidates)
        candidates.sort(key=lambda c: (c.version.precedence, c.name))
    claims = attribution.claim(parents, [c.sha for c in candidates])
    lowest_on: dict[str, int] = {}  # tagged commit -> the lowest release on it
    for index, candidate in enumerate(candidates):
        lowest_on.setdefault(candidate.sha, index)

    found: list[list[ConventionalCommit]] = [[] for _ in candidates]
    owner_of = claims.owner
    for sha in order:  # topological order: a merged branch's commits stay together
        commits = entries.get(sha)
        if commits:
            owner = owner_of.get(sha)
            if owner is not None:
                found[owner].extend(commits)
    return _built(config, candidates, claims, found, parents, times, lowest_on)


def _built(
    config: RelkitConfig,
    candidates: list[_Candidate],
    claims: attribution.Claims,
    found: list[list[ConventionalCommit]],
    parents: Mapping[str, Sequence[str]],
    times: Mapping[str, datetime],
    lowest_on: Mapping[str, int],
) -> Iterator[Release]:
    """`_all_releases`' releases, highest first, each made when read: its commits (`found`,
    by candidate) are let go as it is made."""
    contributors = ContributorFilter.of(config)
    commit_types = config.commit_types
    titles = section_order(commit_types)
    list_other = config.changelog.other_commits == "list"
    split = config.changelog.squash_bullets == "split"
    previous_of, retags_of, owner = claims.previous, claims.retags, claims.owner
    for index in reversed(range(len(candidates))):
        candidate = candidates[index]
        commits, found[index] = found[index], []
        previous, retags = previous_of[index], retags_of[index]
        merges = None
        if not commits and retags is None:
            merged = _merged_candidates(parents, owner, index, candidate.sha, lowest_on)
            merges = tuple(candidates[i].name for i in merged)
        yield release_of(
            commits,
            candidate.version,
            candidate.name,  # tag
            candidates[previous].name if previous is not None else None,  # previous tag
            _date(times[candidate.sha]),  # released on
            commit_types,
            list_other,
            split,
            contributors,
            candidates[retags].name if retags is not None else None,  # retags
            merges,
            titles,
        )


def changelog_text(
    root: Path | HistorySnapshot,
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
    history = snapshot_of(root)
    scope = scope_for(config, component)
    if history.resolve("HEAD") is None:
        raise UsageError(f"repository {history.root} has no commits", hint="commit something first")
    # Every commit and release becomes a few records: hundreds of thousands on a long history.
    with collector_paused():
        return _changelog_text(history, config, scope, existing, full=full, upcoming=upcoming)


def _changelog_text(
    history: HistorySnapshot,
    config: RelkitConfig,
    scope: Scope,
    existing: str | None,
    *,
    full: bool,
    upcoming: Version | None,
) -> str:
    releases = _all_releases(history, config, scope, upcoming)
    links = _links(history, config)
    renderer = changelog_renderer(config, history.root)
    if full or existing is None or config.changelog.mode == "init":
        return render_full_changelog(releases, links, renderer, config.changelog.mentions)
    # Newest first, up to the first release the file already has: older releases that the
    # file lacks (it may start later) are not inserted out of order above it.
    missing: list[Release] = []
    for release in releases:
        if release.version is None or has_release(existing, release.version):
            break
        missing.append(release)
    return insert_sections(
        existing, render_sections(missing, links, renderer, config.changelog.mentions)
    )
