"""`git log -z` output read a chunk at a time: each field decoded as if on its own."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from relkit.adapters.git_history import _complete_fields
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
