"""Reproducible archives, SHA256SUMS, and safe extraction against hand-built hostile tars."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import struct
import subprocess
import tarfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relkit.bundle.archive import BundleFile, build_tar_gz, collect_tree
from relkit.bundle.extract import parse_archive, read_archive, safe_extract
from relkit.bundle.sums import (
    check_sha256sums,
    parse_digests,
    render_digests,
    render_sha256sums,
)
from relkit.core.errors import RelkitError, UsageError

MTIME = 1_700_000_000
FILES = {
    "compose.yaml": BundleFile(b"services: {}\n"),
    "config/app.toml": BundleFile(b"[server]\n"),
    "bin/start.sh": BundleFile(b"#!/bin/sh\n", executable=True),
}


def _copy_tree(tmp: Path, umask_mode: int) -> Path:
    root = tmp / f"src-{umask_mode:o}"
    for path, entry in FILES.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(entry.data)
        target.chmod((0o755 if entry.executable else umask_mode) & 0o777)
        os.utime(target, (12345, 12345 + umask_mode))
    return root


def test_same_input_gives_identical_bytes(tmp_path: Path) -> None:
    # Two copies with different permissions, mtimes and file creation order.
    first = build_tar_gz(collect_tree(_copy_tree(tmp_path, 0o600)), top="acme-1.0.0", mtime=MTIME)
    second = build_tar_gz(collect_tree(_copy_tree(tmp_path, 0o664)), top="acme-1.0.0", mtime=MTIME)
    assert first == second
    assert hashlib.sha256(first).hexdigest() == hashlib.sha256(second).hexdigest()
    assert build_tar_gz(FILES, top="acme-1.0.0", mtime=MTIME + 1) != first


def test_archive_metadata_is_normalized() -> None:
    data = build_tar_gz(FILES, top="acme-1.0.0", mtime=MTIME)
    # gzip header: mtime at bytes 4..8, FNAME flag (0x08) unset.
    assert int.from_bytes(data[4:8], "little") == MTIME
    assert data[3] & 0x08 == 0
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    assert names == [
        "acme-1.0.0",
        "acme-1.0.0/bin",
        "acme-1.0.0/bin/start.sh",
        "acme-1.0.0/compose.yaml",
        "acme-1.0.0/config",
        "acme-1.0.0/config/app.toml",
    ]
    modes = {m.name: m.mode for m in members}
    assert modes["acme-1.0.0/bin/start.sh"] == 0o755
    assert modes["acme-1.0.0/compose.yaml"] == 0o644
    assert modes["acme-1.0.0/config"] == 0o755
    for member in members:
        assert (member.uid, member.gid, member.uname, member.gname) == (0, 0, "", "")
        assert member.mtime == MTIME


def test_gnu_tar_lists_it(tmp_path: Path) -> None:
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(build_tar_gz(FILES, top="acme-1.0.0", mtime=MTIME))
    listing = subprocess.run(
        ["tar", "-tzf", str(archive)], check=True, capture_output=True, text=True
    ).stdout
    assert "acme-1.0.0/config/app.toml" in listing.splitlines()


@pytest.mark.parametrize("path", ["/etc/passwd", "../x", "a/../../x", "a//b", "./a", "a\\b"])
def test_unsafe_input_paths_are_refused(path: str) -> None:
    with pytest.raises(UsageError, match="not a safe relative path"):
        build_tar_gz({path: BundleFile(b"x")}, top="t-1", mtime=MTIME)


def test_links_in_the_source_tree_are_refused(tmp_path: Path) -> None:
    (tmp_path / "real.txt").write_text("x")
    (tmp_path / "link.txt").symlink_to(tmp_path / "real.txt")
    with pytest.raises(UsageError, match="link.txt is a symbolic link"):
        collect_tree(tmp_path)


def test_fifo_in_the_source_tree_is_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(UsageError, match="pipe is not a regular file"):
        collect_tree(tmp_path)


def test_secrets_and_vcs_state_are_not_collected(tmp_path: Path) -> None:
    for name in (".env", ".env.local", ".env.example", "compose.yaml", ".git/config"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    assert sorted(collect_tree(tmp_path)) == [".env.example", "compose.yaml"]


def test_sha256sums_format_matches_sha256sum(tmp_path: Path) -> None:
    files = {path: entry.data for path, entry in FILES.items()}
    sums = render_sha256sums(files)
    for path, data in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(data)
    (tmp_path / "SHA256SUMS").write_text(sums)
    result = subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert check_sha256sums(sums, {**files, "SHA256SUMS": sums.encode()}) == sorted(files)


def test_sha256sums_mismatches() -> None:
    files = {"a": b"1", "b": b"2"}
    sums = render_sha256sums(files)
    with pytest.raises(RelkitError, match="mismatch for b"):
        check_sha256sums(sums, {"a": b"1", "b": b"3"})
    with pytest.raises(RelkitError, match="lists b, which is not in the bundle"):
        check_sha256sums(sums, {"a": b"1"})
    with pytest.raises(RelkitError, match="c is in the bundle but not listed"):
        check_sha256sums(sums, {**files, "c": b"3"})


def test_digests_round_trip() -> None:
    pins = [f"r/b:1@sha256:{'b' * 64}", f"r/a:1@sha256:{'a' * 64}"]
    text = render_digests([*pins, pins[0]])
    assert text.splitlines() == sorted(pins)
    assert parse_digests(text) == sorted(pins)
    with pytest.raises(RelkitError, match="not pinned"):
        parse_digests("r/a:1\n")


# --------------------------------------------------------------------------- extraction


def _tar(tmp_path: Path, build: Callable[[tarfile.TarFile], None]) -> Path:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        build(tar)
    archive = tmp_path / "evil.tar.gz"
    archive.write_bytes(gzip.compress(raw.getvalue()))
    return archive


def _file(tar: tarfile.TarFile, name: str, data: bytes = b"x") -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def _special(tar: tarfile.TarFile, name: str, kind: bytes, linkname: str = "") -> None:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    tar.addfile(info)


def _dir(tar: tarfile.TarFile, name: str) -> None:
    _special(tar, name, tarfile.DIRTYPE)


EVIL: dict[str, Callable[[tarfile.TarFile], None]] = {
    "dotdot": lambda t: (_dir(t, "b"), _file(t, "b/../../escape.txt")),
    "absolute": lambda t: (_dir(t, "b"), _file(t, "/tmp/relkit-escape.txt")),
    "symlink": lambda t: (_dir(t, "b"), _special(t, "b/link", tarfile.SYMTYPE, "/etc/passwd")),
    "hardlink": lambda t: (_dir(t, "b"), _special(t, "b/hard", tarfile.LNKTYPE, "/etc/passwd")),
    "chardev": lambda t: (_dir(t, "b"), _special(t, "b/dev", tarfile.CHRTYPE)),
    "blockdev": lambda t: (_dir(t, "b"), _special(t, "b/blk", tarfile.BLKTYPE)),
    "fifo": lambda t: (_dir(t, "b"), _special(t, "b/fifo", tarfile.FIFOTYPE)),
    "two-tops": lambda t: (_file(t, "a/x"), _file(t, "b/y")),
    "duplicate": lambda t: (_dir(t, "b"), _file(t, "b/x"), _file(t, "b/x", b"evil")),
    "top-is-file": lambda t: _file(t, "b"),
}
EVIL_MESSAGE = {
    "dotdot": "unsafe path",
    "absolute": "unsafe path",
    "symlink": "is a symbolic link",
    "hardlink": "is a hard link",
    "chardev": "is a device file",
    "blockdev": "is a device file",
    "fifo": "is a FIFO",
    "two-tops": "not under one top directory",
    "duplicate": "appears twice",
    "top-is-file": "is not a directory",
}


@pytest.mark.parametrize("case", sorted(EVIL))
def test_malicious_archives_are_refused(tmp_path: Path, case: str) -> None:
    archive = _tar(tmp_path, EVIL[case])
    target = tmp_path / "out"
    with pytest.raises(RelkitError, match=EVIL_MESSAGE[case]) as info:
        safe_extract(archive, target)
    assert "\n" not in str(info.value)
    with pytest.raises(RelkitError, match=EVIL_MESSAGE[case]):
        read_archive(archive)
    # Nothing was written: not in the target, not next to it, not outside it.
    assert not target.exists() or not any(target.iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evil.tar.gz"] + (
        ["out"] if target.exists() else []
    )
    assert not (tmp_path.parent / "escape.txt").exists()
    assert not Path("/tmp/relkit-escape.txt").exists()


def test_pax_header_path_override_is_caught(tmp_path: Path) -> None:
    def build(tar: tarfile.TarFile) -> None:
        _dir(tar, "b")
        info = tarfile.TarInfo("b/innocent.txt")
        info.pax_headers = {"path": "../../escape.txt"}
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))

    with pytest.raises(RelkitError, match="unsafe path"):
        safe_extract(_tar(tmp_path, build), tmp_path / "out")


def test_not_a_tarball(tmp_path: Path) -> None:
    bogus = tmp_path / "x.tar.gz"
    bogus.write_bytes(b"hello")
    with pytest.raises(RelkitError, match="not a gzip-compressed tar archive"):
        read_archive(bogus)
    with pytest.raises(UsageError, match="does not exist"):
        read_archive(tmp_path / "missing.tar.gz")


def test_extract_round_trip_and_overwrite_rules(tmp_path: Path) -> None:
    archive = tmp_path / "acme-1.0.0.tar.gz"
    archive.write_bytes(build_tar_gz(FILES, top="acme-1.0.0", mtime=MTIME))
    target = tmp_path / "out"
    written = safe_extract(archive, target)
    assert written == ["bin/start.sh", "compose.yaml", "config/app.toml"]
    assert (target / "config/app.toml").read_bytes() == b"[server]\n"
    assert os.access(target / "bin/start.sh", os.X_OK)
    assert read_archive(archive).files == {p: e.data for p, e in FILES.items()}

    (target / "compose.yaml").write_text("local edit")
    with pytest.raises(UsageError, match="is not empty"):
        safe_extract(archive, target)
    assert (target / "compose.yaml").read_text() == "local edit"
    (target / "keep.txt").write_text("mine")
    safe_extract(archive, target, overwrite=True)
    assert (target / "compose.yaml").read_bytes() == b"services: {}\n"
    assert (target / "keep.txt").read_text() == "mine"
    # No scratch directories left behind next to the target.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["acme-1.0.0.tar.gz", "out"]


def test_overwrite_through_a_planted_symlink_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "acme-1.0.0.tar.gz"
    archive.write_bytes(build_tar_gz(FILES, top="acme-1.0.0", mtime=MTIME))
    outside = tmp_path / "outside.txt"
    outside.write_text("precious")
    target = tmp_path / "out"
    target.mkdir()
    (target / "compose.yaml").symlink_to(outside)
    with pytest.raises(RelkitError, match="would land outside"):
        safe_extract(archive, target, overwrite=True)
    assert outside.read_text() == "precious"
    assert sorted(p.name for p in target.iterdir()) == ["compose.yaml"]  # nothing else moved in


# --------------------------------------------------------------------------- issue 9 §4


def _raw_tar(build: Callable[[tarfile.TarFile], None]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        build(tar)
    return raw.getvalue()


def _gzip_prefix(raw: bytes) -> bytes:
    """A gzip stream that decompresses to `raw` and then just stops (no trailer)."""
    deflate = zlib.compressobj(6, zlib.DEFLATED, 31)
    return deflate.compress(raw) + deflate.flush(zlib.Z_SYNC_FLUSH)


def _write(tmp_path: Path, data: bytes, name: str = "evil.tar.gz") -> Path:
    archive = tmp_path / name
    archive.write_bytes(data)
    return archive


COLLIDING: dict[str, Callable[[tarfile.TarFile], None]] = {
    "case": lambda t: (_dir(t, "b"), _file(t, "b/compose.yaml"), _file(t, "b/Compose.yaml")),
    "nfc": lambda t: (_dir(t, "b"), _file(t, "b/caf\u00e9.txt"), _file(t, "b/cafe\u0301.txt")),
    "folder": lambda t: (_dir(t, "b"), _dir(t, "b/Config"), _file(t, "b/config/app.toml")),
    "sharp-s": lambda t: (_dir(t, "b"), _file(t, "b/stra\u00dfe"), _file(t, "b/STRASSE")),
}


@pytest.mark.parametrize(
    "build",
    [
        lambda t: (_dir(t, "b"), _file(t, "b/x"), _file(t, "b/x/y")),
        lambda t: (_dir(t, "b"), _file(t, "b/x/y"), _file(t, "b/x")),
        lambda t: (_dir(t, "b"), _file(t, "b/x"), _dir(t, "b/x")),
        lambda t: (_dir(t, "b"), _dir(t, "b/X"), _file(t, "b/x")),
    ],
    ids=["file-then-child", "child-then-file", "file-then-dir", "dir-then-folded-file"],
)
def test_a_path_cannot_be_both_a_file_and_a_directory(
    tmp_path: Path, build: Callable[[tarfile.TarFile], None]
) -> None:
    archive = _tar(tmp_path, build)
    refusals = "both a file and a directory|the same name|appears twice"
    with pytest.raises(RelkitError, match=refusals):
        read_archive(archive)


@pytest.mark.parametrize("case", sorted(COLLIDING))
def test_names_that_collide_after_folding_are_refused(tmp_path: Path, case: str) -> None:
    archive = _tar(tmp_path, COLLIDING[case])
    with pytest.raises(RelkitError, match="are the same name on a case-insensitive"):
        read_archive(archive)
    with pytest.raises(RelkitError, match="same name"):
        safe_extract(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def _good_tar(t: tarfile.TarFile) -> None:
    _dir(t, "b")
    _file(t, "b/compose.yaml", b"services: {}\n")


def test_a_clean_archive_still_reads(tmp_path: Path) -> None:
    archive = _write(tmp_path, gzip.compress(_raw_tar(_good_tar)))
    assert read_archive(archive).files == {"compose.yaml": b"services: {}\n"}


TRAILING: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "garbage after gzip": (lambda t: gzip.compress(t) + b"evil", "4 bytes after the gzip stream"),
    "zeros after gzip": (lambda t: gzip.compress(t) + bytes(8), "8 bytes after the gzip stream"),
    "second gzip member": (
        lambda t: gzip.compress(t) + gzip.compress(b"evil"),
        "a second gzip member",
    ),
    "second member with entries": (
        lambda t: gzip.compress(t[:1536]) + gzip.compress(t[1536:]),
        "a second gzip member",
    ),
    "data after tar end": (
        lambda t: gzip.compress(t + b"hidden" + bytes(506)),
        "data after the tar end-of-archive marker",
    ),
    "a tar after the tar": (
        lambda t: gzip.compress(t + _raw_tar(lambda x: _file(x, "b/extra.sh", b"rm -rf /"))),
        "data after the tar end-of-archive marker",
    ),
    "garbage block instead of end marker": (
        lambda t: gzip.compress(
            t.rstrip(b"\0") + bytes(-len(t.rstrip(b"\0")) % 512) + b"\xff" * 512
        ),
        "no tar end-of-archive marker",
    ),
    "truncated gzip": (lambda t: gzip.compress(t)[:-8], "the gzip stream is truncated"),
    "bad crc": (lambda t: gzip.compress(t)[:-8] + b"\0" * 8, "not a gzip-compressed tar"),
}


@pytest.mark.parametrize("case", sorted(TRAILING))
def test_anything_beyond_one_gzip_member_and_one_tar_is_refused(tmp_path: Path, case: str) -> None:
    make, message = TRAILING[case]
    archive = _write(tmp_path, make(_raw_tar(_good_tar)))
    with pytest.raises(RelkitError, match=message) as info:
        read_archive(archive)
    assert "\n" not in str(info.value)
    with pytest.raises(RelkitError, match=message):
        safe_extract(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_entry_count_cap_applies_while_streaming(tmp_path: Path) -> None:
    # 10,001 entries, then the stream simply stops: only a reader that refuses at entry
    # 10,001 (rather than after listing every entry) reports the cap.
    from relkit.bundle.extract import MAX_MEMBERS

    headers = [tarfile.TarInfo(f"b/{index}").tobuf() for index in range(MAX_MEMBERS + 1)]
    directory = _raw_tar(lambda t: _dir(t, "b"))[:512]
    archive = _write(tmp_path, _gzip_prefix(directory + b"".join(headers)))
    with pytest.raises(RelkitError, match="more than 10000 entries"):
        read_archive(archive)


def test_size_cap_applies_on_the_header_before_any_content(tmp_path: Path) -> None:
    # A header announcing one byte over the cap, and no content at all behind it: the refusal
    # must come from the header, before a single byte of the content is decompressed.
    from relkit.bundle.extract import MAX_TOTAL_BYTES

    def bomb(t: tarfile.TarFile) -> None:
        _dir(t, "b")
        _file(t, "b/small", b"x" * 10)
        info = tarfile.TarInfo("b/huge")
        info.size = MAX_TOTAL_BYTES - 9
        t.addfile(info)  # header only: the content never follows

    archive = _write(tmp_path, _gzip_prefix(_raw_tar(bomb)[:4096]))
    with pytest.raises(RelkitError, match="unpacks to more than 1073741824 bytes"):
        read_archive(archive)


def test_a_huge_pax_header_is_refused_before_it_is_read(tmp_path: Path) -> None:
    def build(t: tarfile.TarFile) -> None:
        _dir(t, "b")
        info = tarfile.TarInfo("b/x")
        info.pax_headers = {"comment": "A" * 200_000}
        t.addfile(info, io.BytesIO(b""))

    archive = _write(tmp_path, gzip.compress(_raw_tar(build)))
    with pytest.raises(RelkitError, match="an entry header of .* bytes"):
        read_archive(archive)


def zero_bomb(prefix: bytes, zeros: int) -> bytes:
    """A valid gzip of `prefix` + `zeros` NUL bytes, built without compressing them all:
    after a full flush, every 1 MiB of zeros compresses to the same bytes."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    body = [deflate.compress(prefix), deflate.flush(zlib.Z_FULL_FLUSH)]
    mib = bytes(1 << 20)
    block = deflate.compress(mib) + deflate.flush(zlib.Z_FULL_FLUSH)
    whole, rest = divmod(zeros, len(mib))
    body.append(block * whole)
    body.append(deflate.compress(bytes(rest)) + deflate.flush(zlib.Z_FINISH))
    crc = zlib.crc32(prefix)
    for _ in range(whole):
        crc = zlib.crc32(mib, crc)
    crc = zlib.crc32(bytes(rest), crc)
    size = (len(prefix) + zeros) & 0xFFFFFFFF
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return header + b"".join(body) + struct.pack("<II", crc, size)


def test_gzip_bomb_stops_at_the_cap(tmp_path: Path) -> None:
    """A real bomb: one entry of 1 GiB + 1 zeros, about 1 MiB compressed, valid to the end."""
    from relkit.bundle.extract import MAX_TOTAL_BYTES

    size = MAX_TOTAL_BYTES + 1
    header = tarfile.TarInfo("b/zeros")
    header.size = size
    prefix = _raw_tar(lambda t: _dir(t, "b"))[:512] + header.tobuf(tarfile.PAX_FORMAT)
    # The content, its padding and the end-of-archive marker are all zeros.
    data = zero_bomb(prefix, size + (-size % 512) + 1024)
    assert zlib.decompressobj(31).decompress(data, 4096).startswith(prefix)
    archive = _write(tmp_path, data)
    assert archive.stat().st_size < 2 << 20
    with pytest.raises(RelkitError, match="unpacks to more than"):
        read_archive(archive)


@settings(max_examples=150, derandomize=True, deadline=None)
@given(
    position=st.integers(min_value=0, max_value=10_000),
    value=st.integers(min_value=0, max_value=255),
    cut=st.booleans(),
)
def test_mutated_archives_fail_with_one_line(position: int, value: int, cut: bool) -> None:
    good = build_tar_gz(FILES, top="acme-1.0.0", mtime=MTIME)
    index = position % len(good)
    data = good[:index] if cut else good[:index] + bytes([value]) + good[index + 1 :]
    try:
        contents = parse_archive(data, "fuzz.tar.gz")
    except RelkitError as exc:
        assert "\n" not in str(exc)
    else:
        # A mutation that still parses (say, in the gzip header's OS byte) changed nothing
        # that matters: the same files come out.
        assert contents.files == {p: e.data for p, e in FILES.items()}


@settings(max_examples=40, derandomize=True, deadline=None)
@given(
    st.dictionaries(
        st.from_regex(r"[a-z0-9_]{1,8}(/[a-z0-9_][a-z0-9_.]{0,7}){0,2}", fullmatch=True),
        st.binary(max_size=64),
        min_size=1,
        max_size=8,
    )
)
def test_built_archives_round_trip(files: dict[str, bytes]) -> None:
    # Skip sets where one path is a folder of another (a file cannot also be a directory).
    paths = set(files)
    if any(p.startswith(q + "/") for p in paths for q in paths):
        return
    if len({_fold(p) for p in paths}) != len(paths):
        return
    data = build_tar_gz({p: BundleFile(d) for p, d in files.items()}, top="t-1.0.0", mtime=MTIME)
    assert parse_archive(data, "t-1.0.0.tar.gz").files == files


def _fold(path: str) -> str:
    return path.casefold()


@pytest.mark.parametrize(
    ("mtime", "gzip_mtime"),
    [(253402300799, 0xFFFFFFFF), (-86400, 0), (1_700_000_000, 1_700_000_000)],
    ids=["year-9999", "before-1970", "ordinary"],
)
def test_any_commit_time_builds_a_readable_reproducible_archive(
    mtime: int, gzip_mtime: int
) -> None:
    files = {"compose.yaml": BundleFile(b"services: {}\n")}
    first = build_tar_gz(files, top="acme-1.0.0", mtime=mtime)
    assert first == build_tar_gz(files, top="acme-1.0.0", mtime=mtime)
    assert struct.unpack("<I", first[4:8])[0] == gzip_mtime  # the gzip header's MTIME field
    assert parse_archive(first, "acme-1.0.0.tar.gz").files == {"compose.yaml": b"services: {}\n"}
