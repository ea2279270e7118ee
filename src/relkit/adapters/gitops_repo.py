"""The GitOps repository as relkit touches it: shallow clone, one commit, push one branch.

Authentication never goes through the URL or the command line, where `ps`, git's own
messages and CI logs would show it: for http(s) remotes the token travels as an
`http.<url>.extraHeader` set through git's `GIT_CONFIG_COUNT` environment variables (the
mechanism actions/checkout uses, without writing it to a file), scoped to the remote's URL so
git never sends it to another host. Everything git prints is redacted before it can reach an
error message.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from relkit.adapters.git_repo import GitResult, Runner, redact, subprocess_runner
from relkit.core.errors import ConfigError, RelkitError
from relkit.core.paths import no_link_path, read_nofollow, write_nofollow
from relkit.core.records import record
from relkit.core.structured import decode_utf8

__all__ = ["GitOpsRepo", "RemoteBranch", "display_url", "gitops_token"]

AUTHOR_NAME = "relkit"
AUTHOR_EMAIL = "relkit@users.noreply.github.com"

# git's ways of saying "no or wrong credentials" (HTTP 401/403, ssh publickey).
_AUTH_FAILURE = re.compile(
    r"could not read (Username|Password)|Authentication failed|\b40[13]\b|Permission denied"
    r"|terminal prompts disabled",
    re.IGNORECASE,
)

# Variables that would point git at another repository or config than the one we cloned
# (set, for example, when relkit runs inside a git hook).
_GIT_LOCATION_VARS = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY")


def gitops_token(env: Mapping[str, str], token_env: str) -> str | None:
    """The GitOps token: `promote.token_env` first, then GITHUB_TOKEN / GH_TOKEN."""
    for name in (token_env, "GITHUB_TOKEN", "GH_TOKEN"):
        value = env.get(name, "").strip()
        if value:
            return value
    return None


def display_url(url: str) -> str:
    """The URL without any user-info, for messages."""
    return redact(url)


@record
class RemoteBranch:
    name: str
    sha: str | None  # None: the branch does not exist on the remote


class GitOpsRepo:
    """A shallow clone of the GitOps repository's base branch in `path`."""

    def __init__(
        self,
        url: str,
        path: Path,
        *,
        token: str | None = None,
        env: Mapping[str, str] | None = None,
        runner: Runner | None = None,
    ) -> None:
        self.url = url
        self.path = path
        self._runner = runner or subprocess_runner
        self._secrets = _secret_forms(token)
        self._env = _git_env(url, token, os.environ if env is None else env)

    # -- running git -----------------------------------------------------------------------

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return redact(text)

    def _git(
        self, *args: str, what: str, cwd: Path | None = None, env: Mapping[str, str] | None = None
    ) -> GitResult:
        result = self._runner(["git", *args], cwd or self.path, {**self._env, **(env or {})})
        if not result.ok:
            lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
            fatal = [line for line in lines if line.startswith(("fatal:", "error:", "remote:"))]
            reason = self._scrub((fatal or lines or [f"exit code {result.returncode}"])[-1])
            if _AUTH_FAILURE.search(reason):
                raise RelkitError(
                    f"gitops: {what} failed: the remote refused the credentials ({reason})",
                    hint=(
                        "set the variable named by promote.token_env (default RELKIT_GITOPS_TOKEN)"
                        " or GITHUB_TOKEN to a token with contents:write on the GitOps repository"
                    ),
                )
            raise RelkitError(
                f"gitops: {what} failed: {reason}",
                hint="check promote.url and promote.base",
            )
        return result

    # -- operations --------------------------------------------------------------------------

    def clone(self, base: str) -> None:
        """`git clone --depth 1 --branch BASE URL PATH` (PATH is emptied first)."""
        if self.path.exists():
            shutil.rmtree(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._git(
            "clone",
            "--quiet",
            "--depth",
            "1",
            "--single-branch",
            "--no-tags",
            "--branch",
            base,
            "--",
            _clone_url(self.url),
            str(self.path),
            what=f"cloning {display_url(self.url)} (branch {base})",
            cwd=self.path.parent,
        )

    def _file(self, file: str) -> Path:
        # The clone is someone else's tree: a values file (or an environment directory) that
        # is a symlink could name any file on the runner. Every component is lstat-checked
        # and none may be a link, before anything is read or written (issue 15).
        return no_link_path(
            self.path, file, key="promote.edits: file", where="the GitOps repository"
        )

    def read(self, file: str) -> str:
        path = self._file(file)
        if not path.is_file():
            raise ConfigError(
                f"promote.edits: {file} does not exist in the GitOps repository",
                hint=f"check the path against {display_url(self.url)}",
            )
        data = read_nofollow(path, key="promote.edits: file", value=file)
        return decode_utf8(data, source=file)  # one line if not UTF-8

    def write(self, file: str, text: str) -> None:
        # Bytes, not text mode: keep the file's own line endings exactly.
        path = self._file(file)
        write_nofollow(path, text.encode("utf-8"), key="promote.edits: file", value=file)

    def commit(self, branch: str, files: list[str], message: str, *, date: datetime) -> str:
        """Commit `files` on a new local `branch` from the base; return the commit sha.

        Author and dates are fixed (relkit, the release commit's time), so re-running a
        promotion of the same release on the same base yields the same commit.
        """
        self._git("checkout", "--quiet", "-B", branch, what=f"creating branch {branch}")
        self._git("add", "--", *files, what="staging the edited files")
        # The message goes through a file: the runner has no stdin, and argv is visible in ps.
        message_file = self.path / ".git" / "RELKIT_COMMIT_MSG"
        message_file.write_text(message, encoding="utf-8")
        stamp = date.isoformat()
        self._git(
            "-c",
            f"user.name={AUTHOR_NAME}",
            "-c",
            f"user.email={AUTHOR_EMAIL}",
            "-c",
            "commit.gpgSign=false",
            "commit",
            "--quiet",
            "--no-verify",
            "--file",
            str(message_file),
            what="committing the promotion",
            env={"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp},
        )
        return self.rev_parse("HEAD")

    def rev_parse(self, revision: str) -> str:
        return self._git(
            "rev-parse", "--verify", revision, what=f"resolving {revision}"
        ).stdout.strip()

    def remote_branch(self, branch: str) -> RemoteBranch:
        out = self._git(
            "ls-remote", "--heads", "origin", f"refs/heads/{branch}", what="listing remote branches"
        ).stdout
        for line in out.splitlines():
            sha, _, ref = line.partition("\t")
            if ref.strip() == f"refs/heads/{branch}":
                return RemoteBranch(branch, sha.strip())
        return RemoteBranch(branch, None)

    def remote_branches(self, pattern: str) -> list[str]:
        """Branch names on the remote matching a `git ls-remote` glob such as `relkit/x-*`."""
        out = self._git(
            "ls-remote",
            "--heads",
            "origin",
            f"refs/heads/{pattern}",
            what="listing remote branches",
        ).stdout
        names = [line.partition("\t")[2].strip() for line in out.splitlines()]
        return sorted(n.removeprefix("refs/heads/") for n in names if n.startswith("refs/heads/"))

    def remote_tree_equals_head(self, remote: RemoteBranch) -> bool:
        """Does the remote branch already hold exactly our tree (so no push is needed)?"""
        if remote.sha is None:
            return False
        self._git(
            "fetch",
            "--quiet",
            "--depth",
            "1",
            "--no-tags",
            "origin",
            f"+refs/heads/{remote.name}:refs/relkit/remote-branch",
            what=f"fetching {remote.name}",
        )
        return self.rev_parse("refs/relkit/remote-branch^{tree}") == self.rev_parse("HEAD^{tree}")

    def push(self, remote: RemoteBranch) -> None:
        """Push HEAD to the branch, overwriting it only if it is still where we saw it.

        The branch belongs to relkit and re-runs rewrite it, hence force; the lease makes a
        concurrent push (another run, a human fixing the PR) fail instead of being lost.
        """
        lease = f"--force-with-lease=refs/heads/{remote.name}:{remote.sha or ''}"
        self._git(
            "push",
            "--quiet",
            "--no-verify",
            lease,
            "origin",
            f"HEAD:refs/heads/{remote.name}",
            what=f"pushing branch {remote.name}",
        )


def _clone_url(url: str) -> str:
    # A local path is cloned through file:// so that --depth applies (git ignores it for
    # plain paths); anything with a scheme or scp-like syntax is used as given.
    if "://" in url or (":" in url.split("/", 1)[0] and not Path(url).exists()):
        return url
    return Path(url).resolve().as_uri()


def _secret_forms(token: str | None) -> tuple[str, ...]:
    if not token:
        return ()
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    return (token, basic)


def _git_env(url: str, token: str | None, base: Mapping[str, str]) -> dict[str, str]:
    env = {k: v for k, v in base.items() if k not in _GIT_LOCATION_VARS}
    env.setdefault("PATH", os.environ.get("PATH", "/usr/bin:/bin"))
    # Never wait for a password prompt: in CI that hangs until the job times out.
    env["GIT_TERMINAL_PROMPT"] = "0"
    env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
    scheme = urlsplit(url).scheme
    if token and scheme in ("http", "https"):
        parts = urlsplit(url)
        scope = urlunsplit((parts.scheme, parts.hostname or "", "", "", ""))
        if parts.port:
            scope = urlunsplit((parts.scheme, f"{parts.hostname}:{parts.port}", "", "", ""))
        basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
        count = int(env.get("GIT_CONFIG_COUNT", "0") or "0")
        env[f"GIT_CONFIG_KEY_{count}"] = f"http.{scope}/.extraHeader"
        env[f"GIT_CONFIG_VALUE_{count}"] = f"Authorization: Basic {basic}"
        env["GIT_CONFIG_COUNT"] = str(count + 1)
    return env
