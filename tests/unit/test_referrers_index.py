"""The referrers index parser: hostile indexes fail in one line, valid ones parse."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relkit.adapters.oci_referrers import _parse_index, referrers_tag
from relkit.core.errors import RelkitError

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=150, derandomize=True, deadline=None)
@given(st.one_of(_JSON, st.fixed_dictionaries({"manifests": st.lists(_JSON, max_size=4)})))
def test_any_json_either_parses_or_fails_in_one_line(document: object) -> None:
    try:
        _parse_index(json.dumps(document).encode(), "index")
    except RelkitError as exc:
        assert "\n" not in str(exc)


@pytest.mark.parametrize("content", [b"", b"\xff", b"{" * 10, b" " * (5 << 20)])
def test_non_json_is_refused(content: bytes) -> None:
    with pytest.raises(RelkitError):
        _parse_index(content, "index")


def test_referrers_tag() -> None:
    assert referrers_tag("sha256:" + "a" * 64) == "sha256-" + "a" * 64
