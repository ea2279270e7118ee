"""RELKIT_REGISTRY_MIRRORS: rehearse a release against a local registry without editing the
compose file or the config. Real registry, real Helm SDK; names stay as written."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from relkit.adapters.registry import DockerConfig, RegistryClient, registry_mirrors
from relkit.cli import main
from relkit.core.config import ChartConfig
from relkit.core.errors import UsageError
from relkit.core.model import Version
from relkit.release.steps.chart import publish_chart
from tests.fixtures.gitrepo import BuiltRepo
from tests.fixtures.registry import RegistryServer, push_test_image

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_CHART = REPO_ROOT / "tests" / "data" / "charts" / "example"

CONFIG = """\
[github]
forge = "none"

[[bundles]]
name = "shop"
path = "deploy"
"""

COMPOSE = """\
services:
  web:
    image: ghcr.io/acme/web:1.1.0
  worker:
    image: ghcr.io/acme/worker:1.0.0
"""


def test_check_resolve_looks_ghcr_images_up_in_the_mirror(
    make_repo: Callable[..., BuiltRepo],
    capsys: pytest.CaptureFixture[str],
    registry: RegistryServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo = make_repo(
        [
            {
                "commit": "feat: first",
                "files": {
                    "deploy/compose.yaml": COMPOSE,
                    "relkit.toml": CONFIG,
                },
            }
        ]
    )
    web = push_test_image(registry.host, "acme/web", "1.1.0")
    worker = push_test_image(registry.host, "acme/worker", "1.0.0")
    monkeypatch.setenv("RELKIT_REGISTRY_MIRRORS", f"ghcr.io={registry.host}")
    code = main(["-C", str(repo.path), "check", "--resolve", "--json"])
    document = json.loads(capsys.readouterr().out)
    compose = next(c for c in document["checks"] if c["name"] == "compose shop")
    assert code == 0, document
    # The pins keep the names of the compose file; only the lookups went to the mirror.
    assert compose["details"] == [
        f"ghcr.io/acme/web:1.1.0@{web}",
        f"ghcr.io/acme/worker:1.0.0@{worker}",
    ]

    monkeypatch.delenv("RELKIT_REGISTRY_MIRRORS")
    monkeypatch.setenv("RELKIT_REGISTRY_MIRRORS", "ghcr.io")
    assert main(["-C", str(repo.path), "check", "--resolve"]) == 1
    out = capsys.readouterr().out
    assert "RELKIT_REGISTRY_MIRRORS: 'ghcr.io' is not REGISTRY=MIRROR" in out


def test_helm_pushes_a_ghcr_chart_to_the_mirror(
    registry: RegistryServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(EXAMPLE_CHART, tmp_path / "repo" / "charts" / "example")
    chart = ChartConfig(path="charts/example", registry="oci://ghcr.io/acme/charts")
    monkeypatch.setenv("RELKIT_REGISTRY_MIRRORS", f"ghcr.io={registry.host}")
    record = publish_chart(
        chart,
        Version.parse("2.0.0"),
        workdir=tmp_path / "work",
        dist_dir=tmp_path / "dist",
        image_pin=None,
        force=False,
        root=tmp_path / "repo",
        source_time=datetime(2026, 3, 1, tzinfo=UTC),
        client=RegistryClient(DockerConfig({})),
    )
    (artifact,) = record.artifacts
    assert artifact.reference is not None
    assert artifact.reference.startswith("oci://ghcr.io/acme/charts/example:2.0.0@sha256:")
    monkeypatch.delenv("RELKIT_REGISTRY_MIRRORS")
    with registry.client() as client:  # the chart is in the local registry, not on GHCR
        assert client.resolve_digest(f"{registry.host}/acme/charts/example:2.0.0") == (
            artifact.digest
        )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", {}),
        ("ghcr.io=localhost:5000", {"ghcr.io": "localhost:5000"}),
        (
            " ghcr.io = 127.0.0.1:5000 , docker.io=mirror.lan ,",
            {"ghcr.io": "127.0.0.1:5000", "docker.io": "mirror.lan"},
        ),
    ],
)
def test_mirror_setting_parses(
    value: str, expected: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RELKIT_REGISTRY_MIRRORS", value)
    assert registry_mirrors() == expected


@pytest.mark.parametrize("value", ["ghcr.io", "=x", "ghcr.io=", "ghcr.io/acme=localhost:5000"])
def test_a_malformed_mirror_is_one_usage_error(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELKIT_REGISTRY_MIRRORS", value)
    with pytest.raises(UsageError, match="is not REGISTRY=MIRROR"):
        registry_mirrors()
