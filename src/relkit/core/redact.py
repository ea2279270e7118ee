"""Keep secrets out of every text relkit shows: errors, logs, records, `::error::` lines.

Two nets, because a secret can leak in a form nobody registered:

- known secrets: whatever relkit holds (registry passwords, tokens it obtained, the GitHub
  and GitOps tokens, key passwords) is registered once, with the forms a server may echo
  it in: raw, base64 of `user:password` (an echoed `Authorization: Basic ...` header; GitHub
  Actions masks the raw secret in logs, never its base64), URL-safe base64, URL-encoded;
- shapes: `Basic <base64>`, `Bearer <token>`, JWTs, GitHub token prefixes and JSON
  `"token": "..."` fields are masked whatever their value.

`redact` is applied where text leaves relkit: `RelkitError` messages and hints (which become
the error line, the run record and the annotation). This module imports nothing from relkit,
so `errors.py` can use it.
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from urllib.parse import quote

__all__ = [
    "MASK",
    "redact",
    "register_credentials",
    "register_env_secrets",
    "register_secret",
    "scoped",
    "secret_forms",
]

MASK = "***"
# Shorter values are not masked: replacing every "a" or "1234" would garble messages, and a
# 5-character password is not what a registry or GitHub issues.
_MIN_LENGTH = 6

_SHAPES = (
    # An echoed header: `Authorization: Basic dXNlcjpwYXNz`, `Bearer eyJ...` (checked in
    # `_header`, so that "Basic authentication" stays readable).
    re.compile(r"(?i)\b(basic|bearer)(\s+)([A-Za-z0-9._~+/=-]{8,})"),
    # JWTs (registry tokens, OIDC identity tokens).
    re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"),
    # GitHub tokens: ghp_, gho_, ghu_, ghs_, ghr_, github_pat_.
    re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{16,}|github_pat_[A-Za-z0-9_]{16,})"),
    # JSON fields and query/form parameters that carry a secret: "token": "...", password=...
    re.compile(
        r'("(?:access_token|refresh_token|id_token|token|password|secret)"\s*:\s*")([^"]{4,})'
        r"|(?<![\w-])((?:access_token|refresh_token|id_token|token|password|secret)=)"
        r"([^\s&\"',}]{4,})"
    ),
)

_lock = threading.Lock()
_known: set[str] = set()
_ordered: tuple[str, ...] = ()  # longest first: a password inside its base64 form is no clue


def secret_forms(secret: str, user: str | None = None) -> set[str]:
    """The forms a server or a log may show `secret` in."""
    forms: set[str] = set()
    raws = [secret]
    if user is not None:
        raws.append(f"{user}:{secret}")
    for raw in raws:
        data = raw.encode("utf-8")
        standard = base64.b64encode(data).decode()
        urlsafe = base64.urlsafe_b64encode(data).decode()
        forms.update({raw, quote(raw, safe=""), standard, urlsafe})
        forms.update({standard.rstrip("="), urlsafe.rstrip("=")})
    return {form for form in forms if len(form) >= _MIN_LENGTH}


def _add(forms: Iterable[str]) -> None:
    global _ordered
    with _lock:
        before = len(_known)
        _known.update(forms)
        if len(_known) != before:
            _ordered = tuple(sorted(_known, key=len, reverse=True))


@contextmanager
def scoped() -> Iterator[None]:
    """Secrets registered inside the block are forgotten after it (tests registering many
    random values must not leave "000000" masked in every later digest)."""
    global _ordered
    with _lock:
        saved = set(_known)
    try:
        yield
    finally:
        with _lock:
            _known.intersection_update(saved)
            _ordered = tuple(sorted(_known, key=len, reverse=True))


def register_secret(secret: str | None) -> None:
    """Mask `secret` (and its encoded forms) in every text relkit shows from now on."""
    if secret and secret.strip():
        _add(secret_forms(secret.strip()) | secret_forms(secret))


def register_credentials(user: str, password: str) -> None:
    """A username/password pair: the password, and `user:password` as Basic auth sends it."""
    if password:
        _add(secret_forms(password, user))


def register_env_secrets(env: Mapping[str, str], names: Iterable[str]) -> None:
    """Register the values of the environment variables `names` that are set."""
    for name in names:
        register_secret(env.get(name))


def _header(match: re.Match[str]) -> str:
    scheme, space, value = match.group(1), match.group(2), match.group(3)
    if scheme.lower() == "basic":
        try:  # Basic credentials are base64 of `user:password`
            secret = b":" in base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
        except ValueError:
            secret = False
    else:  # a token has digits or punctuation; an English word does not
        secret = any(not c.isalpha() for c in value)
    return f"{scheme}{space}{MASK}" if secret else match.group(0)


def redact(text: str) -> str:
    """`text` with every registered secret and every secret-shaped value masked."""
    for secret in _ordered:
        if secret in text:
            text = text.replace(secret, MASK)
    text = _SHAPES[0].sub(_header, text)
    for pattern in _SHAPES[1:3]:
        text = pattern.sub(MASK, text)
    return _SHAPES[3].sub(lambda m: f"{m.group(1) or m.group(3)}{MASK}", text)
