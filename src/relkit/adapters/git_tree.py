"""What a commit's tree holds under a path, exported into a scratch directory (issue 15 §2).

Artifacts are built from the release commit, never from the work tree: an untracked file, a
hard link to `~/.docker/config.json` or a runner-side edit in the checkout must not reach a
chart or a bundle. `git archive` gives the tree's files as a tar stream; this module writes
them under a fresh directory with no link in it:

- a symlink whose target is a regular file inside the exported directory is materialised as
  a copy of that file (as the commit holds it): an in-chart `templates/_shared.tpl` link keeps
  working;
- a symlink to a directory, or one whose target leaves the exported directory, is refused
  (one line naming it; nothing is built);
- a submodule (gitlink) is skipped by `git archive`, like any file the tree does not hold.
"""

from __future__ import annotations

import io
import os
import posixpath
import subprocess
import tarfile
from collections.abc import Sequence
from pathlib import Path

from relkit.core.errors import RelkitError, UsageError

__all__ = ["export_tree"]

# Far above any chart or bundle directory; bounds what one export may write.
MAX_EXPORT_BYTES = 512 * 1024 * 1024


def _archive(root: Path, commit: str, paths: Sequence[str]) -> bytes:
    try:
        result = subprocess.run(
            ["git", "-C", str(root), "archive", "--format=tar", commit, "--", *paths],
            capture_output=True,
            check=False,
            # A configured path is a path, never pathspec magic (`:(glob)**` would export more).
            env={**os.environ, "GIT_LITERAL_PATHSPECS": "1"},
        )
    except FileNotFoundError:
        raise RelkitError("git is not installed", hint="install git and retry") from None
    if result.returncode != 0:
        detail = result.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = detail[-1] if detail else "no output"
        raise UsageError(
            f"cannot read {', '.join(paths)} from commit {commit[:12]}: {reason}",
            hint="the chart/bundle directory must be committed in the release commit",
        )
    return result.stdout


def _inside(name: str, base: str) -> bool:
    return name == base or name.startswith(base.rstrip("/") + "/")


def export_tree(root: Path, commit: str, paths: Sequence[str], dest: Path) -> Path:
    """Write what `commit` holds under each of `paths` into `dest` (same relative layout).

    `paths` are repository-relative directories (already held to the path rule). Returns
    `dest`. Links are materialised or refused as the module docstring says.
    """
    bases = [posixpath.normpath(p.replace("\\", "/")).strip("/") or "." for p in paths]
    data = _archive(root, commit, bases)
    dest.mkdir(parents=True, exist_ok=True)
    files: dict[str, tarfile.TarInfo] = {}
    links: dict[str, str] = {}
    total = 0
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
        members = archive.getmembers()
        for member in members:
            name = posixpath.normpath(member.name)
            if member.isdir() and any(b.startswith(name + "/") for b in bases):
                (dest / name).mkdir(parents=True, exist_ok=True)  # a parent of a base
                continue
            climbs = name == ".." or name.startswith(("/", "../"))
            if climbs or not any(_inside(name, b) for b in bases):
                raise UsageError(f"commit {commit[:12]}: unexpected path {member.name!r}")
            if member.isdir():
                (dest / name).mkdir(parents=True, exist_ok=True)
            elif member.isfile():
                files[name] = member
                total += member.size
            elif member.issym():
                links[name] = member.linkname
            else:
                raise UsageError(f"{name}: not a regular file, directory or symlink")
        if total > MAX_EXPORT_BYTES:
            raise UsageError(f"{', '.join(bases)}: larger than {MAX_EXPORT_BYTES} bytes")
        for name, member in files.items():
            _write(dest / name, archive, member)
        for name, target in links.items():
            _materialise(dest, name, target, bases, files, links, archive)
    return dest


def _base_of(name: str, bases: Sequence[str]) -> str:
    return max((b for b in bases if _inside(name, b)), key=len)


def _materialise(
    dest: Path,
    name: str,
    target: str,
    bases: Sequence[str],
    files: dict[str, tarfile.TarInfo],
    links: dict[str, str],
    archive: tarfile.TarFile,
) -> None:
    base = _base_of(name, bases)
    seen = {name}
    current, link_target = name, target
    while True:
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(current), link_target))
        if link_target.startswith("/") or not _inside(resolved, base) or resolved == base:
            raise UsageError(
                f"{name}: a symlink that leaves {base}",
                hint="replace the symlink with the file it should hold",
            )
        if resolved in links and resolved not in seen:  # a link to a link inside
            seen.add(resolved)
            current, link_target = resolved, links[resolved]
            continue
        if resolved not in files:
            raise UsageError(
                f"{name}: a symlink to a directory or a missing file",
                hint="chart and bundle directories may link only to files inside them",
            )
        _write(dest / name, archive, files[resolved])
        return


def _write(path: Path, archive: tarfile.TarFile, member: tarfile.TarInfo) -> None:
    handle = archive.extractfile(member)
    if handle is None:
        raise UsageError(f"{member.name}: cannot be read from the commit")
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o755 if member.mode & 0o111 else 0o644)
    with os.fdopen(fd, "wb") as out:
        out.write(handle.read())
