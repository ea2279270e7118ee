"""GitHub answers are read leniently: only the fields relkit uses (issue 12 §2).

Property: whatever else an object holds or lacks — unknown enum values, missing optional
keys, nulls, extra keys — parsing succeeds when the required fields are there, and fails
with the adapter's one shape error (never a KeyError/TypeError) when they are not.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relkit.adapters.github import _asset, _BadShape, _pull, _release

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
optional_asset = st.fixed_dictionaries(
    {},
    optional={
        "state": json_values | st.sampled_from(["uploaded", "open", "starter", "quarantined"]),
        "digest": json_values | st.just("sha256:" + "a" * 64),
        "size": json_values,
        "content_type": json_values,
        "url": json_values,
        "browser_download_url": json_values,
        "label": json_values,
        "uploader": json_values,
    },
)


@settings(derandomize=True, max_examples=300, deadline=None)
@given(extra=optional_asset, ident=st.integers(min_value=1), name=st.text(min_size=1, max_size=20))
def test_asset_with_its_required_fields_always_parses(
    extra: dict[str, Any], ident: int, name: str
) -> None:
    asset = _asset({**extra, "id": ident, "name": name})
    assert (asset.id, asset.name) == (ident, name)
    state = extra.get("state")
    # An unknown or missing state is never fatal; only "uploaded" is a finished upload.
    assert asset.state == (state if isinstance(state, str) and state else "uploaded")
    assert asset.complete == (asset.state == "uploaded")
    assert asset.digest is None or isinstance(asset.digest, str)


@settings(derandomize=True, max_examples=300, deadline=None)
@given(raw=json_values)
def test_anything_else_is_a_shape_error_not_a_crash(raw: Any) -> None:
    for parse in (_asset, _release, _pull):
        try:
            parse(raw)
        except _BadShape as exc:
            assert exc.where


@settings(derandomize=True, max_examples=200, deadline=None)
@given(
    labels=st.lists(
        st.fixed_dictionaries(
            {"name": st.text(min_size=1, max_size=10)},
            optional={"archived_at": json_values, "color": json_values, "default": json_values},
        ),
        max_size=4,
    ),
    reviewers=st.lists(
        st.fixed_dictionaries({"login": st.text(min_size=1, max_size=10)}), max_size=3
    ),
)
def test_pull_labels_and_reviewers_as_github_sends_them(
    labels: list[dict[str, Any]], reviewers: list[dict[str, Any]]
) -> None:
    pull = _pull(
        {
            "number": 7,
            "head": {"ref": "relkit/promote-staging-1.2.0"},
            "base": {"ref": "main"},
            "labels": labels,
            "requested_reviewers": reviewers,
        }
    )
    assert pull.labels == tuple(label["name"] for label in labels)
    assert pull.requested_reviewers == tuple(r["login"] for r in reviewers)
    assert (pull.state, pull.body, pull.title) == ("open", "", "")


@pytest.mark.parametrize(
    ("raw", "where"),
    [
        ({"name": "a"}, "asset.id"),
        ({"id": True, "name": "a"}, "asset.id"),
        ({"id": 1}, "asset.name"),
        ({"id": 1, "tag_name": "v1"}, "release.upload_url"),
        ({"number": 1, "head": {}, "base": {"ref": "main"}}, "pull request.head.ref"),
        ([], "asset"),
    ],
)
def test_missing_required_field_names_it(raw: Any, where: str) -> None:
    parse = _release if "tag_name" in str(raw) else (_pull if "number" in str(raw) else _asset)
    with pytest.raises(_BadShape) as info:
        parse(raw)
    assert info.value.where == where
