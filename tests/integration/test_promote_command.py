"""`relkit promote ENV` end to end: real source and GitOps repositories, the real registry for
tag resolution, the fake GitHub for the PR."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from relkit.cli import main
from tests.fakes.github_server import FakeGitHub
from tests.fixtures.gitrepo import BuiltRepo, build_repo, git_env
from tests.fixtures.registry import RegistryServer, push_test_image
from tests.integration.test_promote import remote_branches, remote_file, remote_git

Maker = Callable[..., BuiltRepo]
TOKEN = "gho_gitopsSECRETtoken0123456789abcdef"

DEV_VALUES = """\
# Dev values (Helm).
image:
  repository: localhost:5000/acme/web
  digest: sha256:1111111111111111111111111111111111111111111111111111111111111111
"""


def digest(char: str) -> str:
    return "sha256:" + char * 64


def _config(gitops_url: str, api_url: str = "http://127.0.0.1:1") -> str:
    return f"""\
tag_format = "v{{version}}"

[github]
repository = "acme/shop"
api_url = "{api_url}"

[promote]
repository = "acme/gitops"
url = "{gitops_url}"
labels = ["promotion"]

[[promote.edits]]
file = "staging/values.yaml"
key = "image.digest"
value = "{{digest:web}}"

[[promote.environments]]
name = "dev"
branch = "relkit/promote-dev"
labels = ["dev-bump"]
reviewers = ["carol"]

[[promote.environments.edits]]
file = "dev/values.yaml"
key = "image.digest"
value = "{{digest:web}}"
"""


@pytest.fixture
def gitops(tmp_path: Path) -> BuiltRepo:
    spec = [
        {
            "commit": "chore: environments",
            "files": {"dev/values.yaml": DEV_VALUES, "staging/values.yaml": DEV_VALUES},
        }
    ]
    return build_repo(spec, tmp_path / "gitops-src", bare_remote=True)


@pytest.fixture
def source(make_repo: Maker, gitops: BuiltRepo) -> BuiltRepo:
    repo = make_repo(
        [
            {"commit": "feat: first", "id": "first"},
            {"tag": "v1.0.0", "annotated": True, "message": "v1.0.0"},
            {"commit": "fix: second", "id": "second"},
            {"commit": "feat: third", "id": "third"},
        ]
    )
    (repo.path / "relkit.toml").write_text(_config(str(gitops.remote)), encoding="utf-8")
    return repo


@pytest.fixture
def environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for key, value in git_env({"RELKIT_GITOPS_TOKEN": TOKEN}).items():
        monkeypatch.setenv(key, value)
    for key in ("GITHUB_SHA", "GITHUB_REPOSITORY", "GITHUB_ACTIONS", "GITHUB_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    outputs = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    return outputs


def _promote(repo: BuiltRepo, *args: str) -> int:
    return main(["-C", str(repo.path), "promote", *args])


def _outputs(path: Path) -> dict[str, str]:
    # Heredoc blocks (`key<<DELIM`, value lines, `DELIM`), as the runner reads them.
    lines = iter(path.read_text(encoding="utf-8").splitlines() if path.exists() else [])
    result = {}
    for line in lines:
        key, delimiter = line.split("<<", 1)
        value: list[str] = []
        for item in lines:
            if item == delimiter:
                break
            value.append(item)
        result[key] = "\n".join(value)
    path.unlink(missing_ok=True)
    return result


def test_dev_bump_pushes_the_branch_keyed_by_the_source_commit(
    source: BuiltRepo, gitops: BuiltRepo, environ: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = f"web=localhost:5000/acme/web@{digest('a')}"
    assert _promote(source, "dev", "--image", image, "--forge", "none") == 0
    assert "relkit: promote dev to 1.0.1-dev.3+g" in capsys.readouterr().out
    values = remote_file(gitops, "relkit/promote-dev", "dev/values.yaml")
    assert f"digest: {digest('a')}" in values
    sha = source.sha("third")
    assert values.startswith(f"# relkit.dev/version: 1.0.1-dev.3+g{sha[:12]}\n")
    # staging is another environment: untouched.
    assert remote_file(gitops, "main", "staging/values.yaml") == DEV_VALUES
    assert _outputs(environ) == {"pr_url": "", "branch": "relkit/promote-dev", "changed": "true"}
    log = remote_git(gitops, "log", "-1", "--format=%s", "relkit/promote-dev")
    assert log.startswith("chore(dev): promote shop to 1.0.1-dev.3+g")

    # Same digest again: nothing to do.
    assert _promote(source, "dev", "--image", image, "--forge", "none") == 0
    assert _outputs(environ)["changed"] == "false"


def test_an_image_from_an_older_commit_is_a_downgrade(
    source: BuiltRepo, gitops: BuiltRepo, environ: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    newer = f"web=localhost:5000/acme/web@{digest('c')}"
    assert _promote(source, "dev", "--image", newer, "--forge", "none") == 0
    head = remote_git(gitops, "rev-parse", "refs/heads/relkit/promote-dev").strip()
    remote_git(gitops, "update-ref", "refs/heads/main", head)  # the PR was merged
    capsys.readouterr()

    older = f"web=localhost:5000/acme/web@{digest('b')}"
    code = _promote(
        source, "dev", "--image", older, "--commit", source.sha("second"), "--forge", "none"
    )
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("relkit: error: promote: dev is at 1.0.1-dev.3+g")
    assert "newer than 1.0.1-dev.2+g" in err
    assert f"digest: {digest('c')}" in remote_file(gitops, "main", "dev/values.yaml")

    code = _promote(
        source,
        "dev",
        "--image",
        older,
        "--commit",
        source.sha("second"),
        "--forge",
        "none",
        "--allow-downgrade",
    )
    assert code == 0
    assert f"digest: {digest('b')}" in remote_file(gitops, "relkit/promote-dev", "dev/values.yaml")


def test_an_image_by_tag_is_resolved_in_the_real_registry(
    source: BuiltRepo,
    gitops: BuiltRepo,
    environ: Path,
    registry: RegistryServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pushed = push_test_image(registry.host, "acme/web", "sha-abc123")
    code = _promote(
        source,
        "dev",
        "--image",
        f"web={registry.host}/acme/web:sha-abc123",
        "--forge",
        "none",
        "--json",
    )
    assert code == 0
    document = json.loads(capsys.readouterr().out)
    assert document["images"] == [
        {"reference": f"{registry.host}/acme/web:sha-abc123", "digest": pushed}
    ]
    assert f"digest: {pushed}" in remote_file(gitops, "relkit/promote-dev", "dev/values.yaml")


def test_a_released_version_comes_from_its_run_record(
    source: BuiltRepo, gitops: BuiltRepo, environ: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record = {
        "version": "1.0.0",
        "tag": "v1.0.0",
        "complete": True,
        "images": [{"reference": "localhost:5000/acme/web:1.0.0", "digest": digest("e")}],
        "artifacts": [],
    }
    dist = source.path / "dist"
    dist.mkdir()
    (dist / "relkit-release.json").write_text(json.dumps(record), encoding="utf-8")
    assert _promote(source, "staging", "--version", "1.0.0", "--forge", "none") == 0
    assert "relkit: promote staging to v1.0.0" in capsys.readouterr().out
    values = remote_file(gitops, "relkit/promote-staging-1.0.0", "staging/values.yaml")
    assert values.startswith("# relkit.dev/version: 1.0.0\n")
    assert f"digest: {digest('e')}" in values


def test_dev_bump_opens_the_pr_with_the_environment_labels_and_reviewers(
    source: BuiltRepo,
    gitops: BuiltRepo,
    environ: Path,
    fake_github: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_github.create_repo("acme/gitops")
    (source.path / "relkit.toml").write_text(
        _config(str(gitops.remote), fake_github.api_url), encoding="utf-8"
    )
    monkeypatch.setenv("RELKIT_GITOPS_TOKEN", fake_github.token)
    image = f"web=localhost:5000/acme/web@{digest('a')}"
    assert _promote(source, "dev", "--image", image) == 0
    [pull] = fake_github.repo("acme/gitops").pulls
    assert (pull.head, pull.base, pull.labels, pull.requested_reviewers) == (
        "relkit/promote-dev",
        "main",
        ["dev-bump"],
        ["carol"],
    )
    assert pull.title.startswith("chore(dev): promote shop to 1.0.1-dev.3+g")
    outputs = _outputs(environ)
    assert outputs["pr_url"].endswith(f"/acme/gitops/pull/{pull.number}")
    assert outputs["changed"] == "true"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["prod", "--image", "web=x/web@" + "sha256:" + "a" * 64], "unknown environment 'prod'"),
        (["dev"], "nothing to promote"),
        (["dev", "--image", "web"], "--image 'web': expected NAME=REFERENCE"),
        (["dev", "--image", "web=x/web@sha256:zz"], "is not a sha256 digest"),
        (["dev", "--image", f"frontend=x/web@{'sha256:' + 'a' * 64}"], "would not find"),
        (["staging", "--version", "1.x"], "--version '1.x' is not a semantic version"),
    ],
)
def test_bad_input_is_one_line_and_exit_2_with_nothing_pushed(
    source: BuiltRepo,
    gitops: BuiltRepo,
    environ: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    assert _promote(source, *args, "--forge", "none") == 2
    err = capsys.readouterr().err
    assert err.startswith("relkit: error: ")
    assert message in err.splitlines()[0]
    assert remote_branches(gitops) == ["main"]
    assert TOKEN not in err


def test_the_action_runs_promote_with_one_image_per_line(
    source: BuiltRepo, gitops: BuiltRepo, environ: Path, tmp_path: Path
) -> None:
    """The composite action's own script, run by bash against the real relkit."""
    import os

    from tests.integration.test_check import run_action

    marker = tmp_path / "pwned"
    inputs = {
        **git_env({"RELKIT_GITOPS_TOKEN": TOKEN}),
        "PATH": os.environ["PATH"],
        "GITHUB_OUTPUT": str(environ),
        "INPUT_COMMAND": "promote",
        "INPUT_CONFIG": "",
        "INPUT_ENVIRONMENT": "dev",
        "INPUT_IMAGES": f"web=localhost:5000/acme/web@{digest('a')}\n\n",
        "INPUT_PROMOTE_VERSION": "",
        "INPUT_FORGE": "none",
        "INPUT_DRY_RUN": "false",
        "INPUT_ALLOW_DOWNGRADE": f"$(touch {marker})",
    }
    done = run_action(inputs, cwd=source.path, tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr + done.stdout
    assert "relkit: promote dev to 1.0.1-dev.3+g" in done.stdout
    assert f"digest: {digest('a')}" in remote_file(gitops, "relkit/promote-dev", "dev/values.yaml")
    assert _outputs(environ) == {"pr_url": "", "branch": "relkit/promote-dev", "changed": "true"}
    assert not marker.exists()


def test_a_released_version_without_a_record_takes_its_digests_from_the_registry(
    make_repo: Maker,
    gitops: BuiltRepo,
    environ: Path,
    registry: RegistryServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import shutil

    bundle = Path(__file__).resolve().parents[2] / "bundles" / "example"
    repo = make_repo(
        [
            {"commit": "feat: first"},
            {"tag": "v1.0.0", "annotated": True, "message": "v1.0.0"},
        ]
    )
    shutil.copytree(bundle, repo.path / "bundles" / "example")
    env_file = repo.path / "bundles" / "example" / ".env.example"
    env_file.write_text(f"REGISTRY={registry.host}\nVERSION=1.0.0\n", encoding="utf-8")
    config = _config(str(gitops.remote)) + (
        f'\n[[bundles]]\nname = "acme"\npath = "bundles/example"\n'
        f'images = ["{registry.host}/acme/web:{{version}}"]\n'
    )
    (repo.path / "relkit.toml").write_text(config, encoding="utf-8")
    web = push_test_image(registry.host, "acme/web", "1.0.0")
    push_test_image(registry.host, "acme/worker", "1.0.0")
    assert _promote(repo, "staging", "--version", "v1.0.0", "--forge", "none", "--json") == 0
    document = json.loads(capsys.readouterr().out)
    assert document["source"] == "the registry"
    assert {"reference": f"{registry.host}/acme/web:1.0.0", "digest": web} in document["images"]
    values = remote_file(gitops, "relkit/promote-staging-1.0.0", "staging/values.yaml")
    assert f"digest: {web}" in values
