"""The action and workflows relkit ships: valid YAML, actions pinned by SHA, least privilege."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
FILES = [ROOT / "action.yml", *sorted((ROOT / ".github" / "workflows").glob("*.yml"))]
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def _uses(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["uses"]] if isinstance(node.get("uses"), str) else []
        return found + [u for value in node.values() for u in _uses(value)]
    if isinstance(node, list):
        return [u for item in node for u in _uses(item)]
    return []


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_third_party_action_is_pinned_by_commit_sha(path: Path) -> None:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))  # also: it is valid YAML
    uses = _uses(document)
    assert uses, f"{path.name} uses no action?"
    for reference in uses:
        assert reference.startswith("./") or PINNED.match(reference), reference


@pytest.mark.parametrize("path", FILES[1:], ids=lambda p: p.name)
def test_workflows_default_to_least_privilege(path: Path) -> None:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert document["permissions"] in ({}, {"contents": "read"})


def test_only_the_pypi_job_of_the_release_gets_an_oidc_token() -> None:
    document = yaml.safe_load((ROOT / ".github/workflows/release.yml").read_text("utf-8"))
    with_token = [
        name
        for name, job in document["jobs"].items()
        if (job.get("permissions") or {}).get("id-token") == "write"
    ]
    assert with_token == ["publish"]
    publish = document["jobs"]["publish"]
    assert publish["environment"]["name"] == "pypi"  # trusted publishing is bound to it
    assert any("pypa/gh-action-pypi-publish@" in step.get("uses", "") for step in publish["steps"])
    assert document["jobs"]["build"]["permissions"] == {"contents": "read"}
