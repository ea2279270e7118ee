"""The example project as a real release scenario, for the e2e tests and `scripts/demo`.

It lays out, in a work directory: the project repository (built from a history spec, with
`examples/acme/` and `bundles/example/` committed, a bare `origin`), a GitOps bare repository
holding the staging environment, the example images pushed to a registry, and the
environment `relkit release` runs with. Nothing here calls relkit: tests and the demo run
the real `relkit` command against it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from relkit.signing.keys import generate_key_pair, public_key_pem
from tests.fixtures import relkit_cli
from tests.fixtures.gitrepo import BuiltRepo, build_repo, git_env
from tests.fixtures.registry import push_test_image, push_test_index

__all__ = ["REPO_ROOT", "Scenario", "project_history", "relkit_toml", "run_relkit", "set_up"]

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = REPO_ROOT / "examples" / "acme"
BUNDLE = REPO_ROOT / "bundles" / "example"
PROJECT = "acme/shop"
GITOPS = "acme/gitops"


def _tree(source: Path, prefix: str) -> dict[str, str]:
    return {
        f"{prefix}{path.relative_to(source).as_posix()}": path.read_text(encoding="utf-8")
        for path in sorted(source.rglob("*"))
        if path.is_file()
    }


def relkit_toml(
    registry_host: str,
    gitops_url: str,
    *,
    forge: str,
    signing: str = "key",
    namespace: str = "",
) -> str:
    """The example project's relkit.toml for a registry and a GitOps remote."""
    base = f"{registry_host}/{namespace.strip('/') + '/' if namespace else ''}"
    return f"""\
# relkit configuration of the acme example project.
tag_format = "v{{version}}"
release_branches = ["main"]
repository_url = "https://github.com/{PROJECT}"

[changelog]
file = "CHANGELOG.md"

[[version_files]]
path = "charts/acme/Chart.yaml"
key = "appVersion"

[[charts]]
path = "charts/acme"
registry = "oci://{base}charts"
image = "web"
image_values_key = "image.digest"

[[bundles]]
name = "acme"
path = "bundles/example"
registry = "oci://{base}bundles"
images = ["{registry_host}/acme/web:{{version}}", "{registry_host}/acme/worker:{{version}}"]

[signing]
mode = "{signing}"

[github]
repository = "{PROJECT}"
forge = "{forge}"

[promote]
repository = "{GITOPS}"
url = "{gitops_url}"
base = "main"
environment = "staging"
labels = ["promotion", "staging"]
reviewers = ["alice"]

[[promote.edits]]
file = "envs/staging/values.yaml"
key = "acme.image.digest"
value = "{{digest:web}}"

[[promote.edits]]
file = "envs/staging/values.yaml"
key = "acme.image.tag"
value = "{{version}}"

[[promote.edits]]
file = "envs/staging/values.yaml"
key = "acme.chart.version"
value = "{{chart_version}}"

[[promote.edits]]
file = "envs/staging/kustomization.yaml"
kind = "kustomize"
image = "acme/worker"
value = "{{digest:worker}}"

# The merge pipeline's dev bump: `relkit promote dev --image web=...@sha256:...`.
[[promote.environments]]
name = "dev"
branch = "relkit/promote-dev"
labels = ["promotion", "dev"]

[[promote.environments.edits]]
file = "envs/dev/values.yaml"
key = "acme.image.digest"
value = "{{digest:web}}"
"""


def project_history(
    config_text: str, registry_host: str, *, tag: str | None = None
) -> list[dict[str, Any]]:
    """Conventional commits up to v1.1.0, then the work that makes 1.2.0 (tagged `tag`).

    Every date is fixed, so two scenarios built alike have the same shas and commit times:
    their releases must then produce the same chart and bundle bytes.
    """
    files = {**_tree(EXAMPLE / "charts", "charts/"), **_tree(BUNDLE, "bundles/example/")}
    env_example = files["bundles/example/.env.example"]
    files["bundles/example/.env.example"] = env_example.replace(
        "REGISTRY=localhost:5000", f"REGISTRY={registry_host}"
    )
    files["relkit.toml"] = config_text
    files["README.md"] = "# acme shop\n\nThe example project relkit releases.\n"
    # relkit's own output dir must not make the work tree dirty for `relkit cut`.
    files[".gitignore"] = "dist/\n"
    history: list[dict[str, Any]] = [
        {"commit": "chore: start the acme shop", "files": files},
        {"commit": "feat(web): product list", "files": {"web.txt": "products\n"}},
        {"tag": "v1.0.0", "annotated": True, "message": "v1.0.0"},
        {
            "commit": "fix(worker): retry failed jobs (#3)",
            "author": "Grace Hopper <grace@example.com>",
            "files": {"worker.txt": "retry\n"},
        },
        {"tag": "v1.1.0", "annotated": True, "message": "v1.1.0"},
        {"branch": "feature/cart"},
        {"commit": "feat(web): shopping cart", "files": {"cart.txt": "cart\n"}},
        {
            "commit": "fix(web): empty cart total is 0",
            "body": "Closes #7",
            "files": {"cart.txt": "cart 0\n"},
        },
        {"checkout": "main"},
        {"merge": "feature/cart", "message": "Merge pull request #8 from acme/feature/cart"},
        {
            "commit": "perf(worker): batch inserts (#9)",
            "author": "Ada Lovelace <ada@example.com>",
            "files": {"worker.txt": "retry batch\n"},
        },
    ]
    if tag:
        history.append({"tag": tag, "annotated": True, "message": tag})
    return history


def gitops_history(registry_host: str) -> list[dict[str, Any]]:
    """The GitOps repository: environments whose images live in the scenario's registry."""
    files = {
        name: text.replace("localhost:5000", registry_host)
        for name, text in _tree(EXAMPLE / "gitops", "").items()
    }
    return [{"commit": "chore: staging and production environments", "files": files}]


@dataclass
class Scenario:
    """Everything a release run needs, laid out under `workdir`."""

    workdir: Path
    project: BuiltRepo
    gitops: BuiltRepo
    registry_host: str
    env: dict[str, str] = field(default_factory=dict)
    public_key: Path | None = None
    images: dict[str, str] = field(default_factory=dict)  # reference -> digest

    @property
    def root(self) -> Path:
        return self.project.path

    @property
    def dist(self) -> Path:
        return self.project.path / "dist"

    def commit_and_push(self, message: str, files: Mapping[str, str]) -> str:
        for name, text in files.items():
            target = self.root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        self.project.git("add", *files)
        self.project.git("commit", "-q", "-m", message)
        self.project.git("push", "-q", "origin", "HEAD:main")
        return self.project.git("rev-parse", "HEAD").strip()

    def tag(self, name: str, push: bool = True) -> None:
        self.project.git("tag", "-a", name, "-m", name)
        if push:
            self.project.git("push", "-q", "origin", name)

    def push_images(self, version: str, *, payload: str = "") -> dict[str, str]:
        """Push the example's images for `version`: web single-arch, worker multi-arch."""
        web = push_test_image(
            self.registry_host, "acme/web", version, payload=f"web {version} {payload}"
        )
        worker = push_test_index(
            self.registry_host, "acme/worker", version, payload=f"worker {version} {payload}"
        )
        pushed = {
            f"{self.registry_host}/acme/web:{version}": web,
            f"{self.registry_host}/acme/worker:{version}": worker,
        }
        self.images.update(pushed)
        return pushed


def set_up(
    workdir: Path,
    registry_host: str,
    *,
    forge: str,
    api_url: str | None = None,
    github_token: str | None = None,
    signing: str = "key",
    namespace: str = "",
    tag: str | None = None,
    signing_key: bytes | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> Scenario:
    """Build the project and GitOps repositories and the environment to release them."""
    workdir.mkdir(parents=True, exist_ok=True)
    gitops = build_repo(gitops_history(registry_host), workdir / "gitops", bare_remote=True)
    assert gitops.remote is not None
    config = relkit_toml(
        registry_host,
        gitops.remote.as_uri(),
        forge=forge,
        signing=signing,
        namespace=namespace,
    )
    project = build_repo(
        project_history(config, registry_host, tag=tag), workdir / "shop", bare_remote=True
    )

    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RELKIT_"))}
    env.update(git_env(env))
    docker_config = workdir / "docker-config"
    docker_config.mkdir(exist_ok=True)
    (docker_config / "config.json").write_text('{"auths": {}}\n', encoding="utf-8")
    env["DOCKER_CONFIG"] = str(docker_config)
    env["CI"] = "true"
    scenario = Scenario(workdir, project, gitops, registry_host, env)
    if signing == "key":
        private_pem, public_pem = generate_key_pair()
        if signing_key is not None:
            private_pem, public_pem = signing_key, public_key_pem(signing_key, None)
        scenario.public_key = workdir / "cosign.pub"
        scenario.public_key.write_bytes(public_pem)
        env["RELKIT_SIGNING_KEY"] = private_pem.decode()
    if github_token:
        env["GITHUB_TOKEN"] = github_token
    if api_url:
        env["GITHUB_API_URL"] = api_url  # as GitHub Actions sets it
    env.update(extra_env or {})
    return scenario


def relkit_command() -> list[str]:
    """The installed `relkit` next to this interpreter (the real console script)."""
    script = Path(sys.executable).with_name("relkit")
    return [str(script)] if script.exists() else [sys.executable, "-m", "relkit"]


def run_relkit(
    scenario: Scenario, *args: str, check: bool = True, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    done = relkit_cli.run(
        [*relkit_command(), "-C", str(scenario.root), *args],
        env=scenario.env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and done.returncode != 0:
        raise AssertionError(
            f"relkit {' '.join(args)} exited {done.returncode}\n"
            f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
        )
    return done


def copy_tree(source: Path, target: Path) -> None:
    shutil.copytree(source, target, dirs_exist_ok=True)


def git_lines(repo: Path, *args: str, env: Mapping[str, str] | None = None) -> Sequence[str]:
    out = subprocess.run(
        ["git", *args], cwd=repo, env=dict(env or git_env()), capture_output=True, text=True
    )
    return out.stdout.splitlines()
