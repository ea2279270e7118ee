"""Files in dist/: written atomically under names a later run recognises, and swept.

A run killed at any moment (SIGKILL, a CI timeout) must leave nothing that a clean run would
not have written (issue 12). Every half-written file and scratch directory relkit makes in
dist/ therefore carries the writing process's id in a recognisable name:

- files: `.<name>.tmp-<pid>`, renamed over `<name>` once complete (`write_atomic`);
- directories: `.relkit-<purpose>-<pid>-<random>` (`scratch_dir`), on the same filesystem
  as their destination so the final `os.replace` is atomic.

`sweep_stale` removes those whose process is gone (or whose id now belongs to a process that
is not relkit, or to this very process without it having made them: a killed run in an
earlier container); each run calls it before writing. Names of
older relkit versions (`.relkit-publish-<random>`, `relkit-release.json.tmp`) go too.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

__all__ = ["scratch_dir", "sweep_stale", "write_atomic"]

_FILE = re.compile(r"^\..+\.tmp-(?P<pid>\d+)$")
_DIR = re.compile(r"^\.relkit-[a-z]+-(?P<pid>\d+)-[A-Za-z0-9_]+$")
# Written without a process id by relkit before issue 12: never a live run's (it replaces them).
_LEGACY = re.compile(r"^(\.relkit-(publish|bundle)-[A-Za-z0-9_]{8}|relkit-release\.json\.tmp)$")
# dist/ itself, dist/release/ and dist/<component>/ (and its release/): deeper is not relkit's.
_DEPTH = 2


def write_atomic(dest: Path, source: bytes | Path) -> None:
    """Write `dest` from bytes or a file: readers see the old file or the whole new one."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp-{os.getpid()}")
    try:
        if isinstance(source, Path):
            shutil.copyfile(source, tmp)
        else:
            tmp.write_bytes(source)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def scratch_dir(parent: Path, purpose: str) -> Path:
    """A new scratch directory in `parent` that `sweep_stale` removes once its run is gone."""
    parent.mkdir(parents=True, exist_ok=True)
    made = Path(tempfile.mkdtemp(prefix=f".relkit-{purpose}-{os.getpid()}-", dir=parent))
    _OURS.add(made.name)
    return made


# Scratch directories this process made: in a container a killed run may have had this very
# process id, so "same pid" alone does not mean "ours".
_OURS: set[str] = set()


def sweep_stale(dist_dir: Path) -> list[Path]:
    """Remove relkit's scratch left in `dist_dir` by runs that no longer exist; what went."""
    removed: list[Path] = []
    _sweep(dist_dir, _DEPTH, removed)
    return removed


def _sweep(folder: Path, depth: int, removed: list[Path]) -> None:
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return
    for entry in entries:
        path = Path(entry.path)
        if _is_stale(entry.name, entry.is_dir(follow_symlinks=False)):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path)
        elif depth > 0 and entry.is_dir(follow_symlinks=False):
            _sweep(path, depth - 1, removed)


def _is_stale(name: str, is_dir: bool) -> bool:
    if _LEGACY.match(name):
        return True
    match = (_DIR if is_dir else _FILE).match(name)
    return match is not None and not _alive(int(match.group("pid")), name)


def _alive(pid: int, name: str) -> bool:
    """Whether the relkit run that named `name` may still be running."""
    if pid == os.getpid():
        return name in _OURS
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    except OverflowError:
        return False
    # A live process with that id may be an unrelated one that reused it.
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc to ask: assume it is the run
    return b"relkit" in command
