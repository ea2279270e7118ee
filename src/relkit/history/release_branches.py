"""Which branches releases come from: one matcher for `relkit cut` and `relkit release`.

`release_branches` entries are glob patterns (`release/*`) matched against the whole branch
name with `fnmatch` rules, case-sensitively (git branch names are). `cut` checks the branch it
is on; `release` checks that the tagged commit is on a matching local or `origin/` branch.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence

__all__ = ["is_release_branch", "matching_branches"]


def is_release_branch(branch: str, patterns: Iterable[str]) -> bool:
    """True when `branch` (a short name like `release/1.0`) matches one of `patterns`."""
    return any(fnmatch.fnmatchcase(branch, pattern) for pattern in patterns)


def matching_branches(branches: Iterable[str], patterns: Sequence[str]) -> list[str]:
    """The `branches` that are release branches, in their given order."""
    return [branch for branch in branches if is_release_branch(branch, patterns)]
