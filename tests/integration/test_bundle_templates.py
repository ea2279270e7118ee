"""`changelog.template_dir` overrides the bundle README for `bundle build` and `release` alike
(issue 12 §5): both build the same archive from the same templates."""

from __future__ import annotations

import subprocess
import tarfile
from pathlib import Path

import pytest

from relkit.cli import main
from relkit.core.config import parse_config
from relkit.core.model import StepOutcome
from relkit.release.pipeline import PublishOptions, StepContext
from relkit.release.steps import bundle as bundle_step
from tests.fixtures.registry import RegistryServer
from tests.integration.test_bundle import _plan, _project, _push_images

CUSTOM = "Custom README for {{ name }} {{ version }}\n"


def _readme(archive: Path) -> str:
    with tarfile.open(archive) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("/README.md"))
        handle = tar.extractfile(member)
        assert handle is not None
        return handle.read().decode()


def test_bundle_build_and_the_release_step_use_template_dir(
    registry: RegistryServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _push_images(registry)
    root = _project(tmp_path, registry.host)
    (root / ".relkit").mkdir()
    (root / ".relkit" / "bundle_README.md.j2").write_text(CUSTOM)
    settings = {
        "changelog": {"template_dir": ".relkit"},
        "bundles": [
            {
                "name": "acme",
                "path": "bundles/example",
                "images": [f"{registry.host}/acme/web:{{version}}"],
            }
        ],
        "signing": {"mode": "none"},
    }
    (root / "relkit.toml").write_text(
        '[changelog]\ntemplate_dir = ".relkit"\n'
        "[[bundles]]\n"
        'name = "acme"\n'
        'path = "bundles/example"\n'
        f'images = ["{registry.host}/acme/web:{{version}}"]\n'
        '[signing]\nmode = "none"\n'
    )
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    env = {"GIT_COMMITTER_DATE": "2026-03-01T12:00:00+00:00", "PATH": "/usr/bin:/bin"}
    subprocess.run([*git, "commit", "-qm", "feat: bundle"], check=True, env=env)

    assert main(["-C", str(root), "bundle", "build", "acme", "--version", "1.2.0"]) == 0
    capsys.readouterr()
    built = root / "dist" / "acme-1.2.0.tar.gz"
    assert _readme(built) == "Custom README for acme 1.2.0\n"

    context = StepContext(
        plan=_plan(),
        config=parse_config(settings, "relkit.toml"),
        root=root,
        dist_dir=tmp_path / "release-dist",
        work_dir=tmp_path / "work",
        options=PublishOptions(),
        env={},
    )
    record = bundle_step.run(context)
    assert record.outcome is StepOutcome.DONE
    released = tmp_path / "release-dist" / "acme-1.2.0.tar.gz"
    assert _readme(released) == "Custom README for acme 1.2.0\n"
