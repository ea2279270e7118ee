"""Reproducible archives, SHA256SUMS, and safe extraction against hand-built hostile tars."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from relkit.bundle.archive import BundleFile, build_tar_gz, collect_tree
from relkit.bundle.extract import read_archive, safe_extract
from relkit.bundle.sums import (
    check_sha256sums,
    parse_digests,
    render_digests,
    render_sha256sums,
)
from relkit.errors import RelkitError, UsageError

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
