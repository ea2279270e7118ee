"""Promote: move the environment in the GitOps repository to exactly this release's values.

Clone the base branch shallowly, apply the configured edits, and then do only what is
missing: nothing when the environment already holds these values ("already promoted"); push
relkit's branch only when its content differs; update the PR for that branch when there is
one, open it otherwise. A newer release already promoted is never rolled back unless asked.

A re-run is a no-op (issue 12): the PRs an earlier run superseded are closed by now, so the
body keeps the ones it already names (`superseded_in`) instead of dropping its "Supersedes"
lines; labels and review requests are sent only for what the PR lacks, so a reviewer who
already reviewed is not asked again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

from relkit.adapters import git_history
from relkit.adapters.gitops_repo import GitOpsRepo, display_url, gitops_token
from relkit.core.config import PromoteConfig, RelkitConfig
from relkit.core.model import Artifact, ReleasePlan, StepOutcome, StepRecord, Version
from relkit.promote.body import render_pr_body, superseded_in
from relkit.promote.changes import check_downgrade, plan_promotion
from relkit.promote.edits import edit_location
from relkit.promote.naming import (
    branch_name,
    commit_message,
    repository_name,
    sibling_branches,
    title,
    version_of_branch,
)
from relkit.promote.values import ValueContext, render_value

__all__ = [
    "STEP_NAME",
    "PullRequestLike",
    "PullRequests",
    "app_name_of",
    "chart_version_of",
    "describe_promotion",
    "gitops_url",
    "promote",
]

STEP_NAME = "promote"
# Older promotion branches whose PRs a new one supersedes: only the most recent few are
# looked up (one API call each), old merged branches can pile up in a GitOps repository.
SUPERSEDE_LOOKBACK = 5


class PullRequestLike(Protocol):
    """What the step reads of a pull request (`relkit.adapters.github.PullRequest`)."""

    @property
    def number(self) -> int: ...
    @property
    def url(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def body(self) -> str: ...
    @property
    def labels(self) -> tuple[str, ...]: ...
    @property
    def requested_reviewers(self) -> tuple[str, ...]: ...


class PullRequests(Protocol):
    """The pull-request part of `relkit.adapters.github.GitHubClient` this step uses."""

    def find_open_pull(self, repo: str, head_branch: str, base: str) -> PullRequestLike | None: ...
    def create_pull(
        self, repo: str, *, head_branch: str, base: str, title: str, body: str, draft: bool = ...
    ) -> PullRequestLike: ...
    def update_pull(self, repo: str, number: int, *, title: str, body: str) -> PullRequestLike: ...
    def add_labels(self, repo: str, number: int, labels: list[str]) -> None: ...
    def request_reviewers(self, repo: str, number: int, reviewers: list[str]) -> None: ...
    def reviewed_by(self, repo: str, number: int) -> set[str]: ...
    def close_pull(
        self, repo: str, number: int, *, comment: str | None = ...
    ) -> PullRequestLike: ...


def gitops_url(config: PromoteConfig, env: Mapping[str, str]) -> str:
    """`promote.url`, else the repository on the GitHub server CI runs against."""
    if config.url:
        return config.url
    server = env.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
    return f"{server}/{config.repository}.git"


def promote(
    plan: ReleasePlan,
    config: PromoteConfig,
    *,
    github: PullRequests | None,
    workdir: Path,
    chart_version: str | None,
    release_url: str | None,
    allow_downgrade: bool,
    env: Mapping[str, str],
    artifacts: Sequence[Artifact] = (),
    template_dir: Path | None = None,
    app: str | None = None,
) -> StepRecord:
    """Run the promotion; `github=None` (`--forge none`) pushes the branch without a PR.

    `artifacts` are the earlier steps' records (chart, bundle, signatures): the PR body links
    them and says how to verify the bundle.
    """
    branch = branch_name(config, plan)
    url = gitops_url(config, env)
    repo = GitOpsRepo(url, workdir / "gitops", token=gitops_token(env, config.token_env), env=env)
    repo.clone(config.base)
    promotion = plan_promotion(config, ValueContext(plan, chart_version), repo.read)
    if not promotion.changed:
        return StepRecord(STEP_NAME, StepOutcome.ALREADY_DONE, "already promoted")
    check_downgrade(promotion, allow_downgrade)

    for change in promotion.files:
        repo.write(change.file, change.new_text)
    repo.commit(
        branch,
        [change.file for change in promotion.files],
        commit_message(promotion, plan, app),
        date=plan.committed_at,
    )
    remote = repo.remote_branch(branch)
    pushed = not repo.remote_tree_equals_head(remote)
    if pushed:
        repo.push(remote)

    if github is None:
        where = f"branch {branch} on {display_url(url)}"
        return StepRecord(
            STEP_NAME,
            StepOutcome.DONE if pushed else StepOutcome.ALREADY_DONE,
            f"pushed {where} (no PR: forge none)" if pushed else f"{where} already up to date",
            artifacts=(Artifact(kind="branch", name=branch, url=display_url(url)),),
        )

    existing = github.find_open_pull(config.repository, branch, config.base)
    superseded = _superseded_pulls(github, repo, config, plan, branch)
    supersedes = {pull.number: pull.url for pull in superseded}
    if existing is not None:
        # Closed by the run that opened this PR: still superseded, still named in the body.
        for number in superseded_in(existing.body):
            supersedes.setdefault(number, _sibling_url(existing.url, number))
    body = render_pr_body(
        promotion,
        plan,
        release_url=release_url,
        chart_version=chart_version,
        artifacts=artifacts,
        supersedes=sorted(supersedes.items()),
        template_dir=template_dir,
        app=app,
    )
    pull, pr_action = _open_or_update(
        github, config, branch, existing, title(promotion, plan, app), body
    )
    # Only what is missing: a run that failed between opening and labelling the PR is
    # completed, while a re-run does not ask a reviewer who already reviewed again.
    labels = _missing_labels(config.labels, pull.labels)
    if labels:
        github.add_labels(config.repository, pull.number, labels)
    reviewers = _missing_reviewers(github, config, pull, opened=pr_action == "opened")
    if reviewers:
        github.request_reviewers(config.repository, pull.number, reviewers)
    # The new PR replaces open promotions of older versions to this environment: close them,
    # pointing at the new one, so reviewers cannot merge a stale promotion by mistake.
    for stale in superseded:
        github.close_pull(
            config.repository,
            stale.number,
            comment=f"Superseded by #{pull.number} ({plan.tag}), opened by relkit.",
        )
    changed = pushed or pr_action != "unchanged" or bool(superseded)
    detail = {
        "opened": f"opened PR #{pull.number}",
        "updated": f"updated PR #{pull.number}",
        "unchanged": f"PR #{pull.number} already up to date",
    }[pr_action]
    if pushed and pr_action == "unchanged":
        detail = f"pushed {branch}; PR #{pull.number} already up to date"
    if superseded:
        detail += "; closed superseded " + ", ".join(f"#{stale.number}" for stale in superseded)
    return StepRecord(
        STEP_NAME,
        StepOutcome.DONE if changed else StepOutcome.ALREADY_DONE,
        detail,
        artifacts=(Artifact(kind="pr", name=f"{config.repository}#{pull.number}", url=pull.url),),
    )


def _superseded_pulls(
    github: PullRequests, repo: GitOpsRepo, config: PromoteConfig, plan: ReleasePlan, branch: str
) -> list[PullRequestLike]:
    """Open PRs promoting an older version to the same environment (the new PR replaces them)."""
    siblings = sibling_branches(config)
    if siblings is None:
        return []
    glob, pattern = siblings
    older: list[tuple[Version, str]] = []
    for other in repo.remote_branches(glob):
        version = version_of_branch(pattern, other)
        if other != branch and version is not None and version < plan.version:
            older.append((version, other))
    found = []
    for _, other in sorted(older, reverse=True)[:SUPERSEDE_LOOKBACK]:
        pull = github.find_open_pull(config.repository, other, config.base)
        if pull is not None:
            found.append(pull)
    return sorted(found, key=lambda pull: pull.number)


def _open_or_update(
    github: PullRequests,
    config: PromoteConfig,
    branch: str,
    existing: PullRequestLike | None,
    pr_title: str,
    body: str,
) -> tuple[PullRequestLike, str]:
    if existing is None:
        created = github.create_pull(
            config.repository, head_branch=branch, base=config.base, title=pr_title, body=body
        )
        return created, "opened"
    if existing.title == pr_title and existing.body == body:
        return existing, "unchanged"
    updated = github.update_pull(config.repository, existing.number, title=pr_title, body=body)
    return updated, "updated"


def _sibling_url(pull_url: str, number: int) -> str:
    """The web URL of PR `number` in the same repository as the PR at `pull_url`."""
    head, sep, _ = pull_url.rpartition("/")
    return f"{head}/{number}" if sep else pull_url


def _missing_labels(wanted: Sequence[str], present: Sequence[str]) -> list[str]:
    have = {label.lower() for label in present}  # GitHub label names are case-insensitive
    return [label for label in wanted if label.lower() not in have]


def _missing_reviewers(
    github: PullRequests, config: PromoteConfig, pull: PullRequestLike, *, opened: bool
) -> list[str]:
    if not config.reviewers or opened:
        return list(config.reviewers)
    asked = {login.lower() for login in pull.requested_reviewers}
    pending = [login for login in config.reviewers if login.lower() not in asked]
    if not pending:
        return []
    # GitHub removes a reviewer from the requests once they review: look at the reviews.
    reviewed = {login.lower() for login in github.reviewed_by(config.repository, pull.number)}
    return [login for login in pending if login.lower() not in reviewed]


def describe_promotion(
    plan: ReleasePlan,
    config: PromoteConfig,
    *,
    forge: str,
    chart_version: str | None,
    env: Mapping[str, str],
) -> list[str]:
    """What `promote` would do, for --dry-run (reads nothing remote)."""
    branch = branch_name(config, plan)
    url = display_url(gitops_url(config, env))
    lines = [f"clone {url} (branch {config.base}, depth 1)"]
    for index, edit in enumerate(config.edits):
        where = f"promote.edits[{index}].value"
        value = render_value(edit.value, ValueContext(plan, chart_version, where))
        lines.append(f"set {edit.file}: {edit_location(edit, value)} = {value}")
    lines.append(f"push branch {branch} (only if its content differs)")
    if forge == "none":
        lines.append("no PR (forge none)")
    else:
        extras = []
        if config.labels:
            extras.append("labels " + ", ".join(config.labels))
        if config.reviewers:
            extras.append("reviewers " + ", ".join(config.reviewers))
        suffix = f" with {'; '.join(extras)}" if extras else ""
        lines.append(
            f"open or update the PR {branch} -> {config.base} in {config.repository}{suffix}"
        )
    return lines


# -- helpers for the pipeline wiring (relkit.release.step_list) ----------------------------------


def app_name_of(root: Path, config: RelkitConfig) -> str | None:
    """The released repository's name from `repository_url`, else from the origin remote.

    Used in the promotion's title when there is no `github.repository` (issue 12: the title
    said "promote release to v0.2.0").
    """
    return repository_name(config.repository_url) or repository_name(git_history.remote_url(root))


def chart_version_of(
    config: RelkitConfig, plan: ReleasePlan, artifacts: Sequence[Artifact]
) -> str | None:
    """The chart version this release published.

    From the chart step's reference (`oci://host/charts/app:1.2.0@sha256:...`) when there is
    one, else the release version when the chart takes it (`charts[].set_version`).
    """
    for artifact in artifacts:
        if artifact.kind == "chart" and artifact.reference:
            name = artifact.reference.split("@", 1)[0]
            tag = name.rsplit(":", 1)[-1] if name.rfind(":") > name.rfind("/") else ""
            if tag:
                return tag.replace("_", "+")  # OCI tags cannot hold "+" (see steps.chart)
    if config.charts and config.charts[0].set_version:
        return str(plan.version)
    return None
