"""Read and unpack bundle archives safely.

An archive from the internet is hostile until verified, and even a verified one is only as
careful as whoever built it. Before anything is read or written, every member is checked:
regular files and directories only (no symlinks, hardlinks, devices, FIFOs, sparse files),
relative paths without `..`, all under one top directory, no duplicates, bounded size.
Extraction then also uses tarfile's `filter="data"` (PEP 706) as a second line, writes into
a temporary directory next to the target and moves the result in only when all went well.
"""

from __future__ import annotations

import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from relkit.bundle.archive import check_entry_path
from relkit.errors import RelkitError, UsageError

__all__ = ["ArchiveContents", "read_archive", "safe_extract"]

MAX_TOTAL_BYTES = 1 << 30  # a self-host bundle is configuration, not a disk image
MAX_MEMBERS = 10_000


@dataclass(frozen=True)
class ArchiveContents:
    """An archive's files by path relative to its top directory."""

    top: str
    files: dict[str, bytes]


def _open(archive: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(archive, mode="r:gz")
    except FileNotFoundError:
        raise UsageError(f"bundle archive {archive} does not exist") from None
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise RelkitError(f"{archive.name} is not a gzip-compressed tar archive: {exc}") from None


def _checked_members(tar: tarfile.TarFile, source: str) -> tuple[str, list[tarfile.TarInfo]]:
    """Validate every member; return the single top directory and the members."""
    try:
        members = tar.getmembers()
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise RelkitError(f"{source}: corrupt archive: {exc}") from None
    if not members:
        raise RelkitError(f"{source}: the archive is empty")
    if len(members) > MAX_MEMBERS:
        raise RelkitError(f"{source}: more than {MAX_MEMBERS} entries; refusing to unpack")
    tops: set[str] = set()
    seen: set[str] = set()
    total = 0
    for member in members:
        kind = _refused_kind(member)
        if kind:
            raise RelkitError(f"{source}: {member.name!r} is a {kind}; refusing to unpack")
        try:
            name = check_entry_path(member.name.rstrip("/") if member.isdir() else member.name)
        except UsageError:
            raise RelkitError(
                f"{source}: unsafe path {member.name!r} (absolute or with ..); refusing to unpack"
            ) from None
        if name in seen:
            raise RelkitError(f"{source}: {name!r} appears twice; refusing to unpack")
        seen.add(name)
        tops.add(name.split("/", 1)[0])
        total += member.size
        if total > MAX_TOTAL_BYTES:
            raise RelkitError(f"{source}: unpacks to more than {MAX_TOTAL_BYTES} bytes; refusing")
    if len(tops) != 1:
        raise RelkitError(f"{source}: entries are not under one top directory")
    top = tops.pop()
    for member in members:
        if member.name.rstrip("/") == top and not member.isdir():
            raise RelkitError(f"{source}: top entry {top!r} is not a directory")
    return top, members


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
    with _open(archive) as tar:
        top, members = _checked_members(tar, archive.name)
        files: dict[str, bytes] = {}
        for member in members:
            if not member.isreg():
                continue
            handle = tar.extractfile(member)
            if handle is None:  # pragma: no cover - isreg() members always have data
                raise RelkitError(f"{archive.name}: cannot read {member.name}")
            relative = member.name.split("/", 1)[1] if "/" in member.name else ""
            if not relative:
                raise RelkitError(f"{archive.name}: file {member.name!r} outside the top directory")
            files[relative] = handle.read()
    return ArchiveContents(top, files)


def safe_extract(archive: Path, target: Path, *, overwrite: bool = False) -> list[str]:
    """Unpack the archive's top directory's contents into `target`; return the file paths.

    `target` may be missing or empty; a non-empty target is refused unless `overwrite`,
    in which case files with the same paths are replaced and other files are left alone.
    """
    if target.exists() and not target.is_dir():
        raise UsageError(f"extract target {target} exists and is not a directory")
    if target.is_dir() and any(target.iterdir()) and not overwrite:
        raise UsageError(
            f"extract target {target} is not empty", hint="choose an empty directory or --force"
        )
    with _open(archive) as tar:
        top, members = _checked_members(tar, archive.name)
        target.mkdir(parents=True, exist_ok=True)
        root = target.resolve()
        with tempfile.TemporaryDirectory(prefix=".relkit-extract-", dir=root.parent) as scratch:
            try:
                tar.extractall(scratch, members=members, filter="data")
            except (tarfile.TarError, OSError) as exc:
                raise RelkitError(f"{archive.name}: cannot unpack: {exc}") from None
            unpacked = Path(scratch) / top
            moves: list[tuple[Path, Path, str]] = []
            for path in sorted(unpacked.rglob("*")):
                relative = path.relative_to(unpacked)
                destination = (root / relative).resolve()
                # Belt and braces: nothing may land outside the target, whatever got past.
                # Checked for every path before the first move, so a refusal writes nothing.
                if not destination.is_relative_to(root) or path.is_symlink():
                    raise RelkitError(f"{archive.name}: {relative} would land outside {target}")
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
