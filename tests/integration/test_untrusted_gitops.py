"""Issue 15, §3: a GitOps clone's links never make `relkit promote` write outside the clone.

A real bare GitOps repository whose values file, or environment directory, is a committed
symlink to a file outside (the runner's Docker credentials, planted by
tests/fixtures/canary.py). Every component of an edited path is lstat-checked: a link
anywhere is refused before anything is written, and nothing is pushed.
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from relkit.core.config import PromoteConfig, PromoteEdit
from relkit.core.errors import RelkitError
from relkit.core.model import ImagePin, ReleasePlan, StepOutcome, Version
from relkit.release.steps.promote import promote
from tests.fixtures.canary import CANARIES, Runner
from tests.fixtures.gitrepo import BuiltRepo, build_repo, git_env

VALUES = "image:\n  repository: localhost:5000/acme/web\n  digest: sha256:" + "0" * 64 + "\n"
PLAN = ReleasePlan(
    version=Version.parse("1.2.0"),
    tag="v1.2.0",
    commit="89abcdef0123456789abcdef0123456789abcdef",
    committed_at=datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC),
    previous_tag=None,
    notes="",
    repository="acme/app",
    images=(ImagePin("localhost:5000/acme/web:1.2.0", "sha256:" + "a" * 64),),
)


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        env=git_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def _gitops(tmp_path: Path, links: dict[str, str]) -> BuiltRepo:
    files = {"shared/values.yaml": VALUES, "prod/values.yaml": VALUES}
    repo = build_repo(
        [{"commit": "chore: envs", "files": files}], tmp_path / "gitops-src", bare_remote=True
    )
    for name, target in links.items():
        link = repo.path / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(target)
    _git(repo.path, "add", "-A")
    _git(repo.path, "commit", "-qm", "chore: links", "--allow-empty")
    _git(repo.path, "push", "-q", "origin", "main")
    return repo


def _promote(repo: BuiltRepo, tmp_path: Path, file: str) -> StepOutcome:
    assert repo.remote is not None
    config = PromoteConfig(
        repository="acme/gitops",
        url=str(repo.remote),
        edits=[PromoteEdit(file=file, key="image.digest", value="{digest:web}")],
    )
    record = promote(
        PLAN,
        config,
        github=None,
        workdir=tmp_path / "work",
        chart_version=None,
        release_url=None,
        allow_downgrade=False,
        env=git_env({}),
    )
    return record.outcome


def _branches(repo: BuiltRepo) -> list[str]:
    done = subprocess.run(
        ["git", "--git-dir", str(repo.remote), "for-each-ref", "--format=%(refname:short)"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.split()


def _victim(runner: Runner) -> Path:
    """A file outside the clone that the edit would apply to (it has image.digest)."""
    victim = runner.home / "victim" / "values.yaml"
    victim.parent.mkdir(exist_ok=True)
    victim.write_text(VALUES + f"# {CANARIES[0]}\n", encoding="utf-8")
    runner.freeze_outside()
    return victim


@pytest.mark.parametrize(
    ("links", "file", "shown"),
    [
        ({"staging/values.yaml": "VICTIM"}, "staging/values.yaml", "staging/values.yaml"),
        ({"staging": "VICTIM_DIR"}, "staging/values.yaml", "staging"),
        # A link that stays inside the clone is refused too: edits go to real files only.
        ({"staging/values.yaml": "../shared/values.yaml"}, "staging/values.yaml", "values.yaml"),
    ],
)
def test_a_link_on_the_way_is_refused_before_anything_is_written(
    canary_runner: Runner,
    tmp_path: Path,
    links: dict[str, str],
    file: str,
    shown: str,
) -> None:
    victim = _victim(canary_runner)
    resolved = {
        name: target.replace("VICTIM_DIR", str(victim.parent)).replace("VICTIM", str(victim))
        for name, target in links.items()
    }
    repo = _gitops(tmp_path, resolved)
    before = _branches(repo)
    with pytest.raises(RelkitError) as caught:
        _promote(repo, tmp_path, file)
    message = str(caught.value)
    assert f"{shown} is a symlink in the GitOps repository" in message, message
    for canary in CANARIES:
        assert canary not in message
    assert _branches(repo) == before  # nothing pushed
    canary_runner.assert_clean_outside()
    clone = tmp_path / "work" / "gitops" / "shared" / "values.yaml"
    assert not clone.exists() or clone.read_text() == VALUES


def test_a_real_file_is_still_edited(canary_runner: Runner, tmp_path: Path) -> None:
    repo = _gitops(tmp_path, {})
    assert _promote(repo, tmp_path, "prod/values.yaml") is StepOutcome.DONE
    assert len(_branches(repo)) == 2
    canary_runner.assert_clean_outside()
