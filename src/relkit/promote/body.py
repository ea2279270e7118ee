"""The promotion PR's title and body, rendered from `promotion_pr.md.j2` (pure)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from relkit.model import Artifact, ReleasePlan
from relkit.promote.changes import Promotion
from relkit.promote.naming import app_name
from relkit.templating import TemplateRenderer

__all__ = ["NOTES_EXCERPT_LINES", "notes_excerpt", "render_pr_body"]

# Enough for a reviewer to see what the release is about; the release holds the rest.
NOTES_EXCERPT_LINES = 40
TEMPLATE = "promotion_pr.md.j2"


def notes_excerpt(notes: str, limit: int = NOTES_EXCERPT_LINES) -> tuple[str, bool]:
    """The first `limit` lines of the notes, and whether they were cut.

    Headings go two levels down (`## 1.2.0` -> `#### 1.2.0`) so the notes sit under the
    body's own "Release notes" heading instead of competing with it.
    """
    lines = notes.strip("\n").splitlines()
    kept = [_demote(line) for line in lines[:limit]]
    return "\n".join(kept).rstrip(), len(lines) > limit


def _demote(line: str) -> str:
    match = re.match(r"(#{1,6})(\s)", line)
    if match is None:
        return line
    level = min(len(match.group(1)) + 2, 6)
    return "#" * level + line[len(match.group(1)) :]


def render_pr_body(
    promotion: Promotion,
    plan: ReleasePlan,
    *,
    release_url: str | None,
    chart_version: str | None,
    artifacts: Sequence[Artifact] = (),
    supersedes: Sequence[tuple[int, str]] = (),
    template_dir: Path | None = None,
) -> str:
    """Markdown body: the changes from → to, a notes excerpt, links, how to verify.

    `supersedes` lists (number, url) of older promotion PRs this one replaces.
    """
    notes, truncated = notes_excerpt(plan.notes)
    charts = [a for a in artifacts if a.kind == "chart"]
    bundles = [a for a in artifacts if a.kind == "bundle"]
    kinds = {a.kind for a in artifacts}
    signing = "keyless" if "sigstore-bundle" in kinds else ("key" if "signature" in kinds else None)
    context = {
        "app": app_name(plan),
        "environment": promotion.environment,
        "version": str(plan.version),
        "tag": plan.tag,
        "commit": plan.commit[:12],
        "repository": plan.repository,
        "deployed": str(promotion.deployed) if promotion.deployed else None,
        "edits": promotion.edits,
        "notes": notes,
        "notes_truncated": truncated,
        "release_url": release_url,
        "chart": charts[0] if charts else None,
        "chart_version": chart_version,
        "bundles": bundles,
        "images": plan.images,
        "signing": signing,
        "supersedes": [{"number": number, "url": url} for number, url in supersedes],
    }
    return TemplateRenderer(template_dir).render(TEMPLATE, context)
