"""`core/remote_url`: the one reading of a git remote URL (web URL, repository name, GitHub)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relkit.core.remote_url import RemoteUrl, parse_remote_url

# (url, host, owner, name, web URL); None for the whole row's answer: not read.
CASES: list[tuple[str, str | None, str | None, str | None, str | None]] = [
    ("https://github.com/acme/web.git", "github.com", "acme", "web", "https://github.com/acme/web"),
    ("https://github.com/acme/web", "github.com", "acme", "web", "https://github.com/acme/web"),
    ("https://github.com/acme/web/", "github.com", "acme", "web", "https://github.com/acme/web"),
    ("git@github.com:acme/web.git", "github.com", "acme", "web", "https://github.com/acme/web"),
    ("github.com:acme/web", "github.com", "acme", "web", "https://github.com/acme/web"),
    (
        "ssh://git@github.com/acme/web.git",
        "github.com",
        "acme",
        "web",
        "https://github.com/acme/web",
    ),
    # an ssh port is not the web server's; an https port is
    (
        "ssh://git@git.example.com:2222/acme/web.git/",
        "git.example.com",
        "acme",
        "web",
        "https://git.example.com/acme/web",
    ),
    (
        "https://git.example.com:8443/acme/web.git",
        "git.example.com",
        "acme",
        "web",
        "https://git.example.com:8443/acme/web",
    ),
    (
        "http://git.internal:3000/acme/web",
        "git.internal",
        "acme",
        "web",
        "http://git.internal:3000/acme/web",
    ),
    (
        "git://git.kernel.org/pub/scm/git/git.git",
        "git.kernel.org",
        "pub/scm/git",
        "git",
        "https://git.kernel.org/pub/scm/git/git",
    ),
    ("git+ssh://git@host/acme/web", "host", "acme", "web", "https://host/acme/web"),
    # nested groups (GitLab)
    (
        "https://gitlab.com/group/sub/web.git",
        "gitlab.com",
        "group/sub",
        "web",
        "https://gitlab.com/group/sub/web",
    ),
    # credentials: dropped whole, whatever they hold
    (
        "https://x-access-token:ghs_secret@github.com/acme/web.git",
        "github.com",
        "acme",
        "web",
        "https://github.com/acme/web",
    ),
    (
        "https://user:p@ss:w@rd@github.com/acme/web",
        "github.com",
        "acme",
        "web",
        "https://github.com/acme/web",
    ),
    (
        "user:secret@github.com:acme/web.git",
        "github.com",
        "acme",
        "web",
        "https://github.com/acme/web",
    ),
    ("https://user:pa/ss@github.com/acme/web", None, None, None, None),
    # case and www.: hosts are case-insensitive, paths are not
    ("HTTPS://GitHub.COM/Acme/Web.git", "github.com", "Acme", "Web", "https://github.com/Acme/Web"),
    (
        "https://www.github.com/acme/web",
        "www.github.com",
        "acme",
        "web",
        "https://www.github.com/acme/web",
    ),
    # scp-like with an absolute path
    ("git@host:/srv/git/web.git", "host", "srv/git", "web", "https://host/srv/git/web"),
    # one path part: a name without an owner
    (
        "https://git.example.com/web.git",
        "git.example.com",
        None,
        "web",
        "https://git.example.com/web",
    ),
    # local repositories: a name, no host, no web URL
    ("/srv/git/web.git", None, None, "web", None),
    ("/srv/git/web.git/", None, None, "web", None),
    ("file:///srv/git/web", None, None, "web", None),
    ("file://host/srv/git/web.git", None, None, "web", None),
    ("../web", None, None, "web", None),
    ("web", None, None, "web", None),
    ("C:\\repos\\web.git", None, None, "web", None),
    ("C:/repos/web", None, None, "web", None),
    # nothing certain to read
    ("", None, None, None, None),
    ("   ", None, None, None, None),
    ("host:", None, None, None, None),
    ("git@host:", None, None, None, None),
    ("https://github.com/", None, None, None, None),
    ("https://github.com", None, None, None, None),
    ("https://github.com/acme/..", None, None, None, None),
    ("https://github.com/acme//web", None, None, None, None),
    ("https://github.com/acme/.git", None, None, None, None),
    ('https://github.com/acme/we"b', None, None, None, None),
    ("https://github.com/acme/web?token=x", None, None, None, None),
    ("https://github.com#@evil.example/acme/web", None, None, None, None),
    ("https://evil.example\\@github.com/acme/web", None, None, None, None),
    ("https://[::1]:22/acme/web", None, None, None, None),
    ("https://host:port/acme/web", None, None, None, None),
    ("https://-host/acme/web", None, None, None, None),
    ("1http://host/acme/web", None, None, None, None),
    ("https://host/acme/web\nx", None, None, None, None),
    ("/srv/git/", None, None, "git", None),
    ("/home/me/web/.git", None, None, "web", None),
    ("/", None, None, None, None),
    (".", None, None, None, None),
]


@pytest.mark.parametrize(("url", "host", "owner", "name", "web"), CASES)
def test_remote_urls(
    url: str, host: str | None, owner: str | None, name: str | None, web: str | None
) -> None:
    remote = parse_remote_url(url)
    if name is None:
        assert remote is None
        return
    assert remote is not None
    assert (remote.host, remote.owner, remote.name, remote.web_url) == (host, owner, name, web)


def _fields(remote: RemoteUrl | None) -> list[str]:
    if remote is None:
        return []
    return [remote.host or "", remote.owner or "", remote.name, remote.web_url or ""]


_PIECES = st.sampled_from(
    [
        "https://",
        "ssh://",
        "file://",
        "git@",
        "user:tok@",
        "@",
        ":",
        "/",
        "//",
        "\\",
        ".git",
        "github.com",
        "GitHub.COM",
        "www.",
        "acme",
        "web",
        "..",
        ".",
        "%20",
        "#",
        "?",
        ":22",
        "[::1]",
        "C:",
        " ",
        "\n",
        "-",
        "~",
    ]
)
_URLS = st.one_of(st.text(max_size=60), st.lists(_PIECES, max_size=12).map("".join))


@settings(derandomize=True, max_examples=500, deadline=None)
@given(_URLS)
def test_never_raises_and_never_returns_a_separator_or_user_info(url: str) -> None:
    remote = parse_remote_url(url)
    if remote is None:
        return
    assert remote.path and all(remote.path)
    assert not any(c in remote.name for c in "/:@\\")
    assert "@" not in "".join(_fields(remote))
    if remote.web_url is not None:
        # a scheme, a host, a numeric port at most: no other `:` (no `user:password`)
        assert re.fullmatch(r"https?://[a-z0-9_.-]+(:[0-9]+)?(/[^/:@\s]+)+", remote.web_url)


_LABEL = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
_HOSTS = st.lists(_LABEL, min_size=1, max_size=3).map(".".join)
_NAMES = st.from_regex(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,20}", fullmatch=True).filter(
    lambda n: not n.endswith(".git")
)
_SECRETS = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp"), blacklist_characters="/"),
    min_size=1,
    max_size=20,
)


@settings(derandomize=True, max_examples=300, deadline=None)
@given(_HOSTS, _NAMES, _NAMES, st.booleans(), st.sampled_from(["", "/"]))
def test_a_well_formed_https_url_reads_back_as_written(
    host: str, owner: str, name: str, dot_git: bool, slash: str
) -> None:
    url = f"https://{host}/{owner}/{name}{'.git' if dot_git else ''}{slash}"
    remote = parse_remote_url(url)
    assert remote is not None
    assert (remote.host, remote.owner, remote.name) == (host, owner, name)
    assert remote.web_url == f"https://{host}/{owner}/{name}"


@settings(derandomize=True, max_examples=300, deadline=None)
@given(_SECRETS, _HOSTS, _NAMES, _NAMES, st.sampled_from(["https://{c}@{h}/", "{c}@{h}:"]))
def test_credentials_never_reach_what_is_read(
    secret: str, host: str, owner: str, name: str, form: str
) -> None:
    credentials = f"x-access-token:SECRET{secret}"
    url = form.format(c=credentials, h=host) + f"{owner}/{name}.git"
    remote = parse_remote_url(url)
    if remote is not None:
        assert "SECRET" not in "".join(_fields(remote))
