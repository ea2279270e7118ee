"""Release tags read lazily: the same tags, in the same order, as parsing every one of them.

`read_release_tags` reads a final release's numbers without a `Version` and builds each
`ReleaseTag` when first read; these properties hold it to the plain definition (parse every
tag with `TagFormat.parse`, sort by precedence, highest first, equal versions in name order).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relkit.core.model import Version
from relkit.core.tag_format import TagFormat
from relkit.history.release_tags import ReleaseTag, read_release_tags
from tests.hypothesis_profiles import property_settings

_NUMBER = st.one_of(
    st.integers(0, 30).map(str),
    st.sampled_from(["9" * 256, "9" * 257]),  # at and past the bound on digits
    st.sampled_from(["00", "01", "007", "1" * 300, "٣", "1_000"]),  # invalid in semver
)
_PRE = st.lists(
    st.sampled_from(["rc", "1", "2", "10", "alpha", "beta", "0", "01", "x-y", ""]),
    min_size=1,
    max_size=3,
).map(".".join)
_CORE = st.tuples(_NUMBER, _NUMBER, _NUMBER).map(".".join)
_VERSION_TEXT = st.tuples(
    _CORE,
    st.one_of(st.just(""), _PRE.map(lambda p: "-" + p)),
    st.one_of(st.just(""), st.sampled_from(["+b", "+build.5", "+"])),
).map("".join)
_FORMATS = st.sampled_from(["v{version}", "{version}", "release-{version}", "v{version}-stable"])
_PREFIXES = st.sampled_from(["", "api/", "web-"])


def _tag_names(template: str) -> st.SearchStrategy[str]:
    rendered = _VERSION_TEXT.map(lambda text: template.replace("{version}", text))
    noise = st.sampled_from(["latest", "vv1.0.0", "v1.0", "api/v1.0.0", "nightly-2024", "v1.0.0-"])
    return st.one_of(rendered, noise)


def _plain(tags: dict[str, str], tag_format: TagFormat) -> list[ReleaseTag]:
    """The definition: every tag parsed, sorted by precedence, stable in name order."""
    found = [
        ReleaseTag(name, sha, version)
        for name, sha in tags.items()
        if (version := tag_format.parse(name)) is not None
    ]
    found.sort(key=lambda t: t.version.precedence, reverse=True)
    return found


@st.composite
def _tag_sets(draw: st.DrawFn) -> tuple[TagFormat, dict[str, str]]:
    tag_format = TagFormat(draw(_FORMATS), draw(_PREFIXES))
    names = draw(st.lists(_tag_names(tag_format.template), max_size=40, unique=True))
    shas = draw(st.lists(st.sampled_from("abcdef"), min_size=len(names), max_size=len(names)))
    return tag_format, dict(zip(sorted(names), (s * 40 for s in shas), strict=True))


@property_settings(300)
@given(_tag_sets())
def test_release_tags_are_the_parsed_tags_in_precedence_order(
    drawn: tuple[TagFormat, dict[str, str]],
) -> None:
    tag_format, tags = drawn
    expected = _plain(tags, tag_format)
    lazy = read_release_tags(tags, tag_format)
    assert list(lazy) == expected
    assert len(lazy) == len(expected)
    assert list(read_release_tags(tags, tag_format).finals()) == [
        t for t in expected if not t.version.is_prerelease
    ]
    assert list(read_release_tags(tags, tag_format).prereleases()) == [
        t for t in expected if t.version.is_prerelease
    ]
    some = {"a" * 40, "c" * 40}
    assert list(read_release_tags(tags, tag_format).on_commits(some)) == [
        t for t in expected if t.sha in some
    ]
    # What the changelog sorted the tags on its commits by, lowest first.
    assert read_release_tags(tags, tag_format).lowest_first_on(some) == sorted(
        (t for t in expected if t.sha in some), key=lambda t: (t.version.precedence, t.name)
    )
    if expected:
        dropped = expected[len(expected) // 2].name
        assert list(lazy.without(dropped)) == [t for t in expected if t.name != dropped]
        assert lazy[-1] == expected[-1]
        assert lazy[1:3] == expected[1:3]


@property_settings(500)
@given(_FORMATS, _PREFIXES, _VERSION_TEXT)
def test_a_final_tags_numbers_are_what_parse_reads(
    template: str, prefix: str, version_text: str
) -> None:
    tag_format = TagFormat(template, prefix)
    tag = tag_format.template.replace("{version}", version_text)
    final = tag_format.final_match(tag)
    parsed = tag_format.parse(tag)
    if final is not None:
        assert parsed == Version(*map(int, final.groups())) and parsed.build == ()
    elif parsed is not None:
        # Not read as a final: a pre-release or build metadata (a number over the bound
        # neither reads: `parse` refuses it too).
        assert parsed.prerelease or parsed.build


def test_a_tag_is_built_when_first_read_and_the_same_object_after() -> None:
    tag_format = TagFormat()
    tags = {f"v1.0.{n}": f"{n:040x}" for n in range(1000)}
    lazy = read_release_tags(tags, tag_format)
    first = lazy[0]
    assert first.name == "v1.0.999" and first.version == Version(1, 0, 999)
    assert lazy[0] is first
    assert sum(tag is not None for tag in lazy._built) == 1  # nothing else was built
    with pytest.raises(IndexError):
        lazy[1000]
