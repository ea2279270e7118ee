"""Which release each commit belongs to, on the commit graph. Pure: no git, no I/O.

The rule: a release's commits are those reachable from its tag and not from any lower
release (semver precedence). Equivalently each commit belongs to the LOWEST release that
reaches it. Walking the releases lowest first, each one claims what it reaches that no
lower release claimed; the claimed set is closed under "parent of" (a union of ancestor
sets), so a walk stops at the first claimed commit and the whole pass is linear in the
history, whatever the number of tags.

Topological order alone cannot do this: a beta branch that merged main (and its 1.0.1
release) before being merged back lists 1.0.1's commit below the beta's tag, so "a tagged
commit opens the next release" handed 2.0.0's breaking change to 1.0.1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from relkit.core.records import record

__all__ = ["Claims", "claim"]


@record
class Claims:
    """The outcome of `claim` for starts given in some order (index = position there)."""

    owner: dict[str, int]  # sha -> index of the start that claimed it
    # The latest (highest index) earlier start whose very commit the walk ran into: the
    # release a compare link starts from. `None`: the walk met no earlier start.
    previous: list[int | None]
    # The earlier start on the same commit, when two tags share one: nothing is left to claim.
    retags: list[int | None]


def claim(parents: Mapping[str, Sequence[str]], starts: Sequence[str]) -> Claims:
    """Walk from each start in order; each claims the commits no earlier start claimed.

    `parents` holds every commit of the history (sha -> parent shas); parents missing from
    it (a shallow clone's boundary) end the walk there. Starts not in `parents` (not in
    this history) claim nothing.
    """
    owner: dict[str, int] = {}
    tagged: dict[str, int] = {}  # sha -> the latest start on it so far
    previous: list[int | None] = [None] * len(starts)
    retags: list[int | None] = [None] * len(starts)
    for index, start in enumerate(starts):
        if start not in parents:
            continue
        met = tagged.get(start)
        tagged[start] = index
        if start in owner:  # claimed by a lower release: nothing left for this one
            retags[index] = previous[index] = met
            continue
        owner[start] = index
        stack = [start]
        while stack:
            for parent in parents[stack.pop()]:
                if parent in owner:
                    found = tagged.get(parent)
                    if found is not None and (met is None or found > met):
                        met = found
                elif parent in parents:
                    owner[parent] = index
                    stack.append(parent)
        previous[index] = met
    return Claims(owner, previous, retags)
