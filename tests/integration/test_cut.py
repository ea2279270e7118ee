"""`relkit cut` end to end on real repositories built from history specs, with a bare remote."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from relkit.adapters.git_repo import GitRepo, GitResult, redact, subprocess_runner
from relkit.cli import main
from relkit.core.config import load_config
from relkit.core.errors import EXIT_NO_RELEASE, EXIT_OK, EXIT_USAGE, RelkitError
from relkit.cut.prepare import CutOptions, execute_cut, plan_cut
from tests.fixtures.gitrepo import BuiltRepo

MakeRepo = Callable[..., BuiltRepo]
GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "cut"

RELKIT_TOML = """\
release_branches = ["main", "release/*"]
repository_url = "https://github.com/acme/demo"

[[version_files]]
path = "chart/Chart.yaml"
key = "version"

[[version_files]]
path = "chart/Chart.yaml"
key = "appVersion"

[[version_files]]
path = "pyproject.toml"
key = "project.version"

[[version_files]]
path = "src/demo/__init__.py"
pattern = '__version__ = "(?P<version>[^"]+)"'

[[components]]
name = "api"
paths = ["api"]
tag_prefix = "api/"
changelog_file = "api/CHANGELOG.md"

[[components.version_files]]
path = "api/VERSION"
pattern = '^(?P<version>\\S+)$'
"""

CHART = """\
# Helm chart of the demo app
apiVersion: v2
name: demo
version: 1.4.0  # bumped by relkit cut
appVersion: "1.4.0"
"""

PYPROJECT = '[project]\nname = "demo"\nversion = "1.4.0"\n'

OLD_CHANGELOG = """\
# Changelog

All notable changes; older entries were written by hand  \t(kept byte for byte).

## 1.4.0 (2023-12-01)

* hand-written entry
"""

BASE_FILES = {
    "relkit.toml": RELKIT_TOML,
    "chart/Chart.yaml": CHART,
    "pyproject.toml": PYPROJECT,
    "src/demo/__init__.py": '__version__ = "1.4.0"\n',
    "CHANGELOG.md": OLD_CHANGELOG,
    "api/VERSION": "0.0.0\n",
}


def history(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"commit": "chore: initial import", "files": BASE_FILES},
        {"tag": "v1.4.0", "annotated": True, "message": "Release v1.4.0"},
        {"commit": "feat(chart): add ingress", "files": {"chart/ingress.yaml": "kind: x\n"}},
        {
            "commit": "fix: retry uploads (#21)",
            "body": "Closes #20",
            "files": {"src/demo/up.py": "retry = 3\n"},
            "author": "Ada Lovelace <ada@example.com>",
        },
        *extra,
    ]


def cut(repo: BuiltRepo, *args: str) -> int:
    return main(["-C", str(repo.path), "cut", *args])


def golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("RELKIT_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual)
    assert actual == path.read_text(), f"differs from golden file {path}"


def remote_refs(repo: BuiltRepo) -> dict[str, str]:
    out = repo.git("ls-remote", "origin")
    return {ref: sha for sha, ref in (line.split("\t") for line in out.splitlines())}


def local_state(repo: BuiltRepo) -> tuple[str, str, str]:
    """HEAD, every ref (remote-tracking included) and the work tree status."""
    return repo.head, repo.git("for-each-ref"), repo.git("status", "--porcelain")


# -- the happy path ----------------------------------------------------------------------


def test_cut_commits_tags_and_pushes_atomically(
    make_repo: MakeRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(history(), bare_remote=True)
    before = repo.head

    assert cut(repo) == EXIT_OK

    out = capsys.readouterr().out
    assert "pushed main and v1.5.0 to origin (atomic)" in out
    # One release commit on top of the old HEAD, with exactly the changed files.
    assert repo.git("rev-parse", "HEAD~1").strip() == before
    assert repo.git("log", "-1", "--format=%s").strip() == "chore(release): v1.5.0"
    changed = repo.git("diff-tree", "--no-commit-id", "--name-only", "-r", "HEAD").split()
    assert changed == [
        "CHANGELOG.md",
        "chart/Chart.yaml",
        "pyproject.toml",
        "src/demo/__init__.py",
    ]
    # Annotated tag on the release commit.
    assert repo.git("cat-file", "-t", "v1.5.0").strip() == "tag"
    assert repo.tag_sha("v1.5.0") == repo.head
    # Branch and tag arrived together.
    refs = remote_refs(repo)
    assert refs["refs/heads/main"] == repo.head
    assert refs["refs/tags/v1.5.0^{}"] == repo.head
    assert repo.git("status", "--porcelain") == ""
    # Update mode: the new section goes in, the hand-written rest stays byte-identical.
    changelog = (repo.path / "CHANGELOG.md").read_text()
    golden("CHANGELOG.after-cut.md", changelog)
    assert changelog.endswith(OLD_CHANGELOG[OLD_CHANGELOG.index("## 1.4.0") :])
    assert changelog.startswith(OLD_CHANGELOG[: OLD_CHANGELOG.index("## 1.4.0")])
    chart = (repo.path / "chart" / "Chart.yaml").read_text()
    assert chart == CHART.replace("1.4.0", "1.5.0")
    assert (repo.path / "pyproject.toml").read_text() == PYPROJECT.replace("1.4.0", "1.5.0")
    assert (repo.path / "src/demo/__init__.py").read_text() == '__version__ = "1.5.0"\n'


def test_dry_run_prints_diff_and_commands_and_changes_nothing(
    make_repo: MakeRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(history(), bare_remote=True)
    before_local, before_remote = local_state(repo), remote_refs(repo)

    assert cut(repo, "--dry-run") == EXIT_OK

    golden("dry-run.txt", capsys.readouterr().out)
    assert local_state(repo) == before_local
    assert remote_refs(repo) == before_remote


def test_json_output_for_workflows(make_repo: MakeRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(history(), bare_remote=True)
    before = repo.head
    assert cut(repo, "--dry-run", "--json") == EXIT_OK
    planned = json.loads(capsys.readouterr().out)
    assert planned["dry_run"] is True and planned["commit"] is None
    assert repo.head == before
    assert cut(repo, "--json") == EXIT_OK
    done = json.loads(capsys.readouterr().out)
    assert done == {
        **planned,
        "commit": repo.head,
        "pushed": True,
        "dry_run": False,
    }
    assert done["tag"] == "v1.5.0" and done["previous_head"] == before
    assert done["files"] == [
        "CHANGELOG.md",
        "chart/Chart.yaml",
        "pyproject.toml",
        "src/demo/__init__.py",
    ]


def test_no_push_commits_and_tags_locally_only(
    make_repo: MakeRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(history(), bare_remote=True)
    before_remote = remote_refs(repo)

    assert cut(repo, "--no-push") == EXIT_OK

    out = capsys.readouterr().out
    expected = (
        "git push --atomic --porcelain origin refs/heads/main:refs/heads/main "
        "refs/tags/v1.5.0:refs/tags/v1.5.0"
    )
    assert f"not pushed (--no-push); to publish: {expected}" in out
    assert repo.tag_sha("v1.5.0") == repo.head
    assert remote_refs(repo) == before_remote
    # The printed command finishes the job.
    repo.git(*expected.split()[1:])
    assert remote_refs(repo)["refs/tags/v1.5.0^{}"] == repo.head


def test_first_release_creates_the_changelog(
    make_repo: MakeRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {k: v for k, v in BASE_FILES.items() if k != "CHANGELOG.md"}
    repo = make_repo(
        [
            {"commit": "feat: first feature", "files": files},
            {"commit": "fix: no newline at end", "files": {"src/demo/x.py": "x = 1"}},
        ],
        bare_remote=True,
    )
    assert cut(repo, "--dry-run") == EXIT_OK
    out = capsys.readouterr().out
    assert "relkit cut v0.1.0 (dry run" in out
    assert "--- /dev/null\n+++ b/CHANGELOG.md\n" in out
    assert not (repo.path / "CHANGELOG.md").exists()
    assert cut(repo) == EXIT_OK
    assert repo.tag_sha("v0.1.0") == repo.head
    assert "first feature" in (repo.path / "CHANGELOG.md").read_text()
    assert "CHANGELOG.md" in repo.git("ls-files").split()


def test_no_push_works_without_a_remote(make_repo: MakeRepo) -> None:
    repo = make_repo(history())
    assert cut(repo, "--no-push") == EXIT_OK
    assert repo.tag_sha("v1.5.0") == repo.head


def test_requested_higher_version_and_tag_form_are_accepted(make_repo: MakeRepo) -> None:
    repo = make_repo(history(), bare_remote=True)
    assert cut(repo, "v2.0.0") == EXIT_OK
    assert repo.tag_sha("v2.0.0") == repo.head
    assert 'appVersion: "2.0.0"' in (repo.path / "chart/Chart.yaml").read_text()


def test_force_cuts_a_lower_version_with_a_warning(
    make_repo: MakeRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(history(), bare_remote=True)
    assert cut(repo, "1.4.1", "--force") == EXIT_OK
    err = capsys.readouterr().err
    assert "warning: 1.4.1 is lower than 1.5.0 required by minor change" in err
    assert repo.tag_sha("v1.4.1") == repo.head


def test_pre_releases_count_up(make_repo: MakeRepo) -> None:
    repo = make_repo(history(), bare_remote=True)
    assert cut(repo, "--pre", "rc") == EXIT_OK
    assert repo.tag_sha("v1.5.0-rc.1") == repo.head
    (repo.path / "src/demo/up.py").write_text("retry = 5\n")
    repo.git("commit", "-qam", "fix: more retries")
    assert cut(repo, "--pre", "rc") == EXIT_OK
    assert repo.tag_sha("v1.5.0-rc.2") == repo.head
    assert cut(repo) == EXIT_OK  # promotion to the final version
    assert repo.tag_sha("v1.5.0") == repo.head


def test_release_branch_globs_and_a_branch_new_to_the_remote(make_repo: MakeRepo) -> None:
    repo = make_repo(history(), bare_remote=True)
    repo.git("switch", "-q", "-c", "release/1.x")  # matches "release/*"; not on origin yet
    assert "refs/heads/release/1.x" not in remote_refs(repo)
    assert cut(repo) == EXIT_OK
    assert remote_refs(repo)["refs/heads/release/1.x"] == repo.head


@pytest.mark.parametrize(
    "signing",
    [
        # git exits 0 here and writes the ssh-keygen error into the tag message.
        {"gpg.format": "ssh", "user.signingkey": "/nonexistent/key"},
        # A signer that fails loudly.
        {"gpg.format": "openpgp", "gpg.program": "false"},
    ],
)
def test_failed_tag_signing_rolls_back_the_commit(
    make_repo: MakeRepo, capsys: pytest.CaptureFixture[str], signing: dict[str, str]
) -> None:
    repo = make_repo(history(), bare_remote=True)
    for key, value in {**signing, "tag.gpgSign": "true"}.items():
        repo.git("config", key, value)
    before_local, before_remote = local_state(repo), remote_refs(repo)

    assert cut(repo) == 1

    err = capsys.readouterr().err
    assert "git tag v1.5.0 failed" in err
    assert "the release commit was rolled back" in err
    assert local_state(repo) == before_local
    assert remote_refs(repo) == before_remote


def test_component_release(make_repo: MakeRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(
        history({"commit": "feat(api): add users endpoint", "files": {"api/users.py": "u\n"}}),
        bare_remote=True,
    )
    assert cut(repo, "--component", "api") == EXIT_OK
    assert "tagged api/v0.1.0 (annotated)" in capsys.readouterr().out
    assert repo.git("log", "-1", "--format=%s").strip() == "chore(release): api/v0.1.0"
    changed = repo.git("diff-tree", "--no-commit-id", "--name-only", "-r", "HEAD").split()
    assert changed == ["api/CHANGELOG.md", "api/VERSION"]
    assert (repo.path / "api/VERSION").read_text() == "0.1.0\n"
    changelog = (repo.path / "api/CHANGELOG.md").read_text()
    assert "add users endpoint" in changelog
    assert "add ingress" not in changelog  # not a commit of the api component


def test_signed_tag_when_git_signs_tags(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(history(), bare_remote=True)
    key = tmp_path / "signing_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    repo.git("config", "gpg.format", "ssh")
    repo.git("config", "user.signingkey", str(key))
    repo.git("config", "tag.gpgSign", "true")

    assert cut(repo) == EXIT_OK

    assert "tagged v1.5.0 (signed)" in capsys.readouterr().out
    assert "-----BEGIN SSH SIGNATURE-----" in repo.git("cat-file", "tag", "v1.5.0")


# -- refusals ----------------------------------------------------------------------------


def refused(
    repo: BuiltRepo, capsys: pytest.CaptureFixture[str], *args: str, code: int = EXIT_USAGE
) -> str:
    before = local_state(repo)
    assert cut(repo, *args) == code
    err = capsys.readouterr().err
    assert local_state(repo) == before, "a refused cut must not change anything"
    first = err.splitlines()[0]
    assert first.startswith("relkit: error: ")
    return err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("1.5",), "'1.5' is not a semantic version"),
        (("banana",), "'banana' is not a semantic version"),
        (("1.4.1",), "1.4.1 is lower than 1.5.0 required by minor change"),
        (("1.4.0",), "version 1.4.0 is not above the latest release 1.4.0"),
        (("1.4.0", "--force"), "version 1.4.0 is not above the latest release 1.4.0"),
        (("1.6.0", "--pre", "rc"), "give either VERSION or --pre, not both"),
        (("1.6.0+build.1",), "has build metadata"),
        (("--component", "web"), "unknown component 'web'"),
        (("--remote", "upstream"), "remote 'upstream' is not configured"),
    ],
)
def test_refuses_bad_requests(
    make_repo: MakeRepo,
    capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
    message: str,
) -> None:
    repo = make_repo(history(), bare_remote=True)
    assert message in refused(repo, capsys, *args)


def test_refuses_a_dirty_work_tree(make_repo: MakeRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(history(), bare_remote=True)
    (repo.path / "notes.txt").write_text("untracked\n")
    (repo.path / "pyproject.toml").write_text(PYPROJECT + "# edited\n")
    repo.git("mv", "chart/Chart.yaml", "chart/Chart.yml")
    err = refused(repo, capsys)
    expected = "work tree has uncommitted changes: chart/Chart.yml, notes.txt, pyproject.toml"
    assert expected in err
    assert "hint: commit or stash them first" in err


@pytest.mark.parametrize("config", ["", 'dist_dir = "out/relkit"\n'])
def test_the_dist_directory_never_counts_as_an_uncommitted_change(
    make_repo: MakeRepo, capsys: pytest.CaptureFixture[str], config: str
) -> None:
    repo = make_repo(history(), bare_remote=True)
    if config:
        (repo.path / "relkit.toml").write_text(config + RELKIT_TOML)
        repo.git("commit", "-qam", "chore: dist elsewhere")
    dist = repo.path / ("out/relkit" if config else "dist")
    (dist / "release").mkdir(parents=True)
    (dist / "relkit-release.json").write_text("{}\n")
    (dist / "release" / "notes.md").write_text("notes\n")
    assert cut(repo, "--dry-run") == 0, capsys.readouterr().err
    (repo.path / "distant.txt").write_text("not dist\n")  # a sibling name still counts
    assert "uncommitted changes: distant.txt" in refused(repo, capsys, "--dry-run")


def test_refuses_outside_release_branches(
    make_repo: MakeRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(history({"branch": "feature/x"}), bare_remote=True)
    err = refused(repo, capsys)
    assert "branch 'feature/x' is not a release branch (release_branches: main, release/*)" in err
    repo.git("checkout", "-q", "--detach", "HEAD")
    assert "HEAD is detached" in refused(repo, capsys)


def test_refuses_an_existing_local_tag(
    make_repo: MakeRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    # A tag on another branch: not a release of HEAD, but the name is taken.
    repo = make_repo(
        history(
            {"branch": "side", "from": 0},
            {"commit": "feat: side", "files": {"side.txt": "s\n"}},
            {"tag": "v1.5.0"},
            {"checkout": "main"},
        ),
        bare_remote=True,
    )
    assert "tag v1.5.0 already exists" in refused(repo, capsys)


def test_refuses_a_tag_that_exists_only_on_the_remote(
    make_repo: MakeRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(history(), bare_remote=True)
    repo.git("tag", "v1.5.0", repo.sha(0))
    repo.git("push", "-q", "origin", "v1.5.0")
    repo.git("tag", "-d", "v1.5.0")
    err = refused(repo, capsys)
    assert "tag v1.5.0 already exists on origin" in err


def test_refuses_when_behind_the_remote(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(history(), bare_remote=True)
    assert repo.remote is not None
    other = tmp_path / "other"
    subprocess.run(["git", "clone", "-q", str(repo.remote), str(other)], check=True)
    (other / "b.txt").write_text("b\n")
    subprocess.run(["git", "-C", str(other), "add", "b.txt"], check=True)
    identity = ["-c", "user.name=Other", "-c", "user.email=other@example.com"]
    subprocess.run(["git", "-C", str(other), *identity, "commit", "-qm", "fix: b"], check=True)
    subprocess.run(["git", "-C", str(other), "push", "-q"], check=True)
    err = refused(repo, capsys)
    assert "branch main is behind origin/main" in err
    assert "hint: git pull --rebase origin main" in err


def test_ahead_of_the_remote_is_fine(make_repo: MakeRepo) -> None:
    repo = make_repo(history(), bare_remote=True)
    (repo.path / "c.txt").write_text("c\n")
    repo.git("add", "c.txt")
    repo.git("commit", "-qm", "fix: c")  # not pushed yet: goes out with the release
    assert cut(repo) == EXIT_OK
    assert remote_refs(repo)["refs/heads/main"] == repo.head


def test_nothing_to_release_exits_3(
    make_repo: MakeRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(
        [
            {"commit": "chore: initial import", "files": BASE_FILES},
            {"tag": "v1.4.0"},
            {"commit": "docs: typo", "files": {"README.md": "x\n"}},
            {"commit": "ci: cache", "files": {"ci.yaml": "x\n"}},
        ],
        bare_remote=True,
    )
    err = refused(repo, capsys, code=EXIT_NO_RELEASE)
    assert "nothing to release: no releasable commit since 1.4.0" in err
    # An explicit version needs --force when no commit asks for a release.
    assert "no commit since 1.4.0 requires a release" in refused(repo, capsys, "1.4.1")


# -- failures after the first write ------------------------------------------------------


def test_failed_push_rolls_back_tag_and_commit(
    make_repo: MakeRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(history(), bare_remote=True)
    assert repo.remote is not None
    hook = repo.remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'protected branch: releases need approval' >&2\nexit 1\n")
    hook.chmod(0o755)
    before_local, before_remote = local_state(repo), remote_refs(repo)

    assert cut(repo) == 1

    err = capsys.readouterr().err
    assert "push to origin failed" in err
    assert "rolled back" in err
    assert "hint: main looks protected: open a release PR instead with relkit cut --pr" in err
    assert local_state(repo) == before_local  # no tag, no commit, files as before
    assert remote_refs(repo) == before_remote  # atomic: neither branch nor tag


class FailingRunner:
    """Real git, except that commands starting with `fail_on` fail like git would."""

    def __init__(self, *fail_on: str) -> None:
        self.fail_on = fail_on

    def __call__(self, args: Sequence[str], cwd: Path, env: Mapping[str, str]) -> GitResult:
        if args[1] in self.fail_on:
            return GitResult(128, "", f"fatal: simulated failure of git {args[1]}")
        return subprocess_runner(args, cwd, env)


def test_unfinishable_rollback_reports_the_exact_commands(make_repo: MakeRepo) -> None:
    repo = make_repo(history(), bare_remote=True)
    assert repo.remote is not None
    hook = repo.remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\nexit 1\n")
    hook.chmod(0o755)
    config = load_config(repo.path)
    plan = plan_cut(GitRepo(repo.path), config, CutOptions())
    git = GitRepo(repo.path, runner=FailingRunner("reset"))

    with pytest.raises(RelkitError) as info:
        execute_cut(git, plan)

    error = info.value
    assert "rollback failed" in error.message
    assert error.hint is not None
    assert "to finish: git push --atomic --porcelain origin refs/heads/main" in error.hint
    assert f"git reset --keep {plan.base_sha[:12]}" in error.hint
    # The state matches the report: the tag was deleted, the release commit is still there.
    assert repo.git("log", "-1", "--format=%s").strip() == "chore(release): v1.5.0"


def test_refused_commit_restores_the_files(
    make_repo: MakeRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(history(), bare_remote=True)
    hook = repo.path / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'lint failed' >&2\nexit 1\n")
    hook.chmod(0o755)
    before = local_state(repo)
    assert cut(repo) == 1
    assert "git commit failed: lint failed" in capsys.readouterr().err
    assert local_state(repo) == before


def test_plan_refuses_when_head_moved(make_repo: MakeRepo) -> None:
    repo = make_repo(history(), bare_remote=True)
    plan = plan_cut(GitRepo(repo.path), load_config(repo.path), CutOptions())
    repo.git("commit", "-q", "--allow-empty", "-m", "fix: late")
    with pytest.raises(RelkitError, match="HEAD moved since the release was planned"):
        execute_cut(GitRepo(repo.path), plan)


def test_push_errors_never_show_credentials() -> None:
    text = "fatal: unable to access 'https://x-access-token:ghs_SECRET@github.com/a/b.git/'"
    assert "ghs_SECRET" not in redact(text)
    assert "https://***@github.com/a/b.git/" in redact(text)
