"""Issue 15, §2: charts and bundles are built from the release commit's tree.

Real git, real Helm (embedded SDK), the real registry. Secrets are planted outside the
repository (tests/fixtures/canary.py) and reached by a committed symlink, a hard link or an
untracked file in the work tree; none may reach the package, the registry or an error.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from relkit.adapters.registry import DockerConfig, RegistryClient
from relkit.bundle.build import build_bundle
from relkit.core.config import BundleConfig, ChartConfig, SigningConfig
from relkit.core.errors import RelkitError
from relkit.core.model import ReleasePlan, StepOutcome, Version
from relkit.release.steps.chart import publish_chart
from tests.fixtures.canary import CANARIES, Run, Runner, relative_link
from tests.fixtures.registry import RegistryServer, push_test_image, push_test_index

DATA = Path(__file__).resolve().parents[1] / "data" / "charts" / "example"
EXAMPLE_BUNDLE = Path(__file__).resolve().parents[2] / "bundles" / "example"
COMMITTED = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def _git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout.strip()


def _commit_all(repo: Path) -> str:
    if not (repo / ".git").exists():
        _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "feat: sources")
    return _git(repo, "rev-parse", "HEAD")


def _assert_no_canary(*places: Path | str) -> None:
    for place in places:
        texts: list[tuple[str, str]] = []
        if isinstance(place, str):
            texts.append(("text", place))
        elif place.is_dir():
            for path in place.rglob("*"):
                if path.is_file() and not path.is_symlink():
                    texts.append((str(path), path.read_bytes().decode("utf-8", "replace")))
                    if path.name.endswith((".tgz", ".tar.gz")):
                        with tarfile.open(path) as archive:
                            for member in archive.getmembers():
                                handle = archive.extractfile(member)
                                if handle is not None:
                                    data = handle.read().decode("utf-8", "replace")
                                    texts.append((f"{path}:{member.name}", data))
        for where, text in texts:
            for canary in CANARIES:
                assert canary not in text, f"{canary} in {where}"


# -- charts --------------------------------------------------------------------------------


def _chart_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(DATA, repo / "charts" / "example")
    return repo


def _publish(
    registry: RegistryServer, repo: Path, tmp_path: Path, commit: str, name: str = "example"
) -> tuple[StepOutcome, Path]:
    # A registry path of the test's own: the registry is shared by the whole run.
    chart = ChartConfig(path=f"charts/{name}", registry=registry.oci(_space(tmp_path)))
    record = publish_chart(
        chart,
        Version.parse("1.2.3"),
        workdir=tmp_path / "work",
        dist_dir=tmp_path / "dist",
        image_pin=None,
        force=False,
        root=repo,
        source_time=COMMITTED,
        client=RegistryClient(DockerConfig({})),
        commit=commit,
    )
    (artifact,) = record.artifacts
    assert artifact.path
    return record.outcome, Path(artifact.path)


def _space(tmp_path: Path) -> str:
    return "untrusted-" + hashlib.sha256(str(tmp_path).encode()).hexdigest()[:12]


def _chart_files(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}  # type: ignore[union-attr]


def test_a_values_symlink_to_the_docker_config_is_refused(
    registry: RegistryServer, canary_runner: Runner, tmp_path: Path
) -> None:
    repo = _chart_repo(tmp_path)
    values = repo / "charts" / "example" / "values.yaml"
    values.unlink()
    relative_link(values, canary_runner.docker_config)
    commit = _commit_all(repo)
    with pytest.raises(RelkitError) as caught:
        _publish(registry, repo, tmp_path, commit)
    assert "charts/example/values.yaml: a symlink that leaves charts/example" in str(caught.value)
    assert not (tmp_path / "dist").exists()
    _assert_no_canary(str(caught.value), tmp_path / "work")
    with registry.client() as client:
        assert client.list_tags(f"{registry.host}/{_space(tmp_path)}/example") == []


def test_the_package_holds_the_commit_not_the_work_tree(
    registry: RegistryServer, canary_runner: Runner, tmp_path: Path
) -> None:
    repo = _chart_repo(tmp_path)
    chart_dir = repo / "charts" / "example"
    committed_values = (chart_dir / "values.yaml").read_bytes()
    commit = _commit_all(repo)
    # After the commit, on the runner: an untracked file, a hard link, an edited file.
    shutil.copy(canary_runner.docker_config, chart_dir / "templates" / "leak.yaml")
    os.link(canary_runner.ssh_key, chart_dir / "id_ed25519")
    (chart_dir / "values.yaml").write_text("stolen: " + CANARIES[2] + "\n")
    outcome, archive = _publish(registry, repo, tmp_path, commit)
    assert outcome is StepOutcome.DONE
    files = _chart_files(archive)
    assert files["example/values.yaml"] == committed_values
    assert "example/templates/leak.yaml" not in files
    assert "example/id_ed25519" not in files
    _assert_no_canary(tmp_path / "dist", tmp_path / "work")


def test_a_symlink_to_a_file_inside_the_chart_is_materialised(
    registry: RegistryServer, tmp_path: Path
) -> None:
    repo = _chart_repo(tmp_path)
    chart_dir = repo / "charts" / "example"
    (chart_dir / "files").mkdir()
    (chart_dir / "files" / "shared.txt").write_text("shared\n")
    relative_link(chart_dir / "templates" / "NOTES.txt", chart_dir / "files" / "shared.txt")
    commit = _commit_all(repo)
    _, archive = _publish(registry, repo, tmp_path, commit)
    files = _chart_files(archive)
    assert files["example/templates/NOTES.txt"] == b"shared\n"
    with tarfile.open(archive) as tar:
        assert not any(m.issym() or m.islnk() for m in tar.getmembers())


def test_a_symlink_to_a_directory_is_refused(registry: RegistryServer, tmp_path: Path) -> None:
    repo = _chart_repo(tmp_path)
    chart_dir = repo / "charts" / "example"
    relative_link(chart_dir / "more", chart_dir / "templates")
    commit = _commit_all(repo)
    with pytest.raises(RelkitError, match="charts/example/more: a symlink to a directory"):
        _publish(registry, repo, tmp_path, commit)


# -- bundles -------------------------------------------------------------------------------


def _bundle_repo(tmp_path: Path, registry: RegistryServer) -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE_BUNDLE, repo / "bundles" / "example")
    env = repo / "bundles" / "example" / ".env.example"
    env.write_text(env.read_text().replace("REGISTRY=localhost:5000", f"REGISTRY={registry.host}"))
    push_test_image(registry.host, "acme/web", "1.2.0", auth=registry.auth)
    push_test_index(registry.host, "acme/worker", "1.0.0", auth=registry.auth)
    return repo


def _plan(commit: str) -> ReleasePlan:
    return ReleasePlan(
        version=Version.parse("1.2.0"),
        tag="v1.2.0",
        commit=commit,
        committed_at=COMMITTED,
        previous_tag=None,
        notes="",
        repository="acme/shop",
    )


def _build(registry: RegistryServer, repo: Path, tmp_path: Path, commit: str) -> Path:
    from relkit.adapters.registry import resolve_many

    bundle = BundleConfig(
        name="acme", path="bundles/example", images=[f"{registry.host}/acme/web:{{version}}"]
    )
    client = RegistryClient(DockerConfig({}))
    built = build_bundle(
        bundle,
        _plan(commit),
        repo_root=repo,
        dist_dir=tmp_path / "dist",
        resolver=lambda refs: resolve_many(refs, client=client),
        signing=SigningConfig(mode="none"),
        from_commit=True,
    )
    return built.archive


def test_hard_links_and_untracked_files_never_reach_the_bundle(
    registry: RegistryServer, canary_runner: Runner, tmp_path: Path
) -> None:
    repo = _bundle_repo(tmp_path, registry)
    source = repo / "bundles" / "example"
    committed = (source / "config" / "app.toml").read_bytes()
    commit = _commit_all(repo)
    os.link(canary_runner.docker_config, source / "config" / "docker.json")  # untracked
    (source / "config" / "app.toml").unlink()
    os.link(canary_runner.ssh_key, source / "config" / "app.toml")  # tracked, replaced
    archive = _build(registry, repo, tmp_path, commit)
    with tarfile.open(archive) as tar:
        names = {m.name.split("/", 1)[1] for m in tar.getmembers() if "/" in m.name}
        app = tar.extractfile("acme-1.2.0/config/app.toml").read()  # type: ignore[union-attr]
    assert "config/docker.json" not in names
    assert app == committed
    _assert_no_canary(tmp_path / "dist")


def test_a_compose_symlink_leaving_the_bundle_is_refused(
    registry: RegistryServer, canary_runner: Runner, tmp_path: Path
) -> None:
    repo = _bundle_repo(tmp_path, registry)
    compose = repo / "bundles" / "example" / "compose.yaml"
    compose.unlink()
    relative_link(compose, canary_runner.docker_config)
    commit = _commit_all(repo)
    with pytest.raises(RelkitError) as caught:
        _build(registry, repo, tmp_path, commit)
    assert "symlink" in str(caught.value)
    _assert_no_canary(str(caught.value))
    assert not (tmp_path / "dist").exists() or not any((tmp_path / "dist").iterdir())


def test_check_does_not_read_a_compose_symlink_leaving_the_bundle(
    registry: RegistryServer, canary_runner: Runner, tmp_path: Path
) -> None:
    repo = _bundle_repo(tmp_path, registry)
    (repo / "relkit.toml").write_text(
        '[[bundles]]\nname = "acme"\npath = "bundles/example"\n', encoding="utf-8"
    )
    compose = repo / "bundles" / "example" / "compose.yaml"
    compose.unlink()
    relative_link(compose, canary_runner.docker_config)
    _commit_all(repo)
    run: Run = canary_runner.run(repo, "check")
    assert run.code == 1
    assert "bundles/example/compose.yaml: a symlink that resolves outside bundles/example" in (
        run.stdout
    )
    canary_runner.assert_clean(run, repo)


def test_the_bundle_cli_builds_from_the_commit(
    registry: RegistryServer, canary_runner: Runner, tmp_path: Path
) -> None:
    repo = _bundle_repo(tmp_path, registry)
    (repo / "relkit.toml").write_text(
        "[[bundles]]\n"
        'name = "acme"\n'
        'path = "bundles/example"\n'
        f'images = ["{registry.host}/acme/web:{{version}}"]\n'
        '[signing]\nmode = "none"\n',
        encoding="utf-8",
    )
    commit = _commit_all(repo)
    shutil.copy(canary_runner.docker_config, repo / "bundles" / "example" / "docker.json")
    run = canary_runner.run(
        repo, "bundle", "build", "acme", "--version", "1.2.0", "--commit", commit
    )
    assert run.code == 0, run.stderr
    canary_runner.assert_clean(run, repo / "dist")
    (repo / "bundles" / "example" / "docker.json").unlink()
    canary_runner.assert_clean(run, repo)


def test_helper_sees_a_planted_canary(canary_runner: Runner, tmp_path: Path) -> None:
    # The search must be able to fail.
    (tmp_path / "out").mkdir()
    shutil.copy(canary_runner.docker_config, tmp_path / "out" / "x")
    with pytest.raises(AssertionError):
        _assert_no_canary(tmp_path / "out")
    with pytest.raises(AssertionError):
        canary_runner.assert_clean(Run(0, "", ""), tmp_path / "out")
