"""A protected origin and GitHub's side of a merge, for the release-PR end-to-end tests.

- `protect(bare)`: a pre-receive hook rejects every push to `main`, as a branch protection
  rule does; only "GitHub" (the merge button: `as_github=True`) may move it.
- `merge_pull(...)`: what GitHub does when a PR is merged by merge commit, squash or rebase,
  done with real git in a scratch clone and pushed as GitHub, then recorded on the fake so
  `GET /commits/{sha}/pulls` finds the PR from the commit.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from tests.fakes.github_server import FakeRepo
from tests.fixtures.gitrepo import git_env

__all__ = ["GITHUB_PUSH", "clone", "git", "merge_pull", "protect", "push_feature"]

GITHUB_PUSH = "RELKIT_TEST_PUSHED_BY_GITHUB"
_FIXED_DATE = "2026-11-30T12:00:00+00:00"

_HOOK = f"""#!/bin/sh
# Branch protection: nobody pushes to main; only merges made by GitHub land there.
while read old new ref; do
  if [ "$ref" = "refs/heads/main" ] && [ "${{{GITHUB_PUSH}:-}}" != "1" ]; then
    echo "GH006: Protected branch update failed for refs/heads/main." >&2
    exit 1
  fi
done
exit 0
"""


def protect(bare: Path) -> None:
    hook = bare / "hooks" / "pre-receive"
    hook.write_text(_HOOK, encoding="utf-8")
    hook.chmod(0o755)


def git(
    repo: Path, *args: str, as_github: bool = False, env: Mapping[str, str] | None = None
) -> str:
    full = git_env({**os.environ, **(env or {})})
    if as_github:
        full[GITHUB_PUSH] = "1"
    done = subprocess.run(["git", *args], cwd=repo, env=full, capture_output=True, text=True)
    if done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)}: {done.stderr}")
    return done.stdout.strip()


def clone(bare: Path, target: Path) -> Path:
    git(bare.parent, "clone", "-q", str(bare), str(target))
    git(target, "config", "user.name", "GitHub")
    git(target, "config", "user.email", "noreply@github.com")
    git(target, "config", "commit.gpgsign", "false")
    return target


def push_feature(work: Path, message: str, files: Mapping[str, str]) -> str:
    """A feature PR merged by GitHub: a commit on main, pushed as GitHub."""
    git(work, "fetch", "-q", "origin")
    git(work, "checkout", "-q", "-B", "main", "origin/main")
    for name, text in files.items():
        path = work / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    git(work, "add", *files)
    # A fixed date: the same pushes in two worlds make the same commits (kill tests compare).
    when = {"GIT_AUTHOR_DATE": _FIXED_DATE, "GIT_COMMITTER_DATE": _FIXED_DATE}
    git(work, "commit", "-q", "-m", message, env=when)
    git(work, "push", "-q", "origin", "main", as_github=True)
    return git(work, "rev-parse", "HEAD")


def merge_pull(fake_repo: FakeRepo, work: Path, number: int, how: str) -> str:
    """Merge PR `number` the way GitHub's button does (`merge`, `squash` or `rebase`)."""
    pr = fake_repo.issues[number]
    git(work, "fetch", "-q", "origin")
    git(work, "checkout", "-q", "-B", "main", "origin/main")
    head = f"origin/{pr.head}"
    before = git(work, "rev-parse", "HEAD")
    if how == "merge":
        git(
            work, "merge", "-q", "--no-ff", head,
            "-m", f"Merge pull request #{number} from acme/{pr.head}",
        )  # fmt: skip
        introduced = git(work, "rev-list", f"{before}..HEAD").split()
    elif how == "squash":
        git(work, "merge", "-q", "--squash", head)
        git(work, "commit", "-q", "-m", f"{pr.title} (#{number})")
        introduced = [git(work, "rev-parse", "HEAD")]
    elif how == "rebase":
        git(work, "cherry-pick", f"{before}..{head}")
        introduced = git(work, "rev-list", f"{before}..HEAD").split()
    else:
        raise ValueError(how)
    git(work, "push", "-q", "origin", "main", as_github=True)
    sha = git(work, "rev-parse", "HEAD")
    fake_repo.merge_pull(number, sha, introduced)
    return sha
