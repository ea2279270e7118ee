"""`relkit check` on real repositories: real git, Helm's real linter, the real local registry."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from relkit.cli import main
from tests.fixtures.gitrepo import BuiltRepo
from tests.fixtures.registry import RegistryServer, push_test_image

Maker = Callable[..., BuiltRepo]

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_BUNDLE = REPO_ROOT / "bundles" / "example"
EXAMPLE_CHART = REPO_ROOT / "tests" / "data" / "charts" / "example"

CONFIG = """\
tag_format = "v{version}"
[[charts]]
path = "charts/example"
registry = "oci://127.0.0.1:1/charts"

[[bundles]]
name = "acme"
path = "bundles/example"
images = ["REGISTRY/acme/web:{version}"]

[github]
repository = "acme/shop"

[promote]
repository = "acme/gitops"

[[promote.edits]]
file = "envs/staging/values.yaml"
key = "image.digest"
value = "{digest:web}"

[[components]]
name = "api"
paths = ["services/api"]
tag_prefix = "api/"

[[components]]
name = "web"
paths = ["services/web"]
tag_prefix = "web/"
"""


def _project(
    make_repo: Maker, commits: list[dict[str, Any]], registry: str = "127.0.0.1:1"
) -> BuiltRepo:
    repo = make_repo(
        [
            {"commit": "feat: first", "files": {"README.md": "shop\n"}},
            {"tag": "v1.0.0", "annotated": True, "message": "v1.0.0"},
            {"branch": "pr"},
            *commits,
        ]
    )
    shutil.copytree(EXAMPLE_CHART, repo.path / "charts" / "example")
    shutil.copytree(EXAMPLE_BUNDLE, repo.path / "bundles" / "example")
    env_example = repo.path / "bundles" / "example" / ".env.example"
    text = env_example.read_text(encoding="utf-8") if env_example.exists() else ""
    env_example.write_text(
        "\n".join(
            line for line in text.splitlines() if not line.startswith(("REGISTRY=", "VERSION="))
        )
        + f"\nREGISTRY={registry}\n",
        encoding="utf-8",
    )
    (repo.path / "relkit.toml").write_text(CONFIG.replace("REGISTRY", registry), encoding="utf-8")
    return repo


def _check(repo: BuiltRepo, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["-C", str(repo.path), "check", *args])
    return code, capsys.readouterr().out


def _json(
    repo: BuiltRepo, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, dict[str, Any]]:
    code, out = _check(repo, capsys, *args, "--json")
    return code, json.loads(out)


def _by_name(document: dict[str, Any], prefix: str) -> dict[str, Any]:
    return next(c for c in document["checks"] if c["name"].startswith(prefix))


def test_a_clean_pr_passes_every_check_and_says_the_bump(
    make_repo: Maker, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _project(make_repo, [{"commit": "feat(api): add search"}, {"commit": "fix: typo"}])
    code, out = _check(repo, capsys, "--range", "main..pr", "--title", "feat(api): search")
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0] == "ok    config: relkit.toml is valid"
    assert "ok    helm lint charts/example:" in out
    assert "ok    commits main..pr: 2 commit(s), all conventional; this releases as a minor" in out
    assert "ok    title: conventional; this releases as a minor (feat(api): search)" in out
    assert "ok    release plan: next release v1.1.0 (previous: v1.0.0)" in out
    assert (
        "ok    compose acme: compose.yaml: 1 image(s) pinnable (not looked up; --resolve does),"
        " 1 built by the release" in out
    )
    assert (
        "ok    release --dry-run: v1.1.0: chart, bundle, attest, release, promote described" in out
    )
    assert lines[-1] == "relkit: 7 checks, 0 failed"


def test_a_non_conventional_commit_fails_with_what_the_parser_expected(
    make_repo: Maker, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _project(make_repo, [{"commit": "feat: ok"}, {"commit": "Update the README"}])
    code, document = _json(repo, capsys, "--range", "main..pr")
    assert code == 1
    assert document["ok"] is False
    commits = _by_name(document, "commits")
    assert commits["status"] == "failed"
    assert commits["message"].startswith("1 of 2 commit(s) not conventional: ")
    assert (
        "'Update the README': not a Conventional Commit: expected 'type(scope)!: description'"
        in (commits["message"])
    )


def test_a_title_with_an_unconfigured_type_fails_naming_the_types(
    make_repo: Maker, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _project(make_repo, [{"commit": "fix: a"}])
    code, document = _json(repo, capsys, "--title", "feature: add x")
    assert code == 1
    title = _by_name(document, "title")
    assert title["status"] == "failed"
    assert "type 'feature' is not one of the configured types (" in title["message"]
    assert "feat, fix" in title["message"]


def test_a_breaking_title_says_major(make_repo: Maker, capsys: pytest.CaptureFixture[str]) -> None:
    repo = _project(make_repo, [{"commit": "fix: a"}])
    code, document = _json(repo, capsys, "--title", "feat!: drop v1 API")
    assert code == 0
    assert "releases as a major" in _by_name(document, "title")["message"]


def test_a_chart_with_a_lint_error_fails_the_check(
    make_repo: Maker, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _project(make_repo, [{"commit": "fix: a"}])
    template = repo.path / "charts" / "example" / "templates" / "broken.yaml"
    template.write_text("kind: ConfigMap\nmetadata:\n  name: {{ .Values.missing.deeper }\n")
    code, document = _json(repo, capsys)
    assert code == 1
    lint = _by_name(document, "helm lint")
    assert lint["status"] == "failed"
    assert lint["message"].startswith("chart example fails helm lint:")


def test_a_bundle_whose_release_image_no_service_uses_fails(
    make_repo: Maker, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _project(make_repo, [{"commit": "fix: a"}])
    config = repo.path / "relkit.toml"
    config.write_text(config.read_text().replace("acme/web:", "acme/nothing:"), encoding="utf-8")
    code, document = _json(repo, capsys)
    assert code == 1
    compose = _by_name(document, "compose acme")
    assert compose["status"] == "failed"
    assert "is not used by any service" in compose["message"]


def test_a_promotion_edit_naming_no_release_image_fails_the_dry_run(
    make_repo: Maker, capsys: pytest.CaptureFixture[str]
) -> None:
    # Only the plan knows the release's images: the release would fail at its last step.
    repo = _project(make_repo, [{"commit": "fix: a"}])
    config = repo.path / "relkit.toml"
    config.write_text(
        config.read_text().replace("{digest:web}", "{digest:nosuch}"), encoding="utf-8"
    )
    code, document = _json(repo, capsys)
    assert code == 1
    dry_run = _by_name(document, "release --dry-run")
    assert dry_run["status"] == "failed"
    assert "nosuch" in dry_run["message"]


def test_an_invalid_config_is_a_failed_check_not_a_traceback(
    make_repo: Maker, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _project(make_repo, [{"commit": "fix: a"}])
    (repo.path / "relkit.toml").write_text('tag_format = "v{version}"\nrelease_brnaches = []\n')
    code, out = _check(repo, capsys)
    assert code == 1
    assert out.splitlines()[0].startswith("FAIL  config: relkit.toml: release_brnaches")
    assert out.splitlines()[-1] == "relkit: 1 checks, 1 failed"


def test_an_unknown_range_is_one_failed_line(
    make_repo: Maker, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _project(make_repo, [{"commit": "fix: a"}])
    code, document = _json(repo, capsys, "--range", "origin/nope..HEAD")
    assert code == 1
    assert _by_name(document, "commits")["status"] == "failed"


def test_nothing_releasable_skips_the_plan_but_passes(
    make_repo: Maker, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _project(make_repo, [{"commit": "docs: words"}])
    code, document = _json(repo, capsys, "--range", "main..pr")
    assert code == 0
    assert _by_name(document, "release plan")["status"] == "skipped"
    assert "releases nothing on its own" in _by_name(document, "commits")["message"]


def test_annotations_in_github_actions_escape_newlines(
    make_repo: Maker, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _project(make_repo, [{"commit": "fix: a"}])
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    code, out = _check(repo, capsys, "--title", "oops\n::error::injected 100%")
    assert code == 1
    annotations = [line for line in out.splitlines() if line.startswith("::")]
    assert annotations == [
        "::error title=relkit check::title: 'oops\\n::error::injected 100%25': not a "
        "Conventional Commit: expected 'type(scope)!: description' (scope and ! optional)"
    ]


def test_resolve_looks_images_up_in_the_real_registry(
    make_repo: Maker, capsys: pytest.CaptureFixture[str], registry: RegistryServer
) -> None:
    # A path of its own in the session's registry: other tests push acme/worker:1.0.0 too.
    prefix = f"{registry.host}/resolve-only-existing"
    repo = _project(make_repo, [{"commit": "feat: b"}], registry=prefix)
    code, document = _json(repo, capsys, "--resolve")
    assert code == 1  # nothing pushed yet: worker:1.0.0, which must exist, does not
    compose = _by_name(document, "compose acme")
    assert compose["status"] == "failed"
    assert "acme/worker:1.0.0" in compose["message"]

    worker = push_test_image(registry.host, "resolve-only-existing/acme/worker", "1.0.0")
    # The release image web:1.1.0 is built at tag time: it is never looked up.
    code, document = _json(repo, capsys, "--resolve")
    compose = _by_name(document, "compose acme")
    assert code == 0, compose
    assert compose["message"] == "compose.yaml: 1 image(s) resolved, 1 built by the release"
    assert compose["details"] == [
        f"{prefix}/acme/worker:1.0.0@{worker}",
        f"{prefix}/acme/web:{{version}} (built by the release)",
    ]


def test_resolve_right_after_a_release_names_no_placeholder_version(
    make_repo: Maker, capsys: pytest.CaptureFixture[str], registry: RegistryServer
) -> None:
    # Nothing releasable since v1.0.0: the plan is a placeholder, which must not leak out.
    repo = _project(make_repo, [{"commit": "docs: b"}], registry=registry.host)
    push_test_image(registry.host, "acme/worker", "1.0.0")
    code, out = _check(repo, capsys, "--resolve")
    assert code == 0, out
    assert "0.0.0" not in out
    assert "ok    compose acme: compose.yaml: 1 image(s) resolved, 1 built by the release" in out


def test_changed_lists_the_components_a_range_touches_as_a_matrix(
    make_repo: Maker, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _project(
        make_repo,
        [
            {"commit": "feat(api): a", "files": {"services/api/main.py": "x\n"}},
            {"commit": "docs: b", "files": {"docs/index.md": "y\n"}},
            {"commit": "fix: c", "files": {"services/apiary/x.py": "not api\n"}},
        ],
    )
    code, out = _check(repo, capsys, "--changed", "--range", "main..pr", "--json")
    assert code == 0
    assert json.loads(out) == {
        "components": ["api"],
        "matrix": {"include": [{"component": "api", "paths": ["services/api"]}]},
    }
    code, out = _check(repo, capsys, "--changed", "--range", "main..pr")
    assert out == "api\n"


def test_changed_without_a_range_is_a_usage_error(
    make_repo: Maker, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _project(make_repo, [{"commit": "fix: a"}])
    assert main(["-C", str(repo.path), "check", "--changed"]) == 2
    assert capsys.readouterr().err.startswith("relkit: error: --changed needs --range")


def _action_script() -> str:
    import yaml

    action = yaml.safe_load((REPO_ROOT / "action.yml").read_text(encoding="utf-8"))
    step = next(s for s in action["runs"]["steps"] if s.get("id") == "relkit")
    script: str = step["run"]
    return script


def run_action(
    inputs: dict[str, str], *, cwd: Path, tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    """Run the composite action's own relkit step with bash, as the runner would: `inputs`
    are the step's environment (INPUT_*, tokens), relkit is this interpreter's real one."""
    runner_temp = tmp_path / "runner"
    bin_dir = runner_temp / "relkit-venv" / "bin"
    if not bin_dir.exists():
        bin_dir.mkdir(parents=True)
        (bin_dir / "relkit").symlink_to(Path(sys.executable).with_name("relkit"))
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", **inputs}
    env["RUNNER_TEMP"] = str(runner_temp)
    return subprocess.run(
        ["bash", "-c", _action_script()], cwd=cwd, env=env, capture_output=True, text=True
    )


def test_the_action_runs_check_with_inputs_as_data_never_as_code(
    make_repo: Maker, tmp_path: Path
) -> None:
    """The composite action's own script, run by bash against the real relkit."""
    repo = _project(make_repo, [{"commit": "feat: b"}])
    marker = tmp_path / "pwned"
    inputs = {
        "INPUT_COMMAND": "check",
        "INPUT_CONFIG": "",
        "INPUT_CHECK_RANGE": "main..pr",
        "INPUT_CHECK_TITLE": f"fix: $(touch {marker}) `touch {marker}`",
    }
    done = run_action(inputs, cwd=repo.path, tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr + done.stdout
    assert "ok    commits main..pr: 1 commit(s), all conventional" in done.stdout
    assert "ok    title: conventional; this releases as a patch" in done.stdout
    assert not marker.exists()

    done = run_action({**inputs, "INPUT_COMMAND": "deploy"}, cwd=repo.path, tmp_path=tmp_path)
    assert done.returncode == 2
    assert "unknown command" in done.stdout


@pytest.mark.parametrize(("key", "fails"), [("image.nosuch", True), ("image.digest", False)])
def test_check_looks_up_the_chart_values_key_the_release_will_write(
    make_repo: Maker, capsys: pytest.CaptureFixture[str], key: str, fails: bool
) -> None:
    repo = _project(make_repo, [{"commit": "feat: b"}])
    config = (repo.path / "relkit.toml").read_text(encoding="utf-8")
    config = config.replace(
        'registry = "oci://127.0.0.1:1/charts"\n',
        f'registry = "oci://127.0.0.1:1/charts"\nimage = "web"\nimage_values_key = "{key}"\n',
    )
    (repo.path / "relkit.toml").write_text(config, encoding="utf-8")
    code, document = _json(repo, capsys)
    dry_run = _by_name(document, "release --dry-run")
    if fails:
        assert code == 1
        assert dry_run["status"] == "failed"
        assert "image_values_key 'image.nosuch'" in dry_run["message"]
    else:
        assert code == 0, dry_run
        assert dry_run["status"] == "ok"


def test_a_config_error_shows_its_hint_in_check(
    make_repo: Maker, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _project(make_repo, [])
    (repo.path / "relkit.toml").write_text('[bundles]\nname = "a"\npath = "b"\n', encoding="utf-8")
    code, out = _check(repo, capsys)
    assert code == 1
    assert out.splitlines()[:2] == [
        "FAIL  config: relkit.toml: bundles: Input should be a valid list",
        "      hint: write [[bundles]] (an array of tables, one per entry), not [bundles]",
    ]
