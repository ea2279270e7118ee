"""Read the docs' Markdown as the docs tests need it: fenced blocks with what precedes them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DOCS", "ROOT", "Fence", "fences", "line_matches"]

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
