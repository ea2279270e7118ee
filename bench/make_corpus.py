"""Generate the synthetic conventional-commit repository the benchmark runs on.

30,000 commits and 10,000 release tags by default, with merge commits (a side branch of two
commits merged back), GitHub-style squash bodies, breaking changes, non-conventional commits,
PR references and co-authors. Tags follow semver in order, each bumped as relkit would.

Written with ONE `git fast-import` stream (one subprocess per commit would take minutes),
deterministic (seeded), and cached in bench/.corpus/<name>/ keyed by the parameters.

    .venv/bin/python bench/make_corpus.py [--commits 30000] [--tags 10000] [--force]
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

__all__ = ["corpus_path", "make_corpus"]

BENCH_DIR = Path(__file__).resolve().parent
CORPUS_DIR = BENCH_DIR / ".corpus"
EPOCH = 1_600_000_000
AUTHORS = [(f"Dev {i:02d}", f"dev{i:02d}@example.com") for i in range(24)]
SCOPES = [None, "api", "ui", "db", "cli", "auth", "docs", "deps"]
TYPES = ["feat", "fix", "fix", "perf", "docs", "refactor", "chore", "test", "ci", "build"]
WORDS = ["add", "remove", "handle", "support", "improve", "cache", "parser", "token", "retry"]


def corpus_path(commits: int, tags: int) -> Path:
    return CORPUS_DIR / f"repo-{commits}-{tags}"


class _Writer:
    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.mark = 0
        self.clock = EPOCH

    def data(self, text: str) -> None:
        raw = text.encode()
        self.stream.write(b"data %d\n" % len(raw) + raw + b"\n")

    def commit(
        self,
        branch: str,
        message: str,
        author: tuple[str, str],
        parent: int | None,
        merge: int | None = None,
        path: str | None = None,
    ) -> int:
        self.mark += 1
        self.clock += 60
        name, email = author
        head = (
            f"commit refs/heads/{branch}\nmark :{self.mark}\n"
            f"author {name} <{email}> {self.clock} +0000\n"
            f"committer {name} <{email}> {self.clock} +0000\n"
        )
        self.stream.write(head.encode())
        self.data(message)
        if parent is not None:
            self.stream.write(f"from :{parent}\n".encode())
        if merge is not None:
            self.stream.write(f"merge :{merge}\n".encode())
        if path is not None:
            self.stream.write(f"M 100644 inline {path}\n".encode())
            self.data(f"{self.mark}\n")
        self.stream.write(b"\n")
        return self.mark

    def tag(self, name: str, mark: int, annotated: bool) -> None:
        if annotated:
            tagger = f"tagger Rel <rel@example.com> {self.clock} +0000\n"
            self.stream.write(f"tag {name}\nfrom :{mark}\n{tagger}".encode())
            self.data(f"Release {name}\n")
        else:
            self.stream.write(f"reset refs/tags/{name}\nfrom :{mark}\n\n".encode())


def _header(rng: random.Random, ctype: str, breaking: bool) -> str:
    scope = rng.choice(SCOPES)
    words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 6)))
    return f"{ctype}{f'({scope})' if scope else ''}{'!' if breaking else ''}: {words}"


def _message(rng: random.Random, index: int) -> tuple[str, int]:
    """A commit message and its bump (0 none, 1 patch, 2 minor, 3 major)."""
    roll = rng.random()
    if roll < 0.04:
        return f"Update file {index}\n", 0  # not conventional
    breaking = rng.random() < 0.002
    ctype = rng.choice(TYPES)
    header = _header(rng, ctype, breaking)
    if rng.random() < 0.3:
        header += f" (#{index})"
    parts = [header]
    if rng.random() < 0.4:
        parts.append(f"Body text for change {index}, explaining why it was needed.")
    footers = []
    if breaking:
        footers.append(f"BREAKING CHANGE: the old behaviour {index} is gone")
    if rng.random() < 0.1:
        footers.append(f"Closes #{index // 2}")
    if rng.random() < 0.05:
        name, email = rng.choice(AUTHORS)
        footers.append(f"Co-authored-by: {name} <{email}>")
    if footers:
        parts.append("\n".join(footers))
    bump = 3 if breaking else {"feat": 2, "fix": 1, "perf": 1}.get(ctype, 0)
    return "\n\n".join(parts) + "\n", bump


def _squash(rng: random.Random, index: int) -> tuple[str, int]:
    bullets = []
    bump = 0
    for _ in range(rng.randint(2, 4)):
        ctype = rng.choice(["feat", "fix", "docs", "refactor"])
        bump = max(bump, {"feat": 2, "fix": 1}.get(ctype, 0))
        bullets.append("* " + _header(rng, ctype, False))
    return f"Squashed PR {index} (#{index})\n\n" + "\n\n".join(bullets) + "\n", bump


def _next(version: tuple[int, int, int], bump: int) -> tuple[int, int, int]:
    major, minor, patch = version
    if bump == 3:
        return (major + 1, 0, 0)
    if bump == 2:
        return (major, minor + 1, 0)
    return (major, minor, patch + 1)  # a release without bump-worthy commits: patch anyway


def write_history(stream: IO[bytes], commits: int, tags: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    writer = _Writer(stream)
    per_tag = max(1, commits // max(1, tags))
    version = (1, 0, 0)
    tip: int | None = None
    made = 0
    tagged = 0
    pending_bump = 0
    while made < commits:
        author = rng.choice(AUTHORS)
        roll = rng.random()
        if roll < 0.03 and made + 3 <= commits and tip is not None:
            # A side branch of two commits, merged back with a merge commit.
            side = tip
            for _ in range(2):
                message, bump = _message(rng, made)
                side = writer.commit("feature", message, author, side, path=f"f{made % 50}.txt")
                pending_bump = max(pending_bump, bump)
                made += 1
            tip = writer.commit(
                "main", f"Merge pull request #{made} from acme/feature-{made}\n", author, tip, side
            )
            made += 1
        elif roll < 0.06:
            message, bump = _squash(rng, made)
            tip = writer.commit("main", message, author, tip, path=f"f{made % 50}.txt")
            pending_bump = max(pending_bump, bump)
            made += 1
        else:
            message, bump = _message(rng, made)
            tip = writer.commit("main", message, author, tip, path=f"f{made % 50}.txt")
            pending_bump = max(pending_bump, bump)
            made += 1
        if tip is not None and tagged < tags and made >= (tagged + 1) * per_tag:
            version = _next(version, pending_bump) if tagged else version
            name = "v{}.{}.{}".format(*version)
            writer.tag(name, tip, annotated=tagged % 2 == 0)
            tagged += 1
            pending_bump = 0
    # The work after the last tag stays unreleased, like a real main branch.
    stream.write(b"done\n")


def make_corpus(commits: int = 30_000, tags: int = 10_000, *, force: bool = False) -> Path:
    """Build (or reuse) the corpus repository and return its path."""
    path = corpus_path(commits, tags)
    stamp = path / ".git" / "relkit-corpus-complete"
    if stamp.exists() and not force:
        return path
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    process = subprocess.Popen(
        ["git", "fast-import", "--quiet", "--done"], cwd=path, stdin=subprocess.PIPE
    )
    assert process.stdin is not None
    write_history(process.stdin, commits, tags)
    process.stdin.close()
    if process.wait() != 0:
        raise SystemExit("git fast-import failed")
    subprocess.run(["git", "-C", str(path), "reset", "-q", "--hard", "main"], check=True)
    # A clone has its refs packed; fast-import leaves 10,000 loose tag files. Pack them so the
    # corpus looks like what CI checks out.
    subprocess.run(["git", "-C", str(path), "pack-refs", "--all"], check=True)
    subprocess.run(
        ["git", "-C", str(path), "remote", "add", "origin", "https://github.com/acme/corpus.git"],
        check=True,
    )
    stamp.write_text("ok\n")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commits", type=int, default=30_000)
    parser.add_argument("--tags", type=int, default=10_000)
    parser.add_argument("--force", action="store_true", help="rebuild even if cached")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    path = make_corpus(args.commits, args.tags, force=args.force)
    print(f"corpus: {path} ({time.perf_counter() - started:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
