"""`relkit cut`: turn HEAD into a release — changelog, version bumps, commit, tag, push.

Two phases, as in the rest of relkit:

1. `plan_cut` checks everything and computes every file change without writing anything
   (the remote is only asked, with `git ls-remote`). A refusal is a one-line error.
2. `execute_cut` writes the files, commits `chore(release): <tag>`, creates the annotated
   (or signed) tag and pushes branch and tag with `git push --atomic`. If the push fails the
   tag and the release commit are rolled back, so a retry starts from the same state.

`--dry-run` is `plan_cut` + `render_dry_run`: the unified diff of every file and the exact
git commands `execute_cut` would run.
"""

from __future__ import annotations

import difflib
import shlex
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from relkit.adapters.git_history import HistorySnapshot, snapshot_of
from relkit.adapters.git_repo import (
    GitRepo,
    add_args,
    commit_args,
    push_args,
    push_error,
    tag_args,
)
from relkit.core.config import RelkitConfig, VersionFile
from relkit.core.errors import NothingToRelease, RelkitError, UsageError
from relkit.core.model import Version
from relkit.core.paths import committed_path, read_inside, resolve_inside, write_inside
from relkit.core.records import record
from relkit.cut.version_files import FileChange, plan_version_files, write_changes
from relkit.history.release_branches import is_release_branch
from relkit.history.releases import (
    changelog_text,
    compute_next_version,
    release_tags,
    require_full_history,
    scope_for,
)
from relkit.history.versioning import check_requested_version

__all__ = [
    "CutOptions",
    "CutPlan",
    "CutResult",
    "choose_version",
    "execute_cut",
    "plan_cut",
    "plan_file_changes",
    "render_dry_run",
    "unified_diff",
]

_MAX_LISTED = 5


@record
class CutOptions:
    version: str | None = None  # requested version; None: computed from the commits
    pre: str | None = None  # pre-release token (`rc` → X.Y.Z-rc.N)
    component: str | None = None
    force: bool = False  # cut a version lower than the commits require
    push: bool = True
    remote: str = "origin"


@record
class CutPlan:
    """Everything `execute_cut` will do, computed without writing anything."""

    version: Version
    tag: str
    branch: str
    base_sha: str  # HEAD before the cut: what a rollback returns to
    message: str  # the release commit's message
    tag_message: str
    sign: bool  # git is configured to sign tags
    changes: tuple[FileChange, ...]  # changelog and version files that change
    remote: str | None  # None: no push
    reason: str  # why this version (the bump and the commits behind it)
    warnings: tuple[str, ...] = ()

    @property
    def paths(self) -> list[str]:
        return [change.path for change in self.changes]

    def commands(self) -> list[list[str]]:
        """The git commands `execute_cut` runs, in order (argument lists without `git`)."""
        commands = [
            add_args(self.paths),
            commit_args(self.paths, self.message),
            tag_args(self.tag, self.tag_message, sign=self.sign),
        ]
        if self.remote is not None:
            commands.append(push_args(self.remote, self.branch, self.tag))
        return commands

    @property
    def push_command(self) -> str:
        remote = self.remote or "origin"
        return shlex.join(["git", *push_args(remote, self.branch, self.tag)])


@record
class CutResult:
    plan: CutPlan
    commit: str
    pushed: bool


# -- checks ------------------------------------------------------------------------------


def _check_branch(repo: GitRepo, config: RelkitConfig) -> str:
    branch = repo.current_branch()
    if branch is None:
        raise UsageError(
            "HEAD is detached, not on a release branch",
            hint="check out one of: " + ", ".join(config.release_branches),
        )
    # Entries may be globs (`release/*`) so maintenance branches need no config change.
    if not is_release_branch(branch, config.release_branches):
        raise UsageError(
            f"branch {branch!r} is not a release branch "
            f"(release_branches: {', '.join(config.release_branches)})",
            hint="check out a release branch or add this one to release_branches",
        )
    return branch


def _check_clean(repo: GitRepo, dist_dir: str) -> None:
    # relkit's own output (a local `release --forge none`) is not the maintainer's change.
    dist = PurePosixPath(dist_dir.replace("\\", "/"))
    outputs = None if dist.is_absolute() or str(dist) in (".", "") else f"{dist}/"
    dirty = [p for p in repo.dirty_paths() if not (outputs and f"{p}/".startswith(outputs))]
    if dirty:
        listed = ", ".join(dirty[:_MAX_LISTED])
        more = f" and {len(dirty) - _MAX_LISTED} more" if len(dirty) > _MAX_LISTED else ""
        raise UsageError(
            f"work tree has uncommitted changes: {listed}{more}",
            hint="commit or stash them first (a release is cut from a clean checkout)",
        )


def _check_remote(repo: GitRepo, remote: str, branch: str, tag: str) -> None:
    state = repo.remote_state(remote, branch, tag)
    if state.has_tag:
        raise UsageError(
            f"tag {tag} already exists on {remote}",
            hint="pick another version, or `git fetch --tags` to see the release",
        )
    if state.branch_sha is not None and not repo.contains(state.branch_sha):
        raise UsageError(
            f"branch {branch} is behind {remote}/{branch} "
            f"({remote} is at {state.branch_sha[:7]}, which HEAD does not contain)",
            hint=f"git pull --rebase {remote} {branch}, then run relkit cut again",
        )


def choose_version(
    root: Path | HistorySnapshot, config: RelkitConfig, options: CutOptions
) -> tuple[Version, str, list[str]]:
    """The version to cut, the reason, and warnings (from --force).

    Raises `NothingToRelease` when no version is requested and no commit asks for one."""
    scope = scope_for(config, options.component)
    requested: Version | None = None
    if options.version is not None:
        if options.pre:
            raise UsageError(
                "give either VERSION or --pre, not both",
                hint="e.g. `relkit cut 1.3.0-rc.1` or `relkit cut --pre rc`",
            )
        # Accept the tag too (`v1.2.0`, `api/v1.2.0`), not only the bare version.
        requested = scope.tag_format.parse(options.version) or Version.parse(options.version)
        if requested.build:
            raise UsageError(
                f"version {requested} has build metadata",
                hint="release versions carry no +build part",
            )
    computed, _commits = compute_next_version(
        root, config, component=options.component, pre=options.pre
    )
    decision = computed.decision
    since = f"since {computed.previous}" if computed.previous else "in the whole history"
    if decision.releasable:
        first = decision.reasons[0]
        others = len(decision.reasons) - 1
        more = f" and {others} more" if others else ""
        reason = (
            f"{decision.level.label} bump {since}, "
            f"required by {first.short_sha} ({first.header}){more}"
        )
    else:
        reason = f"no releasable commit {since}"
    if requested is None:
        if computed.version is None:
            raise NothingToRelease(
                f"nothing to release: {reason}",
                hint="feat/fix/perf commits or breaking changes make a release",
            )
        return computed.version, reason, []
    released = [tag.version for tag in release_tags(root, scope)]
    warnings = check_requested_version(requested, computed, released, force=options.force)
    computed_text = f"computed {computed.version}" if computed.version else "none computed"
    return requested, f"requested ({computed_text}; {reason})", warnings


# -- plan --------------------------------------------------------------------------------


def _version_files(config: RelkitConfig, component: str | None) -> list[VersionFile]:
    if component is None:
        return list(config.version_files)
    return list(config.component(component).version_files)


def _read_optional(root: Path, name: str) -> str | None:
    # Through the path rule: a changelog linked to a file outside the repository is refused.
    data = read_inside(root, name, key="changelog file")
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise RelkitError(f"{Path(name).name} is not UTF-8 text") from None


def plan_file_changes(
    repo: Path | HistorySnapshot, config: RelkitConfig, component: str | None, version: Version
) -> tuple[FileChange, ...]:
    """The changelog and version-file changes that release HEAD as `version` (changed only)."""
    history = snapshot_of(repo)
    root = history.root
    scope = scope_for(config, component)
    existing = _read_optional(root, scope.changelog_file)
    new_changelog = changelog_text(history, config, existing, component=component, upcoming=version)
    # Named as git sees it: an in-repository link is written (and committed) at its target.
    changelog_name = committed_path(root, scope.changelog_file, key="changelog file")
    changes = [FileChange(changelog_name, existing or "", new_changelog)]
    changes += plan_version_files(root, _version_files(config, component), version=str(version))
    return tuple(c for c in changes if c.changed)


def plan_cut(repo: GitRepo, config: RelkitConfig, options: CutOptions) -> CutPlan:
    """Check that a release can be cut at HEAD and compute everything it changes.

    Writes nothing, locally or remotely. Raises `UsageError` (exit 2) for a refusal and
    `NothingToRelease` (exit 3) when no commit asks for a release.
    """
    root = repo.root
    repo.ensure_repository()
    history = HistorySnapshot(root)  # one read of tags and history for the whole plan
    require_full_history(history, "cut a release")
    scope = scope_for(config, options.component)
    branch = _check_branch(repo, config)
    _check_clean(repo, config.dist_dir)
    version, reason, warnings = choose_version(history, config, options)
    tag = scope.tag_format.render(version)
    if repo.tag_exists_locally(tag):
        raise UsageError(
            f"tag {tag} already exists", hint="pick another version or delete the local tag"
        )
    has_remote = repo.has_remote(options.remote)
    if options.push and not has_remote:
        raise UsageError(
            f"remote {options.remote!r} is not configured",
            hint="add it, pass --remote NAME, or use --no-push",
        )
    if has_remote:
        _check_remote(repo, options.remote, branch, tag)

    changed = plan_file_changes(history, config, options.component, version)
    if not changed:
        raise UsageError(
            f"cutting {tag} would change no file",
            hint="its changelog section and version files are already written",
        )
    return CutPlan(
        version=version,
        tag=tag,
        branch=branch,
        base_sha=repo.head(),
        message=f"chore(release): {tag}",
        tag_message=f"Release {tag}",
        sign=repo.signs_tags(),
        changes=changed,
        remote=options.remote if options.push else None,
        reason=reason,
        warnings=tuple(warnings),
    )


# -- dry run -----------------------------------------------------------------------------


def unified_diff(change: FileChange) -> str:
    """`git diff`-style unified diff of one change (a new file diffs from /dev/null)."""
    old_name = f"a/{change.path}" if change.old else "/dev/null"
    lines = difflib.unified_diff(
        change.old.splitlines(keepends=True),
        change.new.splitlines(keepends=True),
        fromfile=old_name,
        tofile=f"b/{change.path}",
    )
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def render_dry_run(plan: CutPlan) -> str:
    """What `--dry-run` prints: the version, the diff of every file, the git commands."""
    lines = [f"relkit cut {plan.tag} (dry run: nothing was changed)", f"version: {plan.version}"]
    lines.append(f"reason: {plan.reason}")
    lines.extend(f"warning: {warning}" for warning in plan.warnings)
    text = "\n".join(lines) + "\n\n"
    text += "".join(unified_diff(change) for change in plan.changes)
    text += "\n" + "".join(shlex.join(["git", *args]) + "\n" for args in plan.commands())
    return text


# -- execute -----------------------------------------------------------------------------


def _restore(root: Path, changes: Sequence[FileChange]) -> None:
    for change in changes:
        if change.old:
            write_inside(root, change.path, change.old.encode("utf-8"), key="file")
        else:
            resolve_inside(root, change.path, key="file").unlink(missing_ok=True)


def execute_cut(repo: GitRepo, plan: CutPlan) -> CutResult:
    """Write, commit, tag and (unless `plan.remote is None`) push; roll back a failed push."""
    root = repo.root
    if repo.head() != plan.base_sha:
        raise RelkitError("HEAD moved since the release was planned", hint="run relkit cut again")
    write_changes(root, plan.changes)
    try:
        commit = repo.commit_paths(plan.paths, plan.message)
    except RelkitError:
        # E.g. a commit hook refused: leave index and work tree as they were (clean).
        repo.unstage(plan.paths)
        _restore(root, plan.changes)
        raise
    try:
        repo.create_tag(plan.tag, plan.tag_message, sign=plan.sign)
    except RelkitError as exc:
        repo.reset_to(plan.base_sha)
        raise RelkitError(
            f"{exc.message}; the release commit was rolled back",
            hint="fix the tag signing setup (or unset tag.gpgSign) and run relkit cut again",
        ) from None
    if plan.remote is None:
        return CutResult(plan, commit, pushed=False)

    result = repo.push_atomic(plan.remote, plan.branch, plan.tag)
    if result.ok:
        return CutResult(plan, commit, pushed=True)
    reason = push_error(result)
    _rollback_after_failed_push(repo, plan, reason)
    protected = any(
        word in (result.stderr + result.stdout).lower()
        for word in ("protected branch", "hook declined", "gh006", "gh013")
    )
    raise RelkitError(
        f"push to {plan.remote} failed: {reason}; nothing was pushed and the local tag "
        f"{plan.tag} and release commit were rolled back",
        hint=(
            f"{plan.branch} looks protected: open a release PR instead with relkit cut --pr"
            if protected
            else "fix the cause and run relkit cut again"
        ),
    )


def _rollback_after_failed_push(repo: GitRepo, plan: CutPlan, reason: str) -> None:
    try:
        repo.delete_tag(plan.tag)
        repo.reset_to(plan.base_sha)
    except RelkitError as exc:
        # Could not undo: say exactly where things stand and both ways forward.
        undo = f"git tag --delete {plan.tag} && git reset --keep {plan.base_sha[:12]}"
        raise RelkitError(
            f"push to {plan.remote} failed ({reason}) and rollback failed ({exc.message}); "
            f"the release commit and tag {plan.tag} exist only locally",
            hint=f"to finish: {plan.push_command} — or to undo: {undo}",
        ) from None
