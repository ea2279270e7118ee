"""`relkit init` on real repositories: init -> check passes -> release --dry-run runs.

Real git, Helm's real linter (SDK), the real local registry for the compose images.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from relkit.cli import main
from relkit.core.config import load_config
from tests.fixtures.gitrepo import BuiltRepo
from tests.fixtures.registry import RegistryServer, push_test_image

Maker = Callable[..., BuiltRepo]

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_BUNDLE = REPO_ROOT / "bundles" / "example"
EXAMPLE_CHART = REPO_ROOT / "tests" / "data" / "charts" / "example"


def _sample(make_repo: Maker, registry: str = "127.0.0.1:1", origin: str | None = None) -> Path:
    """A service with a chart in charts/shop and docker-compose.yml in deploy/, tagged v1.0.0."""
    repo = make_repo(
        [
            {
                "commit": "feat: first",
                "files": {"pyproject.toml": '[project]\nversion = "1.0.0"\n'},
            },
            {"tag": "v1.0.0", "annotated": True, "message": "v1.0.0"},
            {"commit": "feat: search"},
        ]
    )
    root = repo.path
    shutil.copytree(EXAMPLE_CHART, root / "charts" / "shop")
    deploy = root / "deploy"
    shutil.copytree(EXAMPLE_BUNDLE, deploy)
    (deploy / "compose.yaml").rename(deploy / "docker-compose.yml")
    (deploy / "README.md").unlink()
    (deploy / ".env.example").write_text(f"REGISTRY={registry}\n", encoding="utf-8")
    if origin is not None:
        subprocess.run(["git", "-C", str(root), "remote", "add", "origin", origin], check=True)
    _commit(root, "chore: chart and compose file")
    return root


def _commit(root: Path, message: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True, env=env)
    subprocess.run(
        ["git", "-C", str(root), "commit", "-q", "--allow-empty", "-m", message],
        check=True,
        env=env,
    )


def _relkit(root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["-C", str(root), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_init_then_check_passes_then_release_dry_run_runs(
    make_repo: Maker, capsys: pytest.CaptureFixture[str], registry: RegistryServer
) -> None:
    root = _sample(make_repo, registry.host, origin="https://github.com/Acme/shop.git")
    push_test_image(registry.host, "acme/web", "1.0.0")
    push_test_image(registry.host, "acme/worker", "1.0.0")

    code, out, err = _relkit(root, capsys, "init", "--registry", registry.oci("rel"))
    assert code == 0, err
    assert "create    relkit.toml" in out
    text = (root / "relkit.toml").read_text(encoding="utf-8")
    assert text.startswith("#:schema https://")
    config = load_config(root)
    assert config.github.repository == "Acme/shop"
    assert [c.path for c in config.charts] == ["charts/shop"]
    assert [(b.name, b.path) for b in config.bundles] == [("deploy", "deploy")]
    assert "/dist/" in (root / ".gitignore").read_text(encoding="utf-8").splitlines()
    release = yaml.safe_load((root / ".github/workflows/relkit-release.yml").read_text("utf-8"))
    assert release["permissions"] == {}
    assert release["jobs"]["release"]["permissions"] == {
        "contents": "write",
        "id-token": "write",
    }  # a registry that is not GHCR needs no packages: write

    code, out, err = _relkit(root, capsys, "check")
    assert code == 0, out + err
    assert out.splitlines()[-1] == "relkit: 5 checks, 0 failed"

    _commit(root, "chore: relkit init")
    subprocess.run(["git", "-C", str(root), "tag", "v1.1.0"], check=True)
    code, out, err = _relkit(root, capsys, "release", "--dry-run", "--forge", "none")
    assert code == 0, out + err
    assert err.splitlines()[0] == "relkit: plan: version 1.1.0"
    assert "  - copy chart charts/shop to a work dir and set version/appVersion to 1.1.0" in err
    assert "  - deploy: pin every image in deploy/docker-compose.yml by digest" in err
    # Real file names, never a template placeholder (B-VERSION) in what the dry run prints.
    assert "  - write each bundle's CycloneDX SBOM (deploy-1.1.0.cdx.json) and attest it" in err
    assert "B-VERSION" not in out + err and "{version}" not in out + err


def test_rerunning_init_changes_nothing(
    make_repo: Maker, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _sample(make_repo)
    assert _relkit(root, capsys, "init")[0] == 0
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file() and ".git/" not in str(p)}
    code, out, _ = _relkit(root, capsys, "init")
    assert code == 0
    assert "create" not in out and "overwrite" not in out
    after = {p: p.read_bytes() for p in root.rglob("*") if p.is_file() and ".git/" not in str(p)}
    assert after == before


def test_init_never_overwrites_a_different_file_without_force(
    make_repo: Maker, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _sample(make_repo)
    (root / "relkit.toml").write_text('tag_format = "{version}"\n', encoding="utf-8")
    code, _, err = _relkit(root, capsys, "init")
    assert code == 2
    assert err.splitlines()[0] == (
        "relkit: error: relkit.toml already exists and differs from what init would write"
    )
    assert (root / "relkit.toml").read_text(encoding="utf-8") == 'tag_format = "{version}"\n'
    assert not (root / ".github").exists()  # nothing half-written
    assert not (root / ".gitignore").exists()

    code, out, _ = _relkit(root, capsys, "init", "--dry-run")
    assert code == 0
    assert "--- relkit.toml (differs: needs --force, dry run)" in out
    assert (root / "relkit.toml").read_text(encoding="utf-8") == 'tag_format = "{version}"\n'

    code, out, _ = _relkit(root, capsys, "init", "--force")
    assert code == 0 and "overwrite relkit.toml" in out
    assert (root / "relkit.toml").read_text(encoding="utf-8").startswith("#:schema ")


def test_init_never_writes_through_a_symlink(
    make_repo: Maker, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = _sample(make_repo)
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / ".github").symlink_to(outside, target_is_directory=True)
    code, _, err = _relkit(root, capsys, "init", "--force")
    assert code == 2
    assert "relkit: error: .github is a symbolic link; relkit init never writes through one" in err
    assert list(outside.iterdir()) == []
    assert not (root / "relkit.toml").exists()

    (root / ".github").unlink()
    victim = tmp_path / "victim.toml"
    victim.write_text("keep\n", encoding="utf-8")
    (root / "relkit.toml").symlink_to(victim)
    code, _, err = _relkit(root, capsys, "init", "--force")
    assert code == 2 and "relkit.toml is a symbolic link" in err
    assert victim.read_text(encoding="utf-8") == "keep\n"


def test_init_keeps_an_existing_changelog_and_its_insert_point(
    make_repo: Maker, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _sample(make_repo)
    changelog = "# History\n\n<!-- relkit: insert -->\n\n## 1.0.0\n\n- first\n"
    (root / "HISTORY.md").write_text(changelog, encoding="utf-8")
    assert _relkit(root, capsys, "init")[0] == 0
    text = (root / "relkit.toml").read_text(encoding="utf-8")
    assert 'file = "HISTORY.md"' in text
    assert "below its `<!-- relkit: insert -->` line" in text
    assert (root / "HISTORY.md").read_text(encoding="utf-8") == changelog


def test_init_outside_a_git_repository_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _relkit(tmp_path, capsys, "init")
    assert code == 2
    assert err.startswith(f"relkit: error: {tmp_path} is not a git repository")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("flag", "value"),
    [("--registry", "https://ghcr.io/acme"), ("--gitops", "acme/../x y")],
)
def test_bad_flags_are_one_line_and_write_nothing(
    make_repo: Maker, capsys: pytest.CaptureFixture[str], flag: str, value: str
) -> None:
    root = _sample(make_repo)
    code, _, err = _relkit(root, capsys, "init", flag, value)
    assert code == 2
    assert err.startswith(f"relkit: error: {flag} ")
    assert not (root / "relkit.toml").exists()


def test_hostile_remote_and_paths_never_reach_the_generated_files(
    make_repo: Maker, capsys: pytest.CaptureFixture[str]
) -> None:
    canary = "CANARY-7f3a"
    root = _sample(make_repo, origin=f'https://github.com/acme/shop"\n[{canary}]x=1')
    odd = root / f'ops"]\n[{canary}' / "compose.yaml"
    odd.parent.mkdir()
    odd.write_text("services:\n  web:\n    image: nginx:1.27\n", encoding="utf-8")
    code, out, err = _relkit(root, capsys, "init")
    assert code == 0, err
    written = [
        (root / p).read_text(encoding="utf-8")
        for p in ("relkit.toml", ".github/workflows/relkit-check.yml")
    ]
    written.append((root / ".github/workflows/relkit-release.yml").read_text(encoding="utf-8"))
    assert all(canary not in text for text in written)
    assert "skipped" in out  # the odd compose file is reported, not configured
    config = load_config(root)
    assert config.github.repository is None and config.github.forge == "none"
    assert [b.path for b in config.bundles] == ["deploy"]
    code, out, _ = _relkit(root, capsys, "check")
    assert code == 0, out


def test_init_refuses_a_project_configured_in_pyproject(
    make_repo: Maker, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _sample(make_repo)
    pyproject = '[project]\nversion = "1.0.0"\n\n[tool.relkit]\ntag_format = "{version}"\n'
    (root / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    code, _, err = _relkit(root, capsys, "init")
    assert code == 2
    assert err.splitlines()[0] == (
        "relkit: error: pyproject.toml already holds relkit settings ([tool.relkit]); "
        "relkit init writes relkit.toml"
    )
    assert not (root / "relkit.toml").exists() and not (root / ".github").exists()
    assert _relkit(root, capsys, "config")[0] == 0  # still one config, still valid
