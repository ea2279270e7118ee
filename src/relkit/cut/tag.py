"""`relkit tag`: tag the merged release PR, on the commit it became (merge, squash or rebase).

Run on every push to the base branch. The release PR is found from GitHub's answer to
`GET /repos/{r}/commits/{sha}/pulls` for HEAD — a merged PR, from this repository, whose head
is a relkit release branch and whose merge commit is HEAD — never from the commit message,
which anyone can write. Then:

1. the version is the PR title's tag, checked against the commits (as `cut` checks a
   requested version) and against HEAD's files: the version files must hold it and the
   changelog must have its section (the notes may have been edited by hand: kept as they are);
2. the annotated (or signed) tag is created on HEAD, with git or through the API;
3. the PR is labelled `relkit: released`.

Anything else is a no-op. Each step looks first, so a re-run (or a run after a kill) only
finishes what is missing.
"""

from __future__ import annotations

from relkit.adapters.git_repo import GitRepo, push_error
from relkit.adapters.github import GitHubClient, PullRequest
from relkit.core.config import RelkitConfig
from relkit.core.errors import RelkitError, UsageError
from relkit.core.model import Version
from relkit.core.records import record
from relkit.cut.version_files import plan_version_files
from relkit.history.changelog import has_release
from relkit.history.releases import compute_next_version, release_tags, scope_for
from relkit.history.versioning import check_requested_version

__all__ = ["TagOptions", "TagOutcome", "find_release_pull", "tag_merged_release"]

_TITLE_PREFIX = "chore(release): "


@record
class TagOptions:
    remote: str = "origin"
    via_api: bool = False  # create the tag object and ref through the API instead of git


@record
class TagOutcome:
    action: str  # tagged | already-tagged | not-a-release
    message: str
    tag: str | None = None
    version: str | None = None
    sha: str | None = None
    pull: int | None = None
    component: str | None = None


def _release_branches(config: RelkitConfig) -> dict[str, str | None]:
    branches: dict[str, str | None] = {config.release_pr.branch_for(None): None}
    for component in config.components:
        branches[config.release_pr.branch_for(component.name)] = component.name
    return branches


def find_release_pull(
    client: GitHubClient, github_repo: str, config: RelkitConfig, sha: str
) -> tuple[PullRequest, str | None] | None:
    """The merged relkit release PR whose merge made `sha`, and its component."""
    branches = _release_branches(config)
    for pr in client.pulls_for_commit(github_repo, sha):
        same_repo = pr.head_repo is None or pr.head_repo.lower() == github_repo.lower()
        if pr.merged and pr.merge_commit_sha == sha and same_repo and pr.head_branch in branches:
            return pr, branches[pr.head_branch]
    return None


def tag_merged_release(
    repo: GitRepo,
    config: RelkitConfig,
    client: GitHubClient,
    github_repo: str,
    options: TagOptions,
) -> TagOutcome:
    repo.ensure_repository()
    sha = repo.head()
    found = find_release_pull(client, github_repo, config, sha)
    if found is None:
        return TagOutcome("not-a-release", f"{sha[:7]} is not a merged relkit release PR: no tag")
    pr, component = found
    scope = scope_for(config, component)
    tag = pr.title.removeprefix(_TITLE_PREFIX).strip()
    version = scope.tag_format.parse(tag) if pr.title.startswith(_TITLE_PREFIX) else None
    if version is None:
        raise UsageError(
            f"release PR #{pr.number} title {pr.title!r} names no {scope.tag_format.template} tag",
            hint="tag it by hand, or fix the title and re-run relkit tag",
        )
    existing = _existing_tag(repo, options.remote, tag)
    if existing is not None and existing != sha:
        raise UsageError(
            f"tag {tag} already exists on another commit ({existing[:7]}), not {sha[:7]}",
            hint="the version was released before: fix the release PR and merge again",
        )
    if existing is None:
        _verify(repo, config, component, version, tag, sha)
        _create_tag(repo, client, github_repo, options, tag, sha)
    label = config.release_pr.released_label
    if label.lower() not in (name.lower() for name in pr.labels):
        client.add_labels(github_repo, pr.number, [label])
    action = "tagged" if existing is None else "already-tagged"
    message = (
        f"tagged {tag} on {sha[:7]} (release PR #{pr.number})"
        if existing is None
        else f"{tag} is already tagged on {sha[:7]}: nothing to do"
    )
    return TagOutcome(action, message, tag, str(version), sha, pr.number, component)


def _existing_tag(repo: GitRepo, remote: str, tag: str) -> str | None:
    """The commit the remote's tag points at (peeled), or None."""
    out = repo.run("ls-remote", remote, f"refs/tags/{tag}", f"refs/tags/{tag}^{{}}").stdout
    found: dict[str, str] = {}
    for line in out.splitlines():
        sha, _, ref = line.partition("\t")
        found[ref] = sha
    return found.get(f"refs/tags/{tag}^{{}}") or found.get(f"refs/tags/{tag}")


def _verify(
    repo: GitRepo,
    config: RelkitConfig,
    component: str | None,
    version: Version,
    tag: str,
    sha: str,
) -> None:
    """HEAD's files hold `version` and the version is one the commits allow; one line if not."""
    root = repo.root
    scope = scope_for(config, component)
    computed, _commits = compute_next_version(root, config, component=component)
    released = [t.version for t in release_tags(root, scope)]
    try:
        check_requested_version(version, computed, released, force=False)
    except UsageError as exc:
        raise UsageError(
            f"refusing to tag {tag} on {sha[:7]}: {exc.message}",
            hint="fix the version in a new release PR (relkit cut --pr) and merge it",
        ) from None
    specs = config.version_files if component is None else config.component(component).version_files
    stale = [c.path for c in plan_version_files(root, list(specs), str(version)) if c.changed]
    if stale:
        raise UsageError(
            f"refusing to tag {tag} on {sha[:7]}: {', '.join(stale)} "
            f"{'does' if len(stale) == 1 else 'do'} not hold {version}",
            hint="the merged commit is not the release commit relkit computed for this version",
        )
    changelog = repo.show_file(sha, scope.changelog_file)
    if changelog is None or not has_release(changelog, version):
        raise UsageError(
            f"refusing to tag {tag} on {sha[:7]}: {scope.changelog_file} has no {version} section",
            hint="the merged commit is not the release commit relkit computed for this version",
        )


def _create_tag(
    repo: GitRepo,
    client: GitHubClient,
    github_repo: str,
    options: TagOptions,
    tag: str,
    sha: str,
) -> None:
    message = f"Release {tag}"
    if options.via_api:
        obj = client.create_tag_object(github_repo, tag=tag, message=message, sha=sha)
        client.create_ref(github_repo, f"tags/{tag}", obj)
        return
    local = repo.local_tag_target(tag)
    if local is not None and local != sha:
        raise UsageError(
            f"a local tag {tag} points at {local[:7]}, not {sha[:7]}",
            hint=f"delete it (git tag --delete {tag}) and run relkit tag again",
        )
    if local is None:  # a run killed after `git tag` left it: push that one
        repo.create_tag_at(tag, sha, message, sign=repo.signs_tags())
    result = repo.push_tag(options.remote, tag)
    if not result.ok:
        raise RelkitError(
            f"push of tag {tag} to {options.remote} failed: {push_error(result)}",
            hint="a ruleset may restrict tag creation: allow the workflow's token or use --via-api",
        )
