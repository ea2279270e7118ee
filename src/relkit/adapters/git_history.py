"""Read-only git access for history: tags, commits of a range, remote web URL.

Everything goes through a handful of `git` subprocesses with machine-readable formats:
GitPython creates one object (and often one `cat-file` round trip) per commit, which is far
too slow for 30,000 commits, so commits come from ONE `git log -z` whose fields are NUL
separated (a commit message cannot contain NUL).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from relkit.errors import RelkitError
from relkit.model import RawCommit, TagRef

__all__ = [
    "commit_time",
    "is_ancestor",
    "list_tags",
    "read_commits",
    "remote_web_url",
    "resolve",
    "topo_order",
    "web_url_from_remote",
]

# sha, parents, author name, author e-mail, committer date (strict ISO 8601), raw message.
_LOG_FORMAT = "%H%x00%P%x00%an%x00%ae%x00%cI%x00%B"
_LOG_FIELDS = 6


def _git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    try:
        result = subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            check=False,
        )
    except FileNotFoundError:
        raise RelkitError("git is not installed", hint="install git and retry") from None
    if check and result.returncode != 0:
        detail = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RelkitError(
            f"git {args[0]} failed in {root}: {detail[-1] if detail else 'no output'}",
            hint="is this a git repository with at least one commit?",
        )
    return result


def resolve(root: Path, rev: str) -> str | None:
    """The commit sha `rev` names, or `None` when it names nothing."""
    result = _git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
    if result.returncode != 0:
        return None
    return result.stdout.decode().strip()


def list_tags(root: Path, merged_into: str | None = "HEAD") -> list[TagRef]:
    """Tags with the commit they point at (annotated tags peeled).

    With `merged_into` (default HEAD) only tags reachable from that commit are listed; tags
    on other branches are not releases of this line of history. `None` lists every tag.
    """
    args = [
        "for-each-ref",
        "--format=%(refname:strip=2)%00%(objecttype)%00%(objectname)%00%(*objectname)",
    ]
    if merged_into is not None:
        if resolve(root, merged_into) is None:
            return []  # an empty repository has no HEAD and no releases yet
        args.append(f"--merged={merged_into}")
    args.append("refs/tags")
    tags: list[TagRef] = []
    for line in _git(root, *args).stdout.decode("utf-8", "replace").splitlines():
        name, kind, sha, peeled = line.split("\0")
        if kind == "tag":
            if not peeled:
                continue  # an annotated tag of a tree or blob is no release
            tags.append(TagRef(name, peeled, annotated=True))
        elif kind == "commit":
            tags.append(TagRef(name, sha, annotated=False))
    return tags


def read_commits(
    root: Path,
    revisions: Sequence[str] = ("HEAD",),
    paths: Sequence[str] = (),
    *,
    topo: bool = True,
) -> list[RawCommit]:
    """Commits of `revisions` (e.g. `("v1.0.0..v1.1.0",)`), newest first, in one `git log`.

    `paths` restricts to commits touching them (a monorepo component). Topological order
    keeps a merged branch's commits together right below its merge commit.
    """
    if not revisions:
        return []
    args = ["log", "-z", f"--format={_LOG_FORMAT}"]
    if topo:
        args.append("--topo-order")
    args.extend(revisions)
    args.append("--")
    args.extend(paths)
    output = _git(root, *args).stdout.decode("utf-8", "replace")
    if not output:
        return []
    fields = output.split("\0")
    # -z ends every record with NUL: the last split element is "" after the final commit.
    if fields and fields[-1] == "":
        fields.pop()
    if len(fields) % _LOG_FIELDS:
        raise RelkitError(
            f"unexpected git log output in {root}", hint="is this a regular git repository?"
        )
    commits: list[RawCommit] = []
    for start in range(0, len(fields), _LOG_FIELDS):
        sha, parents, name, email, when, message = fields[start : start + _LOG_FIELDS]
        commits.append(
            RawCommit(
                sha=sha.lstrip("\n"),
                message=message,
                author_name=name,
                author_email=email,
                committed_at=datetime.fromisoformat(when),
                parents=tuple(parents.split()),
            )
        )
    return commits


def topo_order(root: Path, revision: str = "HEAD") -> list[str]:
    """Every commit sha reachable from `revision`, newest first in topological order."""
    output = _git(root, "rev-list", "--topo-order", revision, "--").stdout.decode()
    return output.split()


def is_ancestor(root: Path, ancestor: str, descendant: str) -> bool:
    return (
        _git(root, "merge-base", "--is-ancestor", ancestor, descendant, check=False).returncode == 0
    )


def commit_time(root: Path, rev: str) -> datetime:
    """The committer time of `rev` (with its UTC offset)."""
    output = _git(root, "show", "-s", "--format=%cI", f"{rev}^{{commit}}", "--").stdout
    return datetime.fromisoformat(output.decode().strip())


# scheme://[user[:password]@]host[:port]/path: the credentials part is never kept.
_URL = re.compile(r"^(?P<scheme>[a-z+]+)://(?:[^@/]*@)?(?P<host>[^/:]+)(?::\d+)?/(?P<path>.+)$")
_SCP_LIKE = re.compile(r"^(?:[\w.-]+@)?(?P<host>[\w.-]+):(?P<path>[^/].*)$")


def web_url_from_remote(url: str) -> str | None:
    """`git@github.com:o/r.git`, `https://token@github.com/o/r`, ... → `https://github.com/o/r`.

    Credentials embedded in the URL are dropped: the result goes into changelogs and logs.
    """
    url = url.strip()
    if not url:
        return None
    match = re.match(
        r"^(?P<scheme>[a-z+]+)://(?:[^@/]*@)?(?P<host>[^/:]+)(?::\d+)?/(?P<path>.+)$", url
    )
    if match:
        if match.group("scheme") == "file":
            return None
        host, path = match.group("host"), match.group("path")
    else:
        scp = _SCP_LIKE.match(url)
        if scp is None:
            return None
        host, path = scp.group("host"), scp.group("path")
    path = path.rstrip("/")
    if path.endswith(".git"):
        path = path[: -len(".git")]
    return f"https://{host}/{path}"


def remote_web_url(root: Path, remote: str = "origin") -> str | None:
    """The web URL of `remote`, or `None` when there is none or it is not a web host."""
    result = _git(root, "config", "--get", f"remote.{remote}.url", check=False)
    if result.returncode != 0:
        return None
    return web_url_from_remote(result.stdout.decode("utf-8", "replace"))
