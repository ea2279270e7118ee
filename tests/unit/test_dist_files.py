"""dist/ scratch: recognisable names, swept once their run is gone (issue 12 §4)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from relkit.core.dist_files import scratch_dir, sweep_stale, write_atomic


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # reaped: the pid names no process now
    return child.pid


def sleeper(*argv: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", *argv])


def test_sweep_removes_dead_runs_scratch_and_keeps_everything_else(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    (dist / "release").mkdir(parents=True)
    (dist / "api" / "release").mkdir(parents=True)
    dead = dead_pid()
    running = sleeper("relkit", "release")  # another relkit run, alive
    unrelated = sleeper()  # a live process that reused a dead run's id
    try:
        _check_sweep(dist, dead, running.pid, unrelated.pid)
    finally:
        for process in (running, unrelated):
            process.kill()
            process.wait()


def _check_sweep(dist: Path, dead: int, running: int, unrelated: int) -> None:
    stale = [
        dist / f".relkit-publish-{dead}-ab12_cd3",
        dist / f".acme-1.2.0.tar.gz.tmp-{dead}",
        dist / "release" / f".RELEASE_NOTES.md.tmp-{dead}",
        dist / "api" / "release" / f".release.json.tmp-{dead}",
        dist / ".relkit-publish-k2j3h4g5",  # relkit before issue 12: no pid
        dist / "relkit-release.json.tmp",
        dist / f".relkit-bundle-{unrelated}-x1y2z3",
        # This process's id, but not made by it: a killed run in an earlier container.
        dist / f".web.tgz.tmp-{os.getpid()}",
        dist / f".relkit-publish-{os.getpid()}-a1b2c3",
    ]
    live = scratch_dir(dist, "publish")
    kept = [
        live,
        dist / f".relkit-publish-{running}-q1w2e3",
        dist / "release" / f".RELEASE_NOTES.md.tmp-{running}",
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
