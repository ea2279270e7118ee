from __future__ import annotations

from pathlib import Path

import pytest

from relkit.cli import main
from relkit.core.config import load_config, parse_config
from relkit.core.errors import EXIT_USAGE, ConfigError


def test_defaults_when_no_config(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    assert config.tag_format == "v{version}"
    assert config.commit_types["feat"].bump == "minor"


def test_relkit_toml_is_read(tmp_path: Path) -> None:
    (tmp_path / "relkit.toml").write_text('tag_format = "release-{version}"\n')
    assert load_config(tmp_path).tag_format == "release-{version}"


def test_pyproject_table_is_read(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.relkit]\nmajor_on_zero = true\n")
    assert load_config(tmp_path).major_on_zero is True


def test_both_sources_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "relkit.toml").write_text("major_on_zero = true\n")
    (tmp_path / "pyproject.toml").write_text("[tool.relkit]\nmajor_on_zero = false\n")
    with pytest.raises(ConfigError, match="both relkit.toml"):
        load_config(tmp_path)


def test_unknown_key_names_file_and_key() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({"changelog": {"fiel": "X.md"}}, "relkit.toml")
    assert str(info.value) == "relkit.toml: changelog.fiel: unknown key"


def test_wrong_type_names_list_index() -> None:
    with pytest.raises(ConfigError, match=r"relkit.toml: charts\[0\].registry: .*oci://"):
        parse_config({"charts": [{"path": "c", "registry": "https://x"}]}, "relkit.toml")


def test_version_file_needs_one_locator() -> None:
    with pytest.raises(ConfigError, match=r"version_files\[0\]"):
        parse_config({"version_files": [{"path": "a.txt"}]}, "relkit.toml")
    with pytest.raises(ConfigError, match="named group"):
        parse_config({"version_files": [{"path": "a", "pattern": "v(.*)"}]}, "relkit.toml")


def test_invalid_toml_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "relkit.toml").write_text("tag_format = \n")
    with pytest.raises(ConfigError, match="relkit.toml: not valid TOML"):
        load_config(tmp_path)


def test_config_show_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "relkit.toml").write_text('prerelease_token = "beta"\n')
    assert main(["-C", str(tmp_path), "config", "--show"]) == 0
    assert '"prerelease_token": "beta"' in capsys.readouterr().out


def test_config_error_exit_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "relkit.toml").write_text("nope = 1\n")
    assert main(["-C", str(tmp_path), "config"]) == EXIT_USAGE
    assert capsys.readouterr().err == "relkit: error: relkit.toml: nope: unknown key\n"
