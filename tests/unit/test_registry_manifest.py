"""Manifest parsing: any JSON a registry sends is a checked manifest or one `RelkitError`."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relkit.adapters.registry import Manifest, Reference
from relkit.core.errors import RelkitError

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
_FIELDS = ("mediaType", "artifactType", "config", "layers", "manifests", "annotations", "subject")


def _manifest(data: Any) -> Manifest:
    return Manifest(Reference.parse("r.example/acme/app:1"), "x", "sha256:" + "0" * 64, data)


@settings(derandomize=True, max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(_FIELDS), _JSON, max_size=4))
def test_any_json_is_a_well_typed_manifest_or_one_line_error(data: dict[str, Any]) -> None:
    try:
        parsed = _manifest(json.dumps(data).encode()).json
    except RelkitError as exc:
        assert "\n" not in str(exc)
        assert exc.message.startswith("manifest of r.example/acme/app:1 is malformed: ")
        return
    # What callers index without guarding is of the type they expect.
    for key in ("layers", "manifests"):
        for item in parsed.get(key) or []:
            assert isinstance(item, dict)
            assert isinstance(item.get("annotations") or {}, dict)
            assert isinstance(item.get("digest", ""), str)
    assert isinstance(parsed.get("annotations") or {}, dict)
    assert isinstance(parsed.get("config") or {}, dict)


@pytest.mark.parametrize(
    "content",
    [b"", b"<html></html>", b"[1, 2]", b"[" * 100_000 + b"]" * 100_000],
    ids=["empty", "html", "list", "deep"],
)
def test_not_a_json_object_is_one_line(content: bytes) -> None:
    with pytest.raises(RelkitError) as caught:
        _ = _manifest(content).json
    assert "\n" not in str(caught.value)
