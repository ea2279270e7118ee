"""The promotion step against a real bare GitOps repository (and the fake GitHub for PRs)."""

from __future__ import annotations

import base64
import os
import subprocess
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from relkit.adapters.git_repo import GitResult, subprocess_runner
from relkit.adapters.github import GitHubClient
from relkit.adapters.gitops_repo import GitOpsRepo
from relkit.core.config import GitHubConfig, PromoteConfig, PromoteEdit, RelkitConfig
from relkit.core.errors import RelkitError
from relkit.core.model import Artifact, ImagePin, ReleasePlan, StepOutcome, StepRecord, Version
from relkit.release.pipeline import PublishOptions, StepContext
from relkit.release.step_list import STEPS
from relkit.release.steps.promote import PullRequests, chart_version_of, describe_promotion, promote
from tests.fakes.github_server import FakeGitHub, FakeIssue
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


# -- token handling over a real smart-HTTP git server ----------------------------------------


class GitHttpServer:
    """`git http-backend` behind a loopback HTTP server that demands a token (Basic auth)."""

    def __init__(self, root: Path, token: str) -> None:
        self.root = root
        self.expected = "Basic " + base64.b64encode(f"x-access-token:{token}".encode()).decode()
        self.authorizations: list[str | None] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.serve(self)

            def do_POST(self) -> None:
                server.serve(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def serve(self, request: BaseHTTPRequestHandler) -> None:
        authorization = request.headers.get("Authorization")
        self.authorizations.append(authorization)
        if authorization != self.expected:
            request.send_response(401)
            request.send_header("WWW-Authenticate", 'Basic realm="gitops"')
            request.send_header("Content-Length", "0")
            request.end_headers()
            return
        path, _, query = request.path.partition("?")
        body = request.rfile.read(int(request.headers.get("Content-Length") or 0))
        env = git_env(
            {
                "PATH": os.environ["PATH"],
                "GIT_PROJECT_ROOT": str(self.root),
                "GIT_HTTP_EXPORT_ALL": "1",
                "PATH_INFO": path,
                "QUERY_STRING": query,
                "REQUEST_METHOD": request.command,
                "CONTENT_TYPE": request.headers.get("Content-Type", ""),
                "CONTENT_LENGTH": str(len(body)),
                "HTTP_CONTENT_ENCODING": request.headers.get("Content-Encoding", ""),
                "GIT_PROTOCOL": request.headers.get("Git-Protocol", ""),
                "REMOTE_USER": "x-access-token",  # enables receive-pack (push)
                "REMOTE_ADDR": "127.0.0.1",
            }
        )
        done = subprocess.run(
            ["git", "http-backend"], input=body, env=env, capture_output=True, check=False
        )
        head, _, payload = done.stdout.partition(b"\r\n\r\n")
        status = 200
        headers = []
        for line in head.decode().split("\r\n"):
            name, _, value = line.partition(": ")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                headers.append((name, value))
        request.send_response(status)
        for name, value in headers:
            request.send_header(name, value)
        request.send_header("Content-Length", str(len(payload)))
        request.end_headers()
        request.wfile.write(payload)

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def git_http(gitops: BuiltRepo) -> Iterator[GitHttpServer]:
    assert gitops.remote is not None
    server = GitHttpServer(gitops.remote.parent, TOKEN)
    try:
        yield server
    finally:
        server.stop()


def secret_forms(token: str) -> list[str]:
    return [token, base64.b64encode(f"x-access-token:{token}".encode()).decode()]


def test_https_token_goes_in_a_header_never_the_url_or_argv(
    gitops: BuiltRepo, git_http: GitHttpServer, run: Runner, capfd: pytest.CaptureFixture[str]
) -> None:
    assert gitops.remote is not None
    url = f"{git_http.url}/{gitops.remote.name}"
    # RELKIT_GITOPS_TOKEN wins over a GITHUB_TOKEN that may not reach the GitOps repository.
    env = git_env({"RELKIT_GITOPS_TOKEN": TOKEN, "GITHUB_TOKEN": "ghs_releaseRepoOnly"})
    record = run(PLAN_120, config_for(url), env=env)
    assert record.outcome is StepOutcome.DONE
    assert git_http.expected in git_http.authorizations  # the server did authenticate us
    assert "relkit/promote-staging-1.2.0" in remote_branches(gitops)
    out, err = capfd.readouterr()
    everything = f"{record}{out}{err}"
    for secret in secret_forms(TOKEN):
        assert secret not in everything


def test_github_token_is_the_fallback(
    gitops: BuiltRepo, git_http: GitHttpServer, run: Runner
) -> None:
    assert gitops.remote is not None
    record = run(
        PLAN_120,
        config_for(f"{git_http.url}/{gitops.remote.name}"),
        env=git_env({"GITHUB_TOKEN": TOKEN}),
    )
    assert record.outcome is StepOutcome.DONE


def test_rejected_token_error_never_shows_it(
    gitops: BuiltRepo, git_http: GitHttpServer, run: Runner, capfd: pytest.CaptureFixture[str]
) -> None:
    assert gitops.remote is not None
    wrong = "ghp_wrongSECRET0123456789"
    url = f"{git_http.url}/{gitops.remote.name}"
    with pytest.raises(RelkitError) as info:
        run(PLAN_120, config_for(url), env=git_env({"RELKIT_GITOPS_TOKEN": wrong}))
    message = str(info.value)
    assert message.startswith(
        f"gitops: cloning {url} (branch main) failed: the remote refused the credentials"
    )
    out, err = capfd.readouterr()
    for secret in secret_forms(wrong):
        assert secret not in f"{message}{out}{err}"
    # A token pasted into the URL itself is redacted too.
    leaky = url.replace("http://", f"http://x-access-token:{wrong}@")
    with pytest.raises(RelkitError) as leaked:
        run(PLAN_120, config_for(leaky), env=git_env({}))
    assert wrong not in str(leaked.value)
    assert "x-access-token:" not in str(leaked.value)


def test_git_command_lines_never_hold_the_token(
    gitops: BuiltRepo, git_http: GitHttpServer, tmp_path: Path
) -> None:
    assert gitops.remote is not None
    seen: list[list[str]] = []

    def recording(args: Sequence[str], cwd: Path, env: Mapping[str, str]) -> GitResult:
        seen.append(list(args))
        return subprocess_runner(args, cwd, env)

    repo = GitOpsRepo(
        f"{git_http.url}/{gitops.remote.name}",
        tmp_path / "clone",
        token=TOKEN,
        env=git_env({}),
        runner=recording,
    )
    repo.clone("main")
    repo.write("staging/values.yaml", VALUES.replace("1.1.0", "1.1.1"))
    repo.commit("relkit/x", ["staging/values.yaml"], "chore: x\n", date=PLAN_120.committed_at)
    remote = repo.remote_branch("relkit/x")
    repo.push(remote)
    assert repo.remote_branch("relkit/x").sha == repo.rev_parse("HEAD")
    assert len(seen) >= 6
    for args in seen:
        for secret in secret_forms(TOKEN):
            assert all(secret not in arg for arg in args)


# -- the promotion PR, against the fake GitHub ------------------------------------------------


@pytest.fixture
def github(fake_github: FakeGitHub) -> GitHubClient:
    fake_github.create_repo("acme/gitops")
    return GitHubClient(fake_github.token, api_url=fake_github.api_url, backoff_s=0.01)


def pulls(fake: FakeGitHub) -> list[FakeIssue]:
    return sorted(fake.repo("acme/gitops").pulls, key=lambda pull: pull.number)


def test_opens_one_pr_with_labels_reviewers_and_body(
    gitops: BuiltRepo, run: Runner, github: GitHubClient, fake_github: FakeGitHub
) -> None:
    record = run(PLAN_120, config_for(str(gitops.remote)), github)
    [pull] = pulls(fake_github)
    assert record.outcome is StepOutcome.DONE
    assert record.detail == f"opened PR #{pull.number}"
    assert record.artifacts == (
        Artifact(
            kind="pr",
            name=f"acme/gitops#{pull.number}",
            url=f"{fake_github.web_url}/acme/gitops/pull/{pull.number}",
        ),
    )
    assert (pull.head, pull.base, pull.state) == ("relkit/promote-staging-1.2.0", "main", "open")
    assert pull.title == "chore(staging): promote app to v1.2.0"
    assert pull.labels == ["promotion", "staging"]
    assert pull.requested_reviewers == ["alice", "bob"]
    if os.environ.get("RELKIT_WRITE_GOLDEN"):
        (GOLDEN / "pr_body.md").write_text(pull.body or "")
    assert pull.body == (GOLDEN / "pr_body.md").read_text()
    # The PR's branch holds exactly the promoted files.
    assert remote_file(gitops, pull.head, "staging/values.yaml") == (
        (GOLDEN / "values.yaml").read_text()
    )


def test_rerun_keeps_one_pr_and_changes_nothing(
    gitops: BuiltRepo, run: Runner, github: GitHubClient, fake_github: FakeGitHub
) -> None:
    config = config_for(str(gitops.remote))
    run(PLAN_120, config, github)
    branch_sha = remote_git(gitops, "rev-parse", "refs/heads/relkit/promote-staging-1.2.0")
    again = run(PLAN_120, config, github)
    [pull] = pulls(fake_github)
    assert again.outcome is StepOutcome.ALREADY_DONE
    assert again.detail == f"PR #{pull.number} already up to date"
    assert not fake_github.requests("PATCH", "*/pulls/*")
    assert len(fake_github.requests("POST", "*/pulls")) == 1
    assert remote_git(gitops, "rev-parse", "refs/heads/relkit/promote-staging-1.2.0") == branch_sha


def test_edited_pr_body_is_restored(
    gitops: BuiltRepo, run: Runner, github: GitHubClient, fake_github: FakeGitHub
) -> None:
    config = config_for(str(gitops.remote))
    run(PLAN_120, config, github)
    [pull] = pulls(fake_github)
    pull.body = "someone typed here"
    record = run(PLAN_120, config, github)
    assert (record.outcome, record.detail) == (StepOutcome.DONE, f"updated PR #{pull.number}")
    assert pulls(fake_github)[0].body == (GOLDEN / "pr_body.md").read_text()


def test_base_moved_pushes_the_branch_again(
    gitops: BuiltRepo, run: Runner, github: GitHubClient, fake_github: FakeGitHub
) -> None:
    config = config_for(str(gitops.remote))
    run(PLAN_120, config, github)
    # Someone changes another file on main: the promotion branch must be rebuilt on it.
    (gitops.path / "staging" / "README.md").write_text("Staging is promoted by relkit.\n")
    gitops.git("add", "staging/README.md")
    gitops.git("commit", "-q", "-m", "docs: explain staging")
    gitops.git("push", "-q", "origin", "main")
    record = run(PLAN_120, config, github)
    [pull] = pulls(fake_github)
    assert record.outcome is StepOutcome.DONE
    assert (
        record.detail
        == f"pushed relkit/promote-staging-1.2.0; PR #{pull.number} already up to date"
    )
    parent = remote_git(gitops, "rev-parse", "refs/heads/relkit/promote-staging-1.2.0^")
    assert parent == remote_git(gitops, "rev-parse", "refs/heads/main")
    readme = remote_file(gitops, "relkit/promote-staging-1.2.0", "staging/README.md")
    assert readme == "Staging is promoted by relkit.\n"


def test_already_promoted_opens_no_pr(
    gitops: BuiltRepo, run: Runner, github: GitHubClient, fake_github: FakeGitHub
) -> None:
    config = config_for(str(gitops.remote))
    run(PLAN_120, config)  # --forge none, then "merged" by hand
    merge_into_main(gitops, "relkit/promote-staging-1.2.0")
    record = run(PLAN_120, config, github)
    assert (record.outcome, record.detail) == (StepOutcome.ALREADY_DONE, "already promoted")
    assert pulls(fake_github) == []


def test_next_release_supersedes_the_open_pr(
    gitops: BuiltRepo, run: Runner, github: GitHubClient, fake_github: FakeGitHub
) -> None:
    config = config_for(str(gitops.remote))
    run(PLAN_120, config, github)
    record = run(PLAN_130, config, github)
    first, second = pulls(fake_github)
    assert record.detail == f"opened PR #{second.number}; closed superseded #{first.number}"
    assert (first.state, second.state) == ("closed", "open")
    assert [c["body"] for c in first.comments] == [
        f"Superseded by #{second.number} (v1.3.0), opened by relkit."
    ]
    assert second.head == "relkit/promote-staging-1.3.0"
    assert second.title == "chore(staging): promote app to v1.3.0"
    assert second.body is not None
    assert (
        f"Supersedes #{first.number} (relkit closes it with a pointer to this PR)." in second.body
    )
    # It moves staging from what main holds (1.1.0), not from the unmerged 1.2.0 PR.
    assert "| `staging/values.yaml` | `image.tag` | `1.1.0` | `1.3.0` |" in second.body
    values = remote_file(gitops, second.head, "staging/values.yaml")
    assert values == (GOLDEN / "values.yaml").read_text().replace("1.2.0", "1.3.0").replace(
        "a" * 64, "c" * 64
    )


def test_rerun_after_superseding_is_a_no_op(
    gitops: BuiltRepo, run: Runner, github: GitHubClient, fake_github: FakeGitHub
) -> None:
    config = config_for(str(gitops.remote))
    run(PLAN_120, config, github)
    run(PLAN_130, config, github)
    first, second = pulls(fake_github)
    body = second.body
    fake_github.calls.clear()

    again = run(PLAN_130, config, github)

    assert (again.outcome, again.detail) == (
        StepOutcome.ALREADY_DONE,
        f"PR #{second.number} already up to date",
    )
    assert [c for c in fake_github.calls if c.method != "GET"] == []
    assert second.body == body
    assert f"Supersedes #{first.number} (relkit closes it" in (second.body or "")
    assert len(first.comments) == 1


def test_rerun_completes_a_run_that_stopped_before_closing_the_superseded_pr(
    gitops: BuiltRepo, run: Runner, github: GitHubClient, fake_github: FakeGitHub
) -> None:
    config = config_for(str(gitops.remote))
    run(PLAN_120, config, github)
    fake_github.inject("500", "PATCH", "*/pulls/*", times=None)  # closing #1 fails for good
    with pytest.raises(RelkitError):
        run(PLAN_130, config, github)
    fake_github.clear_faults()
    record = run(PLAN_130, config, github)
    first, second = pulls(fake_github)
    assert (
        record.detail
        == f"PR #{second.number} already up to date; closed superseded #{first.number}"
    )
    assert (first.state, second.state) == ("closed", "open")
    assert len(fake_github.requests("POST", "*/pulls")) == 2  # 1.2.0's and 1.3.0's, once each


def test_labels_and_review_requests_are_sent_only_when_missing(
    gitops: BuiltRepo, run: Runner, github: GitHubClient, fake_github: FakeGitHub
) -> None:
    config = config_for(str(gitops.remote))
    run(PLAN_120, config, github)
    [pull] = pulls(fake_github)
    # alice reviews: GitHub fulfils her request (she leaves requested_reviewers).
    fake_github.repo("acme/gitops").submit_review(pull.number, "alice")
    assert pull.requested_reviewers == ["bob"]
    fake_github.calls.clear()

    again = run(PLAN_120, config, github)

    assert again.outcome is StepOutcome.ALREADY_DONE
    assert not fake_github.requests("POST", "*/labels")
    assert not fake_github.requests("POST", "*/requested_reviewers")
    assert pull.requested_reviewers == ["bob"]

    # A label removed by hand and a request withdrawn by hand are restored, nothing more.
    pull.labels.remove("staging")
    pull.requested_reviewers.remove("bob")
    fake_github.calls.clear()
    run(PLAN_120, config, github)
    assert [c.json() for c in fake_github.requests("POST", "*/labels")] == [{"labels": ["staging"]}]
    assert [c.json() for c in fake_github.requests("POST", "*/requested_reviewers")] == [
        {"reviewers": ["bob"]}
    ]


def test_fixed_branch_name_updates_the_same_pr(
    gitops: BuiltRepo, run: Runner, github: GitHubClient, fake_github: FakeGitHub
) -> None:
    config = config_for(str(gitops.remote), branch="relkit/promote-{environment}")
    run(PLAN_120, config, github)
    record = run(PLAN_130, config, github)
    [pull] = pulls(fake_github)
    assert (record.outcome, record.detail) == (StepOutcome.DONE, f"updated PR #{pull.number}")
    assert pull.title == "chore(staging): promote app to v1.3.0"
    assert pull.body is not None and "`1.3.0`" in pull.body and "Supersedes" not in pull.body
    assert 'tag: "1.3.0"' in remote_file(gitops, "relkit/promote-staging", "staging/values.yaml")


def test_downgrade_refused_with_github_opens_nothing(
    gitops: BuiltRepo, run: Runner, github: GitHubClient, fake_github: FakeGitHub
) -> None:
    config = config_for(str(gitops.remote))
    run(PLAN_130, config)
    merge_into_main(gitops, "relkit/promote-staging-1.3.0")
    with pytest.raises(RelkitError, match="refusing to downgrade"):
        run(PLAN_120, config, github)
    assert pulls(fake_github) == []
    record = run(PLAN_120, config, github, allow_downgrade=True)
    [pull] = pulls(fake_github)
    assert record.detail == f"opened PR #{pull.number}"
    assert pull.body is not None and "(currently 1.3.0)" in pull.body


def test_github_failure_then_rerun_completes(
    gitops: BuiltRepo, run: Runner, github: GitHubClient, fake_github: FakeGitHub
) -> None:
    # The branch is pushed, then opening the PR fails for good: a re-run opens it, once.
    config = config_for(str(gitops.remote))
    fake_github.inject("500", "POST", "*/pulls", times=None)
    with pytest.raises(RelkitError) as info:
        run(PLAN_120, config, github)
    assert TOKEN not in str(info.value) and fake_github.token not in str(info.value)
    assert pulls(fake_github) == []
    fake_github.clear_faults()
    record = run(PLAN_120, config, github)
    [pull] = pulls(fake_github)
    assert record.detail == f"opened PR #{pull.number}"
    assert pull.labels == ["promotion", "staging"]


# -- as a pipeline step --------------------------------------------------------------------------


def step_context(
    tmp_path: Path, config: RelkitConfig, forge: str, env: dict[str, str], *previous: StepRecord
) -> StepContext:
    return StepContext(
        plan=PLAN_120,
        config=config,
        root=tmp_path,
        dist_dir=tmp_path / "dist",
        work_dir=tmp_path / "work",
        options=PublishOptions(forge=forge),
        env=env,
        previous=previous,
    )


def test_release_pipeline_promote_step_uses_earlier_artifacts_and_gitops_token(
    gitops: BuiltRepo, tmp_path: Path, fake_github: FakeGitHub
) -> None:
    fake_github.create_repo("acme/gitops")
    config = RelkitConfig(
        promote=config_for(str(gitops.remote)),
        github=GitHubConfig(api_url=fake_github.api_url),
    )
    chart = StepRecord(
        "chart",
        StepOutcome.DONE,
        artifacts=(
            Artifact(
                "chart",
                "app",
                reference=f"oci://localhost:5000/charts/app:0.4.0_build.1@{digest('e')}",
            ),
        ),
    )
    release = StepRecord(
        "github-release",
        StepOutcome.DONE,
        artifacts=(Artifact("release", "v1.2.0", url="https://github.example/acme/app/v1.2.0"),),
    )
    # The GitOps token authenticates the PR calls; GITHUB_TOKEN is not even valid there.
    env = git_env({"RELKIT_GITOPS_TOKEN": fake_github.token, "GITHUB_TOKEN": "ghs_other"})
    [step] = [step for step in STEPS if step.name == "promote"]
    context = step_context(tmp_path, config, "github", env, chart, release)
    assert step.describe(context)[-1].startswith("open or update the PR")
    record = step.run(context)
    [pull] = pulls(fake_github)
    assert record.detail == f"opened PR #{pull.number}"
    assert pull.body is not None
    assert "- Release: https://github.example/acme/app/v1.2.0" in pull.body
    assert f"- Helm chart: `oci://localhost:5000/charts/app:0.4.0_build.1@{digest('e')}`" in (
        pull.body
    )
    assert chart_version_of(config, PLAN_120, chart.artifacts) == "0.4.0+build.1"
    forge_none = step.run(step_context(tmp_path, config, "none", env))
    assert forge_none.outcome is StepOutcome.ALREADY_DONE  # same branch content, no PR calls
    assert step.run(step_context(tmp_path, RelkitConfig(), "none", env)).outcome is (
        StepOutcome.SKIPPED
    )
