"""A git remote URL read once, the same way for everyone who reads one (pure).

Three places ask a remote URL a question: the web URL that changelog links point to
(`adapters/git_history.web_url_from_remote`), the repository's name in a promotion
(`promote/naming.repository_name`) and the GitHub `owner/name` that `relkit init` writes
(`init/detect.github_repository`). They used to parse it three ways; they now read the
`RemoteUrl` this module returns and differ only in what they accept.

The forms are git's own (git-clone(1), "GIT URLS"):

- `scheme://[user[:password]@]host[:port]/path` (https, http, ssh, git, git+ssh, ...);
- scp-like `[user@]host:path`, when a `:` comes before any `/`;
- a local repository: `file://...`, or any other text, read as a path.

A remote URL may carry a token (`https://x-access-token:ghs_...@github.com/o/r`) and its
web URL goes into changelogs and logs, so the user info is never kept: nothing of a
`RemoteUrl` comes from before the host's last `@`. A form that cannot be read with
certainty (a query, a fragment, a backslash in a URL, an IPv6 host, a path part holding
anything but letters, digits, `._~-` and `%XX`) is `None`, never a guess: a wrong web URL
or name would be published.
"""

from __future__ import annotations

import re

from relkit.core.records import record

__all__ = ["RemoteUrl", "parse_remote_url"]

_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*", re.ASCII)
# Host names and ssh aliases (`github.com-work`); lower-cased before the match.
_HOST = re.compile(r"[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?", re.ASCII)
_PORT = re.compile(r"[0-9]{1,5}", re.ASCII)
# One path part as forges name owners, groups and repositories; `%XX` for Azure's spaces.
# It holds no `@`, `:` or `/`, so no user info and no second host can hide in a result.
_PART = re.compile(r"(?:[A-Za-z0-9_.~-]|%[0-9A-Fa-f]{2})+", re.ASCII)
_DRIVE = re.compile(r"[A-Za-z]:[\\/]", re.ASCII)  # `C:\repos\web`: a path, not host `C`
# In a URL these end the authority or the path for some readers and not others
# (`https://github.com#@evil.example/o/r`): the host is not known for certain.
_AMBIGUOUS = frozenset("?#\\")
_WEB_SCHEMES = ("http", "https")


@record
class RemoteUrl:
    """What a remote URL names; `host` is None for a local repository."""

    scheme: str  # "https", "ssh" (scp-like too), "git", ...; "file" for a local repository
    host: str | None  # lower case, without user info or port
    port: int | None
    # The repository's path parts, `.git` dropped from the last: ("acme", "web"),
    # ("group", "sub", "web"). A local repository keeps only its name: its directories
    # are nobody's owner.
    path: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.path[-1]

    @property
    def owner(self) -> str | None:
        """Everything above the name (`acme`, `group/sub`); None when there is nothing."""
        return "/".join(self.path[:-1]) or None

    @property
    def web_url(self) -> str | None:
        """`https://host/owner/name`: where a forge shows the repository; None when local.

        An http(s) remote is its web server: its scheme and port stay. Any other transport
        (ssh, git) says nothing of the web server's port, so it is https on the default.
        """
        if self.host is None:
            return None
        if self.scheme in _WEB_SCHEMES:
            port = f":{self.port}" if self.port is not None else ""
            return f"{self.scheme}://{self.host}{port}/{'/'.join(self.path)}"
        return f"https://{self.host}/{'/'.join(self.path)}"


def parse_remote_url(url: str | None) -> RemoteUrl | None:
    """The remote `url` names, or None when it is empty or not read with certainty."""
    text = (url or "").strip()
    if not text or any(c.isspace() or not c.isprintable() for c in text):
        return None
    scheme, separator, rest = text.partition("://")
    if separator:
        return _from_url(scheme.lower(), rest)
    if _DRIVE.match(text):
        return _local(text)
    colon, slash = text.find(":"), text.find("/")
    if colon != -1 and (slash == -1 or colon < slash):
        return _from_scp_like(text)
    return _local(text)


def _from_url(scheme: str, rest: str) -> RemoteUrl | None:
    if not _SCHEME.fullmatch(scheme):
        return None
    if scheme == "file":
        return _local(rest)
    if _AMBIGUOUS.intersection(rest):
        return None
    authority, slash, path = rest.partition("/")
    if not slash:
        return None
    host_port = authority.rpartition("@")[2]  # the user info, token included, is dropped
    host, _, port = host_port.partition(":")
    if port and not _PORT.fullmatch(port):
        return None
    return _remote(scheme, host, int(port) if port else None, path)


def _from_scp_like(text: str) -> RemoteUrl | None:
    # `user:password@host:path`: the host starts after the last `@` before the path's
    # first `/` (git's own reading), so a password with `:` or `@` is dropped whole.
    slash = text.find("/")
    at = text.rfind("@", 0, len(text) if slash == -1 else slash)
    host, _, path = text[at + 1 :].partition(":")
    return _remote("ssh", host, None, path)


def _remote(scheme: str, host: str, port: int | None, path: str) -> RemoteUrl | None:
    host = host.lower()
    parts = _path_parts(path.strip("/").split("/"))
    if not _HOST.fullmatch(host) or parts is None:
        return None
    return RemoteUrl(scheme, host, port, parts)


def _local(path: str) -> RemoteUrl | None:
    # `/home/me/web/.git` is the repository of the work tree `web`.
    directories = [part for part in re.split(r"[/\\]", path) if part]
    if len(directories) > 1 and directories[-1] == ".git":
        directories.pop()
    name = _path_parts(directories[-1:] or [""])
    return RemoteUrl("file", None, None, name) if name is not None else None


def _path_parts(parts: list[str]) -> tuple[str, ...] | None:
    """The parts with `.git` dropped from the last, or None when one is not a plain name."""
    parts = [*parts[:-1], parts[-1].removesuffix(".git")]
    if all(_PART.fullmatch(part) and part not in (".", "..") for part in parts):
        return tuple(parts)
    return None
