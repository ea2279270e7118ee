"""docs/get-started/tutorial.md is run as written: every ```sh block marked `<!-- tutorial -->`
runs, in order, in one shell, against a real registry; every ```text block right after one
is output that must appear, line by line and in order (`...` matches anything)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.docs_pages import DOCS, Fence, fences, line_matches
from tests.fixtures.gitrepo import git_env
from tests.fixtures.registry import RegistryServer

pytestmark = pytest.mark.e2e

TUTORIAL = DOCS / "get-started" / "tutorial.md"


def _steps() -> list[tuple[Fence, Fence | None]]:
    """(command block, its quoted output or None) for each block the test runs."""
    blocks = fences(TUTORIAL)
    steps = []
    for index, fence in enumerate(blocks):
        if fence.marker != "tutorial":
            continue
        assert fence.lang == "sh", f"{fence.where}: a tutorial block must be ```sh"
        following = blocks[index + 1] if index + 1 < len(blocks) else None
        quoted = following if following and following.lang == "text" else None
        if quoted is not None:
            assert quoted.after_previous, f"{quoted.where}: output must follow its command"
        steps.append((fence, quoted))
    return steps


def _script(steps: list[tuple[Fence, Fence | None]]) -> str:
    # One shell, so `cd` and `export` carry over as they do for a reader; a marker line
    # between blocks splits the output per block.
    # stderr joins stdout (relkit's progress lines go there) so each block's output is whole.
    parts = ["set -euo pipefail", "exec 2>&1"]
    for number, (fence, _) in enumerate(steps):
        parts.append(f"echo '@@block {number}@@'")
        parts.append(fence.body)
    return "\n".join(parts) + "\n"


def _unmatched(quoted: str, actual: str) -> list[str]:
    """Quoted lines not found in `actual` in order (an empty list when all are)."""
    lines = actual.splitlines()
    position, missing = 0, []
    for expected in (q for q in quoted.splitlines() if q.strip()):
        hit = next(
            (i for i in range(position, len(lines)) if line_matches(expected, lines[i])), None
        )
        if hit is None:
            missing.append(expected)
        else:
            position = hit + 1
    return missing


def test_the_tutorial_has_commands_and_quoted_outputs() -> None:
    steps = _steps()
    assert len(steps) >= 8
    assert sum(quoted is not None for _, quoted in steps) >= 6
    # The one block the test does not run starts a registry; the test provides REGISTRY.
    unmarked = [f for f in fences(TUTORIAL) if f.lang == "sh" and f.marker != "tutorial"]
    assert [f.body.count("export REGISTRY=") for f in unmarked] == [1]


def test_the_matcher_refuses_what_was_not_printed() -> None:
    assert _unmatched("tagged v0.1.0 (annotated)", "x\ntagged v0.1.0 (annotated)\n") == []
    assert _unmatched("pushed ...:0.1.0", "pushed oci://r/shop:0.1.0") == []
    assert _unmatched("tagged v0.1.0", "tagged v0.2.0") == ["tagged v0.1.0"]
    assert _unmatched("b\na", "a\nb\n") == ["a"]  # order matters


def test_every_tutorial_command_runs_and_prints_what_the_page_says(
    tmp_path: Path, registry: RegistryServer
) -> None:
    steps = _steps()
    work = tmp_path / "work"
    work.mkdir()
    env = git_env({k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RELKIT_"))})
    env.update(
        {
            "HOME": str(tmp_path),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
            # A fresh repository path per run: a released chart is never overwritten.
            "REGISTRY": f"{registry.host}/tutorial-{uuid.uuid4().hex[:8]}",
            "PYTHONUNBUFFERED": "1",  # stdout and stderr lines in the order printed
            "GIT_AUTHOR_NAME": "Alice",
            "GIT_AUTHOR_EMAIL": "alice@example.com",
            "GIT_COMMITTER_NAME": "Alice",
            "GIT_COMMITTER_EMAIL": "alice@example.com",
        }
    )
    done = subprocess.run(
        ["bash", "-c", _script(steps)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    blocks = done.stdout.split("@@block ")
    per_block = {int(b.split("@@", 1)[0]): b.split("@@", 1)[1] for b in blocks[1:]}
    assert len(per_block) == len(steps)
    for number, (_fence, quoted) in enumerate(steps):
        if quoted is None:
            continue
        missing = _unmatched(quoted.body, per_block[number])
        assert missing == [], f"{quoted.where}: not printed: {missing}\n{output}"
    # What the tutorial promises beyond its quotes: the tag, and a clean work tree after.
    shop = work / "shop"
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=shop, env=env, capture_output=True, text=True
    )
    assert status.stdout == ""
    assert (shop / "dist" / "relkit-release.json").is_file()
