"""Benchmark: full-history changelog with relkit, git-cliff and python-semantic-release, and
one version's release notes with relkit, on the synthetic corpus (bench/make_corpus.py).

Every tool runs as a subprocess on the same repository in the same run (wall-clock time,
CLI start-up included), so the ratios compare like with like on this machine.

    .venv/bin/python bench/run.py [--commits 30000] [--tags 10000] [--repeat 3] [--skip-psr]
"""

from __future__ import annotations

import argparse
import math
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_corpus import make_corpus

__all__ = ["main"]

BENCH_DIR = Path(__file__).resolve().parent
WORK_DIR = BENCH_DIR / ".work"
BIN = Path(sys.executable).parent

# Peer configurations equivalent to relkit's defaults live next to this file.
CLIFF_CONFIG = BENCH_DIR / "cliff.toml"
PSR_PYPROJECT = BENCH_DIR / "psr-pyproject.toml"

Completed = subprocess.CompletedProcess[bytes]


def _time(
    command: list[str], cwd: Path | None = None, timeout: float = math.inf
) -> tuple[float, Completed | None]:
    """Wall time of one run; `None` result (and the timeout as time) when it timed out."""
    started = time.perf_counter()
    try:
        limit = None if math.isinf(timeout) else timeout
        result = subprocess.run(command, cwd=cwd, capture_output=True, check=False, timeout=limit)
    except subprocess.TimeoutExpired:
        return time.perf_counter() - started, None
    return time.perf_counter() - started, result


def _checked(name: str, seconds: float, result: Completed | None) -> float:
    if result is None:
        return math.inf  # timed out: reported as "> timeout"
    if result.returncode != 0:
        detail = result.stderr.decode(errors="replace").strip().splitlines()[-5:]
        raise SystemExit(f"{name} failed (exit {result.returncode}):\n" + "\n".join(detail))
    return seconds


def _median_of(
    name: str, command: list[str], repeat: int, cwd: Path | None = None, timeout: float = math.inf
) -> float:
    runs = [_checked(name, *_time(command, cwd, timeout)) for _ in range(repeat)]
    return statistics.median(runs)


def _tags_newest(corpus: Path) -> list[str]:
    output = subprocess.run(
        ["git", "-C", str(corpus), "tag", "--sort=-v:refname"],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    return output.split()


def _psr_copy(corpus: Path) -> Path:
    """A copy of the corpus with the pyproject.toml python-semantic-release needs."""
    target = WORK_DIR / f"psr-{corpus.name}"
    stamp = ".git/relkit-corpus-complete"
    copied = target / stamp
    # copytree keeps mtimes: a different stamp time means the corpus was rebuilt since.
    if not copied.exists() or copied.stat().st_mtime != (corpus / stamp).stat().st_mtime:
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(corpus, target, symlinks=True)
    shutil.copyfile(PSR_PYPROJECT, target / "pyproject.toml")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commits", type=int, default=30_000)
    parser.add_argument("--tags", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of the fast tools (median)")
    parser.add_argument("--skip-psr", action="store_true", help="python-semantic-release is slow")
    parser.add_argument("--skip-cliff", action="store_true", help="git-cliff is slow on many tags")
    parser.add_argument(
        "--timeout", type=float, default=1200, help="seconds before a peer run is stopped"
    )
    args = parser.parse_args(argv)

    corpus = make_corpus(args.commits, args.tags)
    WORK_DIR.mkdir(exist_ok=True)
    tags = _tags_newest(corpus)
    print(f"corpus: {corpus} ({args.commits} commits, {len(tags)} tags)")
    results: dict[str, float] = {}

    relkit = str(BIN / "relkit")
    results["relkit changelog --full"] = _median_of(
        "relkit",
        [relkit, "-C", str(corpus), "changelog", "--full", "--stdout"],
        args.repeat,
    )
    if not args.skip_cliff:
        results["git-cliff"] = _median_of(
            "git-cliff",
            [
                str(BIN / "git-cliff"),
                "--config",
                str(CLIFF_CONFIG),
                "--repository",
                str(corpus),
                "--output",
                str(WORK_DIR / "cliff-CHANGELOG.md"),
            ],
            1,  # one run: it takes minutes on 10,000 tags
            timeout=args.timeout,
        )
    if not args.skip_psr:
        psr_repo = _psr_copy(corpus)
        results["python-semantic-release changelog"] = _checked(
            "semantic-release",
            *_time([str(BIN / "semantic-release"), "changelog"], psr_repo, args.timeout),
        )
    for label, tag in (("newest", tags[0]), ("oldest", tags[-1]), ("middle", tags[len(tags) // 2])):
        results[f"relkit notes {tag} ({label})"] = _median_of(
            "relkit notes", [relkit, "-C", str(corpus), "notes", tag], args.repeat
        )

    width = max(len(label) for label in results)
    base = results["relkit changelog --full"]
    print(f"{'tool':<{width}}  {'seconds':>9}  vs relkit full changelog")
    for label, seconds in results.items():
        if math.isinf(seconds):
            shown = f"> {args.timeout:.0f}"
            ratio = f"> {args.timeout / base:.0f}x slower (stopped at the timeout)"
        else:
            shown = f"{seconds:.2f}"
            ratio = ""
            if not label.startswith("relkit"):
                faster = seconds < base
                ratio = f"{max(seconds, base) / min(seconds, base):.1f}x " + (
                    "faster" if faster else "slower"
                )
        print(f"{label:<{width}}  {shown:>9}  {ratio}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
