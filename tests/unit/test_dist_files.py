"""dist/ scratch: recognisable names, swept once their run is gone (issue 12 §4)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from relkit.dist_files import scratch_dir, sweep_stale, write_atomic


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # reaped: the pid names no process now
    return child.pid


def test_sweep_removes_dead_runs_scratch_and_keeps_everything_else(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    (dist / "release").mkdir(parents=True)
    (dist / "api" / "release").mkdir(parents=True)
    dead = dead_pid()
    stale = [
        dist / f".relkit-publish-{dead}-ab12_cd3",
        dist / f".acme-1.2.0.tar.gz.tmp-{dead}",
        dist / "release" / f".RELEASE_NOTES.md.tmp-{dead}",
        dist / "api" / "release" / f".release.json.tmp-{dead}",
        dist / ".relkit-publish-k2j3h4g5",  # relkit before issue 12: no pid
        dist / "relkit-release.json.tmp",
    ]
    live = scratch_dir(dist, "publish")
    kept = [
        live,
        dist / f".web.tgz.tmp-{os.getpid()}",
        dist / "acme-1.2.0.tar.gz",
        dist / ".gitignore",
        dist / "notes.tmp-123",  # not hidden: a user's file
        dist / "release" / "acme-1.2.0.tar.gz",
    ]
    for path in stale + kept:
        if path.name.startswith(".relkit-") and not path.exists():
            path.mkdir()
            (path / "acme-1.2.0.tar.gz").write_bytes(b"a second copy")
        elif not path.exists():
            path.write_bytes(b"x")

    removed = sweep_stale(dist)

    assert sorted(removed) == sorted(stale)
    assert not any(p.exists() for p in stale)
    assert all(p.exists() for p in kept)


def test_sweep_of_a_missing_dist_is_a_no_op(tmp_path: Path) -> None:
    assert sweep_stale(tmp_path / "nope") == []


def test_write_atomic_replaces_and_leaves_no_temporary(tmp_path: Path) -> None:
    dest = tmp_path / "dist" / "release" / "RELEASE_NOTES.md"
    write_atomic(dest, b"one")
    source = tmp_path / "source"
    source.write_bytes(b"two")
    write_atomic(dest, source)
    assert dest.read_bytes() == b"two"
    assert sorted(p.name for p in dest.parent.iterdir()) == ["RELEASE_NOTES.md"]


names = st.text(alphabet="abc.-_0123456789relkitmp", min_size=1, max_size=30)


@settings(derandomize=True, max_examples=200, deadline=None)
@given(names)
def test_only_relkit_names_are_ever_swept(name: str) -> None:
    import tempfile

    if name in (".", ".."):
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(b"x")
        removed = sweep_stale(Path(folder))
        relkit_owned = name.startswith(".") and (".tmp-" in name or name.startswith(".relkit-"))
        relkit_owned = relkit_owned or name == "relkit-release.json.tmp"
        assert not removed or relkit_owned
