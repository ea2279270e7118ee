"""A reproducible `NAME-VERSION.tar.gz`: the same files give the same bytes, every time.

What varies between machines and runs is pinned down: entries sorted, every mtime set to the
tagged commit's time, uid/gid 0 with empty owner names, modes normalized (0644 files, 0755
directories and executables), PAX format, gzip header with a fixed mtime, no file name and a
fixed compression level. Everything sits under one top directory `NAME-VERSION/`.
"""

from __future__ import annotations

import gzip
import io
import os
import stat
import tarfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from relkit.core.errors import UsageError
from relkit.core.records import record

__all__ = ["BundleFile", "build_tar_gz", "check_entry_path", "collect_tree"]

# Never bundled: local secrets and VCS/editor state that might sit in a bundle directory.
_EXCLUDED_NAMES = frozenset({".git", ".env", "__pycache__", ".DS_Store"})


@record
class BundleFile:
    """A file's content and whether it is executable (the only mode bit that survives)."""

    data: bytes
    executable: bool = False


def check_entry_path(path: str) -> str:
    """Refuse absolute paths, `..`, empty or odd components; return the normalized path."""
    pure = PurePosixPath(path)
    if (
        not path
        or "\\" in path
        or pure.is_absolute()
        or any(part in ("", ".", "..") for part in path.split("/"))
        or "\x00" in path
    ):
        raise UsageError(f"bundle path {path!r} is not a safe relative path")
    return str(pure)


def collect_tree(root: Path) -> dict[str, BundleFile]:
    """Read a bundle source directory: regular files only; links and devices are refused."""
    files: dict[str, BundleFile] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not _excluded(d))
        for name in [*dirnames, *filenames]:
            if _excluded(name):
                continue
            full = Path(dirpath) / name
            info = full.lstat()
            relative = full.relative_to(root).as_posix()
            if stat.S_ISLNK(info.st_mode):
                raise UsageError(
                    f"{root.name}/{relative} is a symbolic link",
                    hint="bundles hold regular files only; copy the target instead",
                )
            if not (stat.S_ISDIR(info.st_mode) or stat.S_ISREG(info.st_mode)):
                raise UsageError(f"{root.name}/{relative} is not a regular file or directory")
        for name in sorted(filenames):
            if _excluded(name):
                continue
            full = Path(dirpath) / name
            relative = check_entry_path(full.relative_to(root).as_posix())
            files[relative] = BundleFile(
                full.read_bytes(), executable=bool(full.stat().st_mode & 0o111)
            )
    return files


def _excluded(name: str) -> bool:
    # .env.example documents the variables; any other .env* file may hold real secrets.
    return name in _EXCLUDED_NAMES or (name.startswith(".env.") and name != ".env.example")


_GZIP_MAX_MTIME = 0xFFFFFFFF


def build_tar_gz(files: Mapping[str, BundleFile], *, top: str, mtime: int) -> bytes:
    """The archive bytes: `top/` plus every file and the directories leading to it."""
    if "/" in top or top in ("", ".", ".."):
        raise UsageError(f"bundle top directory {top!r} must be a single path component")
    # The gzip header holds an unsigned 32-bit time: a commit dated before 1970 or after 2106
    # (git accepts both) is clamped, so the archive stays reproducible and never fails to build.
    mtime = min(max(mtime, 0), _GZIP_MAX_MTIME)
    paths = {check_entry_path(path): entry for path, entry in files.items()}
    directories = {top}
    for path in paths:
        parents = PurePosixPath(path).parents
        directories.update(f"{top}/{parent}" for parent in parents if str(parent) != ".")
    entries: list[tuple[str, BundleFile | None]] = [(d, None) for d in directories]
    entries.extend((f"{top}/{path}", entry) for path, entry in paths.items())
    entries.sort(key=lambda item: item[0])

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, entry in entries:
            info = tarfile.TarInfo(name)
            info.mtime = mtime
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if entry is None:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            else:
                info.mode = 0o755 if entry.executable else 0o644
                info.size = len(entry.data)
                tar.addfile(info, io.BytesIO(entry.data))
    compressed = io.BytesIO()
    # filename="" keeps the name out of the gzip header; mtime pins the header timestamp.
    with gzip.GzipFile(
        filename="", mode="wb", fileobj=compressed, mtime=mtime, compresslevel=9
    ) as gz:
        gz.write(raw.getvalue())
    return compressed.getvalue()
