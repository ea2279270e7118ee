"""Version file bumps: only the version changes, everything else stays byte-identical."""

from __future__ import annotations

from pathlib import Path

import pytest

from relkit.core.config import VersionFile
from relkit.core.errors import ConfigError, RelkitError
from relkit.cut.version_files import (
    FileChange,
    bump_pattern,
    bump_text,
    bump_toml_key,
    bump_yaml_key,
    plan_version_files,
    write_changes,
)

CHART = """\
# Helm chart of the web app
apiVersion: v2
name: web   # keep: used by the bundle
description: "version: 9.9.9 is not the version"
version: 0.3.1  # chart version
appVersion: "0.3.1"
dependencies:
  - name: redis
    version: '17.0.0'
image:
  tag: 0.3.1
"""


def test_yaml_keys_keep_comments_quotes_and_layout() -> None:
    text = bump_yaml_key(CHART, "version", "1.0.0")
    text = bump_yaml_key(text, "appVersion", "1.0.0")
    assert text == CHART.replace("version: 0.3.1  #", "version: 1.0.0  #").replace(
        'appVersion: "0.3.1"', 'appVersion: "1.0.0"'
    )


def test_yaml_nested_and_list_keys() -> None:
    text = bump_yaml_key(CHART, "image.tag", "2.0.0-rc.1")
    assert text.endswith("image:\n  tag: 2.0.0-rc.1\n")
    text = bump_yaml_key(CHART, "dependencies.0.version", "18.1.0")
    assert "    version: '18.1.0'\n" in text
    assert text.count("\n") == CHART.count("\n")


def test_yaml_crlf_line_endings_are_kept() -> None:
    crlf = "name: x\r\nversion: 1.0.0\r\nother: y\r\n"
    assert bump_yaml_key(crlf, "version", "1.1.0") == "name: x\r\nversion: 1.1.0\r\nother: y\r\n"


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("nope", "key 'nope' not found"),
        ("image.nope", "key 'image.nope' not found"),
        ("image", "does not hold a single value"),
        ("dependencies.5.version", "key 'dependencies.5' not found"),
    ],
)
def test_yaml_bad_keys(key: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        bump_yaml_key(CHART, key, "1.0.0", filename="chart/Chart.yaml")
    assert "chart/Chart.yaml" in info.value.message


def test_yaml_invalid_file() -> None:
    with pytest.raises(ConfigError, match="not valid YAML"):
        bump_yaml_key("a: [1,\n", "a", "1.0.0")


PYPROJECT = """\
[build-system]
requires = ["setuptools"]

[project]
name = "demo"
version = "0.3.1"  # bumped by relkit
description = 'version = "0.0.0" in a string'

[tool.poetry]
version = '0.3.1'

[tool.other]
nested.version = "0.3.1"
"""


def test_toml_project_version_is_a_one_line_edit() -> None:
    text = bump_toml_key(PYPROJECT, "project.version", "1.0.0")
    assert text == PYPROJECT.replace('version = "0.3.1"  #', 'version = "1.0.0"  #')


def test_toml_other_tables_and_dotted_keys() -> None:
    text = bump_toml_key(PYPROJECT, "tool.poetry.version", "1.0.0")
    assert "[tool.poetry]\nversion = '1.0.0'\n" in text
    assert 'version = "0.3.1"  #' in text
    text = bump_toml_key(PYPROJECT, "tool.other.nested.version", "1.0.0")
    assert text.endswith('nested.version = "1.0.0"\n')


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        (PYPROJECT, "project.nope", "key 'project.nope' not found"),
        ("[project]\nversion = 3\n", "project.version", "is not a string"),
        ('project = { version = "1.0.0" }\n', "project.version", "cannot edit key"),
        ("[project\n", "project.version", "not valid TOML"),
    ],
)
def test_toml_errors(text: str, key: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        bump_toml_key(text, key, "1.0.0", filename="pyproject.toml")


def test_pattern_replaces_every_match_and_only_the_group() -> None:
    text = '__version__ = "0.3.1"\nimage: acme/web:0.3.1\nother = "0.3.1"\n'
    pattern = r'^(?:__version__ = "|image: acme/web:)(?P<version>[^"\n]+)'
    assert bump_pattern(text, pattern, "1.0.0") == (
        '__version__ = "1.0.0"\nimage: acme/web:1.0.0\nother = "0.3.1"\n'
    )


def test_pattern_not_found() -> None:
    with pytest.raises(ConfigError, match="pattern .* not found") as info:
        bump_pattern("nothing here\n", r"v(?P<version>\d+)", "1.0.0", filename="VERSION")
    assert info.value.hint is not None


def test_key_on_unsupported_file_type() -> None:
    with pytest.raises(ConfigError, match=r"\.yaml/\.yml/\.toml files only"):
        bump_text("x", VersionFile(path="setup.cfg", key="metadata.version"), "1.0.0")


def test_plan_and_write_on_disk(tmp_path: Path) -> None:
    (tmp_path / "chart").mkdir()
    (tmp_path / "chart" / "Chart.yaml").write_text(CHART)
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / "VERSION").write_text("0.3.1\n")
    specs = [
        VersionFile(path="chart/Chart.yaml", key="version"),
        VersionFile(path="chart/Chart.yaml", key="appVersion"),
        VersionFile(path="pyproject.toml", key="project.version"),
        VersionFile(path="VERSION", pattern=r"^(?P<version>\S+)$"),
    ]
    changes = plan_version_files(tmp_path, specs, "1.0.0")
    assert [c.path for c in changes] == ["chart/Chart.yaml", "pyproject.toml", "VERSION"]
    assert all(c.changed for c in changes)
    # Planning reads only.
    assert (tmp_path / "VERSION").read_text() == "0.3.1\n"
    write_changes(tmp_path, changes)
    assert (tmp_path / "VERSION").read_text() == "1.0.0\n"
    chart = (tmp_path / "chart" / "Chart.yaml").read_text()
    assert "version: 1.0.0  # chart version" in chart and 'appVersion: "1.0.0"' in chart


def test_plan_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="version file Chart.yaml does not exist"):
        plan_version_files(tmp_path, [VersionFile(path="Chart.yaml", key="version")], "1.0.0")


def test_unchanged_file_is_not_rewritten(tmp_path: Path) -> None:
    # The directory does not exist: any write attempt would raise.
    change = FileChange("missing/VERSION", "1.0.0\n", "1.0.0\n")
    write_changes(tmp_path, [change])
    assert not change.changed
    with pytest.raises(RelkitError, match="cannot write missing/VERSION"):
        write_changes(tmp_path, [FileChange("missing/VERSION", "1.0.0\n", "1.1.0\n")])
