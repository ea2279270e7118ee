"""pyproject's runtime dependencies say what src/ really needs (issue 12 §5)."""

from __future__ import annotations

import ast
import importlib.metadata
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]


def _project() -> dict[str, object]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    project = data["project"]
    assert isinstance(project, dict)
    return project


def _runtime() -> dict[str, Requirement]:
    deps = _project()["dependencies"]
    assert isinstance(deps, list)
    return {Requirement(d).name.lower(): Requirement(d) for d in deps}


def _imported_top_levels(folder: Path) -> set[str]:
    names: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    return names


def test_sigstore_floor_is_the_4x_api_the_code_uses() -> None:
    spec = _runtime()["sigstore"].specifier
    # sigstore_models and ClientTrustConfig.force_tlog_version arrived in 4.x; 3.6 cannot work.
    assert not spec.contains(Version("3.6.0"))
    assert not spec.contains(Version("4.0.0"))
    # An upper bound: relkit imports sigstore._internal, which changes without notice.
    assert not spec.contains(Version("5.0.0"))
    assert spec.contains(Version(importlib.metadata.version("sigstore")))


def test_no_runtime_dependency_that_src_does_not_import() -> None:
    imported = _imported_top_levels(ROOT / "src" / "relkit")
    runtime = _runtime()
    for name, module in (("gitpython", "git"), ("oras", "oras")):
        assert module not in imported
        assert name not in runtime, f"{name} is a runtime dependency nothing in src/ imports"


def test_what_tests_and_bench_import_is_in_an_extra() -> None:
    extras = _project()["optional-dependencies"]
    assert isinstance(extras, dict)
    dev = {Requirement(d).name.lower() for d in extras["dev"]}
    bench = {Requirement(d).name.lower() for d in extras["bench"]}
    assert "oras" in _imported_top_levels(ROOT / "tests")
    assert "oras" in dev
    assert "git" in _imported_top_levels(ROOT / "bench")
    assert "gitpython" in bench
