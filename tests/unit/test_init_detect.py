"""`relkit init`'s detection and rendering, pure: facts in, config and workflows out."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from relkit.core.config import parse_config
from relkit.init.detect import RepoFacts, detect, github_repository, tag_shape
from relkit.init.render import (
    CHECKOUT_ACTION,
    RELKIT_SCHEMA_URL,
    SETUP_PYTHON_ACTION,
    InitOptions,
    render,
)

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "init"


def _facts(
    files: dict[str, str], origin: str | None = None, tags: tuple[str, ...] = ()
) -> RepoFacts:
    return RepoFacts(tuple(sorted(files)), origin, tags, files.get)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/acme/shop.git", "acme/shop"),
        ("https://github.com/acme/shop", "acme/shop"),
        ("git@github.com:Acme/my.app.git", "Acme/my.app"),
        ("ssh://git@github.com/acme/shop.git", "acme/shop"),
        ("https://x-access-token@github.com/acme/shop.git", "acme/shop"),
        ("https://x-access-token:se@cret@github.com/acme/shop", "acme/shop"),
        ("HTTPS://GitHub.com/acme/shop", "acme/shop"),
        ("https://www.github.com/acme/shop/", "acme/shop"),
        ("ssh://git@ssh.github.com:443/acme/shop.git", "acme/shop"),
        # hostile or foreign: left out, never guessed
        ("https://gitlab.com/acme/shop.git", None),
        ("https://github.com.evil.example/acme/shop.git", None),
        ("https://github.com/acme/shop/extra", None),
        ("https://github.com/acme/..", None),
        ('https://github.com/acme/sh"op', None),
        ("https://github.com/-acme/shop", None),
        ("https://github.com/acme/shop.git.git", None),
        ("https://github.com#@evil.example/acme/shop", None),
        ("git@github.com:", None),
        ("/srv/github.com/acme/shop", None),
        ("", None),
        (None, None),
    ],
)
def test_github_repository_from_origin(url: str | None, expected: str | None) -> None:
    assert github_repository(url) == expected


@given(st.text(max_size=80))
def test_github_repository_is_always_a_plain_owner_name_or_none(url: str) -> None:
    found = github_repository(url)
    assert found is None or re.fullmatch(r"[A-Za-z0-9-]+/[A-Za-z0-9._-]+", found)


@pytest.mark.parametrize(
    ("tags", "tag_format", "prefixes"),
    [
        (("v1.2.3", "v1.3.0", "nightly"), "v{version}", ()),
        (("1.2.3", "1.3.0-rc.1"), "{version}", ()),
        (("pkg@1.2.3", "lib@0.1.0"), "{version}", ("lib@", "pkg@")),
        (("api/v1.2.3", "web/v1.0.0"), "v{version}", ("api/", "web/")),
        ((), "v{version}", ()),
    ],
)
def test_tag_shape(tags: tuple[str, ...], tag_format: str, prefixes: tuple[str, ...]) -> None:
    shape = tag_shape(tags)
    assert (shape.tag_format, shape.prefixes) == (tag_format, prefixes)


def test_version_files_of_each_kind_are_found() -> None:
    files = {
        "pyproject.toml": '[project]\nname = "x"\nversion = "1.0.0"\n',
        "web/package.json": '{\n  "name": "web",\n  "version": "1.0.0"\n}\n',
        "crate/Cargo.toml": '[package]\nname = "c"\nversion = "1.0.0"\n',
        "member/Cargo.toml": '[package]\nname = "m"\nversion.workspace = true\n',
        "charts/app/Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.1.0\n",
        "charts/app/charts/dep/Chart.yaml": "apiVersion: v2\nname: dep\nversion: 0.1.0\n",
        "web/node_modules/x/package.json": '{"version": "9.9.9"}',
    }
    detected = detect(_facts(files))
    assert {(v.path, v.key) for v in detected.version_files} == {
        ("charts/app/Chart.yaml", "version"),
        ("crate/Cargo.toml", "package.version"),
        ("pyproject.toml", "project.version"),
        ("web/package.json", None),
    }
    assert detected.charts == ("charts/app",)  # the dependency chart is not a release


def test_odd_paths_are_left_out_not_written_into_the_config() -> None:
    files = {
        'deploy"x/compose.yaml': "services: {}\n",
        "ok/compose.yaml": "services: {}\n",
        "new\nline/Chart.yaml": "version: 1.0.0\n",
    }
    detected = detect(_facts(files))
    assert [b.path for b in detected.bundles] == ["ok"]
    assert detected.charts == ()
    assert len(detected.skipped) == 2


def test_a_root_compose_file_is_not_a_bundle() -> None:
    detected = detect(_facts({"docker-compose.yml": "services: {}\n"}))
    assert detected.bundles == () and detected.root_compose == "docker-compose.yml"
    text = render(detected, InitOptions("1.0.0"))["relkit.toml"]
    assert "\n[[bundles]]" not in text and "docker-compose.yml sits at the repository root" in text


def test_pinned_actions_are_the_ones_relkit_itself_uses() -> None:
    ci = (ROOT / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
    assert CHECKOUT_ACTION in ci and SETUP_PYTHON_ACTION in ci


def _monorepo() -> RepoFacts:
    files = {
        "services/api/pyproject.toml": '[project]\nversion = "1.2.0"\n',
        "services/api/chart/Chart.yaml": "apiVersion: v2\nname: api\nversion: 1.2.0\n",
        "services/web/package.json": '{\n  "version": "2.0.0"\n}\n',
        "services/web/deploy/compose.yaml": "services: {}\n",
        "CHANGELOG.md": "# Changelog\n\n## v1.0.0\n",
    }
    tags = ("api/v1.2.0", "web/v2.0.0", "api/v1.1.0")
    return _facts(files, "git@github.com:acme/platform.git", tags)


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("RELKIT_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_monorepo_renders_components_golden() -> None:
    options = InitOptions("1.2.3", gitops="acme/gitops", signing="key")
    files = render(detect(_monorepo()), options)
    assert sorted(files) == [
        ".github/workflows/relkit-check.yml",
        ".github/workflows/relkit-promote.yml",
        ".github/workflows/relkit-release.yml",
        "relkit.toml",
    ]
    for path, text in files.items():
        _golden(Path(path).name, text)
    config = parse_config(tomllib.loads(files["relkit.toml"]), "relkit.toml")
    assert [(c.name, c.tag_prefix, c.paths) for c in config.components] == [
        ("api", "api/", ["services/api"]),
        ("web", "web/", ["services/web"]),
    ]
    assert config.components[0].charts[0].path == "services/api/chart"
    assert config.components[1].bundles[0].path == "services/web/deploy"
    assert config.promote is not None and config.promote.environment_names == ["staging", "dev"]
    assert files["relkit.toml"].splitlines()[0] == f"#:schema {RELKIT_SCHEMA_URL}"
    release = yaml.safe_load(files[".github/workflows/relkit-release.yml"])
    assert release[True]["push"]["tags"] == ["v*", "api/v*", "web/v*"]  # YAML 1.1: on = True
    assert release["jobs"]["release"]["permissions"] == {
        "contents": "write",
        "packages": "write",
    }  # key signing: no OIDC token
    check = files[".github/workflows/relkit-check.yml"]
    # The PR title reaches the script as a variable, never interpolated into `run:`.
    assert "TITLE: ${{ github.event.pull_request.title }}" in check
    assert all("${{" not in line for line in check.splitlines() if "run:" in line)


def test_service_with_chart_and_compose_renders_golden() -> None:
    files = {
        "pyproject.toml": '[project]\nname = "shop"\nversion = "1.0.0"\n',
        "charts/shop/Chart.yaml": "apiVersion: v2\nname: shop\nversion: 0.1.0\n",
        "deploy/docker-compose.yml": "services: {}\n",
        "HISTORY.md": "# History\n\n<!-- relkit: insert -->\n",
    }
    facts = _facts(files, "https://github.com/Acme/shop.git", ("v1.0.0", "v0.9.0"))
    options = InitOptions("1.2.3", registry="oci://registry.example:5000/acme")
    rendered = render(detect(facts), options)
    assert sorted(rendered) == [
        ".github/workflows/relkit-check.yml",
        ".github/workflows/relkit-release.yml",
        "relkit.toml",
    ]
    _golden("service.relkit.toml", rendered["relkit.toml"])
    _golden("service.relkit-release.yml", rendered[".github/workflows/relkit-release.yml"])
    config = parse_config(tomllib.loads(rendered["relkit.toml"]), "relkit.toml")
    assert config.github.repository == "Acme/shop"
    assert config.changelog.file == "HISTORY.md"
    assert [(c.path, c.registry) for c in config.charts] == [
        ("charts/shop", "oci://registry.example:5000/acme/charts")
    ]
    release = yaml.safe_load(rendered[".github/workflows/relkit-release.yml"])
    # Keyless signing of what it publishes; not GHCR, so no packages: write and no login.
    assert release["jobs"]["release"]["permissions"] == {
        "contents": "write",
        "id-token": "write",
    }
    assert "docker login" not in rendered[".github/workflows/relkit-release.yml"]


def test_test_data_examples_and_vendored_files_are_not_releases() -> None:
    files = {
        "charts/app/Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.1.0\n",
        "tests/data/charts/x/Chart.yaml": "apiVersion: v2\nname: x\nversion: 0.1.0\n",
        "examples/demo/compose.yaml": "services: {}\n",
        "vendor/lib/pyproject.toml": '[project]\nversion = "9.9.9"\n',
        "docs/site/package.json": '{"version": "1.0.0"}',
    }
    detected = detect(_facts(files))
    assert detected.charts == ("charts/app",)
    assert detected.bundles == ()
    assert [v.path for v in detected.version_files] == ["charts/app/Chart.yaml"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[project]\nversion = "1.0.0"\n[tool.relkit]\ntag_format = "{version}"\n', True),
        ('[project]\nversion = "1.0.0"\n[tool.ruff]\n', False),
        ("not toml [", False),
    ],
)
def test_existing_tool_relkit_is_noticed(text: str, expected: bool) -> None:
    assert detect(_facts({"pyproject.toml": text})).pyproject_config is expected
