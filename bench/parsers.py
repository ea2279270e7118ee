"""Parser speed: python-semantic-release's conventional parser vs relkit's, same commits.

python-semantic-release parses GitPython `Commit` objects; relkit parses the strings of one
`git log -z`. This times both halves (reading commits, parsing them) on the bench corpus.

    .venv/bin/python bench/parsers.py [--commits 30000] [--tags 10000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_corpus import make_corpus

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commits", type=int, default=30_000)
    parser.add_argument("--tags", type=int, default=10_000)
    args = parser.parse_args(argv)
    corpus = make_corpus(args.commits, args.tags)

    from git import Repo
    from semantic_release.commit_parser.conventional.parser import ConventionalCommitParser

    from relkit.adapters.git_history import read_commits
    from relkit.history.conventional import parse_commits

    started = time.perf_counter()
    commits = list(Repo(corpus).iter_commits("HEAD"))
    for commit in commits:
        _ = commit.message  # GitPython reads each commit object lazily
    psr_read = time.perf_counter() - started
    psr_parser = ConventionalCommitParser()
    started = time.perf_counter()
    for commit in commits:
        psr_parser.parse(commit)
    psr_parse = time.perf_counter() - started

    started = time.perf_counter()
    raws = read_commits(corpus)
    relkit_read = time.perf_counter() - started
    started = time.perf_counter()
    parse_commits(raws)
    relkit_parse = time.perf_counter() - started

    print(f"{len(raws)} commits")
    print(f"{'':28}{'read':>8}{'parse':>8}{'total':>8}")
    for label, read, parse in (
        ("GitPython + PSR parser", psr_read, psr_parse),
        ("git log -z + relkit parser", relkit_read, relkit_parse),
    ):
        print(f"{label:28}{read:8.2f}{parse:8.2f}{read + parse:8.2f}")
    total = (psr_read + psr_parse) / (relkit_read + relkit_parse)
    print(f"relkit is {total:.1f}x faster (parse alone: {psr_parse / relkit_parse:.1f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
