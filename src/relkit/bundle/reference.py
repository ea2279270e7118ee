"""Image reference helpers (pure): split `name[:tag][@sha256:...]`, compare repositories."""

from __future__ import annotations

import re

__all__ = ["DIGEST", "is_pinned", "repository_of", "split_digest"]

DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def split_digest(reference: str) -> tuple[str, str | None]:
    """`host/repo:tag@sha256:…` → (`host/repo:tag`, `sha256:…`); no digest → (reference, None)."""
    name, sep, digest = reference.partition("@")
    return (name, digest) if sep else (reference, None)


def is_pinned(reference: str) -> bool:
    """True when the reference carries a well-formed sha256 digest."""
    digest = split_digest(reference)[1]
    return digest is not None and DIGEST.match(digest) is not None


def repository_of(reference: str) -> str:
    """`host:5000/acme/web:1.0@sha256:…` → `host:5000/acme/web` (a port is not a tag)."""
    name = split_digest(reference)[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    return name[:colon] if colon > slash else name
