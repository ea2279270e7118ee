"""The plan phase of `relkit release`: read git and registries, write nothing.

From a tag it computes the version, the notes and the image digests, and refuses a tag that
does not fit the history: a version lower than its commits require, or a commit that is not
on a release branch. The result is the frozen `ReleasePlan` every publish step works from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from relkit.adapters.git_history import HistorySnapshot, snapshot_of
from relkit.bundle.build import Resolver, pin_bundle_images
from relkit.core.config import RelkitConfig
from relkit.core.errors import UsageError
from relkit.core.model import ImagePin, ReleasePlan
from relkit.history.conventional import parse_commits
from relkit.history.release_branches import is_release_branch
from relkit.history.releases import (
    ReleaseInfo,
    plan_release,
    reachable_release,
    release_tags,
    require_full_history,
    scope_for,
)
from relkit.history.versioning import apply_bump, decide_bump

__all__ = [
    "build_plan",
    "check_on_release_branch",
    "check_version_fits",
    "plan_of",
    "plan_summary",
    "tag_from_env",
]


def tag_from_env(root: Path | HistorySnapshot, config: RelkitConfig, env: Mapping[str, str]) -> str:
    """The tag to release: GITHUB_REF's tag, else the release tag on HEAD."""
    history = snapshot_of(root)
    ref = env.get("GITHUB_REF", "")
    if ref.startswith("refs/tags/"):
        return ref.removeprefix("refs/tags/")
    head = history.resolve("HEAD")
    scope = scope_for(config)
    on_head = list(release_tags(history, scope).on_commits({head} if head else set()))
    if not on_head:
        raise UsageError(
            "no release tag given and HEAD has none",
            hint="pass --tag vX.Y.Z, run on a tag push, or tag HEAD with `relkit cut`",
        )
    return on_head[0].name  # highest version first


def check_version_fits(
    root: Path | HistorySnapshot,
    config: RelkitConfig,
    info: ReleaseInfo,
    component: str | None = None,
) -> None:
    """Refuse a tag whose version is lower than the commits since the last final release
    require (a breaking change tagged as a minor release, a feature as a patch)."""
    history = snapshot_of(root)
    scope = scope_for(config, component)
    finals = (
        t
        for t in release_tags(history, scope).finals()
        if t.version < info.version and t.name != info.tag
    )
    base = reachable_release(history, finals, info.sha)
    if base is not None and base.name == info.previous_tag:
        commits = list(info.commits)  # the notes' range is this range: no second read
    else:  # a pre-release's notes start at the last tag of any kind; the bump at a final one
        revision = f"{base.sha}..{info.sha}" if base else info.sha
        commits = parse_commits(
            history.read_commits((revision,), scope.paths), config.exclude_patterns
        )
    decision = decide_bump(commits, dict(config.commit_types))
    since = base.name if base else "the start of history"
    if not decision.releasable:
        raise UsageError(
            f"tag {info.tag}: no releasable commit since {since}",
            hint="feat/fix/perf commits or breaking changes make a release",
        )
    required = apply_bump(
        base.version if base else None, decision.level, major_on_zero=config.major_on_zero
    )
    if info.version.core < required:
        first = decision.reasons[0]
        raise UsageError(
            f"tag {info.tag} is lower than {required} required by the "
            f"{decision.level.label} change {first.short_sha} ({first.header}) since {since}",
            hint=f"delete the tag and cut {scope.tag_format.render(required)}",
        )


def check_on_release_branch(
    root: Path | HistorySnapshot, config: RelkitConfig, sha: str, tag: str
) -> None:
    """The tagged commit must be on a release branch (local or remote-tracking).

    Entries are globs (`release/*`), matched exactly as `relkit cut` matches them.
    """
    history = snapshot_of(root)
    refs: list[tuple[str, str]] = []
    for ref, tip in history.branch_tips().items():
        short = ref.removeprefix("refs/heads/").removeprefix("refs/remotes/origin/")
        if is_release_branch(short, config.release_branches):
            refs.append((ref, tip))
    if not refs:
        raise UsageError(
            f"tag {tag}: none of the release branches ({', '.join(config.release_branches)})"
            " is present in this clone",
            hint="fetch them (actions/checkout with fetch-depth: 0)",
        )
    for _ref, tip in refs:
        if tip == sha or history.is_ancestor(sha, tip):
            return
    raise UsageError(
        f"tag {tag} points at {sha[:7]}, which is not on a release branch"
        f" ({', '.join(config.release_branches)})",
        hint="release from a commit merged into a release branch",
    )


def _repository(config: RelkitConfig, env: Mapping[str, str]) -> str | None:
    return config.github.repository or env.get("GITHUB_REPOSITORY") or None


def plan_of(info: ReleaseInfo, *, repository: str | None = None) -> ReleasePlan:
    """The plan of a release as history computed it, before images are resolved."""
    return ReleasePlan(
        version=info.version,
        tag=info.tag,
        commit=info.sha,
        committed_at=info.committed_at,
        previous_tag=info.previous_tag,
        notes=info.notes,
        repository=repository,
    )


def build_plan(
    root: Path | HistorySnapshot,
    config: RelkitConfig,
    tag: str,
    *,
    env: Mapping[str, str],
    resolver: Resolver,
    component: str | None = None,
) -> ReleasePlan:
    """Everything the publish steps need, computed from git and the registries.

    `component`: a monorepo component's tag (`api/v1.2.0`): its history and its notes.
    Every question to git goes through one snapshot (`root`'s, or a new one)."""
    history = snapshot_of(root)
    require_full_history(history, "release")
    info = plan_release(history, config, tag=tag, component=component)
    check_on_release_branch(history, config, info.sha, tag)
    check_version_fits(history, config, info, component)
    plan = plan_of(info, repository=_repository(config, env))
    plan = replace(plan, images=_resolve_images(history.root, config, plan, resolver))
    if config.images.verify and plan.images:
        _check_signed_images(plan, config, env)
    return plan


def _check_signed_images(plan: ReleasePlan, config: RelkitConfig, env: Mapping[str, str]) -> None:
    """The signed-image gate (`[images] verify = true`): before anything is published."""
    # Imported here: sigstore is heavy, and most plans have no gate.
    from relkit.adapters.registry import RegistryClient
    from relkit.signing.image_gate import check_images

    trust = env.get("RELKIT_SIGSTORE_TRUST_CONFIG")
    with RegistryClient() as client:
        check_images(
            plan.images,
            config.images,
            client=client,
            trust_config=Path(trust) if trust else None,
        )


def _resolve_images(
    root: Path, config: RelkitConfig, plan: ReleasePlan, resolver: Resolver
) -> tuple[ImagePin, ...]:
    """Every bundle image resolved to its digest (once, in parallel, before any push)."""
    pins: dict[str, ImagePin] = {}
    for bundle in config.bundles:
        pinned = pin_bundle_images(bundle, plan, root / bundle.path, resolver)
        for pin in pinned.pins:
            pins.setdefault(pin.reference, pin)
    return tuple(sorted(pins.values(), key=lambda p: p.reference))


def plan_summary(plan: ReleasePlan) -> Sequence[str]:
    lines = [
        f"version {plan.version}{' (pre-release)' if plan.prerelease else ''}",
        f"tag {plan.tag} at {plan.commit[:12]} (previous: {plan.previous_tag or 'none'})",
    ]
    lines += [f"image {pin.pinned}" for pin in plan.images]
    return lines
