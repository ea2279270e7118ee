"""Run relkit on real repositories' histories: no crash, plausible sections, time per run.

A developer tool, not a test: the repositories are not vendored (CI has no network). Point it
at local clones (for example ones brought by `git clone` or the workplace's fetch) described
in a JSON file, one object per repository:

    [{"name": "git-cliff", "path": "/src/git-cliff", "tag_format": "v{version}"},
     {"name": "changesets", "path": "/src/changesets", "tag_format": "{version}",
      "component": {"name": "cli", "paths": ["packages/cli"], "tag_prefix": "@changesets/cli@"}}]

    .venv/bin/python bench/real_histories.py repos.json [--peers git-cliff,psr] [--timeout 600]

Each repository is cloned (locally, hard links) into bench/.work/real/NAME so relkit runs on a
working tree without touching the source. For each it runs `relkit changelog --full --stdout`
and `relkit notes` of the newest release, and prints a Markdown table: commits, tags matching
the format, sections written, wall time, and anything wrong (non-zero exit, a traceback, an
empty section, a release tag that has no section). With `--peers`, git-cliff and
python-semantic-release render the same repository's changelog in the same run for ratios.

With `--squash` (issue 16) it renders each changelog twice, `[changelog] squash_bullets =
"split"` (every conventional bullet of a squash merge is an entry: relkit's behaviour before)
and `"title"` (the default: a squash with a conventional title is one entry), and prints
entries per release and the bullet entries "title" leaves out. A repository whose own
changelog is generated from PR titles can name it (`"changelog": "CHANGELOG.md"`): the
report then says how many of its entries, in the releases both list, relkit lists too
(recall), in each mode.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["main"]

BENCH_DIR = Path(__file__).resolve().parent
WORK_DIR = BENCH_DIR / ".work" / "real"
BIN = Path(sys.executable).parent
RELKIT = [str(BIN / "relkit")] if (BIN / "relkit").exists() else [sys.executable, "-m", "relkit"]
SEMVER_CORE = r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?"


@dataclass
class Outcome:
    name: str
    commits: int = 0
    tags: int = 0
    sections: int = 0
    seconds: float = 0.0
    notes_seconds: float = 0.0
    problems: list[str] = field(default_factory=list)
    peers: dict[str, float | None] = field(default_factory=dict)


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout


def _prepare(spec: dict[str, Any]) -> Path:
    target = WORK_DIR / spec["name"]
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["git", "clone", "-q", "--local", "--no-checkout", str(spec["path"]), str(target)],
            check=True,
        )
    return target


def _config(spec: dict[str, Any], repo: Path) -> Path:
    lines = [f'tag_format = "{spec.get("tag_format", "v{version}")}"']
    component = spec.get("component")
    if component:
        paths = ", ".join(json.dumps(p) for p in component["paths"])
        lines += [
            "[[components]]",
            f'name = "{component["name"]}"',
            f"paths = [{paths}]",
            f"tag_prefix = {json.dumps(component['tag_prefix'])}",
        ]
    config = repo.parent / f"{spec['name']}.relkit.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


def _release_tags(repo: Path, spec: dict[str, Any]) -> list[str]:
    prefix = (spec.get("component") or {}).get("tag_prefix", "")
    fmt = spec.get("tag_format", "v{version}")
    pattern = re.compile(
        "^" + re.escape(prefix) + re.escape(fmt).replace(r"\{version\}", SEMVER_CORE) + "$",
        re.ASCII,
    )
    reachable = _git(repo, "tag", "--merged", "HEAD").split()
    return [t for t in reachable if pattern.match(t)]


def _run(
    command: list[str], timeout: float, cwd: Path | None = None
) -> tuple[float, subprocess.CompletedProcess[str] | None]:
    started = time.perf_counter()
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False, cwd=cwd
        )
    except subprocess.TimeoutExpired:
        return time.perf_counter() - started, None
    return time.perf_counter() - started, result


def _check_changelog(text: str, tags: list[str], outcome: Outcome) -> None:
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    outcome.sections = len(headings)
    bodies = re.split(r"^## .*$", text, flags=re.M)[1:]
    empty = sum(1 for body in bodies if not body.strip())
    if empty:
        outcome.problems.append(f"{empty} empty section(s)")
    shown = {_version_of(h) for h in headings}
    versions = {_version_of(t) for t in tags}
    # In "fold" mode a pre-release below its final release is part of the final's section.
    missing = [
        t
        for t in tags
        if _version_of(t) not in shown
        and not ("-" in _version_of(t) and _version_of(t).split("-")[0] in versions)
    ]
    if missing:
        outcome.problems.append(f"{len(missing)} tag(s) without a section, e.g. {missing[:3]}")


def _version_of(tag: str) -> str:
    match = re.search(SEMVER_CORE, tag)
    return match.group(0) if match else tag


def _newest(tags: list[str], repo: Path) -> str | None:
    if not tags:
        return None
    by_date = _git(
        repo, "for-each-ref", "--sort=-creatordate", "--format=%(refname:short)", "refs/tags"
    )
    wanted = set(tags)
    return next((t for t in by_date.split() if t in wanted), None)


def _peers(
    spec: dict[str, Any], repo: Path, timeout: float, which: set[str]
) -> dict[str, float | None]:
    times: dict[str, float | None] = {}
    if "git-cliff" in which:
        config = BENCH_DIR / "cliff.toml"
        seconds, result = _run(
            [str(BIN / "git-cliff"), "--config", str(config), "-r", str(repo), "-o", "-"], timeout
        )
        times["git-cliff"] = seconds if result is not None and result.returncode == 0 else None
    if "psr" in which:
        seconds, result = _run_psr(spec, repo, timeout)
        times["psr"] = seconds if result is not None and result.returncode == 0 else None
    return times


def _run_psr(
    spec: dict[str, Any], repo: Path, timeout: float
) -> tuple[float, subprocess.CompletedProcess[str] | None]:
    # bench/psr-pyproject.toml with this repository's tag format and any branch name.
    config = (BENCH_DIR / "psr-pyproject.toml").read_text(encoding="utf-8")
    config = config.replace(
        'tag_format = "v{version}"', f'tag_format = "{spec.get("tag_format", "v{version}")}"'
    )
    config = config.replace('match = "main"', 'match = ".*"')
    (repo / "pyproject.toml").write_text(config, encoding="utf-8")
    try:
        return _run([str(BIN / "semantic-release"), "--noop", "changelog"], timeout, cwd=repo)
    finally:
        (repo / "pyproject.toml").unlink()


def run_one(spec: dict[str, Any], timeout: float, peers: set[str]) -> Outcome:
    outcome = Outcome(spec["name"])
    repo = _prepare(spec)
    config = _config(spec, repo)
    outcome.commits = int(_git(repo, "rev-list", "--count", "HEAD").strip())
    tags = _release_tags(repo, spec)
    outcome.tags = len(tags)
    component = spec.get("component")
    extra = ["--component", component["name"]] if component else []
    base = [*RELKIT, "-C", str(repo), "--config", str(config)]
    seconds, result = _run([*base, "changelog", "--full", "--stdout", *extra], timeout)
    outcome.seconds = seconds
    if result is None:
        outcome.problems.append(f"changelog timed out after {timeout:.0f} s")
    elif result.returncode != 0 or "Traceback" in result.stderr:
        outcome.problems.append(
            f"changelog exit {result.returncode}: {result.stderr.strip()[-300:]}"
        )
    elif component is None:
        _check_changelog(result.stdout, tags, outcome)
    else:
        outcome.sections = sum(1 for line in result.stdout.splitlines() if line.startswith("## "))
    newest = _newest(tags, repo)
    if newest:
        seconds, result = _run([*base, "notes", newest, *extra], timeout)
        outcome.notes_seconds = seconds
        if result is None or result.returncode != 0 or "Traceback" in result.stderr:
            detail = "timed out" if result is None else result.stderr.strip()[-300:]
            outcome.problems.append(f"notes {newest}: {detail}")
    if peers:
        outcome.peers = _peers(spec, repo, timeout, peers)
    return outcome


# --- squash merges (issue 16) ---------------------------------------------------------------

_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_TRAILING_REFS = re.compile(r"(\s*(\(\s*(#\d+|[0-9a-f]{7,40})\s*\)|,\s*closes.*))+$", re.I)
_NOT_ENTRIES = ("⚠ BREAKING CHANGES", "Contributors", "BREAKING CHANGES")


@dataclass
class SquashOutcome:
    name: str
    commits: int = 0
    squashes: int = 0  # commits with a body of "* " bullets
    releases: int = 0
    entries: dict[str, int] = field(default_factory=dict)  # mode -> entries in all sections
    largest: dict[str, int] = field(default_factory=dict)  # mode -> entries of the largest
    # mode -> (found in the same release, found in any release, theirs)
    recall: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _sections(text: str) -> dict[str, list[str]]:
    """Release version -> its entries (normalised), from a Markdown changelog."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    counted = True
    for line in text.splitlines():
        if line.startswith("## ") or line.startswith("# ["):
            match = re.search(SEMVER_CORE, line)
            current = found.setdefault(match.group(0), []) if match else None
            counted = True
        elif line.startswith("### "):
            counted = line[4:].strip() not in _NOT_ENTRIES
        elif current is not None and counted and line.startswith(("* ", "- ")):
            current.append(_normalise(line[2:]))
    return found


def _normalise(entry: str) -> str:
    text = _LINK.sub(r"\1", entry)
    text = re.sub(r"^\*\*[^*]*:\*\*\s*", "", text)  # "**scope:** "
    text = _TRAILING_REFS.sub("", text.strip())
    return " ".join(text.lower().rstrip(".").split())


def run_squash(spec: dict[str, Any], timeout: float) -> SquashOutcome:
    outcome = SquashOutcome(spec["name"])
    repo = _prepare(spec)
    outcome.commits = int(_git(repo, "rev-list", "--count", "HEAD").strip())
    bodies = _git(repo, "log", "--format=%B%x00", "HEAD").split("\0")
    outcome.squashes = sum(1 for body in bodies if re.search(r"^\* \S", body, re.M))
    theirs = (
        _sections(_git(repo, "show", f"HEAD:{spec['changelog']}")) if "changelog" in spec else {}
    )
    for mode in ("split", "title"):
        config = _config(spec, repo)
        with config.open("a", encoding="utf-8") as handle:
            handle.write(f'[changelog]\nsquash_bullets = "{mode}"\n')
        command = [*RELKIT, "-C", str(repo), "--config", str(config), "changelog", "--full"]
        _, result = _run([*command, "--stdout"], timeout)
        if result is None or result.returncode != 0:
            detail = "timed out" if result is None else result.stderr.strip()[-300:]
            outcome.problems.append(f"{mode}: {detail}")
            continue
        ours = _sections(result.stdout)
        outcome.releases = len(ours)
        outcome.entries[mode] = sum(len(entries) for entries in ours.values())
        outcome.largest[mode] = max((len(entries) for entries in ours.values()), default=0)
        if theirs:
            # Their entries of the releases both changelogs have; "anywhere": relkit lists it
            # in some release (a backport is listed in the patch release of its branch).
            shared = [v for v in theirs if v in ours]
            wanted = [(v, e) for v in shared for e in theirs[v]]
            listed = {e for entries in ours.values() for e in entries}
            same = sum(1 for v, e in wanted if e in set(ours[v]))
            anywhere = sum(1 for _, e in wanted if e in listed)
            outcome.recall[mode] = (same, anywhere, len(wanted))
    return outcome


def _squash_table(outcomes: list[SquashOutcome]) -> str:
    rows = [
        "| repo | commits | squashes with bullets | releases | entries split | entries title "
        "| bullet entries left out | entries/release split → title | largest release "
        "split → title | recall (same release, anywhere) split / title | problems |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|---|---|",
    ]
    for o in outcomes:
        split, title = o.entries.get("split", 0), o.entries.get("title", 0)
        per = f"{split / o.releases:.1f} → {title / o.releases:.1f}" if o.releases else "-"
        recall = (
            " / ".join(
                f"{same}, {anywhere} of {total}" if total else "-"
                for same, anywhere, total in (
                    o.recall.get(m, (0, 0, 0)) for m in ("split", "title")
                )
            )
            if o.recall
            else "-"
        )
        largest = f"{o.largest.get('split', 0)} → {o.largest.get('title', 0)}"
        problems = "; ".join(o.problems) or "none"
        rows.append(
            f"| {o.name} | {o.commits} | {o.squashes} | {o.releases} | {split} | {title} | "
            f"{split - title} | {per} | {largest} | {recall} | {problems} |"
        )
    return "\n".join(rows)


def _table(outcomes: list[Outcome]) -> str:
    rows = [
        "| repo | commits | release tags | sections | changelog s | notes s | peers | problems |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for o in outcomes:
        peers = ", ".join(
            f"{k} {v:.2f} s ({v / o.seconds:.0f}x)" if v is not None else f"{k} failed/timeout"
            for k, v in o.peers.items()
        )
        problems = "; ".join(p.replace("|", "\\|").replace("\n", " ") for p in o.problems)
        rows.append(
            f"| {o.name} | {o.commits} | {o.tags} | {o.sections} | {o.seconds:.2f} | "
            f"{o.notes_seconds:.2f} | {peers or '-'} | {problems or 'none'} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repos", type=Path, help="JSON file describing the repositories")
    parser.add_argument("--only", default="", help="comma-separated names to run")
    parser.add_argument("--peers", default="", help="git-cliff,psr: peers for --peers-on repos")
    parser.add_argument("--peers-on", default="", help="comma-separated names to run peers on")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument(
        "--squash", action="store_true", help="entries per release, split vs title (issue 16)"
    )
    args = parser.parse_args(argv)
    specs = json.loads(args.repos.read_text(encoding="utf-8"))
    only = {n for n in args.only.split(",") if n}
    if args.squash:
        squash = [run_squash(s, args.timeout) for s in specs if not only or s["name"] in only]
        print(_squash_table(squash))
        return 0
    peer_names = {n for n in args.peers.split(",") if n}
    peers_on = {n for n in args.peers_on.split(",") if n}
    outcomes = []
    for spec in specs:
        if only and spec["name"] not in only:
            continue
        outcome = run_one(spec, args.timeout, peer_names if spec["name"] in peers_on else set())
        print(
            f"{outcome.name}: {outcome.seconds:.2f} s, {outcome.problems or 'ok'}", file=sys.stderr
        )
        outcomes.append(outcome)
    print(_table(outcomes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
