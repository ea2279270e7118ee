"""The README rendered into a bundle: golden files for keyless and key signing."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from relkit.bundle.build import render_readme
from relkit.core.config import BundleConfig, SigningConfig
from relkit.core.model import ImagePin, ReleasePlan, Version

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "bundle"
PLAN = ReleasePlan(
    version=Version.parse("1.2.0"),
    tag="v1.2.0",
    commit="0123456789abcdef0123456789abcdef01234567",
    committed_at=datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
    previous_tag=None,
    notes="",
    repository="acme/shop",
)
PINS = (
    ImagePin("ghcr.io/acme/web:1.2.0", "sha256:" + "a" * 64),
    ImagePin("ghcr.io/acme/worker:1.2.0", "sha256:" + "b" * 64),
)
BUNDLE = BundleConfig(name="acme", path="bundles/example", registry="oci://ghcr.io/acme/bundles")


@pytest.mark.parametrize("mode", ["keyless", "key", "none"])
def test_rendered_readme_matches_golden(mode: str) -> None:
    text = render_readme(
        BUNDLE,
        PLAN,
        PINS,
        signing=SigningConfig(mode=mode),  # type: ignore[arg-type]
        source_readme="# Acme shop (self-hosted)\n\nTwo services.\n",
        has_env_example=True,
    )
    golden = GOLDEN / f"README.{mode}.md"
    if os.environ.get("RELKIT_UPDATE_GOLDEN"):
        golden.write_text(text)
    assert text == golden.read_text()


def test_keyless_readme_names_the_exact_identity_for_cosign() -> None:
    text = render_readme(
        BUNDLE, PLAN, PINS, signing=SigningConfig(), source_readme=None, has_env_example=False
    )
    identity = "https://github.com/acme/shop/.github/workflows/release.yml@refs/tags/v1.2.0"
    assert f"--certificate-identity {identity}" in text
    assert "--certificate-oidc-issuer https://token.actions.githubusercontent.com" in text
    assert text.startswith("# acme 1.2.0 — self-host bundle\n")
    assert "cp .env.example" not in text
