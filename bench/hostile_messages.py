"""Time to parse one hostile commit message of each shape issue 8 reported (1 MB by default).

Each shape used to take quadratic time (a header with 50,000 blanks: over 10 s). Run:

    .venv/bin/python bench/hostile_messages.py [--size 1000000]
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

from relkit.core.model import RawCommit
from relkit.history.conventional import parse_commit

__all__ = ["main", "shapes"]


def shapes(size: int) -> dict[str, str]:
    blanks = " " * size
    return {
        "header with blanks": f"feat: a{blanks}b",
        "header with blanks and (#1)": f"feat: a{blanks}b (#1)",
        "squash bullet header with blanks": f"x\n\n* feat: a{blanks}b\n\n* fix: c",
        "Co-authored-by value with blanks": f"feat: x\n\nCo-authored-by: a{blanks}b <b@x>",
        "Closes #<1 MB of digits>": f"feat: x\n\nCloses #{'1' * size}",
        "GitHub revert title with blanks": f'Revert "feat: a{blanks}b (#1)" (#2)',
        "CR-only line endings": "feat: x" + "\r" * size,
        "one bullet repeated": "feat: x\n\n" + "* fix: y\n" * (size // 9),
        "distinct bullets (one entry each)": "feat: x\n\n"
        + "".join(f"* fix: y{i}\n" for i in range(size // 14)),
        "Refs: #1 footer lines": "feat: x\n\n" + "Refs: #1\n" * (size // 9),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    when = datetime(2024, 1, 1, tzinfo=UTC)
    for name, message in shapes(args.size).items():
        raw = RawCommit("a" * 40, message, "A", "a@example.com", when, ("b" * 40,))
        started = time.perf_counter()
        entries = parse_commit(raw)
        elapsed = time.perf_counter() - started
        print(
            f"{name:36}{len(message):>10} chars{elapsed * 1000:10.1f} ms{len(entries):>8} entries"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
