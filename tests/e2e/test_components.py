"""Monorepo components through `relkit release`: two component tags from one push, each
releasing its own chart, notes and promotion, never touching the other's.

Real git (project + bare GitOps remote), the real local registry and Helm, the real `relkit`
command in subprocesses (`--forge none`: the GitHub side is covered by the release e2e)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from relkit.adapters.registry import Reference
from tests.e2e.scenario import relkit_command
from tests.fixtures import relkit_cli
from tests.fixtures.gitrepo import BuiltRepo, build_repo, git_env
from tests.fixtures.registry import RegistryServer

pytestmark = pytest.mark.e2e

CHART = Path(__file__).resolve().parents[1] / "data" / "charts" / "example"
COMPONENTS = ("api", "web")


def _chart_files(name: str) -> dict[str, str]:
    files = {
        f"services/{name}/chart/{p.relative_to(CHART).as_posix()}": p.read_text(encoding="utf-8")
        for p in sorted(CHART.rglob("*"))
        if p.is_file()
    }
    chart_yaml = f"services/{name}/chart/Chart.yaml"
    files[chart_yaml] = files[chart_yaml].replace("name: example", f"name: {name}")
    return files


def _config(registry: str, gitops: str) -> str:
    parts = ['tag_format = "v{version}"', 'release_branches = ["main"]']
    for name in COMPONENTS:
        parts.append(f"""
[[components]]
name = "{name}"
paths = ["services/{name}"]
tag_prefix = "{name}/"

[[components.charts]]
path = "services/{name}/chart"
registry = "oci://{registry}/charts"

[components.promote]
repository = "acme/gitops"
url = "{gitops}"

[[components.promote.edits]]
file = "envs/staging/{name}.yaml"
key = "chart.version"
value = "{{chart_version}}"
""")
    return "\n".join(parts)


@pytest.fixture
def gitops(tmp_path: Path) -> BuiltRepo:
    files = {f"envs/staging/{n}.yaml": "chart:\n  version: 0.0.0\n" for n in COMPONENTS}
    return build_repo(
        [{"commit": "chore: staging", "files": files}], tmp_path / "gitops", bare_remote=True
    )


@pytest.fixture
def project(tmp_path: Path, registry: RegistryServer, gitops: BuiltRepo) -> BuiltRepo:
    config = _config(registry.host, str(gitops.remote))
    return build_repo(
        [
            {"commit": "build: relkit config", "files": {"relkit.toml": config}},
            {"commit": "feat(api): the api", "files": _chart_files("api")},
            {"commit": "feat(web): the web app", "files": _chart_files("web")},
            {"commit": "fix(api): a bug", "files": {"services/api/NOTES.md": "fixed\n"}},
            {"tag": "api/v1.0.0", "annotated": True, "message": "api 1.0.0"},
            {"tag": "web/v2.0.0", "annotated": True, "message": "web 2.0.0"},
        ],
        tmp_path / "project",
    )


def _release(project: BuiltRepo, tag: str) -> subprocess.CompletedProcess[str]:
    return relkit_cli.run(
        [
            *relkit_command(),
            "-C",
            str(project.path),
            "release",
            "--tag",
            tag,
            "--forge",
            "none",
            "--json",
        ],
        env=git_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def _remote(repo: BuiltRepo, *args: str) -> str:
    return subprocess.run(
        ["git", "--git-dir", str(repo.remote), *args], capture_output=True, text=True, check=True
    ).stdout


def _chart_tags(registry: RegistryServer, name: str) -> list[str]:
    client = registry.client()
    try:
        return sorted(client.list_tags(Reference.parse(f"{registry.host}/charts/{name}")))
    except Exception:  # a repository that does not exist has no tags
        return []
    finally:
        client.close()


def test_two_component_tags_release_independently(
    project: BuiltRepo, gitops: BuiltRepo, registry: RegistryServer
) -> None:
    api = _release(project, "api/v1.0.0")
    assert api.returncode == 0, api.stderr
    record = json.loads(api.stdout)
    assert (record["version"], record["tag"]) == ("1.0.0", "api/v1.0.0")
    # The api release published the api chart only, at the component's version.
    assert _chart_tags(registry, "api") == ["1.0.0"]
    assert _chart_tags(registry, "web") == []
    branches = _remote(gitops, "for-each-ref", "--format=%(refname:short)", "refs/heads").split()
    assert sorted(branches) == ["main", "relkit/promote-api-staging-1.0.0"]
    promoted = _remote(gitops, "show", "relkit/promote-api-staging-1.0.0:envs/staging/api.yaml")
    assert "version: 1.0.0" in promoted
    untouched = _remote(gitops, "show", "relkit/promote-api-staging-1.0.0:envs/staging/web.yaml")
    assert "version: 0.0.0" in untouched
    notes = (project.path / "dist" / "api" / "release").rglob("*.md")
    text = "\n".join(p.read_text(encoding="utf-8") for p in notes)
    assert "a bug" in text and "the api" in text
    assert "the web app" not in text  # the web component's commit is not the api's

    web = _release(project, "web/v2.0.0")
    assert web.returncode == 0, web.stderr
    assert _chart_tags(registry, "web") == ["2.0.0"]
    assert _chart_tags(registry, "api") == ["1.0.0"]
    branches = _remote(gitops, "for-each-ref", "--format=%(refname:short)", "refs/heads").split()
    assert sorted(branches) == [
        "main",
        "relkit/promote-api-staging-1.0.0",
        "relkit/promote-web-staging-2.0.0",
    ]
    # Each component's run record sits in its own dist/<component>/.
    assert (
        json.loads((project.path / "dist" / "api" / "relkit-release.json").read_text())["tag"]
        == "api/v1.0.0"
    )
    assert (
        json.loads((project.path / "dist" / "web" / "relkit-release.json").read_text())["tag"]
        == "web/v2.0.0"
    )

    # A re-run of the api release changes nothing.
    again = _release(project, "api/v1.0.0")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["released"] is False
