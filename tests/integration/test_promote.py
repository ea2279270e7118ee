"""The promotion step against a real bare GitOps repository (and the fake GitHub for PRs)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from relkit.config import PromoteConfig, PromoteEdit
from relkit.errors import RelkitError
from relkit.model import Artifact, ImagePin, ReleasePlan, StepOutcome, StepRecord, Version
from relkit.steps.promote import PullRequests, describe_promotion, promote
from tests.fixtures.gitrepo import BuiltRepo, build_repo, git_env

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "promote"
TOKEN = "gho_gitopsSECRETtoken0123456789abcdef"

VALUES = """\
# Staging values for the acme app (Helm).
replicaCount: 1  # staging runs one pod

image:
  repository: localhost:5000/acme/web
  tag: "1.1.0"  # kept in sync by relkit
  digest: sha256:1111111111111111111111111111111111111111111111111111111111111111
  pullPolicy: IfNotPresent

resources: {}
"""

KUSTOMIZATION = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: acme-staging
resources:
  - ../base
images:
  # The worker is pinned by digest.
  - name: localhost:5000/acme/worker
    digest: sha256:2222222222222222222222222222222222222222222222222222222222222222
"""


def digest(char: str) -> str:
    return "sha256:" + char * 64


def make_plan(version: str, web: str, worker: str) -> ReleasePlan:
    return ReleasePlan(
        version=Version.parse(version),
        tag=f"v{version}",
        commit="89abcdef0123456789abcdef0123456789abcdef",
        committed_at=datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC),
        previous_tag="v1.1.0",
        notes=f"## {version}\n\n### Features\n\n- **api:** paginate the orders list\n",
        repository="acme/app",
        images=(
            ImagePin(f"localhost:5000/acme/web:{version}", web),
            ImagePin(f"localhost:5000/acme/worker:{version}", worker),
        ),
    )


PLAN_120 = make_plan("1.2.0", digest("a"), digest("b"))
PLAN_130 = make_plan("1.3.0", digest("c"), digest("d"))


def config_for(url: str, **overrides: object) -> PromoteConfig:
    settings: dict[str, object] = {
        "repository": "acme/gitops",
        "url": url,
        "labels": ["promotion", "staging"],
        "reviewers": ["alice", "bob"],
        "edits": [
            PromoteEdit(file="staging/values.yaml", key="image.digest", value="{digest:web}"),
            PromoteEdit(file="staging/values.yaml", key="image.tag", value="{version}"),
            PromoteEdit(
                file="staging/kustomization.yaml",
                kind="kustomize",
                image="localhost:5000/acme/worker",
                value="{digest:worker}",
            ),
        ],
    }
    settings.update(overrides)
    return PromoteConfig.model_validate(settings)


@pytest.fixture
def gitops(tmp_path: Path) -> BuiltRepo:
    spec = [
        {
            "commit": "chore: staging at 1.1.0",
            "files": {"staging/values.yaml": VALUES, "staging/kustomization.yaml": KUSTOMIZATION},
        }
    ]
    return build_repo(spec, tmp_path / "gitops-src", bare_remote=True)


def remote_git(repo: BuiltRepo, *args: str) -> str:
    assert repo.remote is not None
    done = subprocess.run(
        ["git", "--git-dir", str(repo.remote), *args],
        env=git_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def remote_file(repo: BuiltRepo, ref: str, path: str) -> str:
    return remote_git(repo, "show", f"{ref}:{path}")


def remote_branches(repo: BuiltRepo) -> list[str]:
    return remote_git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads").split()


def merge_into_main(repo: BuiltRepo, branch: str) -> None:
    """What a reviewer merging the PR does (fast-forward: the branch starts at main)."""
    sha = remote_git(repo, "rev-parse", f"refs/heads/{branch}").strip()
    remote_git(repo, "update-ref", "refs/heads/main", sha)


Runner = Callable[..., StepRecord]


@pytest.fixture
def run(tmp_path: Path) -> Runner:
    counter = iter(range(100))

    def run_promote(
        plan: ReleasePlan,
        config: PromoteConfig,
        github: PullRequests | None = None,
        *,
        allow_downgrade: bool = False,
        env: dict[str, str] | None = None,
    ) -> StepRecord:
        return promote(
            plan,
            config,
            github=github,
            workdir=tmp_path / f"work{next(counter)}",
            chart_version="0.4.0",
            release_url=f"https://github.com/acme/app/releases/tag/{plan.tag}",
            allow_downgrade=allow_downgrade,
            env=env if env is not None else git_env({"RELKIT_GITOPS_TOKEN": TOKEN}),
            artifacts=(
                Artifact(
                    "chart", "app-0.4.0.tgz", reference="oci://localhost:5000/charts/app:0.4.0"
                ),
                Artifact("bundle", f"app-{plan.version}.tar.gz"),
                Artifact("sigstore-bundle", f"app-{plan.version}.tar.gz.sigstore.json"),
            ),
        )

    return run_promote


# -- --forge none: the branch only ---------------------------------------------------------


def test_forge_none_pushes_the_branch_with_exact_content(gitops: BuiltRepo, run: Runner) -> None:
    record = run(PLAN_120, config_for(str(gitops.remote)))
    branch = "relkit/promote-staging-1.2.0"
    assert record.outcome is StepOutcome.DONE
    assert record.detail.startswith(f"pushed branch {branch} on ")
    assert record.artifacts[0].kind == "branch" and record.artifacts[0].name == branch
    assert sorted(remote_branches(gitops)) == ["main", branch]
    values = remote_file(gitops, branch, "staging/values.yaml")
    kustomization = remote_file(gitops, branch, "staging/kustomization.yaml")
    assert values == (GOLDEN / "values.yaml").read_text()
    assert kustomization == (GOLDEN / "kustomization.yaml").read_text()
    # main is untouched: the change waits for review.
    assert remote_file(gitops, "main", "staging/values.yaml") == VALUES
    log = remote_git(gitops, "log", "-1", "--format=%an <%ae>%n%s%n%b", branch)
    assert log.startswith(
        "relkit <relkit@users.noreply.github.com>\nchore(staging): promote app to v1.2.0\n"
    )
    assert f"- staging/values.yaml: image.digest: {digest('1')} -> {digest('a')}" in log
    assert remote_git(gitops, "rev-parse", f"{branch}^").strip() == gitops.head


def test_forge_none_rerun_changes_nothing(gitops: BuiltRepo, run: Runner) -> None:
    config = config_for(str(gitops.remote))
    run(PLAN_120, config)
    before = remote_git(gitops, "rev-parse", "refs/heads/relkit/promote-staging-1.2.0")
    again = run(PLAN_120, config)
    assert again.outcome is StepOutcome.ALREADY_DONE
    assert again.detail.endswith("already up to date")
    assert remote_git(gitops, "rev-parse", "refs/heads/relkit/promote-staging-1.2.0") == before


def test_already_promoted_after_merge(gitops: BuiltRepo, run: Runner) -> None:
    config = config_for(str(gitops.remote))
    run(PLAN_120, config)
    merge_into_main(gitops, "relkit/promote-staging-1.2.0")
    record = run(PLAN_120, config)
    assert (record.outcome, record.detail) == (StepOutcome.ALREADY_DONE, "already promoted")


def test_downgrade_refused_then_allowed(gitops: BuiltRepo, run: Runner) -> None:
    config = config_for(str(gitops.remote))
    run(PLAN_130, config)
    merge_into_main(gitops, "relkit/promote-staging-1.3.0")
    with pytest.raises(RelkitError, match=r"staging is at 1\.3\.0, newer than 1\.2\.0") as info:
        run(PLAN_120, config)
    assert info.value.hint == "pass --allow-downgrade to roll back on purpose"
    assert "relkit/promote-staging-1.2.0" not in remote_branches(gitops)
    record = run(PLAN_120, config, allow_downgrade=True)
    assert record.outcome is StepOutcome.DONE
    assert 'tag: "1.2.0"' in remote_file(
        gitops, "relkit/promote-staging-1.2.0", "staging/values.yaml"
    )


def test_downgrade_detected_from_marker_with_digest_only_edits(
    gitops: BuiltRepo, run: Runner
) -> None:
    # No edit carries the version: the relkit.dev/version marker is what tells.
    config = config_for(str(gitops.remote), edits=[config_for("x").edits[0]])
    run(PLAN_130, config)
    merge_into_main(gitops, "relkit/promote-staging-1.3.0")
    with pytest.raises(RelkitError, match="refusing to downgrade"):
        run(PLAN_120, config)


def test_missing_file_names_it(gitops: BuiltRepo, run: Runner) -> None:
    config = config_for(
        str(gitops.remote),
        edits=[PromoteEdit(file="prod/values.yaml", key="image.digest", value="{digest:web}")],
    )
    with pytest.raises(RelkitError, match=r"prod/values\.yaml does not exist"):
        run(PLAN_120, config)


def test_describe_promotion_lists_every_action(gitops: BuiltRepo) -> None:
    lines = describe_promotion(
        PLAN_120, config_for(str(gitops.remote)), forge="github", chart_version="0.4.0", env={}
    )
    assert lines == [
        f"clone {gitops.remote} (branch main, depth 1)",
        f"set staging/values.yaml: image.digest = {digest('a')}",
        "set staging/values.yaml: image.tag = 1.2.0",
        "set staging/kustomization.yaml: images[name=localhost:5000/acme/worker].digest"
        f" = {digest('b')}",
        "push branch relkit/promote-staging-1.2.0 (only if its content differs)",
        "open or update the PR relkit/promote-staging-1.2.0 -> main in acme/gitops"
        " with labels promotion, staging; reviewers alice, bob",
    ]
