"""One gzip member, decompressed on demand with hard budgets: a file object for `tarfile`.

Python's `gzip`/`tarfile` read every gzip member back to back and ignore what follows the
tar end-of-archive marker; they decompress as much as asked, so a gzip bomb or a 150,000-entry
archive costs its full size before any cap applies (issue 9 §4). This reader decompresses
only as far as the caller reads, refuses a second gzip member or any bytes after the first,
and, while `tarfile` is reading headers (`header_phase`), refuses any single read larger than
a header may be: a PAX header of a gigabyte would otherwise be read whole into memory.

It only seeks forward (tarfile reading an archive front to back never needs more).
"""

from __future__ import annotations

import zlib

from relkit.core.errors import RelkitError

__all__ = ["MAX_HEADER_READ", "MAX_METADATA_BYTES", "OneMemberGzip"]

MAX_HEADER_READ = 64 * 1024  # one PAX/long-name header; real ones hold a path of < 4 KiB
MAX_METADATA_BYTES = 16 * 1024 * 1024  # every header and padding block of the archive
_GZIP_ONLY = 16 + zlib.MAX_WBITS  # zlib: expect a gzip wrapper, check its CRC and length
_INPUT_CHUNK = 64 * 1024


class OneMemberGzip:
    """A forward-only, bounded reader over the decompressed bytes of exactly one gzip member."""

    def __init__(self, data: bytes, source: str) -> None:
        self._data = memoryview(data)
        self._source = source
        self._fed = 0  # compressed bytes handed to zlib so far
        self._inflate = zlib.decompressobj(_GZIP_ONLY)
        self._buffer = b""  # decompressed, not yet read
        self._position = 0  # decompressed bytes read so far
        self.header_phase = False
        self.metadata_bytes = 0
        self.last_header_block = b""

    # -- the file-object surface tarfile uses: read, tell, seek
    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            raise RelkitError(f"{self._source}: unbounded read of the archive")
        if self.header_phase:
            if size > MAX_HEADER_READ:
                raise RelkitError(
                    f"{self._source}: an entry header of {size} bytes (more than"
                    f" {MAX_HEADER_READ}); refusing to unpack"
                )
            self.metadata_bytes += size
            if self.metadata_bytes > MAX_METADATA_BYTES:
                raise RelkitError(
                    f"{self._source}: more than {MAX_METADATA_BYTES} bytes of entry headers;"
                    " refusing to unpack"
                )
        chunk = self._take(size)
        if self.header_phase and size == 512:
            # tarfile reads each header as one 512-byte block; the last one tells how the
            # archive ended (a zero block, or something tarfile silently gave up on).
            self.last_header_block = chunk
        return chunk

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence != 0 or offset < self._position:
            raise RelkitError(f"{self._source}: corrupt archive (an entry points backwards)")
        skip = offset - self._position
        if self.header_phase:
            self.metadata_bytes += skip
            if self.metadata_bytes > MAX_METADATA_BYTES:
                raise RelkitError(
                    f"{self._source}: more than {MAX_METADATA_BYTES} bytes of entry headers;"
                    " refusing to unpack"
                )
        while skip:
            step = len(self._take(min(skip, _INPUT_CHUNK)))
            if step == 0:
                break
            skip -= step
        return self._position

    # -- after the tar end-of-archive marker
    def read_to_end(self, limit: int) -> bytes:
        """The rest of the decompressed stream; refuse more than `limit` bytes."""
        rest = self._take(limit + 1)
        if len(rest) > limit:
            raise RelkitError(
                f"{self._source}: more than {limit} bytes after the last tar entry;"
                " refusing to unpack"
            )
        return rest

    def check_single_member(self) -> None:
        """Refuse a truncated stream, a second gzip member, or anything after the first."""
        if self._buffer or not self._inflate.eof:
            self._fill(1)
        if self._buffer:  # pragma: no cover - read_to_end drained it
            raise RelkitError(f"{self._source}: data after the tar archive; refusing to unpack")
        if not self._inflate.eof:
            raise RelkitError(f"{self._source}: the gzip stream is truncated")
        trailing = bytes(self._inflate.unused_data) + bytes(self._data[self._fed :])
        if trailing.startswith(b"\x1f\x8b"):
            raise RelkitError(f"{self._source}: a second gzip member; refusing to unpack")
        if trailing:
            raise RelkitError(
                f"{self._source}: {len(trailing)} bytes after the gzip stream; refusing to unpack"
            )

    # -- decompression on demand
    def _take(self, size: int) -> bytes:
        self._fill(size)
        chunk, self._buffer = self._buffer[:size], self._buffer[size:]
        self._position += len(chunk)
        return chunk

    def _fill(self, size: int) -> None:
        """Decompress until `size` bytes are buffered or the gzip member ends; never more."""
        parts = [self._buffer]
        have = len(self._buffer)
        try:
            while have < size and not self._inflate.eof:
                pending: bytes | memoryview = self._inflate.unconsumed_tail
                if not pending:
                    if self._fed >= len(self._data):
                        break  # input exhausted before the gzip trailer: truncated
                    pending = self._data[self._fed : self._fed + _INPUT_CHUNK]
                    self._fed += len(pending)
                # max_length: a bomb yields at most what was asked for, however it expands.
                out = self._inflate.decompress(pending, size - have)
                parts.append(out)
                have += len(out)
        except zlib.error as exc:
            raise RelkitError(
                f"{self._source} is not a gzip-compressed tar archive: {exc}"
            ) from None
        self._buffer = b"".join(parts)
