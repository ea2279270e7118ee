"""The version an archive declares, and the names that must agree with it (issue 9 §3)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relkit.bundle.naming import (
    ArchiveVersion,
    archive_version,
    check_names_agree,
    tag_names_version,
)
from relkit.core.errors import RelkitError


@pytest.mark.parametrize(
    ("top", "name", "version"),
    [
        ("acme-1.2.0", "acme", "1.2.0"),
        ("my-shop-1.2.0-rc.1", "my-shop", "1.2.0-rc.1"),
        ("web-2-1.0.0+build.5", "web-2", "1.0.0+build.5"),
        ("a-1.2.3-4.5.6", "a", "1.2.3-4.5.6"),
    ],
)
def test_archive_version_splits_at_the_first_version(top: str, name: str, version: str) -> None:
    assert archive_version(top, "x.tar.gz") == ArchiveVersion(name, version)


@pytest.mark.parametrize("top", ["acme", "acme-latest", "1.2.0", "acme-v1.2.0", "acme-1.2"])
def test_a_top_without_a_version_is_refused(top: str) -> None:
    with pytest.raises(RelkitError, match="does not name a version"):
        archive_version(top, "x.tar.gz")


@settings(max_examples=100, derandomize=True, deadline=None)
@given(
    name=st.from_regex(r"[a-z][a-z]{0,6}(-[a-z][a-z0-9]{0,5}){0,2}", fullmatch=True),
    numbers=st.tuples(*[st.integers(min_value=0, max_value=999)] * 3),
    pre=st.sampled_from(["", "-rc.1", "-alpha", "-0.3.7"]),
)
def test_archive_version_round_trips(name: str, numbers: tuple[int, int, int], pre: str) -> None:
    version = ".".join(map(str, numbers)) + pre
    assert archive_version(f"{name}-{version}", "x") == ArchiveVersion(name, version)


@pytest.mark.parametrize(
    ("tag", "version", "names"),
    [
        ("v1.2.0", "1.2.0", True),
        ("1.2.0", "1.2.0", True),
        ("shop-v1.2.0", "1.2.0", True),
        ("shop/1.2.0", "1.2.0", True),
        ("v1.2.0-rc.1", "1.2.0-rc.1", True),
        ("v1.2.1", "1.2.0", False),
        ("v11.2.0", "1.2.0", False),
        ("v1.2.0-rc.1", "1.2.0", False),
        ("v1.2.0", "1.2.0-rc.1", False),
        ("x1.2.0", "1.2.0", False),
    ],
)
def test_tag_names_version(tag: str, version: str, names: bool) -> None:
    assert tag_names_version(tag, version) is names


FOUND = ArchiveVersion("acme", "1.2.0")


def test_every_name_agrees() -> None:
    line = check_names_agree(
        FOUND, file_name="acme-1.2.0.tar.gz", certificate_tag="v1.2.0", registry_tag="1.2.0"
    )
    assert line == (
        "version: acme 1.2.0 (file name, top directory, registry tag 1.2.0,"
        " signing certificate's tag v1.2.0 agree)"
    )
    assert "registry tag" not in check_names_agree(
        FOUND, file_name="acme-1.2.0.tar.gz", registry_tag="latest"
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"file_name": "acme-1.2.1.tar.gz"}, "the file name and the archive's own version"),
        ({"file_name": "other-1.2.0.tar.gz"}, "the file name and the archive's own version"),
        ({"file_name": "acme-1.2.0 (1).tar.gz"}, "the file name and the archive's own version"),
        (
            {"file_name": "acme-1.2.0.tar.gz", "registry_tag": "1.2.1"},
            "the registry tag 1.2.1 holds acme-1.2.0",
        ),
        (
            {"file_name": "acme-1.2.0.tar.gz", "certificate_tag": "v1.3.0"},
            "signed by the release run for tag v1.3.0, but it holds 1.2.0",
        ),
    ],
)
def test_a_disagreeing_name_is_refused(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(RelkitError, match=message):
        check_names_agree(FOUND, **kwargs)  # type: ignore[arg-type]


def test_the_release_asked_for_must_be_the_one_held() -> None:
    line = check_names_agree(FOUND, file_name="acme-1.2.0.tar.gz", expected_tag="v1.2.0")
    assert line.endswith("--tag v1.2.0 agree)")
    with pytest.raises(RelkitError, match=r"holds 1\.2\.0, not the release v1\.3\.0 asked for"):
        check_names_agree(FOUND, file_name="acme-1.2.0.tar.gz", expected_tag="v1.3.0")
