"""Reading the repository for `relkit init` and writing its files, never through a symlink.

Writes are planned first (`plan_writes`), so a refusal (a file that exists and differs
without --force, a symlink anywhere on a target's path) happens before anything is written;
then each file is written to a temporary sibling and renamed into place.
"""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Literal

from relkit.core.errors import UsageError
from relkit.core.records import record
from relkit.init.detect import RepoFacts

__all__ = ["PlannedWrite", "gitignore_text", "plan_writes", "read_facts", "write_all"]

_MAX_READ = 1024 * 1024


def _git(root: Path, *args: str) -> str | None:
    result = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
    )
    return result.stdout if result.returncode == 0 else None


def _reader(root: Path) -> Callable[[str], str | None]:
    def read(path: str) -> str | None:
        target = root / path
        try:
            info = target.lstat()
            if not stat.S_ISREG(info.st_mode) or info.st_size > _MAX_READ:
                return None  # a symlink or a huge file is not read
            return target.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    return read


def read_facts(root: Path) -> RepoFacts:
    if _git(root, "rev-parse", "--git-dir") is None:
        raise UsageError(f"{root} is not a git repository", hint="run `git init` first")
    listed = _git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard") or ""
    origin = _git(root, "remote", "get-url", "origin")
    tags = _git(root, "tag", "--list") or ""
    read = _reader(root)
    return RepoFacts(
        files=tuple(sorted({p for p in listed.split("\0") if p})),
        origin=origin.strip() if origin else None,
        tags=tuple(t for t in tags.splitlines() if t),
        read=read,
    )


def gitignore_text(existing: str | None, dist_dir: str = "dist") -> str | None:
    """`.gitignore` with the dist directory ignored, or None when it already is."""
    text = existing or ""
    wanted = {dist_dir, f"{dist_dir}/", f"/{dist_dir}", f"/{dist_dir}/"}
    if any(line.strip() in wanted for line in text.splitlines()):
        return None
    if text and not text.endswith("\n"):
        text += "\n"
    return text + f"# relkit's build output (relkit init)\n/{dist_dir}/\n"


Action = Literal["create", "overwrite", "unchanged"]


@record
class PlannedWrite:
    path: str
    text: str
    action: Action


def _check_no_symlink(root: Path, path: str) -> None:
    current = root
    for part in Path(path).parts:
        current = current / part
        try:
            info = current.lstat()
        except FileNotFoundError:
            return
        if stat.S_ISLNK(info.st_mode):
            raise UsageError(
                f"{current.relative_to(root)} is a symbolic link; relkit init never writes "
                "through one",
                hint="remove the link, or write the file yourself",
            )


def _current(root: Path, path: str) -> str | None:
    target = root / path
    if not target.exists():
        return None
    if not target.is_file():
        raise UsageError(f"{path} exists and is not a file")
    try:
        return target.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""  # unreadable counts as different


def plan_writes(
    root: Path, files: Mapping[str, str], *, force: bool, dry_run: bool = False
) -> list[PlannedWrite]:
    """What writing `files` would do; files that differ are refused unless `force` (a dry run
    only reports them)."""
    planned: list[PlannedWrite] = []
    conflicts: list[str] = []
    for path, text in files.items():
        _check_no_symlink(root, path)
        current = _current(root, path)
        if current is None:
            planned.append(PlannedWrite(path, text, "create"))
        elif current == text:
            planned.append(PlannedWrite(path, text, "unchanged"))
        else:
            conflicts.append(path)
            planned.append(PlannedWrite(path, text, "overwrite"))
    if conflicts and not force and not dry_run:
        raise UsageError(
            f"{', '.join(conflicts)} already "
            + ("exists and differs" if len(conflicts) == 1 else "exist and differ")
            + " from what init would write",
            hint="nothing was written; --dry-run shows the files, --force overwrites them",
        )
    return planned


def write_all(root: Path, planned: list[PlannedWrite]) -> None:
    for item in planned:
        if item.action == "unchanged":
            continue
        target = root / item.path
        target.parent.mkdir(parents=True, exist_ok=True)
        _check_no_symlink(root, item.path)  # again: a link made since planning
        scratch = target.with_name(f".{target.name}.relkit-init")
        # O_EXCL | O_NOFOLLOW: never through a link planted at the scratch name.
        fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                handle.write(item.text)
            os.replace(scratch, target)  # replaces a name, never writes through a link
        except BaseException:
            scratch.unlink(missing_ok=True)
            raise
