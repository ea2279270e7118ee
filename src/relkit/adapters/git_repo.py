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
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from relkit.core.errors import RelkitError
from relkit.core.records import record

__all__ = [
    "GitRepo",
    "GitResult",
    "RemoteState",
    "Runner",
    "add_args",
    "commit_args",
    "lease_push_args",
    "push_args",
    "push_error",
    "redact",
    "subprocess_runner",
    "tag_args",
]


@record
class GitResult:
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


@record
class RemoteState:
    """The remote's view: its branch tip (None: no such branch yet) and the tag's presence."""

    branch_sha: str | None
    has_tag: bool


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

    def run(
        self,
        *args: str,
        check: bool = True,
        what: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> GitResult:
        result = self._runner(["git", *args], self.root, {**self._env, **(env or {})})
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
        entries = iter(out.split("\0"))
        paths: set[str] = set()
        for entry in entries:
            if len(entry) < 4:
                continue
            paths.add(entry[3:])
            if "R" in entry[:2] or "C" in entry[:2]:
                next(entries, None)  # a rename/copy entry is followed by its source path
        return sorted(paths)

    def current_branch(self) -> str | None:
        """The checked-out branch, or None on a detached HEAD."""
        result = self.run("symbolic-ref", "--quiet", "--short", "HEAD", check=False)
        if not result.ok:
            return None
        return result.stdout.strip() or None

    def has_remote(self, remote: str) -> bool:
        return remote in self._out("remote").split()

    def remote_state(self, remote: str, branch: str, tag: str) -> RemoteState:
        """Where the remote's branch is and whether it has the tag: one `git ls-remote`.

        Read-only on purpose (no fetch): `--dry-run` must not change even remote-tracking
        refs, and the answer is the remote's current state rather than the last fetch's.
        """
        result = self.run(
            "ls-remote", remote, f"refs/heads/{branch}", f"refs/tags/{tag}",
            what=f"git ls-remote {remote}",
        )  # fmt: skip
        branch_sha: str | None = None
        has_tag = False
        for line in result.stdout.splitlines():
            sha, _, ref = line.partition("\t")
            if ref == f"refs/heads/{branch}":
                branch_sha = sha
            elif ref in (f"refs/tags/{tag}", f"refs/tags/{tag}^{{}}"):
                has_tag = True
        return RemoteState(branch_sha, has_tag)

    def contains(self, sha: str) -> bool:
        """Whether `sha` is a commit in HEAD's history (unknown objects: False)."""
        known = self.run("cat-file", "-e", f"{sha}^{{commit}}", check=False).ok
        return known and self.run("merge-base", "--is-ancestor", sha, "HEAD", check=False).ok

    def tag_exists_locally(self, tag: str) -> bool:
        return self.run("rev-parse", "--verify", "--quiet", f"refs/tags/{tag}", check=False).ok

    def signs_tags(self) -> bool:
        """True when git is configured to sign tags (`tag.gpgSign`)."""
        result = self.run("config", "--type=bool", "--get", "tag.gpgSign", check=False)
        return result.ok and result.stdout.strip() == "true"

    # -- writes -------------------------------------------------------------------------

    def commit_paths(self, paths: Sequence[str], message: str) -> str:
        """Stage exactly `paths` and commit them; returns the new commit's sha."""
        self.run(*add_args(paths))
        self.run(*commit_args(paths, message), what="git commit")
        return self.head()

    def create_tag(self, name: str, message: str, *, sign: bool) -> None:
        """Annotated tag at HEAD; signed (`-s`, using git's gpg.format/signing key) if asked."""
        self.run(*tag_args(name, message, sign=sign), what=f"git tag {name}")
        if sign and not self._tag_is_signed(name):
            # git 2.39 with an ssh signing key it cannot load exits 0 and writes the error
            # into the tag message; a release tag that should be signed must really be.
            self.delete_tag(name)
            raise RelkitError(
                f"git tag {name} failed: git created it without a signature "
                "(check user.signingKey and gpg.format)"
            )

    def _tag_is_signed(self, name: str) -> bool:
        body = self.run("cat-file", "tag", f"refs/tags/{name}").stdout
        return any(
            marker in body
            for marker in (
                "-----BEGIN PGP SIGNATURE-----",
                "-----BEGIN SSH SIGNATURE-----",
                "-----BEGIN SIGNED MESSAGE-----",  # x509 (gpgsm)
            )
        )

    def push_atomic(self, remote: str, branch: str, tag: str) -> GitResult:
        """Push the branch and the tag in one transaction; returns git's result unchecked."""
        return self.run(*push_args(remote, branch, tag), check=False)

    # -- release PR: commits built without touching the work tree ------------------------

    def remote_ref(self, remote: str, ref: str) -> str | None:
        """The sha of `ref` (`refs/heads/x`) on `remote` now (one `git ls-remote`), or None."""
        out = self.run("ls-remote", remote, ref, what=f"git ls-remote {remote}").stdout
        for line in out.splitlines():
            sha, _, name = line.partition("\t")
            if name == ref:
                return sha
        return None

    def fetch_ref(self, remote: str, ref: str) -> None:
        """Fetch `ref`'s objects (into FETCH_HEAD only: no local branch or tag changes)."""
        self.run("fetch", "--quiet", "--no-tags", remote, ref, what=f"git fetch {remote} {ref}")

    def signs_commits(self) -> bool:
        result = self.run("config", "--type=bool", "--get", "commit.gpgSign", check=False)
        return result.ok and result.stdout.strip() == "true"

    def commit_parts(self, sha: str) -> tuple[str, tuple[str, ...], str]:
        """Tree, parents and message of commit `sha`."""
        out = self.run("show", "-s", "--format=%T%n%P%n%B", sha, what="git show").stdout
        tree, parents, message = [*out.split("\n", 2), "", ""][:3]
        return tree, tuple(parents.split()), message.rstrip("\n")

    def write_tree(self, base: str, files: Mapping[str, str]) -> str:
        """The tree of `base` with `files` (path → text) replaced, in a private index.

        The blobs go through `git hash-object --path`, so the file's attributes (eol, clean
        filters) apply exactly as `git add` would apply them in `relkit cut`."""
        with tempfile.TemporaryDirectory(prefix="relkit-tree-") as scratch:
            env = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
            self.run("read-tree", base, env=env, what="git read-tree")
            for index, (path, text) in enumerate(sorted(files.items())):
                source = Path(scratch) / f"blob{index}"
                source.write_bytes(text.encode("utf-8"))
                blob = self._out("hash-object", "-w", f"--path={path}", str(source))
                mode = self._mode(base, path)
                self.run(
                    "update-index", "--add", "--cacheinfo", f"{mode},{blob},{path}",
                    env=env, what="git update-index",
                )  # fmt: skip
            return self.run("write-tree", env=env, what="git write-tree").stdout.strip()

    def _mode(self, base: str, path: str) -> str:
        out = self.run("ls-tree", base, "--", path, check=False).stdout.split()
        return out[0] if out and out[0] in ("100644", "100755") else "100644"

    def commit_tree(self, tree: str, parent: str, message: str, *, sign: bool) -> str:
        """A commit of `tree` on `parent` (signed with git's signing config when asked)."""
        args = ["commit-tree", tree, "-p", parent, "-m", message]
        if sign:
            args.insert(1, "-S")
        return self.run(*args, what="git commit-tree").stdout.strip()

    def push_with_lease(
        self, remote: str, sha: str, branch: str, *, expected: str | None
    ) -> GitResult:
        """Set `branch` on `remote` to `sha` only if it still is at `expected` (None: absent)."""
        ref = f"refs/heads/{branch}"
        return self.run(*lease_push_args(remote, sha, ref, expected), check=False)

    def delete_remote_branch(self, remote: str, branch: str, *, expected: str) -> GitResult:
        ref = f"refs/heads/{branch}"
        return self.run(
            "push", "--porcelain", f"--force-with-lease={ref}:{expected}", remote, f":{ref}",
            check=False,
        )  # fmt: skip

    def push_tag(self, remote: str, tag: str) -> GitResult:
        return self.run(
            "push", "--porcelain", remote, f"refs/tags/{tag}:refs/tags/{tag}", check=False
        )

    def create_tag_at(self, name: str, sha: str, message: str, *, sign: bool) -> None:
        """Annotated (or signed) tag on commit `sha`."""
        flag = "--sign" if sign else "--annotate"
        self.run("tag", flag, "--message", message, name, sha, what=f"git tag {name}")
        if sign and not self._tag_is_signed(name):
            self.delete_tag(name)
            raise RelkitError(
                f"git tag {name} failed: git created it without a signature "
                "(check user.signingKey and gpg.format)"
            )

    def local_tag_target(self, name: str) -> str | None:
        """The commit local tag `name` points at, or None."""
        result = self.run(
            "rev-parse", "--verify", "--quiet", f"refs/tags/{name}^{{commit}}", check=False
        )
        return result.stdout.strip() if result.ok else None

    def show_file(self, rev: str, path: str) -> str | None:
        result = self.run("show", f"{rev}:{path}", check=False)
        return result.stdout if result.ok else None

    # -- undo ---------------------------------------------------------------------------

    def delete_tag(self, name: str) -> None:
        self.run("tag", "--delete", name, what=f"git tag --delete {name}")

    def unstage(self, paths: Sequence[str]) -> None:
        """Make the index match HEAD again for `paths` (after a refused commit)."""
        self.run("reset", "--quiet", "--", *paths, what="git reset")

    def reset_to(self, sha: str) -> None:
        """Drop the release commit. `--keep` refuses rather than lose uncommitted changes."""
        self.run("reset", "--quiet", "--keep", sha, what="git reset")


# The argument lists of the writes, shared with `relkit cut --dry-run` so that what it prints
# is exactly what runs.


def add_args(paths: Sequence[str]) -> list[str]:
    return ["add", "--", *paths]


def commit_args(paths: Sequence[str], message: str) -> list[str]:
    # Only these paths: anything else staged by hand stays out of the release commit.
    return ["commit", "--quiet", "--message", message, "--", *paths]


def tag_args(name: str, message: str, *, sign: bool) -> list[str]:
    return ["tag", "--sign" if sign else "--annotate", "--message", message, name]


def push_args(remote: str, branch: str, tag: str) -> list[str]:
    return [
        "push", "--atomic", "--porcelain", remote,
        f"refs/heads/{branch}:refs/heads/{branch}", f"refs/tags/{tag}:refs/tags/{tag}",
    ]  # fmt: skip


def lease_push_args(remote: str, sha: str, ref: str, expected: str | None) -> list[str]:
    # An empty expected value means "the ref must not exist yet" (git push documentation).
    return [
        "push", "--porcelain", f"--force-with-lease={ref}:{expected or ''}", remote,
        f"{sha}:{ref}",
    ]  # fmt: skip


def push_error(result: GitResult) -> str:
    """One line that says why a push failed (redacted)."""
    return _one_line(result.stderr or result.stdout)
