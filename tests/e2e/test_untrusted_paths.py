"""Issue 15, §1: a configured path never reaches outside the repository.

Each attack of the issue, run through the real CLI with secrets planted in a fake HOME and
the environment (tests/fixtures/canary.py), looked for afterwards in every output.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.canary import DOCKER_CANARY, Runner, relative_link
from tests.fixtures.gitrepo import BuiltRepo

Maker = Callable[..., BuiltRepo]

HISTORY: list[dict[str, Any]] = [
    {"commit": "feat: first", "files": {"README.md": "shop\n", "VERSION": "1.0.0\n"}},
    {"tag": "v1.0.0", "annotated": True, "message": "v1.0.0"},
    {"commit": "fix: second"},
]


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def _project(make_repo: Maker, config: str, *, links: dict[str, Path] | None = None) -> Path:
    """A repository whose relkit.toml (and symlinks, if any) are committed, as a PR has them."""
    repo = make_repo(HISTORY).path
    (repo / "relkit.toml").write_text(config, encoding="utf-8")
    for name, target in (links or {}).items():
        relative_link(repo / name, target)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "chore: config")
    return repo


def _escape(repo: Path, target: Path) -> str:
    return os.path.relpath(target, repo)


def _one_error_line(stderr: str, *needles: str) -> None:
    lines = [line for line in stderr.splitlines() if line.startswith("relkit: error:")]
    assert len(lines) == 1, stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


# -- changelog.file ------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["changelog", "--stdout"], ["cut", "--dry-run", "--no-push"]])
def test_changelog_file_in_proc_is_refused_at_load(
    make_repo: Maker, canary_runner: Runner, command: list[str]
) -> None:
    repo = _project(make_repo, '[changelog]\nfile = "/proc/self/environ"\n')
    run = canary_runner.run(repo, *command)
    assert run.code == 2
    _one_error_line(run.stderr, "changelog.file", "absolute")
    canary_runner.assert_clean(run, repo)


@pytest.mark.parametrize(
    "command", [["changelog", "--stdout"], ["cut", "--dry-run", "--no-push"], ["cut", "--no-push"]]
)
def test_changelog_file_climbing_out_is_refused_at_load(
    make_repo: Maker, canary_runner: Runner, command: list[str]
) -> None:
    repo = _project(make_repo, "")
    outside = _escape(repo, canary_runner.docker_config)
    (repo / "relkit.toml").write_text(f'[changelog]\nfile = "{outside}"\n', encoding="utf-8")
    _git(repo, "commit", "-q", "-am", "chore: point outside")
    run = canary_runner.run(repo, *command)
    assert run.code == 2
    _one_error_line(run.stderr, "changelog.file", "'..'")
    canary_runner.assert_clean(run, repo)


def test_a_new_changelog_outside_is_not_created(make_repo: Maker, canary_runner: Runner) -> None:
    target = canary_runner.home / "new" / "CHANGELOG.md"
    repo = _project(make_repo, "")
    (repo / "relkit.toml").write_text(
        f'[changelog]\nfile = "{_escape(repo, target)}"\n', encoding="utf-8"
    )
    _git(repo, "commit", "-q", "-am", "chore: outside")
    run = canary_runner.run(repo, "cut", "--no-push")
    assert run.code == 2
    assert not target.parent.exists()
    canary_runner.assert_clean(run, repo)


@pytest.mark.parametrize(
    "command", [["changelog", "--stdout"], ["cut", "--dry-run", "--no-push"], ["cut", "--no-push"]]
)
def test_changelog_symlink_to_the_docker_config_is_refused_at_open(
    make_repo: Maker, canary_runner: Runner, command: list[str]
) -> None:
    repo = _project(make_repo, "", links={"CHANGELOG.md": canary_runner.docker_config})
    run = canary_runner.run(repo, *command)
    assert run.code == 2
    _one_error_line(run.stderr, "'CHANGELOG.md'", "resolves outside the repository")
    canary_runner.assert_clean(run, repo)
    assert DOCKER_CANARY in canary_runner.docker_config.read_text()  # untouched


def test_changelog_command_does_not_write_through_a_symlink(
    make_repo: Maker, canary_runner: Runner
) -> None:
    repo = _project(make_repo, "", links={"CHANGELOG.md": canary_runner.docker_config})
    run = canary_runner.run(repo, "changelog")
    assert run.code == 2
    canary_runner.assert_clean(run, repo)


def test_a_fifo_changelog_is_refused_without_hanging(
    make_repo: Maker, canary_runner: Runner
) -> None:
    repo = _project(make_repo, "")
    os.mkfifo(repo / "CHANGELOG.md")
    run = canary_runner.run(repo, "changelog", "--stdout")
    assert run.code == 2
    _one_error_line(run.stderr, "CHANGELOG.md", "not a regular file")


def test_an_in_repo_changelog_symlink_still_works(make_repo: Maker, canary_runner: Runner) -> None:
    repo = _project(make_repo, "")
    (repo / "docs").mkdir()
    (repo / "docs" / "CHANGELOG.md").write_text("# Changelog\n", encoding="utf-8")
    relative_link(repo / "CHANGELOG.md", repo / "docs" / "CHANGELOG.md")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "docs: changelog lives in docs/")
    run = canary_runner.run(repo, "cut", "--no-push")
    assert run.code == 0, run.stderr
    assert (repo / "CHANGELOG.md").is_symlink()  # written through, not replaced
    assert "1.0.1" in (repo / "docs" / "CHANGELOG.md").read_text()
    canary_runner.assert_clean(run, repo)


# -- template_dir --------------------------------------------------------------------------


def _template_attack(make_repo: Maker, runner: Runner, how: str) -> Path:
    secret_dir = runner.home / ".docker"
    (secret_dir / "release_notes.md.j2").write_text(
        "{{ version }} " + DOCKER_CANARY + "\n", encoding="utf-8"
    )
    runner.freeze_outside()
    if how == "absolute":
        return _project(make_repo, f'[changelog]\ntemplate_dir = "{secret_dir}"\n')
    if how == "dotdot":
        repo = _project(make_repo, "")
        config = f'[changelog]\ntemplate_dir = "{_escape(repo, secret_dir)}"\n'
        (repo / "relkit.toml").write_text(config, encoding="utf-8")
        _git(repo, "commit", "-q", "-am", "chore: templates")
        return repo
    if how == "linked-dir":
        return _project(
            make_repo, '[changelog]\ntemplate_dir = "templates"\n', links={"templates": secret_dir}
        )
    # a template file that is a link
    return _project(
        make_repo,
        '[changelog]\ntemplate_dir = "templates"\n',
        links={"templates/release_notes.md.j2": secret_dir / "release_notes.md.j2"},
    )


@pytest.mark.parametrize("how", ["absolute", "dotdot", "linked-dir", "linked-template"])
def test_templates_from_outside_are_never_rendered(
    make_repo: Maker, canary_runner: Runner, how: str
) -> None:
    repo = _template_attack(make_repo, canary_runner, how)
    run = canary_runner.run(repo, "notes", "v1.0.0")
    assert run.code == 2, run.stdout
    _one_error_line(run.stderr, "template")
    canary_runner.assert_clean(run, repo)


# -- version_files -------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["cut", "--dry-run", "--no-push"], ["cut", "--no-push"]])
def test_a_version_file_outside_is_neither_shown_nor_modified(
    make_repo: Maker, canary_runner: Runner, command: list[str]
) -> None:
    repo = _project(make_repo, "")
    outside = _escape(repo, canary_runner.docker_config)
    (repo / "relkit.toml").write_text(
        f'[[version_files]]\npath = "{outside}"\npattern = \'"version": "(?P<version>[^"]+)"\'\n',
        encoding="utf-8",
    )
    _git(repo, "commit", "-q", "-am", "chore: version file")
    run = canary_runner.run(repo, *command)
    assert run.code == 2
    _one_error_line(run.stderr, "version_files[0].path")
    canary_runner.assert_clean(run, repo)


def test_a_version_file_linked_outside_is_refused(make_repo: Maker, canary_runner: Runner) -> None:
    repo = _project(
        make_repo,
        '[[version_files]]\npath = "VERSION.json"\npattern = \'"version": "(?P<version>[^"]+)"\'\n',
        links={"VERSION.json": canary_runner.docker_config},
    )
    run = canary_runner.run(repo, "cut", "--no-push")
    assert run.code == 2
    _one_error_line(run.stderr, "'VERSION.json'", "resolves outside")
    canary_runner.assert_clean(run, repo)


# -- components ----------------------------------------------------------------------------

COMPONENT = """\
[[components]]
name = "api"
paths = ["services/api"]
tag_prefix = "api/"
changelog_file = "{changelog}"
"""


def test_a_component_changelog_outside_is_refused(make_repo: Maker, canary_runner: Runner) -> None:
    repo = _project(make_repo, "")
    outside = _escape(repo, canary_runner.docker_config)
    (repo / "relkit.toml").write_text(COMPONENT.format(changelog=outside), encoding="utf-8")
    _git(repo, "commit", "-q", "-am", "chore: component")
    run = canary_runner.run(repo, "changelog", "--stdout", "--component", "api")
    assert run.code == 2
    _one_error_line(run.stderr, "components[0].changelog_file")
    canary_runner.assert_clean(run, repo)


def test_a_component_changelog_linked_outside_is_refused(
    make_repo: Maker, canary_runner: Runner
) -> None:
    repo = _project(
        make_repo,
        COMPONENT.format(changelog="services/api/CHANGELOG.md"),
        links={"services/api/CHANGELOG.md": canary_runner.docker_config},
    )
    run = canary_runner.run(repo, "changelog", "--stdout", "--component", "api")
    assert run.code == 2
    _one_error_line(run.stderr, "resolves outside the repository")
    canary_runner.assert_clean(run, repo)


def test_a_component_version_file_outside_is_refused(
    make_repo: Maker, canary_runner: Runner
) -> None:
    repo = _project(make_repo, "")
    outside = _escape(repo, canary_runner.docker_config)
    config = COMPONENT.format(changelog="services/api/CHANGELOG.md") + (
        f'[[components.version_files]]\npath = "{outside}"\n'
        'pattern = \'"version": "(?P<version>[^"]+)"\'\n'
    )
    (repo / "relkit.toml").write_text(config, encoding="utf-8")
    _git(repo, "commit", "-q", "-am", "chore: component")
    run = canary_runner.run(repo, "cut", "--dry-run", "--no-push", "--component", "api")
    assert run.code == 2
    _one_error_line(run.stderr, "components[0].version_files[0].path")
    canary_runner.assert_clean(run, repo)


# -- relkit check --------------------------------------------------------------------------


def test_check_reports_every_path_violation(make_repo: Maker, canary_runner: Runner) -> None:
    repo = _project(
        make_repo,
        "",
        links={"CHANGELOG.md": canary_runner.docker_config, "charts/app": canary_runner.home},
    )
    outside = _escape(repo, canary_runner.ssh_key)
    (repo / "relkit.toml").write_text(
        '[changelog]\ntemplate_dir = "/etc"\n'
        f'[[version_files]]\npath = "{outside}"\npattern = "(?P<version>x)"\n'
        '[[charts]]\npath = "charts/app"\nregistry = "oci://127.0.0.1:1/charts"\n'
        '[[bundles]]\nname = "b"\npath = "/proc/self"\n',
        encoding="utf-8",
    )
    _git(repo, "commit", "-q", "-am", "chore: everything outside")
    run = canary_runner.run(repo, "check")
    assert run.code == 1
    for key in (
        "changelog.file 'CHANGELOG.md'",
        "changelog.template_dir '/etc'",
        "version_files[0].path",
        "charts[0].path 'charts/app'",
        "bundles[0].path '/proc/self'",
    ):
        assert key in run.stdout, (key, run.stdout)
    assert "FAIL  paths: 5 configured paths refused" in run.stdout
    canary_runner.assert_clean(run, repo)


# -- charts and bundles through `relkit release` --------------------------------------------


@pytest.mark.parametrize("how", ["dotdot", "linked-dir"])
def test_release_never_packages_a_chart_from_outside(
    make_repo: Maker, canary_runner: Runner, how: str
) -> None:
    outside = canary_runner.home / "chart"
    outside.mkdir()
    (outside / "Chart.yaml").write_text(
        f"apiVersion: v2\nname: x\nversion: 0.1.0\n# {DOCKER_CANARY}\n"
    )
    canary_runner.freeze_outside()
    links = {"charts/app": outside} if how == "linked-dir" else {}
    repo = _project(make_repo, "", links=links)
    path = "charts/app" if how == "linked-dir" else _escape(repo, outside)
    (repo / "relkit.toml").write_text(
        f'[[charts]]\npath = "{path}"\nregistry = "oci://127.0.0.1:1/charts"\n'
        '[github]\nforge = "none"\n[signing]\nmode = "none"\n',
        encoding="utf-8",
    )
    _git(repo, "commit", "-q", "-am", "chore: chart")
    _git(repo, "tag", "-a", "v1.0.1", "-m", "v1.0.1")
    run = canary_runner.run(repo, "release", "--dry-run", "--only", "chart", "--tag", "v1.0.1")
    assert run.code == 2, run.stdout + run.stderr
    _one_error_line(run.stderr, "charts")
    canary_runner.assert_clean(run, repo)


def test_a_dist_dir_linked_outside_is_refused(make_repo: Maker, canary_runner: Runner) -> None:
    outside = canary_runner.home / "artifacts"
    outside.mkdir()
    canary_runner.freeze_outside()
    repo = _project(
        make_repo, '[github]\nforge = "none"\n[signing]\nmode = "none"\n', links={"dist": outside}
    )
    _git(repo, "tag", "-a", "v1.0.1", "-m", "v1.0.1")
    run = canary_runner.run(repo, "release", "--tag", "v1.0.1")
    assert run.code == 2, run.stdout + run.stderr
    _one_error_line(run.stderr, "dist_dir 'dist': resolves outside the repository")
    assert list(outside.iterdir()) == []
    canary_runner.assert_clean(run, repo)
