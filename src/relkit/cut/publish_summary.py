"""What a release tag will publish, in one line per artifact (release PR body, PR preview)."""

from __future__ import annotations

from pathlib import PurePosixPath

from relkit.core.config import RelkitConfig
from relkit.core.model import Version

__all__ = ["publish_lines"]


def publish_lines(config: RelkitConfig, component: str | None, version: Version) -> list[str]:
    """Markdown list items: charts, bundles (images pinned by digest), the promotion PR.

    Only configuration text goes in (written by the maintainers, not by commit authors).
    """
    release = config.release_config(component)
    lines: list[str] = []
    for chart in release.charts:
        name = PurePosixPath(chart.path).name
        lines.append(f"- Helm chart `{name}` {version} pushed to `{chart.registry}`")
    for bundle in release.bundles:
        where = f"pushed to `{bundle.registry}`" if bundle.registry else "attached to the release"
        lines.append(f"- Compose bundle `{bundle.name}` {version}, signed, {where}")
        for image in bundle.images:
            pinned = image.replace("{version}", str(version))
            lines.append(f"  - image `{pinned}` pinned by digest")
    if release.github.forge == "github":
        lines.append("- GitHub release with these notes and the artifacts as assets")
    if release.promote is not None:
        promote = release.promote
        lines.append(
            f"- promotion PR in `{promote.repository}` moving `{promote.environment}` "
            f"to the published digests"
        )
    return lines
