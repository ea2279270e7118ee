"""`digests.txt` and `SHA256SUMS` (pure): render, parse, check.

SHA256SUMS uses `sha256sum`'s text format, `<hex>  <path>`, paths relative to the bundle's
top directory, sorted, so `cd NAME-VERSION && sha256sum -c SHA256SUMS` works as is.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping

from relkit.bundle.reference import is_pinned
from relkit.core.errors import RelkitError

__all__ = [
    "DIGESTS_FILE",
    "SUMS_FILE",
    "check_sha256sums",
    "parse_digests",
    "parse_sha256sums",
    "render_digests",
    "render_sha256sums",
]

SUMS_FILE = "SHA256SUMS"
DIGESTS_FILE = "digests.txt"

_SUM_LINE = re.compile(r"^(?P<hex>[0-9a-f]{64}) [ *](?P<path>.+)$")


def render_digests(pinned: Iterable[str]) -> str:
    """One digest-pinned reference per line, sorted and unique."""
    return "".join(f"{reference}\n" for reference in sorted(set(pinned)))


def parse_digests(text: str, source: str = DIGESTS_FILE) -> list[str]:
    references: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not is_pinned(line):
            raise RelkitError(f"{source}:{number}: {line!r} is not pinned by a sha256 digest")
        references.append(line)
    return references


def render_sha256sums(files: Mapping[str, bytes]) -> str:
    """`sha256sum` lines for every file except SHA256SUMS itself, sorted by path."""
    return "".join(
        f"{hashlib.sha256(files[path]).hexdigest()}  {path}\n"
        for path in sorted(files)
        if path != SUMS_FILE
    )


def parse_sha256sums(text: str, source: str = SUMS_FILE) -> dict[str, str]:
    """{path: hex}; a malformed or duplicated line is an error."""
    sums: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        match = _SUM_LINE.match(line)
        if match is None:
            raise RelkitError(f"{source}:{number}: not a sha256sum line")
        path = match.group("path")
        if path in sums:
            raise RelkitError(f"{source}:{number}: {path} is listed twice")
        sums[path] = match.group("hex")
    return sums


def check_sha256sums(sums_text: str, files: Mapping[str, bytes]) -> list[str]:
    """Check every file against SHA256SUMS, both ways; returns the checked paths.

    An unlisted file fails as much as a wrong hash: in an extracted tree, an extra file (say,
    a compose override) would otherwise change what runs without anyone noticing.
    """
    sums = parse_sha256sums(sums_text)
    present = {path for path in files if path != SUMS_FILE}
    missing = sorted(set(sums) - present)
    if missing:
        raise RelkitError(f"SHA256SUMS lists {missing[0]}, which is not in the bundle")
    unlisted = sorted(present - set(sums))
    if unlisted:
        raise RelkitError(f"{unlisted[0]} is in the bundle but not listed in SHA256SUMS")
    for path in sorted(sums):
        if hashlib.sha256(files[path]).hexdigest() != sums[path]:
            raise RelkitError(f"SHA256SUMS mismatch for {path}", hint="the bundle was altered")
    return sorted(sums)
