"""Parsed commits + previous releases → the next version. Pure: no git, no I/O.

- The bump comes from the commits since the last *final* release: a breaking change is major
  (minor while 0.x unless `major_on_zero`), otherwise the highest `commit_types[type].bump`.
- No previous release: the first version is 0.1.0 (1.0.0 with `major_on_zero` and a breaking
  change). Nothing bump-worthy → `None`; callers raise `NothingToRelease` (exit 3).
- `pre="rc"` gives `X.Y.Z-rc.N`, N one above the highest existing `rc` tag of that core
  version; without `pre` the result is final, which promotes `1.3.0-rc.2` to `1.3.0`.
- Tags: `TagFormat` renders and parses `{prefix}{tag_format}` (`api/` + `v{version}`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from enum import IntEnum

from relkit.core.config import CommitType
from relkit.core.errors import UsageError
from relkit.core.model import Version
from relkit.core.records import record
from relkit.core.tag_format import TagFormat
from relkit.history.conventional import ConventionalCommit

__all__ = [
    "BumpDecision",
    "BumpLevel",
    "NextVersion",
    "TagFormat",
    "apply_bump",
    "check_requested_version",
    "decide_bump",
    "next_version",
]


class BumpLevel(IntEnum):
    NONE = 0
    PATCH = 1
    MINOR = 2
    MAJOR = 3

    @classmethod
    def from_config(cls, value: str) -> BumpLevel:
        return {"none": cls.NONE, "patch": cls.PATCH, "minor": cls.MINOR, "major": cls.MAJOR}[value]

    @property
    def label(self) -> str:
        return self.name.lower()


@record
class BumpDecision:
    """The bump the commits require and the commits that require it (the reason)."""

    level: BumpLevel
    reasons: tuple[ConventionalCommit, ...]

    @property
    def releasable(self) -> bool:
        return self.level > BumpLevel.NONE


def commit_bump(commit: ConventionalCommit, commit_types: dict[str, CommitType]) -> BumpLevel:
    if not commit.conventional:
        return BumpLevel.NONE
    if commit.breaking:
        return BumpLevel.MAJOR
    configured = commit_types.get(commit.type)
    return BumpLevel.from_config(configured.bump) if configured else BumpLevel.NONE


def decide_bump(
    commits: Iterable[ConventionalCommit], commit_types: dict[str, CommitType]
) -> BumpDecision:
    level = BumpLevel.NONE
    reasons: list[ConventionalCommit] = []
    for commit in commits:
        bump = commit_bump(commit, commit_types)
        if bump == BumpLevel.NONE:
            continue
        if bump > level:
            level, reasons = bump, [commit]
        elif bump == level:
            reasons.append(commit)
    return BumpDecision(level, tuple(reasons))


def apply_bump(base: Version | None, level: BumpLevel, *, major_on_zero: bool = False) -> Version:
    """The final version `level` above `base` (`None`: no release yet)."""
    if level == BumpLevel.NONE:
        raise ValueError("no bump to apply")
    if base is None:
        return Version(1, 0, 0) if level == BumpLevel.MAJOR and major_on_zero else Version(0, 1, 0)
    if level == BumpLevel.MAJOR and base.major == 0 and not major_on_zero:
        level = BumpLevel.MINOR  # 0.x: breaking changes are expected and stay minor
    if level == BumpLevel.MAJOR:
        return Version(base.major + 1, 0, 0)
    if level == BumpLevel.MINOR:
        return Version(base.major, base.minor + 1, 0)
    return Version(base.major, base.minor, base.patch + 1)


@record
class NextVersion:
    """The next version (or `None`: nothing to release), its base and why."""

    version: Version | None
    previous: Version | None  # the last final release the bump starts from
    decision: BumpDecision


def _pre_number(version: Version, token: str) -> int | None:
    if len(version.prerelease) == 2 and version.prerelease[0] == token:
        number = version.prerelease[1]
        if number.isascii() and number.isdigit():
            return int(number)
    return None


def next_version(
    commits: Sequence[ConventionalCommit],
    released: Iterable[Version],
    commit_types: dict[str, CommitType],
    *,
    major_on_zero: bool = False,
    pre: str | None = None,
) -> NextVersion:
    """The next version given the commits since the last final release.

    `released` holds every version already tagged (finals and pre-releases) reachable from
    HEAD; the last final one is the base, the pre-releases number the next `pre` version.
    """
    released = list(released)
    finals = [v for v in released if not v.is_prerelease]
    base = max(finals) if finals else None
    decision = decide_bump(commits, commit_types)
    if not decision.releasable:
        return NextVersion(None, base, decision)
    core = apply_bump(base, decision.level, major_on_zero=major_on_zero)
    if not pre:
        return NextVersion(core, base, decision)
    if not re.fullmatch(r"[0-9A-Za-z-]+", pre) or pre.isdigit():
        raise UsageError(
            f"pre-release token {pre!r} is not valid", hint="use letters, e.g. rc, beta"
        )
    numbers = [n for v in released if v.core == core and (n := _pre_number(v, pre)) is not None]
    return NextVersion(
        Version(core.major, core.minor, core.patch, (pre, str(max(numbers, default=0) + 1))),
        base,
        decision,
    )


def check_requested_version(
    requested: Version,
    computed: NextVersion,
    released: Iterable[Version],
    *,
    force: bool = False,
) -> list[str]:
    """Refuse a requested version lower than the commits require; return warnings.

    Raises `UsageError` naming the commit that requires more unless `force`; with `force` the
    same reasons come back as warnings. Always refused, forced or not: a version not above the
    last final release of this line of history (`computed.previous`), and a version already
    tagged anywhere (`released`). A release of a maintenance branch (1.2.5 while 2.0.0 exists
    on main) is fine.
    """
    base = computed.previous
    if base is not None and requested <= base:
        raise UsageError(
            f"version {requested} is not above the latest release {base}",
            hint="choose a higher version",
        )
    if requested in set(released):
        raise UsageError(f"version {requested} is already released", hint="choose another version")
    problems: list[str] = []
    if computed.version is None:
        problems.append(f"no commit since {computed.previous or 'the start'} requires a release")
    elif requested.core < computed.version.core:
        first = computed.decision.reasons[0]
        problems.append(
            f"{requested} is lower than {computed.version.core} required by "
            f"{computed.decision.level.label} change {first.short_sha} ({first.header})"
        )
    if problems and not force:
        raise UsageError(problems[0], hint="use --force to cut it anyway")
    return problems
