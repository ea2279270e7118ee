"""Write-side and state git operations for `relkit cut`.

Everything runs the `git` command line through an injectable runner (pypa/build style), so
git's own behaviour applies unchanged: hooks, `tag.gpgSign`/`gpg.format` signing, credential
helpers, `push --atomic`. Read-only history walking lives in `git_history`.

Failures are one-line `RelkitError`s with git's own reason; URLs with credentials
(`https://user:token@host/...`) are redacted before any text leaves this module.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from relkit.errors import RelkitError

__all__ = [
    "GitRepo",
    "GitResult",
    "Runner",
    "push_error",
    "redact",
    "subprocess_runner",
]


@dataclass(frozen=True)
class GitResult:
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


Runner = Callable[[Sequence[str], Path, Mapping[str, str]], GitResult]

_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")


def redact(text: str) -> str:
    """Hide the user-info part of URLs (tokens in https remotes)."""
    return _CREDENTIALS.sub(r"\g<scheme>***@", text)


def subprocess_runner(args: Sequence[str], cwd: Path, env: Mapping[str, str]) -> GitResult:
    try:
        done = subprocess.run(
            list(args), cwd=cwd, env=dict(env), capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise RelkitError("git is not installed", hint="install git and retry") from None
    return GitResult(done.returncode, done.stdout, done.stderr)


def _one_line(text: str) -> str:
    lines = [line.strip() for line in redact(text).splitlines() if line.strip()]
    # git puts the decisive line last ("fatal: ...", "error: failed to push ...").
    fatal = [line for line in lines if line.startswith(("fatal:", "error:"))]
    return (fatal or lines or ["no output"])[0 if fatal else -1]


class GitRepo:
    """A work tree to release from. `runner` runs `git ...` (inject a fake in unit tests)."""

    def __init__(self, root: Path, runner: Runner | None = None) -> None:
        self.root = root
        self._runner = runner or subprocess_runner
        env = dict(os.environ)
        # Never wait for a password prompt: in CI that hangs until the job times out.
        env["GIT_TERMINAL_PROMPT"] = "0"
        env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
        self._env = env

    # -- plumbing -----------------------------------------------------------------------

    def run(self, *args: str, check: bool = True, what: str | None = None) -> GitResult:
        result = self._runner(["git", *args], self.root, self._env)
        if check and not result.ok:
            action = what or f"git {args[0]}"
            raise RelkitError(f"{action} failed: {_one_line(result.stderr or result.stdout)}")
        return result

    def _out(self, *args: str) -> str:
        return self.run(*args).stdout.strip()

    def ensure_repository(self) -> None:
        result = self.run("rev-parse", "--is-inside-work-tree", check=False)
        if not result.ok or result.stdout.strip() != "true":
            raise RelkitError(
                f"{self.root} is not a git work tree", hint="run relkit inside a git clone"
            )

    # -- state --------------------------------------------------------------------------

    def head(self) -> str:
        return self._out("rev-parse", "HEAD")

    def dirty_paths(self) -> list[str]:
        """Paths with staged, unstaged or untracked changes (ignored files do not count)."""
        out = self.run("status", "--porcelain=v1", "-z", "--untracked-files=all").stdout
        return sorted({entry[3:] for entry in out.split("\0") if len(entry) > 3})

    def current_branch(self) -> str | None:
        """The checked-out branch, or None on a detached HEAD."""
        result = self.run("symbolic-ref", "--quiet", "--short", "HEAD", check=False)
        if not result.ok:
            return None
        return result.stdout.strip() or None

    def has_remote(self, remote: str) -> bool:
        return remote in self._out("remote").split()

    def fetch(self, remote: str, branch: str) -> None:
        """Update `<remote>/<branch>` (a branch the remote does not have is not an error)."""
        refspec = f"+refs/heads/{branch}:refs/remotes/{remote}/{branch}"
        result = self.run("fetch", "--quiet", "--no-tags", remote, refspec, check=False)
        if not result.ok and "couldn't find remote ref" not in result.stderr:
            raise RelkitError(
                f"git fetch {remote} failed: {_one_line(result.stderr)}",
                hint="check the remote and your network/credentials, or use --no-push",
            )

    def upstream_of(self, branch: str, remote: str) -> str | None:
        """The branch's configured upstream, else `<remote>/<branch>` if it exists."""
        result = self.run(
            "rev-parse", "--abbrev-ref", "--symbolic-full-name", f"{branch}@{{upstream}}",
            check=False,
        )  # fmt: skip
        if result.ok and result.stdout.strip():
            return result.stdout.strip()
        candidate = f"{remote}/{branch}"
        exists = self.run(
            "rev-parse", "--verify", "--quiet", f"refs/remotes/{candidate}", check=False
        )
        return candidate if exists.ok else None

    def behind_count(self, upstream: str) -> int:
        """Commits on `upstream` that HEAD does not have."""
        return int(self._out("rev-list", "--count", f"HEAD..{upstream}"))

    def tag_exists_locally(self, tag: str) -> bool:
        return self.run("rev-parse", "--verify", "--quiet", f"refs/tags/{tag}", check=False).ok

    def tag_exists_on_remote(self, remote: str, tag: str) -> bool:
        result = self.run(
            "ls-remote", "--tags", remote, f"refs/tags/{tag}", what=f"git ls-remote {remote}"
        )
        return any(
            line.split("\t", 1)[-1] in (f"refs/tags/{tag}", f"refs/tags/{tag}^{{}}")
            for line in result.stdout.splitlines()
        )

    def signs_tags(self) -> bool:
        """True when git is configured to sign tags (`tag.gpgSign`)."""
        result = self.run("config", "--type=bool", "--get", "tag.gpgSign", check=False)
        return result.ok and result.stdout.strip() == "true"

    # -- writes -------------------------------------------------------------------------

    def commit_paths(self, paths: Sequence[str], message: str) -> str:
        """Stage exactly `paths` and commit them; returns the new commit's sha."""
        self.run("add", "--", *paths)
        # Only these paths: anything else staged by hand stays out of the release commit.
        self.run("commit", "--quiet", "--message", message, "--", *paths, what="git commit")
        return self.head()

    def create_tag(self, name: str, message: str, *, sign: bool) -> None:
        """Annotated tag at HEAD; signed (`-s`, using git's gpg.format/signing key) if asked."""
        mode = "--sign" if sign else "--annotate"
        self.run("tag", mode, "--message", message, name, what=f"git tag {name}")

    def push_atomic(self, remote: str, branch: str, tag: str) -> GitResult:
        """Push the branch and the tag in one transaction; returns git's result unchecked."""
        return self.run(
            "push", "--atomic", "--porcelain", remote,
            f"refs/heads/{branch}:refs/heads/{branch}", f"refs/tags/{tag}:refs/tags/{tag}",
            check=False,
        )  # fmt: skip

    # -- undo ---------------------------------------------------------------------------

    def delete_tag(self, name: str) -> None:
        self.run("tag", "--delete", name, what=f"git tag --delete {name}")

    def reset_to(self, sha: str) -> None:
        """Drop the release commit. `--keep` refuses rather than lose uncommitted changes."""
        self.run("reset", "--quiet", "--keep", sha, what="git reset")


def push_error(result: GitResult) -> str:
    """One line that says why a push failed (redacted)."""
    return _one_line(result.stderr or result.stdout)
