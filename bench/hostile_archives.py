"""Peak memory and time to refuse the two hostile archives of issue 9 §4.

    .venv/bin/python bench/hostile_archives.py [--dir /tmp/relkit-hostile]

`many-entries`: 150,000 empty files (the entry cap is 10,000). `bomb`: one entry of
1.1 GiB of zeros, about 1 MiB compressed (the content cap is 1 GiB). Each is read by
`relkit.bundle.extract.read_archive` in a child process; the child's peak RSS comes from
wait4(2). Put an older relkit first on PYTHONPATH to measure it the same way.
"""

from __future__ import annotations

import argparse
import gzip
import os
import struct
import subprocess
import sys
import tarfile
import time
import zlib
from pathlib import Path

__all__ = ["main", "make_bomb", "make_many_entries"]

_READ = (
    "import sys; from pathlib import Path; from relkit.bundle.extract import read_archive\n"
    "try:\n    read_archive(Path(sys.argv[1]))\nexcept Exception as exc:\n    print(exc)\n"
)


def make_many_entries(path: Path, count: int = 150_000) -> None:
    top = tarfile.TarInfo("many-1.0.0")
    top.type = tarfile.DIRTYPE
    headers = [top.tobuf()]
    headers += [tarfile.TarInfo(f"many-1.0.0/{index}").tobuf() for index in range(count)]
    path.write_bytes(gzip.compress(b"".join(headers) + bytes(1024)))


def make_bomb(path: Path, size: int = 1_100 * 1024 * 1024) -> None:
    """A valid gzip: a directory, one entry of `size` zeros, the end marker (all zeros)."""
    top = tarfile.TarInfo("bomb-1.0.0")
    top.type = tarfile.DIRTYPE
    entry = tarfile.TarInfo("bomb-1.0.0/zeros")
    entry.size = size
    prefix = top.tobuf() + entry.tobuf()
    zeros = size + (-size % 512) + 1024
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    body = [deflate.compress(prefix), deflate.flush(zlib.Z_FULL_FLUSH)]
    mib = bytes(1 << 20)
    # After a full flush, every MiB of zeros compresses to the same bytes: repeat them.
    block = deflate.compress(mib) + deflate.flush(zlib.Z_FULL_FLUSH)
    whole, rest = divmod(zeros, len(mib))
    body += [block * whole, deflate.compress(bytes(rest)) + deflate.flush(zlib.Z_FINISH)]
    crc = zlib.crc32(prefix)
    for _ in range(whole):
        crc = zlib.crc32(mib, crc)
    crc = zlib.crc32(bytes(rest), crc)
    trailer = struct.pack("<II", crc, (len(prefix) + zeros) & 0xFFFFFFFF)
    path.write_bytes(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + b"".join(body) + trailer)


def _measure(archive: Path) -> tuple[float, float, str]:
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", _READ, str(archive)], stdout=subprocess.PIPE, text=True
    )
    _, _, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    assert child.stdout is not None
    message = child.stdout.read().strip()
    return usage.ru_maxrss / 1024, seconds, message  # ru_maxrss is in KiB on Linux


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, default=Path("/tmp/relkit-hostile"))
    args = parser.parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    archives = {
        "many-entries": (args.dir / "many-1.0.0.tar.gz", make_many_entries),
        "bomb": (args.dir / "bomb-1.0.0.tar.gz", make_bomb),
    }
    for name, (path, make) in archives.items():
        if not path.exists():
            make(path)
        peak, seconds, message = _measure(path)
        size = path.stat().st_size / 1024
        print(f"{name:13} {size:8.0f} KiB  peak RSS {peak:7.1f} MiB  {seconds:6.2f} s  {message}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
