"""The promotion PR's title and body, rendered from `promotion_pr.md.j2` (pure)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from relkit.core.model import Artifact, ReleasePlan
from relkit.history.templating import TemplateRenderer
from relkit.promote.changes import Promotion
from relkit.promote.naming import app_name

__all__ = ["NOTES_EXCERPT_LINES", "notes_excerpt", "render_pr_body", "superseded_in"]

# Enough for a reviewer to see what the release is about; the release holds the rest.
NOTES_EXCERPT_LINES = 40
TEMPLATE = "promotion_pr.md.j2"
# A machine-readable record of the PRs this one supersedes, appended to the body whatever the
# (overridable) template says: a re-run reads it back once those PRs are closed.
_SUPERSEDES = re.compile(r"^<!-- relkit: supersedes((?: #\d+)+) -->$", re.M)
# The default template's line, for PRs opened before the record existed.
_SUPERSEDES_LINE = re.compile(r"^Supersedes (#\d+) \(relkit closes it", re.M)


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
    app: str | None = None,
) -> str:
    """Markdown body: the changes from → to, a notes excerpt, links, how to verify.

    `supersedes` lists (number, url) of older promotion PRs this one replaces; `app` is the
    application's name when the plan has no GitHub repository (see `naming.app_name`).
    """
    notes, truncated = notes_excerpt(plan.notes)
    charts = [a for a in artifacts if a.kind == "chart"]
    bundles = [a for a in artifacts if a.kind == "bundle"]
    kinds = {a.kind for a in artifacts}
    signing = "keyless" if "sigstore-bundle" in kinds else ("key" if "signature" in kinds else None)
    context = {
        "app": app_name(plan, app),
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
    body = TemplateRenderer(template_dir).render(TEMPLATE, context)
    if supersedes:
        numbers = " ".join(f"#{number}" for number, _ in supersedes)
        body = body.rstrip("\n") + f"\n<!-- relkit: supersedes {numbers} -->\n"
    return body


def superseded_in(body: str) -> list[int]:
    """The PR numbers a body rendered by `render_pr_body` says it supersedes."""
    numbers: list[int] = []
    for match in _SUPERSEDES.finditer(body):
        numbers += [int(n) for n in match.group(1).split("#")[1:]]
    numbers += [int(match.group(1)[1:]) for match in _SUPERSEDES_LINE.finditer(body)]
    return sorted(set(numbers))
