"""Read and unpack bundle archives safely.

An archive from the internet is hostile until verified, and even a verified one is only as
careful as whoever built it. The archive file is opened once and read into memory
(`load_archive`): the signature, the checks and the unpacking all see those bytes, so a file
swapped on disk between two steps cannot get past the checks (issue 9 §1).

`parse_archive` then reads the bytes as a stream, entry by entry, and stops at the first one
over a limit: regular files and directories only (no symlinks, hardlinks, devices, FIFOs,
sparse files), relative paths without `..`, all under one top directory, no duplicates,
also none after case folding or Unicode normalization (they collide on macOS and Windows),
at most `MAX_MEMBERS` entries and `MAX_TOTAL_BYTES` of content, exactly one gzip member and
nothing after it or after the tar end-of-archive marker (issue 9 §4).

`write_contents` writes the checked in-memory files (never the archive again) into a
temporary directory next to the target and moves the result in only when all went well.
"""

from __future__ import annotations

import os
import shutil
import stat
import tarfile
import tempfile
import unicodedata
from dataclasses import field
from pathlib import Path, PurePosixPath

from relkit.bundle.archive import check_entry_path
from relkit.bundle.gzip_stream import OneMemberGzip
from relkit.core.errors import RelkitError, UsageError
from relkit.core.records import record

__all__ = [
    "MAX_ARCHIVE_BYTES",
    "MAX_MEMBERS",
    "MAX_TOTAL_BYTES",
    "ArchiveContents",
    "load_archive",
    "parse_archive",
    "read_archive",
    "read_regular_file",
    "safe_extract",
    "write_contents",
]

MAX_TOTAL_BYTES = 1 << 30  # a self-host bundle is configuration, not a disk image
MAX_MEMBERS = 10_000
# Compressed, the archive is never meaningfully larger than its content plus its headers.
MAX_ARCHIVE_BYTES = MAX_TOTAL_BYTES + (64 << 20)
# tar pads its end to a record (10 KiB for GNU tar, bsdtar and Python); allow larger blocking
# factors, refuse anything else.
MAX_TRAILING_PADDING = 1 << 20
_BLOCK = 512


@record
class ArchiveContents:
    """An archive's files by path relative to its top directory."""

    top: str
    files: dict[str, bytes]
    executable: frozenset[str] = frozenset()
    directories: tuple[str, ...] = field(default=())  # explicit entries, relative to top


def read_regular_file(
    path: Path, *, limit: int, what: str, missing: RelkitError | None = None
) -> bytes:
    """`path`'s bytes from one open: a regular file of at most `limit` bytes, nothing else.

    Opened non-blocking and checked with fstat on the open descriptor, so a FIFO or device
    in its place is refused instead of hanging or streaming forever.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise missing or UsageError(f"{what} {path} does not exist") from None
    except OSError as exc:
        raise RelkitError(f"cannot read {what} {path}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UsageError(f"{what} {path} is not a regular file")
        os.set_blocking(fd, True)
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise RelkitError(f"cannot read {what} {path}: {exc.strerror}") from None
    if len(data) > limit:
        raise RelkitError(f"{what} {path.name} is larger than {limit} bytes; refusing")
    return data


def load_archive(archive: Path) -> bytes:
    """The archive's bytes, from a single open of the file (bounded by MAX_ARCHIVE_BYTES)."""
    return read_regular_file(archive, limit=MAX_ARCHIVE_BYTES, what="bundle archive")


def parse_archive(data: bytes, source: str) -> ArchiveContents:
    """Every file's bytes, in memory, after checking each entry as it streams past."""
    stream = OneMemberGzip(data, source)
    stream.header_phase = True
    try:
        # "r:" (not "r|"): tarfile reads headers straight from `stream`, which can then bound
        # each header read and see the block that ended the archive.
        with tarfile.open(fileobj=stream, mode="r:") as tar:  # type: ignore[call-overload]
            contents = _read_members(tar, stream, source)
    except tarfile.ReadError as exc:
        if stream.tell() <= _BLOCK:
            raise RelkitError(f"{source} is not a gzip-compressed tar archive: {exc}") from None
        raise RelkitError(f"{source}: corrupt archive: {exc}") from None
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        raise RelkitError(f"{source}: corrupt archive: {exc}") from None
    ended = stream.last_header_block == bytes(_BLOCK)
    rest = stream.read_to_end(MAX_TRAILING_PADDING)
    stream.check_single_member()
    if not ended:
        raise RelkitError(
            f"{source}: no tar end-of-archive marker (truncated, or data after the last entry);"
            " refusing to unpack"
        )
    if rest.strip(b"\0"):
        raise RelkitError(f"{source}: data after the tar end-of-archive marker; refusing to unpack")
    return contents


class _Names:
    """Entry names seen so far: exact duplicates, collisions after folding, and a path that
    would have to be both a file and a directory."""

    def __init__(self, source: str) -> None:
        self._source = source
        self._entries: set[str] = set()
        self._folded: dict[str, str] = {}
        self._files: set[str] = set()  # folded
        self._directories: set[str] = set()  # folded, explicit or leading to an entry

    def add(self, name: str, *, is_file: bool) -> None:
        if name in self._entries:
            raise RelkitError(f"{self._source}: {name!r} appears twice; refusing to unpack")
        self._entries.add(name)
        # The directories leading to an entry collide too: `A/x` and `a/y` share one folder
        # on a case-insensitive file system.
        parts = name.split("/")
        for depth in range(1, len(parts) + 1):
            path = "/".join(parts[:depth])
            key = _folded(path)
            prior = self._folded.setdefault(key, path)
            if prior != path:
                raise RelkitError(
                    f"{self._source}: {prior!r} and {path!r} are the same name on a"
                    " case-insensitive or Unicode-normalizing file system; refusing to unpack"
                )
            as_file = is_file and depth == len(parts)
            if key in (self._directories if as_file else self._files):
                raise RelkitError(
                    f"{self._source}: {path!r} is both a file and a directory; refusing to unpack"
                )
            (self._files if as_file else self._directories).add(key)


def _folded(path: str) -> str:
    # Unicode's canonical caseless match: NFD(casefold(NFD(x))).
    return unicodedata.normalize("NFD", unicodedata.normalize("NFD", path).casefold())


def _read_members(tar: tarfile.TarFile, stream: OneMemberGzip, source: str) -> ArchiveContents:
    names = _Names(source)
    top: str | None = None
    files: dict[str, bytes] = {}
    executable: set[str] = set()
    directories: list[str] = []
    count = 0
    total = 0
    while (member := tar.next()) is not None:
        count += 1
        if count > MAX_MEMBERS:
            raise RelkitError(f"{source}: more than {MAX_MEMBERS} entries; refusing to unpack")
        name = _checked_name(member, source)
        names.add(name, is_file=member.isreg())
        first, _, relative = name.partition("/")
        if top is None:
            top = first
        elif first != top:
            raise RelkitError(f"{source}: entries are not under one top directory")
        if not relative:
            if not member.isdir():
                raise RelkitError(f"{source}: top entry {top!r} is not a directory")
            continue
        if member.isdir():
            directories.append(relative)
            continue
        # Checked on the header, before a byte of the content is decompressed.
        total += member.size
        if total > MAX_TOTAL_BYTES:
            raise RelkitError(f"{source}: unpacks to more than {MAX_TOTAL_BYTES} bytes; refusing")
        stream.header_phase = False
        handle = tar.extractfile(member)
        if handle is None:  # pragma: no cover - isreg() members always have data
            raise RelkitError(f"{source}: cannot read {member.name}")
        files[relative] = handle.read()
        stream.header_phase = True
        if member.mode & 0o111:
            executable.add(relative)
    if top is None:
        raise RelkitError(f"{source}: the archive is empty")
    return ArchiveContents(top, files, frozenset(executable), tuple(directories))


def _checked_name(member: tarfile.TarInfo, source: str) -> str:
    kind = _refused_kind(member)
    if kind:
        raise RelkitError(f"{source}: {member.name!r} is a {kind}; refusing to unpack")
    raw = member.name.rstrip("/") if member.isdir() else member.name
    try:
        raw.encode("utf-8")  # tarfile keeps undecodable bytes as surrogates
        name = check_entry_path(raw)
    except (UsageError, UnicodeError):
        name = ""
    if not name or any(ord(char) < 0x20 or ord(char) == 0x7F for char in raw):
        raise RelkitError(
            f"{source}: unsafe path {member.name!r} (absolute, with .., or odd characters);"
            " refusing to unpack"
        )
    if member.isdir() and member.size:
        raise RelkitError(f"{source}: directory {member.name!r} carries data; refusing to unpack")
    # tarfile's "data" filter (PEP 706) is not needed: these checks are stricter (no links at
    # all), nothing is unpacked by tarfile, and modes are set to 0644/0755 on writing.
    return name


def _refused_kind(member: tarfile.TarInfo) -> str | None:
    if member.issym():
        return "symbolic link"
    if member.islnk():
        return "hard link"
    if member.ischr() or member.isblk():
        return "device file"
    if member.isfifo():
        return "FIFO"
    if member.issparse():
        return "sparse file"
    if not (member.isreg() or member.isdir()):
        return "special file"
    return None


def read_archive(archive: Path) -> ArchiveContents:
    """Every file's bytes, in memory, after the same checks as extraction."""
    return parse_archive(load_archive(archive), archive.name)


def _check_target(target: Path, overwrite: bool) -> None:
    if target.exists() and not target.is_dir():
        raise UsageError(f"extract target {target} exists and is not a directory")
    if target.is_dir() and any(target.iterdir()) and not overwrite:
        raise UsageError(
            f"extract target {target} is not empty", hint="choose an empty directory or --force"
        )


def safe_extract(archive: Path, target: Path, *, overwrite: bool = False) -> list[str]:
    """Check the archive, then unpack its top directory's contents into `target`."""
    _check_target(target, overwrite)
    return write_contents(read_archive(archive), target, overwrite=overwrite, source=archive.name)


def write_contents(
    contents: ArchiveContents, target: Path, *, overwrite: bool = False, source: str = "bundle"
) -> list[str]:
    """Write checked contents into `target`; return the file paths written.

    `target` may be missing or empty; a non-empty target is refused unless `overwrite`,
    in which case files with the same paths are replaced and other files are left alone.
    """
    _check_target(target, overwrite)
    target.mkdir(parents=True, exist_ok=True)
    root = target.resolve()
    with tempfile.TemporaryDirectory(prefix=".relkit-extract-", dir=root.parent) as scratch:
        unpacked = Path(scratch) / contents.top
        try:
            _write_tree(contents, unpacked)
        except OSError as exc:
            raise RelkitError(f"{source}: cannot unpack: {exc}") from None
        moves: list[tuple[Path, Path, str]] = []
        for path in sorted(unpacked.rglob("*")):
            relative = path.relative_to(unpacked)
            destination = (root / relative).resolve()
            # Belt and braces: nothing may land outside the target, whatever got past.
            # Checked for every path before the first move, so a refusal writes nothing.
            if not destination.is_relative_to(root) or path.is_symlink():
                raise RelkitError(f"{source}: {relative} would land outside {target}")
            moves.append((path, destination, relative.as_posix()))
        written: list[str] = []
        for path, destination, relative_name in moves:
            if path.is_dir():
                destination.mkdir(exist_ok=True)
                continue
            if destination.is_dir():
                shutil.rmtree(destination)
            shutil.move(path, destination)
            written.append(relative_name)
    return written


def _write_tree(contents: ArchiveContents, unpacked: Path) -> None:
    unpacked.mkdir(mode=0o755)
    for directory in sorted(contents.directories):
        (unpacked / directory).mkdir(mode=0o755, parents=True, exist_ok=True)
    for relative, data in sorted(contents.files.items()):
        path = unpacked / PurePosixPath(relative)
        path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        mode = 0o755 if relative in contents.executable else 0o644
        # O_EXCL | O_NOFOLLOW: a fresh regular file in our own scratch directory, nothing else.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(path, mode)  # the umask does not decide what a bundle's scripts may do
