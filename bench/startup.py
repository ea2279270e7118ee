"""Benchmark: how fast relkit's everyday commands start and finish on a big history.

Issue 17's targets, on a 27,000-commit repository with 23,000 tags: `relkit --help` < 0.1 s,
`relkit version` and `relkit notes <latest>` < 0.25 s, `relkit changelog --full` at most 5x a
bare `git log` of the whole history. git-cliff's `--latest` (its equivalent of `notes`) runs
side by side on the same repository, so the ratio compares like with like on this machine.

Each figure is the median CPU time (user + system, the process and its children, from
`resource.getrusage`) of `--repeat` runs, which stays honest on a loaded machine where wall
time does not; wall time is printed beside it. The runs go in rounds, every command once per
round, and a ratio is the median of the rounds' ratios: the machine's speed drifts within a
minute, and two commands compare fairly only when measured seconds apart.

    .venv/bin/python bench/startup.py [--commits 27000] [--tags 23000] [--repeat 5]
    .venv/bin/python bench/startup.py --repo PATH   # any real repository instead
    .venv/bin/python bench/startup.py --instructions # relkit's instructions, valgrind

`--instructions` counts the instructions each relkit command executes (its own process, not
git's) under valgrind's callgrind: slow (~50x), but the same on a busy machine as on an idle
one, so a change's effect shows even where CPU seconds drift by 20% between runs.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_corpus import make_corpus

__all__ = ["main"]

BIN = Path(sys.executable).parent
TARGETS = {"relkit --help": 0.1, "relkit version": 0.25, "relkit notes <latest>": 0.25}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# Some images set PYTHONDONTWRITEBYTECODE=1: every run would then compile the relkit modules
# changed since the last install, which no installed relkit does.
ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def _run_once(command: list[str], cwd: Path) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one run; a failed run stops the bench."""
    before, started = _children_cpu(), time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, check=False, env=ENV)
    wall = time.perf_counter() - started
    if done.returncode not in (0, 3):  # 3: nothing to release is a normal answer
        err = done.stderr.decode(errors="replace").strip()
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {err}")
    return _children_cpu() - before, wall


def _measure(
    commands: dict[str, list[str]], cwd: Path, repeat: int
) -> dict[str, list[tuple[float, float]]]:
    """`repeat` (CPU, wall) samples of each command, taken in rounds (every command once per
    round) after one unmeasured warm-up round (bytecode written, files in the page cache).

    Rounds, not each command `repeat` times in a row: this machine's speed drifts by 10-20%
    within a minute, so two commands measured a minute apart do not compare; the i-th samples
    of two commands were taken seconds apart, under the same load."""
    for command in commands.values():
        _run_once(command, cwd)
    samples: dict[str, list[tuple[float, float]]] = {label: [] for label in commands}
    for _ in range(repeat):
        for label, command in commands.items():
            samples[label].append(_run_once(command, cwd))
    return samples


def _ratio(samples: dict[str, list[tuple[float, float]]], top: str, bottom: str) -> float:
    """The median over the rounds of `top`'s CPU time over `bottom`'s in the same round."""
    pairs = zip(samples[top], samples[bottom], strict=True)
    return statistics.median(a[0] / max(b[0], 1e-9) for a, b in pairs)


def _instructions(command: list[str], cwd: Path) -> float:
    """Millions of instructions `command` executes (its process only), counted by callgrind."""
    if shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind (apt-get install valgrind)")
    subprocess.run(command, cwd=cwd, capture_output=True, check=False, env=ENV)  # warm-up
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env=ENV,
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise SystemExit(f"valgrind did not count {' '.join(command)}: {done.stderr[-300:]}")
    return int(found.group(1)) / 1e6


def _latest_tag(repo: Path) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), "tag", "--list", "v*", "--sort=-v:refname"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.split("\n", 1)[0].strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commits", type=int, default=27_000)
    parser.add_argument("--tags", type=int, default=23_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--repo", type=Path, help="a repository to use instead of the corpus")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="count relkit's instructions with valgrind instead of timing",
    )
    args = parser.parse_args(argv)

    repo = args.repo.resolve() if args.repo else make_corpus(args.commits, args.tags)
    latest = _latest_tag(repo)
    relkit = str(BIN / "relkit")
    runs: dict[str, list[str]] = {
        "relkit --help": [relkit, "--help"],
        "relkit version": [relkit, "version"],
        "relkit notes <latest>": [relkit, "notes", latest],
        "git-cliff --latest": [str(BIN / "git-cliff"), "--latest", "--repository", str(repo)],
        "git log (whole history)": ["git", "log", "--format=%H%x00%B", "--no-color"],
        "relkit changelog --full": [relkit, "changelog", "--full", "--stdout"],
    }
    if args.instructions:
        print(f"repository: {repo} (latest tag {latest}); instructions, relkit's process only")
        for label, command in runs.items():
            if label.startswith("relkit"):
                print(f"{label:<24}  {_instructions(command, repo):>8.0f} M")
        return 0
    samples = _measure(runs, repo, args.repeat)
    results = {
        label: (statistics.median(c for c, _ in runs_), statistics.median(w for _, w in runs_))
        for label, runs_ in samples.items()
    }

    print(f"repository: {repo} (latest tag {latest}); median of {args.repeat} rounds")
    width = max(map(len, results))
    print(f"{'command':<{width}}  {'cpu s':>7}  {'wall s':>7}  target / ratio")
    for label, (cpu, wall) in results.items():
        note = ""
        if label in TARGETS:
            target = TARGETS[label]
            note = f"< {target} s: {'met' if cpu < target else 'MISSED'}"
        print(f"{label:<{width}}  {cpu:>7.3f}  {wall:>7.3f}  {note}")
    full = _ratio(samples, "relkit changelog --full", "git log (whole history)")
    print(f"relkit changelog --full / git log: {full:.1f}x (target <= 5x; median of the rounds)")
    cliff = _ratio(samples, "git-cliff --latest", "relkit notes <latest>")
    verdict = f"{cliff:.1f}x faster" if cliff >= 1 else f"{1 / cliff:.1f}x slower"
    print(f"relkit notes vs git-cliff --latest: {verdict} (median of the rounds)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
