"""Each commit belongs to the lowest release reaching it: the walk against the definition."""

from __future__ import annotations

import os

from hypothesis import given, settings
from hypothesis import strategies as st

from relkit.history.attribution import claim


def ancestors(parents: dict[str, tuple[str, ...]], start: str) -> set[str]:
    seen, stack = {start}, [start]
    while stack:
        for parent in parents[stack.pop()]:
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return seen


@st.composite
def histories(draw: st.DrawFn) -> tuple[dict[str, tuple[str, ...]], list[str]]:
    """A random DAG (each commit's parents are older commits) and starts on some commits."""
    size = draw(st.integers(min_value=1, max_value=15))
    parents: dict[str, tuple[str, ...]] = {}
    for index in range(size):
        older = [f"c{i}" for i in range(index)]
        chosen = draw(st.lists(st.sampled_from(older), max_size=2, unique=True)) if older else []
        parents[f"c{index}"] = tuple(chosen)
    starts = draw(st.lists(st.sampled_from(sorted(parents)), max_size=8))
    return parents, starts


@settings(
    max_examples=int(os.environ.get("RELKIT_PROPERTY_EXAMPLES", "100")),
    derandomize=True,
    deadline=None,
)
@given(histories())
def test_each_commit_belongs_to_the_first_start_reaching_it(
    history: tuple[dict[str, tuple[str, ...]], list[str]],
) -> None:
    parents, starts = history
    claims = claim(parents, starts)
    reach = [ancestors(parents, start) for start in starts]
    for sha in parents:
        owners = [i for i, seen in enumerate(reach) if sha in seen]
        assert claims.owner.get(sha) == (owners[0] if owners else None)
    for index, start in enumerate(starts):
        earlier_here = [i for i in range(index) if starts[i] == start]
        assert claims.retags[index] == (earlier_here[-1] if earlier_here else None)
        if claims.previous[index] is not None:
            # A compare link starts at an earlier start that this one reaches.
            assert claims.previous[index] < index
            assert starts[claims.previous[index]] in reach[index]


def test_a_beta_that_merged_main_before_merging_back() -> None:
    parents = {
        "final": ("fix", "merge-main"),
        "merge-main": ("feat", "fix"),
        "fix": ("base",),
        "feat": ("base",),
        "base": (),
    }
    # Lowest first: 1.0.0 at base, 1.0.1 at fix, 2.0.0 at final (the beta folded into it).
    claims = claim(parents, ["base", "fix", "final"])
    assert {sha for sha, owner in claims.owner.items() if owner == 2} == {
        "final",
        "merge-main",
        "feat",
    }
    assert claims.previous == [None, 0, 1]


def test_parents_outside_the_history_end_the_walk() -> None:
    # A shallow clone: "gone" is a parent git does not have.
    claims = claim({"b": ("a",), "a": ("gone",)}, ["b", "elsewhere"])
    assert claims.owner == {"b": 0, "a": 0}
    assert claims.previous == [None, None]
