"""What the docs tests need: the docs' fenced blocks with what precedes them, and matchers
for quoted output (`...` elides) and quoted messages (the code's string literals)."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

__all__ = [
    "ANY",
    "DOCS",
    "ROOT",
    "Fence",
    "could_be_equal",
    "fences",
    "line_matches",
    "printed_by_code",
]

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

_OPEN = re.compile(r"^(?P<indent> *)(?P<ticks>`{3,})(?P<info>[^`]*)$")


@dataclass(frozen=True)
class Fence:
    path: Path
    line: int  # 1-based line of the opening fence
    lang: str
    body: str
    marker: str | None  # an HTML comment alone on the line before the fence, e.g. "tutorial"
    after_previous: bool  # only blank lines between the previous fence's end and this one

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def fences(path: Path) -> list[Fence]:
    """Every fenced code block of a Markdown file, in order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Fence] = []
    index, last_end = 0, -10
    while index < len(lines):
        opening = _OPEN.match(lines[index])
        if opening is None:
            index += 1
            continue
        ticks, indent = opening["ticks"], len(opening["indent"])
        end = index + 1
        while end < len(lines) and lines[end].strip() != ticks:
            end += 1
        body = "\n".join(line[indent:] for line in lines[index + 1 : end])
        before = lines[index - 1].strip() if index > 0 else ""
        marker = None
        if before.startswith("<!--") and before.endswith("-->"):
            marker = before[4:-3].strip()
        between = lines[last_end + 1 : index]
        found.append(
            Fence(
                path=path,
                line=index + 1,
                lang=opening["info"].strip().split(" ")[0].lstrip("{.").rstrip("}"),
                body=body + "\n" if body else "",
                marker=marker,
                after_previous=last_end >= 0 and all(not line.strip() for line in between),
            )
        )
        last_end = end
        index = end + 1
    return found


def line_matches(pattern: str, line: str) -> bool:
    """`pattern` is a quoted output line where `...` stands for any text."""
    parts = pattern.strip().split("...")
    # Space next to an ellipsis is part of what it elides.
    trimmed = [
        (p.lstrip() if i > 0 else p).rstrip() if i < len(parts) - 1 else (p.lstrip() if i else p)
        for i, p in enumerate(parts)
    ]
    return re.fullmatch(".*".join(map(re.escape, trimmed)), line.strip()) is not None


# In a quoted message: an ellipsis, a `<placeholder>` or an ALLCAPS placeholder elides text.
_ELIDED = re.compile(r"…|\.\.\.|<[a-z][a-z ]*>|\b(IDENTITY|ISSUER|REPO|REF|SHA)\b")
ANY = "\x00"  # stands for any text, in both the code's skeletons and the docs' quotes


@cache
def _skeletons() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Every string literal and f-string in src/ with at least 12 literal characters, as
    (skeleton with ANY for each field, its literal parts of 5 characters or more)."""
    found: list[tuple[str, tuple[str, ...]]] = []
    for path in (ROOT / "src" / "relkit").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            parts = _parts(node)
            if parts is None:
                continue
            literals = [p for p in parts if p != ANY]
            if sum(len(p.strip()) for p in literals) >= 12:
                long = tuple(p.strip() for p in literals if len(p.strip()) >= 5)
                found.append(("".join(parts), long))
    return tuple(found)


def _parts(node: ast.AST) -> list[str] | None:
    """A string expression's text, ANY for what is computed; None for anything else."""
    if isinstance(node, ast.Constant):
        return [node.value] if isinstance(node.value, str) else None
    if isinstance(node, ast.JoinedStr):
        return [
            v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else ANY
            for v in node.values
        ]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):  # HINT + ", or ..."
        left, right = _parts(node.left), _parts(node.right)
        if left is None and right is None:
            return None
        return (left or [ANY]) + (right or [ANY])
    return None


def could_be_equal(a: str, b: str) -> bool:
    """Whether some text fits both `a` and `b`, where ANY in either matches any text."""

    @cache
    def fits(i: int, j: int) -> bool:
        if i == len(a) and j == len(b):
            return True
        if i < len(a) and a[i] == ANY:
            return fits(i + 1, j) or (j < len(b) and fits(i, j + 1))
        if j < len(b) and b[j] == ANY:
            return fits(i, j + 1) or (i < len(a) and fits(i + 1, j))
        return i < len(a) and j < len(b) and a[i] == b[j] and fits(i + 1, j + 1)

    return fits(0, 0)


def printed_by_code(message: str) -> bool:
    """Whether a string literal of the code can print `message` as the docs quote it."""
    quoted = _ELIDED.sub(ANY, message.strip())
    plain = quoted.replace(ANY, "")
    chunks = [c.strip() for c in quoted.split(ANY) if len(c.strip()) >= 5]
    return any(
        could_be_equal(skeleton, quoted)
        for skeleton, parts in _skeletons()
        # A quick filter first: the code's text shares a part with the quote.
        if not parts or any(part in plain or any(c in part for c in chunks) for part in parts)
    )
