"""`relkit cut --pr`: keep one release pull request up to date, for a protected base branch.

Where `relkit cut` commits and tags on the release branch itself, this computes the same
release from the base branch's tip and puts it on a branch of its own:

- branch `relkit/release` (`relkit/release-<component>`), ONE commit `chore(release): <tag>`
  on top of the base tip holding exactly the changelog and version-file changes `cut` would
  commit. The commit is built in a private index (the work tree is never touched) and pushed
  with a lease, or created through GitHub's Git Data API (`via_api`: GitHub signs it for an
  App installation token, GITHUB_TOKEN included);
- the PR titled like the commit, its body the release notes, what the tag will publish and
  how to change the version (a `Release-As: X.Y.Z` line above relkit's marker);
- every re-run recomputes all of it from the new tip and writes only what differs; with
  nothing to release, the PR is closed with a comment and the branch deleted.

Every step looks first and then acts, so a run killed anywhere is finished by the next one.
"""

from __future__ import annotations

import re

from relkit.adapters.git_history import HistorySnapshot
from relkit.adapters.git_repo import GitRepo, push_error
from relkit.adapters.github import GitHubApiError, GitHubClient, PullRequest
from relkit.core.config import RelkitConfig
from relkit.core.errors import NothingToRelease, RelkitError, UsageError
from relkit.core.markdown_text import Mentions, safe_inline
from relkit.core.model import Version
from relkit.core.records import record
from relkit.cut.prepare import (
    CutOptions,
    _check_branch,
    _check_clean,
    choose_version,
    plan_file_changes,
)
from relkit.cut.publish_summary import publish_lines
from relkit.cut.version_files import FileChange
from relkit.history.releases import plan_release, require_full_history, scope_for

__all__ = [
    "MARKER",
    "PrOutcome",
    "ReleasePrOptions",
    "ReleasePrPlan",
    "plan_release_pr",
    "release_as",
    "render_body",
    "sync_release_pr",
]

# Everything above this line in the PR body is the maintainer's (a `Release-As:` line);
# everything below is rewritten by every run. Commit text is escaped (`<!--` → `&lt;!--`,
# `core/markdown_text`), so it can never form this marker.
MARKER = "<!-- relkit:release-pr: everything below is rewritten by relkit -->"
MAX_BODY = 65536  # GitHub's limit on a PR body, in characters
_NOTES_SLOT = "\x00relkit-notes\x00"  # cannot occur in the fixed text around it
_RELEASE_AS = re.compile(r"^[ \t]*Release-As:[ \t]*(\S+)[ \t]*$", re.MULTILINE | re.IGNORECASE)


@record
class ReleasePrOptions:
    version: str | None = None  # requested on the command line (wins over Release-As)
    pre: str | None = None
    component: str | None = None
    force: bool = False
    remote: str = "origin"
    via_api: bool = False  # create the commit with the Git Data API instead of git push


@record
class ReleasePrPlan:
    """The release PR as it should be; `version` None: nothing to release (close it)."""

    base: str  # the base branch
    base_sha: str
    branch: str  # the release PR's head branch
    existing: PullRequest | None
    version: Version | None
    tag: str | None
    reason: str
    title: str
    body: str
    changes: tuple[FileChange, ...]
    warnings: tuple[str, ...] = ()
    requested_by: str | None = None  # "the command line" | "Release-As in #N"
    mentions: Mentions = "code"  # `changelog.mentions`: for the reason in the close comment


@record
class PrOutcome:
    action: str  # created | updated | unchanged | closed | nothing | already-in-base
    message: str
    number: int | None = None
    url: str | None = None
    commit: str | None = None
    pushed: bool = False
    signed: bool | None = None  # API commits: whether GitHub reports it verified


def release_as(body: str) -> str | None:
    """The version a maintainer asked for in the PR body (above relkit's marker only)."""
    maintainer_part = body.split(MARKER, 1)[0] if MARKER in body else ""
    found = _RELEASE_AS.findall(maintainer_part)
    return found[-1] if found else None


# -- plan ---------------------------------------------------------------------------------


def plan_release_pr(
    repo: GitRepo,
    config: RelkitConfig,
    options: ReleasePrOptions,
    client: GitHubClient,
    github_repo: str,
) -> ReleasePrPlan:
    """Check the checkout and compute the release PR. Writes nothing anywhere."""
    root = repo.root
    repo.ensure_repository()
    history = HistorySnapshot(root)  # one read of tags and history for the whole plan
    require_full_history(history, "open a release PR")
    base = _check_branch(repo, config)
    _check_clean(repo, config.dist_dir)
    head = repo.head()
    remote_base = repo.remote_ref(options.remote, f"refs/heads/{base}")
    if remote_base != head:
        where = remote_base[:7] if remote_base else "missing"
        raise UsageError(
            f"HEAD ({head[:7]}) is not the tip of {options.remote}/{base} ({where})",
            hint="a release PR is computed from the pushed tip: check it out and run again",
        )
    branch = config.release_pr.branch_for(options.component)
    existing = client.find_open_pull(github_repo, branch, base)
    requested, requested_by = options.version, "the command line" if options.version else None
    if requested is None and existing is not None:
        requested = release_as(existing.body)
        requested_by = f"Release-As in #{existing.number}" if requested else None
    cut_options = CutOptions(
        version=requested, pre=options.pre, component=options.component, force=options.force
    )
    try:
        version, reason, warnings = choose_version(history, config, cut_options)
    except NothingToRelease as exc:
        return ReleasePrPlan(
            base, head, branch, existing, None, None, exc.message, "", "", (),
            mentions=config.changelog.mentions,
        )  # fmt: skip
    except UsageError as exc:
        if requested_by is None or requested_by == "the command line":
            raise
        raise UsageError(
            f"{requested_by} asks for {requested}: {exc.message}",
            hint="edit or remove the Release-As line at the top of the PR description",
        ) from None
    scope = scope_for(config, options.component)
    tag = scope.tag_format.render(version)
    if repo.remote_state(options.remote, base, tag).has_tag:
        raise UsageError(
            f"tag {tag} already exists on {options.remote}",
            hint="fetch the tags (fetch-depth: 0) or ask for another version with Release-As",
        )
    changes = plan_file_changes(history, config, options.component, version)
    title = f"chore(release): {tag}"
    body = render_body(
        root_notes=plan_release(
            history, config, version=version, component=options.component
        ).notes,
        config=config,
        component=options.component,
        version=version,
        tag=tag,
        reason=reason,
        release_as_line=requested if requested_by and requested_by != "the command line" else None,
    )
    return ReleasePrPlan(
        base,
        head,
        branch,
        existing,
        version,
        tag,
        reason,
        title,
        body,
        changes,
        tuple(warnings),
        requested_by,
        config.changelog.mentions,
    )


def render_body(
    *,
    root_notes: str,
    config: RelkitConfig,
    component: str | None,
    version: Version,
    tag: str,
    reason: str,
    release_as_line: str | None,
) -> str:
    publishes = publish_lines(config, component, version) or ["- a tag only (nothing configured)"]
    lines = [
        *([f"Release-As: {release_as_line}", ""] if release_as_line else []),
        MARKER,
        f"## {tag}",
        "",
        f"Merging this PR (merge, squash or rebase) releases **{tag}**: "
        f"`relkit tag` then tags the merged commit and the tag's workflow publishes it.",
        "",
        # The reason quotes a commit header: escaped here, once, like every field of the notes.
        f"Why {version}: {safe_inline(reason, config.changelog.mentions)}.",
        "",
        "### Release notes",
        "",
        _NOTES_SLOT,
        "",
        "### What the tag will publish",
        "",
        *publishes,
        "",
        "### Changing the version",
        "",
        "Put a line `Release-As: X.Y.Z` at the very top of this description, above relkit's "
        "hidden marker; the next run (every push to the base branch, or a re-run of the "
        "workflow) rebuilds this PR for that version. It must be at least what the commits "
        "require. Edits below the marker are overwritten.",
        "",
    ]
    text = "\n".join(lines)
    # The notes' commit text was escaped field by field when they were rendered (the same
    # notes the GitHub Release gets): escaping them again would show its escapes.
    notes = root_notes.strip() or "_no notes_"
    room = MAX_BODY - len(text) + len(_NOTES_SLOT)
    if len(notes) > room:
        # GitHub refuses a PR body over 65,536 characters (422): the full notes are in the
        # changelog on the branch.
        tail = "\n\n… (cut to fit GitHub's limit: the full notes are in the changelog)"
        notes = notes[: max(room - len(tail), 0)].rsplit("\n", 1)[0] + tail
    return text.replace(_NOTES_SLOT, notes, 1)


# -- act ----------------------------------------------------------------------------------


def sync_release_pr(
    repo: GitRepo,
    plan: ReleasePrPlan,
    options: ReleasePrOptions,
    client: GitHubClient,
    github_repo: str,
) -> PrOutcome:
    """Make the release branch and PR match `plan`; only what differs is written."""
    if plan.version is None:
        return _close(repo, plan, options, client, github_repo)
    if not plan.changes:
        # The tip already holds this release's commit (the PR was merged, `relkit tag` has
        # not run yet): opening another PR for the same version would be wrong.
        return PrOutcome(
            "already-in-base",
            f"{plan.base} already holds the release commit of {plan.tag}: run relkit tag",
        )
    commit, pushed, signed = _update_branch(repo, plan, options, client, github_repo)
    pr, action = _upsert_pull(plan, client, github_repo)
    if action == "unchanged" and pushed:
        action = "updated"  # rebased onto the new tip, same title and body
    verb = {"created": "opened", "updated": "updated", "unchanged": "unchanged"}[action]
    return PrOutcome(
        action,
        f"release PR #{pr.number} {verb}: {plan.title}",
        number=pr.number,
        url=pr.url,
        commit=commit,
        pushed=pushed,
        signed=signed,
    )


def _update_branch(
    repo: GitRepo,
    plan: ReleasePrPlan,
    options: ReleasePrOptions,
    client: GitHubClient,
    github_repo: str,
) -> tuple[str, bool, bool | None]:
    files = {change.path: change.new for change in plan.changes}
    tree = repo.write_tree(plan.base_sha, files)
    current = repo.remote_ref(options.remote, f"refs/heads/{plan.branch}")
    if current is not None:
        repo.fetch_ref(options.remote, f"refs/heads/{plan.branch}")
        if repo.commit_parts(current) == (tree, (plan.base_sha,), plan.title):
            return current, False, None  # already exactly this commit: write nothing
    if options.via_api:
        return _commit_via_api(plan, files, current, client, github_repo)
    commit = repo.commit_tree(tree, plan.base_sha, plan.title, sign=repo.signs_commits())
    result = repo.push_with_lease(options.remote, commit, plan.branch, expected=current)
    if not result.ok:
        raise RelkitError(
            f"push of {plan.branch} to {options.remote} failed: {push_error(result)}",
            hint="another run moved the branch meanwhile: run relkit cut --pr again",
        )
    return commit, True, None


def _commit_via_api(
    plan: ReleasePrPlan,
    files: dict[str, str],
    current: str | None,
    client: GitHubClient,
    github_repo: str,
) -> tuple[str, bool, bool | None]:
    # The blobs, the tree on the base commit's tree, then a commit with no author, committer
    # or signature: the only shape GitHub signs for an App installation token.
    blobs = {
        path: client.create_blob(github_repo, text.encode("utf-8")) for path, text in files.items()
    }
    base_tree = client.get_commit(github_repo, plan.base_sha).tree
    tree = client.create_tree(github_repo, base_tree, blobs)
    commit = client.create_commit(
        github_repo, message=plan.title, tree=tree, parents=[plan.base_sha]
    )
    ref = f"heads/{plan.branch}"
    now = client.get_ref(github_repo, ref)
    if now != current:
        # The API has no compare-and-swap for a forced update: compare right before it.
        raise RelkitError(
            f"{plan.branch} moved on GitHub while relkit built the release commit",
            hint="run relkit cut --pr again",
        )
    if current is None:
        client.create_ref(github_repo, ref, commit.sha)
    else:
        client.update_ref(github_repo, ref, commit.sha, force=True)
    return commit.sha, True, commit.verified


def _upsert_pull(
    plan: ReleasePrPlan, client: GitHubClient, github_repo: str
) -> tuple[PullRequest, str]:
    pr = plan.existing or client.find_open_pull(github_repo, plan.branch, plan.base)
    if pr is None:
        try:
            created = client.create_pull(
                github_repo,
                head_branch=plan.branch,
                base=plan.base,
                title=plan.title,
                body=plan.body,
            )
        except GitHubApiError as exc:
            # A concurrent run opened it between our look and this create: use that one.
            found = client.find_open_pull(github_repo, plan.branch, plan.base)
            if exc.status != 422 or found is None:
                raise
            pr = found
        else:
            return created, "created"
    if pr.title == plan.title and pr.body == plan.body:
        return pr, "unchanged"
    return client.update_pull(github_repo, pr.number, title=plan.title, body=plan.body), "updated"


def _close(
    repo: GitRepo,
    plan: ReleasePrPlan,
    options: ReleasePrOptions,
    client: GitHubClient,
    github_repo: str,
) -> PrOutcome:
    pr = plan.existing
    if pr is not None:
        comment = (
            f"relkit closed this release PR: {safe_inline(plan.reason, plan.mentions)}. "
            "A new one opens with the next releasable commit."
        )
        client.close_pull(github_repo, pr.number, comment=comment)
    current = repo.remote_ref(options.remote, f"refs/heads/{plan.branch}")
    if current is not None:
        result = repo.delete_remote_branch(options.remote, plan.branch, expected=current)
        if not result.ok:
            raise RelkitError(
                f"deleting {plan.branch} on {options.remote} failed: {push_error(result)}",
                hint="run relkit cut --pr again",
            )
    if pr is not None:
        return PrOutcome(
            "closed",
            f"{plan.reason}: release PR #{pr.number} closed and {plan.branch} deleted",
            number=pr.number,
            url=pr.url,
        )
    return PrOutcome("nothing", plan.reason)
