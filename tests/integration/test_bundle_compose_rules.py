"""Everything docker compose would load from a bundle is checked (issue 9 item 5).

Hand-made bundles, self-consistent (SHA256SUMS and digests.txt match), that `docker compose
up` would run differently from what the pin check saw: `relkit verify` and `relkit bundle
extract` refuse each with exit 1 and unpack nothing; `bundle build` refuses the same
sources before asking any registry.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from relkit.bundle.archive import BundleFile, build_tar_gz
from relkit.bundle.build import build_bundle
from relkit.bundle.sums import render_digests, render_sha256sums
from relkit.cli import main
from relkit.core.config import BundleConfig
from relkit.core.errors import UsageError
from relkit.core.model import ReleasePlan, Version

PINNED = f"example.com/acme/web:1.0.0@sha256:{'a' * 64}"
EVIL = "example.com/evil/miner:latest"
COMPOSE = f"services:\n  web:\n    image: {PINNED}\n"

HOSTILE = {
    "override file": {"compose.override.yaml": f"services:\n  web:\n    image: {EVIL}\n"},
    "docker-compose override": {
        "docker-compose.override.yml": f"services:\n  x:\n    image: {EVIL}\n"
    },
    "second compose file": {"docker-compose.yml": f"services:\n  web:\n    image: {EVIL}\n"},
    ".env COMPOSE_FILE": {
        ".env": "COMPOSE_FILE=compose.yaml:extra.yaml\n",
        "extra.yaml": f"services:\n  x:\n    image: {EVIL}\n",
    },
    ".env.example COMPOSE_FILE": {
        ".env.example": 'NOTE="x" COMPOSE_FILE=extra.yaml\n',
        "extra.yaml": f"services:\n  web:\n    image: {EVIL}\n",
    },
    "build": {"compose.yaml": COMPOSE + "    build: ./src\n", "src/Dockerfile": "FROM scratch\n"},
    "include": {
        "compose.yaml": "include:\n  - extra.yaml\n" + COMPOSE,
        "extra.yaml": f"services:\n  x:\n    image: {EVIL}\n",
    },
    "extends": {
        "compose.yaml": COMPOSE + "    extends: {file: extra.yaml, service: x}\n",
        "extra.yaml": "services:\n  x:\n    build: .\n",
    },
    "image variable": {
        "compose.yaml": "services:\n  web:\n    image: ${WEB_IMAGE:-" + PINNED + "}\n",
        ".env": f"WEB_IMAGE={EVIL}\n",
    },
}


def _bundle(directory: Path, extra: dict[str, str]) -> Path:
    """shop-1.0.0.tar.gz with `extra` files, SHA256SUMS and digests.txt consistent."""
    files = {"compose.yaml": COMPOSE, **extra, "digests.txt": render_digests([PINNED])}
    data = {name: text.encode() for name, text in files.items()}
    data["SHA256SUMS"] = render_sha256sums(data).encode()
    archive = directory / "shop-1.0.0.tar.gz"
    entries = {name: BundleFile(content) for name, content in data.items()}
    archive.write_bytes(build_tar_gz(entries, top="shop-1.0.0", mtime=0))
    return archive


def test_a_plain_bundle_verifies(tmp_path: Path) -> None:
    archive = _bundle(tmp_path, {".env.example": "COMPOSE_PROFILES=debug\nWEB_PORT=8080\n"})
    assert main(["verify", str(archive), "--unsigned"]) == 0


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_verify_and_extract_refuse(
    tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = _bundle(tmp_path, HOSTILE[case])
    assert main(["verify", str(archive), "--unsigned"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("relkit: error: bundle: ") and "Traceback" not in err
    assert all(line.startswith("relkit: ") for line in err.strip().splitlines())
    target = tmp_path / "unpacked"
    assert main(["bundle", "extract", str(archive), "--to", str(target), "--unsigned"]) == 1
    assert not target.exists() or not list(target.iterdir())


def _plan() -> ReleasePlan:
    return ReleasePlan(
        version=Version.parse("1.0.0"),
        tag="v1.0.0",
        commit="c" * 40,
        committed_at=datetime(2026, 1, 1, tzinfo=UTC),
        previous_tag=None,
        notes="",
    )


@pytest.mark.parametrize(
    "case",
    [
        "override file",
        "docker-compose override",
        "second compose file",
        ".env.example COMPOSE_FILE",
        "build",
        "include",
        "extends",
    ],
)
def test_build_refuses_before_any_lookup(tmp_path: Path, case: str) -> None:
    source = tmp_path / "repo" / "bundle"
    for name, text in {"compose.yaml": COMPOSE, **HOSTILE[case]}.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text(text)

    def resolver(references: object) -> dict[str, str]:
        raise AssertionError("no registry lookup for a refused bundle")

    bundle = BundleConfig(name="shop", path="bundle")
    dist = tmp_path / "dist"
    with pytest.raises(UsageError):
        build_bundle(bundle, _plan(), repo_root=tmp_path / "repo", dist_dir=dist, resolver=resolver)
    assert not dist.exists() or not list(dist.iterdir())


def test_profiles_do_not_hide_a_service(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """COMPOSE_PROFILES may stay in .env: every service is checked whatever its profiles."""
    compose = COMPOSE + f"  debug:\n    image: {EVIL}\n    profiles: [debug]\n"
    archive = _bundle(tmp_path, {"compose.yaml": compose, ".env": "COMPOSE_PROFILES=debug\n"})
    assert main(["verify", str(archive), "--unsigned"]) == 1
    assert "service 'debug' image example.com/evil/miner:latest is not pinned" in (
        capsys.readouterr().err
    )
