"""Hostile configuration: each one line and exit 2, never a traceback (issues 8 §1, 9 §7)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relkit.cli import main
from relkit.core.config import RelkitConfig, load_config, parse_config
from relkit.core.errors import EXIT_OK, EXIT_USAGE, ConfigError
from tests.fixtures.gitrepo import BuiltRepo
from tests.hypothesis_profiles import property_settings

MakeRepo = Callable[..., BuiltRepo]


def _run(root: Path, *argv: str) -> int:
    return main(["-C", str(root), *argv])


# -- exclude_patterns are compiled and matched one by one ---------------------------------


@pytest.mark.parametrize(
    "patterns",
    [
        ["(?i)^wip"],  # a global flag: fine alone, an error once joined into one regex
        ["(?P<kind>^wip)", "(?P<kind>^tmp)"],  # the same group name in two patterns
    ],
)
def test_exclude_patterns_each_work_on_their_own(
    make_repo: MakeRepo, capsys: pytest.CaptureFixture[str], patterns: list[str]
) -> None:
    repo = make_repo(
        [
            {"commit": "feat: first", "files": {"a": "1"}},
            {"tag": "v1.0.0"},
            {"commit": "fix: real fix", "files": {"a": "2"}},
            {"commit": "WIP: half done", "files": {"a": "3"}},
            {"commit": "tmp: scratch", "files": {"a": "4"}},
            {"tag": "v1.0.1"},
        ]
    )
    quoted = ", ".join(f"'{p}'" for p in patterns)
    (repo.path / "relkit.toml").write_text(f"exclude_patterns = [{quoted}]\n")
    assert _run(repo.path, "notes", "v1.0.1") == EXIT_OK
    out = capsys.readouterr().out
    assert "real fix" in out
    assert "half done" not in out
    if len(patterns) == 2:
        assert "scratch" not in out


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("a{4294967296}", "the repetition number is too large"),
        ("(" * 2000 + ")" * 2000, "too deeply nested"),
        ("[", "unterminated character set"),
        ("^wip(?i)", "global flags not at the start"),
    ],
)
def test_bad_exclude_pattern_is_one_line_naming_key_and_pattern(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], pattern: str, reason: str
) -> None:
    (tmp_path / "relkit.toml").write_text(f"exclude_patterns = ['^ok', '{pattern}']\n")
    assert _run(tmp_path, "config") == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("relkit: error: relkit.toml: exclude_patterns[1]: ")
    assert reason in err
    assert repr(pattern)[:40] in err


def test_bad_version_file_pattern_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"version_files\[0\].*repetition number is too large"):
        parse_config(
            {"version_files": [{"path": "a", "pattern": "(?P<version>a{4294967296})"}]}, "x"
        )


# -- the files themselves ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("relkit.toml", b'tag_format = "v{version}\xff"\n', "relkit.toml: not UTF-8 text"),
        ("relkit.toml", b"a = " + b"[" * 20_000 + b"]" * 20_000, "relkit.toml: nested deeper"),
        ("relkit.toml", b"a" + b".a" * 20_000 + b" = 1\n", "relkit.toml: nested deeper"),
        ("pyproject.toml", b"tool = false\n", "pyproject.toml: tool: not a table"),
        ("pyproject.toml", b"[tool]\nrelkit = 3\n", "pyproject.toml: tool.relkit: not a table"),
        ("pyproject.toml", b"[project\n", "pyproject.toml: not valid TOML"),
        ("pyproject.toml", b"x = '\xc3'\n", "pyproject.toml: not UTF-8 text"),
        ("relkit.toml", b"[changelog]\nfile = 3\n", "relkit.toml: changelog.file:"),
    ],
)
def test_hostile_config_file_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: bytes, message: str
) -> None:
    (tmp_path / name).write_bytes(content)
    assert _run(tmp_path, "config", "--show") == EXIT_USAGE
    captured = capsys.readouterr()
    assert captured.err.startswith(f"relkit: error: {message}")
    assert len(captured.err.splitlines()) <= 2  # the error, maybe a hint
    assert "Traceback" not in captured.err
    assert captured.out == ""


def test_explicit_config_file_goes_through_the_same_checks(tmp_path: Path) -> None:
    config = tmp_path / "ci.toml"
    config.write_bytes(b"a = \xff\n")
    with pytest.raises(ConfigError, match=r"^ci\.toml: not UTF-8"):
        load_config(tmp_path, config)
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text("tool = []\n")
    with pytest.raises(ConfigError, match="tool: not a table"):
        load_config(tmp_path, pyproject)


def test_pyproject_without_relkit_table_is_the_defaults(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.other]\nx = 1\n[project]\nname = 'x'\n")
    assert load_config(tmp_path) == RelkitConfig()


# -- properties -----------------------------------------------------------------------------

_keys = st.sampled_from(
    [
        "tag_format",
        "release_branches",
        "major_on_zero",
        "prerelease_token",
        "exclude_patterns",
        "changelog",
        "dist_dir",
        "commit_types",
        "nope",
    ]
)
_values: st.SearchStrategy[Any] = st.recursive(
    st.one_of(
        st.booleans(),
        st.integers(-5, 5),
        st.text(alphabet="v{}version()?i[]^*+a\\.", max_size=12),
    ),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(["file", "mode", "section", "bump", "x"]), children)
    ),
    max_leaves=8,
)


@property_settings(200)
@given(st.dictionaries(_keys, _values, max_size=4))
def test_any_settings_are_a_config_or_one_config_error(data: dict[str, Any]) -> None:
    try:
        config = parse_config(data, "relkit.toml")
    except ConfigError as exc:
        assert "\n" not in str(exc)
        assert str(exc).startswith("relkit.toml: ")
        return
    # What validated must be usable: every exclusion pattern compiles on its own.
    import re

    for pattern in config.exclude_patterns:
        re.compile(pattern)
