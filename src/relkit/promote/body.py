"""The promotion PR's title and body, rendered from `promotion_pr.md.j2` (pure)."""

from __future__ import annotations

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
    """The first `limit` lines of the notes (trailing blank lines dropped), and if it was cut."""
    lines = notes.strip("\n").splitlines()
    excerpt = "\n".join(lines[:limit]).rstrip()
    return excerpt, len(lines) > limit


def render_pr_body(
    promotion: Promotion,
    plan: ReleasePlan,
    *,
    release_url: str | None,
    chart_version: str | None,
    artifacts: Sequence[Artifact] = (),
    template_dir: Path | None = None,
) -> str:
    """Markdown body: the changes from → to, a notes excerpt, links, how to verify."""
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
    }
    return TemplateRenderer(template_dir).render(TEMPLATE, context)
