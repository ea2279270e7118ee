"""git's output as relkit reads it: `git log -z` a chunk at a time, each field decoded as if
on its own; `git show-ref --dereference --tags` in a few passes over the whole listing."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from relkit.adapters.git_history import _annotated_tags, _complete_fields, _tag_shas
from tests.hypothesis_profiles import property_settings

# Bytes that make UTF-8 hard: sequences cut anywhere, stray continuation bytes, 0xff.
_BYTES = st.lists(
    st.sampled_from([b"a", b"\xc3", b"\xa9", b"\xe2\x80", b"\xa6", b"\xf0\x9f", b"\xff", b"\n"]),
    max_size=6,
).map(b"".join)


@property_settings(300)
@given(st.lists(_BYTES, max_size=8), st.lists(st.integers(1, 9), min_size=1))
def test_fields_decode_alike_however_the_stream_is_cut(
    fields: list[bytes], cuts: list[int]
) -> None:
    stream = b"".join(field + b"\0" for field in fields)
    decoded: list[str] = []
    tail, at = b"", 0
    for size in cuts * (len(stream) + 1):
        if at >= len(stream):
            break
        found, tail = _complete_fields(tail + stream[at : at + size])
        decoded.extend(found)
        at += size
    assert tail == b""
    assert decoded == [field.decode("utf-8", "replace") for field in fields]


# What git check-ref-format allows in a tag name, with the corners: "refs/tags/" and "{}"
# inside a name, a trailing "}", "@" and "+" (but no space, "^", "~", ":" or "@{").
_TAG_NAME = st.lists(
    st.sampled_from(["v1.0.0", "a", "refs/tags/", "x}", "{}", "@", "+b", "-rc.1", "_", "9"]),
    min_size=1,
    max_size=4,
).map("".join)
_SHA = st.one_of(st.text("0123456789abcdef", min_size=40, max_size=40), st.just("f" * 64))


@property_settings(300)
@given(st.dictionaries(_TAG_NAME, st.tuples(_SHA, _SHA, st.booleans()), max_size=12))
def test_a_show_ref_listing_reads_as_each_tags_commit_in_name_order(
    tags: dict[str, tuple[str, str, bool]],
) -> None:
    """Lines as git prints them: sorted by ref name, an annotated tag's object then its
    peeled commit (`^{}`); a lightweight tag names its commit directly."""
    lines: list[str] = []
    for name in sorted(tags):
        tag_object, commit, annotated = tags[name]
        if annotated:
            lines += [f"{tag_object} refs/tags/{name}", f"{commit} refs/tags/{name}^{{}}"]
        else:
            lines.append(f"{commit} refs/tags/{name}")
    listing = "\n".join(lines)
    read = _tag_shas(listing)
    assert list(read) == sorted(tags)
    assert read == {name: commit for name, (_, commit, _) in tags.items()}
    assert _annotated_tags(listing) == {name for name, (_, _, a) in tags.items() if a}
