"""The one rule for every path that comes from configuration (issue 15).

A relkit config comes from the repository, and `relkit check` runs it on pull requests from
forks: `changelog.file = "/proc/self/environ"` or a committed `CHANGELOG.md` symlink to
`~/.docker/config.json` must not make relkit print, package or rewrite the runner's secrets.
So every configured path is

- relative, with no `..` that climbs out of its root (checked when the config is loaded:
  `lexical_problem`), and
- after resolving symlinks, inside its root (the repository; the GitOps clone for promotion
  edits; the output directory for `dist`), and a regular file or directory, never a FIFO, a
  device or a `/proc` entry (checked again where it is opened: `resolve_inside`,
  `read_inside`, `write_inside`).

A symlink that stays inside its root (`CHANGELOG.md -> docs/CHANGELOG.md`) is followed: the
rule is about where a path ends up, not how it gets there. The final open uses the resolved
path with `O_NOFOLLOW`, so a link swapped in between the check and the open is refused rather
than followed. `signing.key_file` is outside by design and does not go through here.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath, PureWindowsPath

from relkit.core.errors import UsageError

__all__ = [
    "PathError",
    "check_tree",
    "committed_path",
    "dir_inside",
    "lexical_problem",
    "no_link_path",
    "read_inside",
    "read_nofollow",
    "resolve_inside",
    "write_inside",
    "write_nofollow",
]

# Entries whose content is the machine's, not the repository's, whatever a symlink says.
_SYSTEM_TREES = ("/proc", "/sys", "/dev")
_OPEN_FLAGS = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


class PathError(UsageError):
    """A configured path that leaves its root or is not a plain file (exit 2)."""


def lexical_problem(value: str) -> str | None:
    """Why `value` cannot be a configured path, judged from its text alone; None if it can."""
    if not value or not value.strip():
        return "is empty"
    if "\x00" in value:
        return "contains a NUL byte"
    if (
        value.startswith(("/", "\\", "~"))
        or PureWindowsPath(value).drive
        or PurePosixPath(value).is_absolute()
    ):
        return "must be a relative path (it is absolute)"
    depth = 0
    for part in PurePosixPath(value.replace("\\", "/")).parts:
        if part == "..":
            depth -= 1
            if depth < 0:
                return "must stay inside the repository (it climbs out with '..')"
        elif part not in (".", ""):
            depth += 1
    return None


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def resolve_inside(root: Path, value: str, *, key: str, where: str = "the repository") -> Path:
    """`root / value` with every symlink resolved, refused unless it stays inside `root`.

    The path need not exist (a changelog to create); what exists of it is resolved. An
    existing entry must be a regular file or a directory.
    """
    problem = lexical_problem(value)
    if problem is not None:
        raise PathError(f"{key} {value!r}: {problem}", hint=f"use a path inside {where}")
    real_root = os.path.realpath(root)
    resolved = os.path.realpath(os.path.join(real_root, value))
    if not _inside(resolved, real_root) or (
        any(_inside(resolved, tree) for tree in _SYSTEM_TREES)
        and not any(_inside(real_root, tree) for tree in _SYSTEM_TREES)
    ):
        # The target is not named: it may itself be what an attacker wants to learn.
        raise PathError(
            f"{key} {value!r}: resolves outside {where} (through a symlink)",
            hint=f"replace the symlink with the file, or point it inside {where}",
        )
    try:
        mode = os.stat(resolved).st_mode
    except FileNotFoundError:
        return Path(resolved)
    except OSError as exc:
        raise PathError(f"{key} {value!r}: cannot be read ({exc.strerror})") from None
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise PathError(f"{key} {value!r}: is not a regular file or directory")
    return Path(resolved)


def committed_path(root: Path, value: str, *, key: str, where: str = "the repository") -> str:
    """The path, relative to `root`, of what `value` names once links are resolved.

    `CHANGELOG.md -> docs/CHANGELOG.md` names `docs/CHANGELOG.md`: the file git must commit
    when relkit writes the changelog through the link."""
    resolved = resolve_inside(root, value, key=key, where=where)
    return Path(os.path.relpath(resolved, os.path.realpath(root))).as_posix()


def _open_regular(path: Path, flags: int, *, key: str, value: str) -> int:
    """Open the already-resolved `path` without following a final link; a regular file only."""
    try:
        # O_NONBLOCK: a FIFO swapped in after the check must not hang the run.
        fd = os.open(path, flags | _OPEN_FLAGS | os.O_NONBLOCK, 0o644)
    except OSError as exc:
        verb = "read" if flags & os.O_ACCMODE == os.O_RDONLY else "write"
        raise PathError(f"cannot {verb} {value}: {exc.strerror}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise PathError(f"{key} {value!r}: is not a regular file")
    return fd


def read_inside(
    root: Path,
    value: str,
    *,
    key: str,
    max_bytes: int = 64 * 1024 * 1024,
    where: str = "the repository",
) -> bytes | None:
    """The bytes of the configured file `value` under `root`; None when it does not exist."""
    path = resolve_inside(root, value, key=key, where=where)
    if not path.exists():
        return None
    fd = _open_regular(path, os.O_RDONLY, key=key, value=value)
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise PathError(f"{key} {value!r}: larger than {max_bytes} bytes")
    return data


def write_inside(
    root: Path,
    value: str,
    data: bytes,
    *,
    key: str,
    where: str = "the repository",
    make_parents: bool = False,
) -> Path:
    """Write `data` to the configured file `value` under `root` (created if missing)."""
    path = resolve_inside(root, value, key=key, where=where)
    if path.is_dir():
        raise PathError(f"{key} {value!r}: is a directory")
    if make_parents:
        # Created below the resolved, inside, existing ancestor: inside too.
        path.parent.mkdir(parents=True, exist_ok=True)
    fd = _open_regular(path, os.O_WRONLY | os.O_CREAT, key=key, value=value)
    with os.fdopen(fd, "wb") as handle:
        handle.truncate(0)
        handle.write(data)
    return path


def dir_inside(root: Path, value: str, *, key: str, where: str = "the repository") -> Path:
    """The configured directory `value` under `root`, resolved and inside; when it exists,
    none of its entries may leave it (`check_tree`). Whether it must exist is the caller's."""
    path = resolve_inside(root, value, key=key, where=where)
    if path.is_dir():
        check_tree(path, label=value.rstrip("/") or ".")
    return path


def check_tree(directory: Path, *, label: str) -> None:
    """Refuse a tree holding a symlink that resolves outside `directory`, or a FIFO, socket
    or device: a chart or bundle read from it would carry what the link names."""
    real = os.path.realpath(directory)
    for dirpath, dirnames, filenames in os.walk(real, followlinks=False):
        for name in sorted([*dirnames, *filenames]):
            full = os.path.join(dirpath, name)
            shown = f"{label}/{os.path.relpath(full, real)}"
            mode = os.lstat(full).st_mode
            if stat.S_ISLNK(mode):
                if not _inside(os.path.realpath(full), real):
                    raise PathError(
                        f"{shown}: a symlink that resolves outside {label}",
                        hint="replace the symlink with the file it should hold",
                    )
            elif not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                raise PathError(f"{shown}: is not a regular file or directory")


def no_link_path(root: Path, value: str, *, key: str, where: str) -> Path:
    """`root / value` after `lstat` of every component below `root`: none may be a symlink.

    For trees relkit writes into that someone else prepared (the GitOps clone): a values
    file or an environment directory that is a link could point anywhere on the runner.
    A missing tail is allowed (the caller says whether the file must exist)."""
    problem = lexical_problem(value)
    if problem is not None:
        raise PathError(f"{key} {value!r}: {problem}", hint=f"use a path inside {where}")
    current = root
    parts = PurePosixPath(value.replace("\\", "/")).parts
    for index, part in enumerate(parts):
        current = current / part
        try:
            mode = os.lstat(current).st_mode
        except FileNotFoundError:
            return root.joinpath(*parts)
        shown = "/".join(parts[: index + 1])
        if stat.S_ISLNK(mode):
            raise PathError(
                f"{key} {value!r}: {shown} is a symlink in {where}",
                hint="edit the file itself: links in the edited path are refused",
            )
        last = index == len(parts) - 1
        if not last and not stat.S_ISDIR(mode):
            raise PathError(f"{key} {value!r}: {shown} is not a directory")
        if last and not stat.S_ISREG(mode):
            raise PathError(f"{key} {value!r}: is not a regular file")
    return current


def read_nofollow(path: Path, *, key: str, value: str) -> bytes:
    """The bytes of `path` (already checked by `no_link_path`), opened with O_NOFOLLOW."""
    fd = _open_regular(path, os.O_RDONLY, key=key, value=value)
    with os.fdopen(fd, "rb") as handle:
        return handle.read()


def write_nofollow(path: Path, data: bytes, *, key: str, value: str) -> None:
    """Replace the content of `path` (already checked by `no_link_path`), O_NOFOLLOW."""
    fd = _open_regular(path, os.O_WRONLY | os.O_CREAT, key=key, value=value)
    with os.fdopen(fd, "wb") as handle:
        handle.truncate(0)
        handle.write(data)
