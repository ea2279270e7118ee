"""`prereleases = "fold"` on the commit graph: a pre-release folds only into its own final."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from relkit.core.model import Version
from relkit.history.releases import _Candidate, _fold
from tests.hypothesis_profiles import property_settings
from tests.unit.test_attribution import ancestors, histories

VERSIONS = ["1.0.0", "1.0.0-rc.1", "1.0.0-rc.2", "1.1.0-rc.1", "2.0.0", "2.0.0-beta.1", "2.1.0"]


@property_settings(150)
@given(histories(), st.data())
def test_a_pre_release_folds_exactly_when_its_own_final_reaches_it(
    history: tuple[dict[str, tuple[str, ...]], list[str]], data: st.DataObject
) -> None:
    parents, starts = history
    count = min(len(starts), len(VERSIONS))
    names = data.draw(st.lists(st.sampled_from(VERSIONS), min_size=count, unique=True))
    candidates = [
        _Candidate(f"v{name}", sha, Version.parse(name))
        for sha, name in zip(starts, names, strict=False)
    ]
    kept = _fold(parents, candidates)
    finals = [c for c in candidates if not c.version.is_prerelease]
    for candidate in candidates:
        if not candidate.version.is_prerelease:
            assert candidate in kept  # finals are never folded
            continue
        reaching = [f for f in finals if candidate.sha in ancestors(parents, f.sha)]
        if any(f.version < candidate.version for f in reaching):
            continue  # a lower final on top of a later pre-release: not a real-world shape
        own_final = any(f.version.core == candidate.version.core for f in reaching)
        assert (candidate not in kept) == own_final, (candidate, reaching)


def test_a_pre_release_is_not_folded_into_a_later_version() -> None:
    # helm: v2.8.0-rc.1 on main, v2.8.0 on a branch never merged, 3.6.0 on main above.
    parents = {"c3": ("c2",), "c2": ("c1",), "c1": (), "b": ("c1",)}
    candidates = [
        _Candidate("v2.8.0-rc.1", "c1", Version.parse("2.8.0-rc.1")),
        _Candidate("v3.6.0", "c3", Version.parse("3.6.0")),
    ]
    assert _fold(parents, candidates) == candidates
    # Its own final reaching it: folded.
    own = _Candidate("v2.8.0", "b", Version.parse("2.8.0"))
    assert _fold(parents, [*candidates, own]) == [candidates[1], own]


def test_finals_alone_are_kept_without_walking_the_history() -> None:
    # No pre-release, nothing to fold: an empty graph shows no walk was needed.
    candidates = [
        _Candidate("v1.0.0", "a", Version.parse("1.0.0")),
        _Candidate("v2.0.0", "b", Version.parse("2.0.0")),
    ]
    assert _fold({}, candidates) == candidates
