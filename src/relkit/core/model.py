"""Frozen value types shared by the core, the steps and the adapters.

Nothing here does I/O. The pure core (conventional, versioning, changelog) and the
adapters (git, registry, github...) meet on these types.
"""

from __future__ import annotations

import re
from dataclasses import field
from datetime import datetime
from enum import StrEnum
from functools import total_ordering

from relkit.core.errors import UsageError
from relkit.core.records import record

__all__ = [
    "Artifact",
    "ImagePin",
    "RawCommit",
    "ReleasePlan",
    "StepOutcome",
    "StepRecord",
    "TagRef",
    "Version",
]

# semver.org 2.0.0 regular expression (the "official" one), without the leading "v", written
# with [0-9] rather than \d and compiled ASCII-only: `\d` also matches Arabic-Indic and other
# digits, and int() reads them, so "1٣.0.0" would parse as 13.0.0.
SEMVER_BODY = (
    r"(?P<major>0|[1-9][0-9]*)\.(?P<minor>0|[1-9][0-9]*)\.(?P<patch>0|[1-9][0-9]*)"
    r"(?:-(?P<pre>(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)"
    r"(?:\.(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+(?P<build>[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?"
)
_SEMVER = re.compile(SEMVER_BODY, re.ASCII)

# Semver puts no bound on numbers, Python's int() refuses strings over 4,300 digits (and
# printing one back too). No real version comes near this; a longer number is refused with a
# one-line error (`Version.parse`) or is not a release tag (`TagFormat.parse`).
MAX_NUMBER_DIGITS = 256


def _has_long_number(match: re.Match[str]) -> bool:
    major, minor, patch, pre = match.group("major", "minor", "patch", "pre")
    return max(len(major), len(minor), len(patch)) > MAX_NUMBER_DIGITS or any(
        len(part) > MAX_NUMBER_DIGITS and part.isdigit() for part in (pre or "").split(".")
    )


def version_from_match(match: re.Match[str]) -> Version | None:
    """The version a `SEMVER_BODY` match names, or `None` when a number is too long."""
    # Called for every tag (10,000 on the bench corpus): the length check runs only when the
    # whole text could hold a number that long.
    if len(match.string) > MAX_NUMBER_DIGITS and _has_long_number(match):
        return None
    major, minor, patch, pre, build = match.group("major", "minor", "patch", "pre", "build")
    return Version(
        int(major),
        int(minor),
        int(patch),
        tuple(pre.split(".")) if pre else (),
        tuple(build.split(".")) if build else (),
    )


def _shown(text: str) -> str:
    """`text` for an error message: bounded, so a hostile argument stays one short line."""
    return repr(text) if len(text) <= 80 else repr(text[:60]) + f"... ({len(text)} characters)"


@total_ordering
@record
class Version:
    """A semantic version. Ordering follows semver precedence (build metadata ignored)."""

    major: int
    minor: int
    patch: int
    prerelease: tuple[str, ...] = ()
    build: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Version:
        """Parse `1.2.3`, `1.2.3-rc.1+build.5`; a leading `v` is accepted."""
        candidate = text[1:] if text[:1] in ("v", "V") else text
        match = _SEMVER.fullmatch(candidate)
        if match is None:
            raise UsageError(
                f"{_shown(text)} is not a semantic version",
                hint="use MAJOR.MINOR.PATCH, e.g. 1.2.0",
            )
        version = version_from_match(match)
        if version is None:
            raise UsageError(
                f"{_shown(text)} has a number over {MAX_NUMBER_DIGITS} digits",
                hint="use MAJOR.MINOR.PATCH, e.g. 1.2.0",
            )
        return version

    @classmethod
    def is_valid(cls, text: str) -> bool:
        try:
            cls.parse(text)
        except UsageError:
            return False
        return True

    @property
    def is_prerelease(self) -> bool:
        return bool(self.prerelease)

    @property
    def core(self) -> Version:
        """The version without pre-release and build parts (`1.3.0-rc.2` → `1.3.0`)."""
        return Version(self.major, self.minor, self.patch)

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += "-" + ".".join(self.prerelease)
        if self.build:
            text += "+" + ".".join(self.build)
        return text

    def _precedence_key(self) -> tuple[int, int, int, int, tuple[tuple[int, int, str], ...]]:
        # A version without pre-release ranks above any of its pre-releases; numeric
        # identifiers rank below alphanumeric ones (semver §11).
        # Numeric identifiers compare by length, then text (no leading zeros in semver): no
        # int() of an arbitrarily long string, and only ASCII digits count as numeric.
        pre = tuple(
            (0, len(part), part) if part.isascii() and part.isdigit() else (1, 0, part)
            for part in self.prerelease
        )
        return (self.major, self.minor, self.patch, 0 if self.prerelease else 1, pre)

    @property
    def precedence(self) -> tuple[int, int, int, int, tuple[tuple[int, int, str], ...]]:
        """A sort key in semver precedence: sorting 10,000 tags by key beats pairwise `<`."""
        return self._precedence_key()

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._precedence_key() < other._precedence_key()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._precedence_key() == other._precedence_key()

    def __hash__(self) -> int:
        return hash(self._precedence_key())


@record
class RawCommit:
    """One commit as git reports it, before any conventional-commit parsing."""

    sha: str
    message: str
    author_name: str
    author_email: str
    committed_at: datetime
    parents: tuple[str, ...] = ()

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1

    @property
    def short_sha(self) -> str:
        return self.sha[:7]


@record
class TagRef:
    """A tag and the commit it points at (annotated tags are peeled)."""

    name: str
    sha: str
    annotated: bool = False


class StepOutcome(StrEnum):
    DONE = "done"
    ALREADY_DONE = "already done"
    SKIPPED = "skipped"
    FAILED = "failed"
    PLANNED = "planned"  # dry-run: what publish would do


@record
class Artifact:
    """Something a release produced: a file in dist/, an OCI artifact, a release, a PR."""

    kind: str  # chart | bundle | signature | sigstore-bundle | sums | digests | release | pr
    name: str
    path: str | None = None
    digest: str | None = None
    url: str | None = None
    reference: str | None = None  # e.g. oci://host/repo:tag@sha256:...


@record
class StepRecord:
    """What one publish step did, for the run record and the step summary."""

    name: str
    outcome: StepOutcome
    detail: str = ""
    duration_s: float = 0.0
    artifacts: tuple[Artifact, ...] = field(default_factory=tuple)


@record
class ImagePin:
    """A container image of the release and the digest it resolved to in its registry."""

    reference: str  # as configured/written, e.g. "localhost:5000/acme/web:1.2.0"
    digest: str  # "sha256:..." (a multi-arch index keeps the index digest)

    @property
    def repository(self) -> str:
        """`host/path` without tag or digest."""
        name = self.reference.split("@", 1)[0]
        slash = name.rfind("/")
        colon = name.rfind(":")
        return name[:colon] if colon > slash else name

    @property
    def pinned(self) -> str:
        """`name:tag@sha256:...`: readable and immutable."""
        return f"{self.reference.split('@', 1)[0]}@{self.digest}"


@record
class ReleasePlan:
    """Everything the publish steps need, computed without any remote write."""

    version: Version
    tag: str
    commit: str
    committed_at: datetime  # the tagged commit's time: reproducible archive mtimes
    previous_tag: str | None
    notes: str  # rendered release notes (Markdown): the GitHub Release body
    repository: str | None = None  # owner/name of the released repository, if known
    images: tuple[ImagePin, ...] = ()

    @property
    def prerelease(self) -> bool:
        return self.version.is_prerelease

    def image(self, name: str) -> ImagePin:
        """Find a release image by full reference, repository, or last path segment."""
        for pin in self.images:
            if name in (pin.reference, pin.repository, pin.repository.rsplit("/", 1)[-1]):
                return pin
        raise KeyError(name)
