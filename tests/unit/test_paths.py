"""The path rule (relkit.core.paths, issue 15 §1) on real directories and links."""

from __future__ import annotations

import os
import posixpath
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relkit.core.config import parse_config
from relkit.core.errors import ConfigError
from relkit.core.paths import (
    PathError,
    lexical_problem,
    no_link_path,
    read_inside,
    resolve_inside,
    write_inside,
)
from tests.hypothesis_profiles import property_settings


@property_settings(500)
@given(st.text(alphabet="./\\ab~:C", max_size=20))
def test_a_lexically_accepted_path_never_climbs_out(value: str) -> None:
    if lexical_problem(value) is not None:
        return
    joined = posixpath.normpath(posixpath.join("/root/repo", value.replace("\\", "/")))
    assert joined == "/root/repo" or joined.startswith("/root/repo/")


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("/etc/passwd", "absolute"),
        ("~/.ssh/id_ed25519", "absolute"),
        ("C:\\Windows", "absolute"),
        ("\\\\server\\share", "absolute"),
        ("../x", "climbs out"),
        ("a/../../x", "climbs out"),
        ("", "empty"),
        ("a\x00b", "NUL"),
    ],
)
def test_refused_values(value: str, reason: str) -> None:
    problem = lexical_problem(value)
    assert problem is not None and reason in problem


@pytest.mark.parametrize("value", ["CHANGELOG.md", "docs/../CHANGELOG.md", "./a/b", "a..b"])
def test_accepted_values(value: str) -> None:
    assert lexical_problem(value) is None


def test_links_inside_are_followed_and_outside_refused(tmp_path: Path) -> None:
    root, outside = tmp_path / "repo", tmp_path / "outside"
    (root / "docs").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret").write_text("s")
    (root / "docs" / "CHANGELOG.md").write_text("c")
    (root / "CHANGELOG.md").symlink_to("docs/CHANGELOG.md")
    (root / "leak").symlink_to(outside / "secret")
    (root / "dir").symlink_to(outside)
    assert read_inside(root, "CHANGELOG.md", key="k") == b"c"
    write_inside(root, "CHANGELOG.md", b"new", key="k")
    assert (root / "docs" / "CHANGELOG.md").read_text() == "new"
    assert (root / "CHANGELOG.md").is_symlink()
    for value in ("leak", "dir/secret", "dir/new-file"):
        with pytest.raises(PathError, match="resolves outside"):
            resolve_inside(root, value, key="k")
        with pytest.raises(PathError):
            write_inside(root, value, b"x", key="k")
    assert (outside / "secret").read_text() == "s"
    assert not (outside / "new-file").exists()
    assert read_inside(root, "missing", key="k") is None


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(PathError, match="not a regular file"):
        read_inside(tmp_path, "fifo", key="k")


def test_no_link_path_refuses_a_link_anywhere(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "values.yaml").write_text("a: 1\n")
    (tmp_path / "env").symlink_to("real")
    (tmp_path / "real" / "link.yaml").symlink_to("values.yaml")
    assert no_link_path(tmp_path, "real/values.yaml", key="k", where="w").is_file()
    with pytest.raises(PathError, match="env is a symlink in w"):
        no_link_path(tmp_path, "env/values.yaml", key="k", where="w")
    with pytest.raises(PathError, match="real/link.yaml is a symlink in w"):
        no_link_path(tmp_path, "real/link.yaml", key="k", where="w")


def test_config_load_names_every_key_and_counts_the_rest() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(
            {
                "changelog": {"file": "/proc/self/environ", "template_dir": "../t"},
                "components": [
                    {"name": "api", "paths": ["/"], "tag_prefix": "api/", "changelog_file": "../c"}
                ],
            },
            "relkit.toml",
        )
    assert caught.value.message == (
        "relkit.toml: changelog.file '/proc/self/environ': must be a relative path "
        "(it is absolute) (and 3 more)"
    )


@pytest.mark.parametrize("name", ["../../x", "a/b", ".hidden", ""])
def test_bundle_and_component_names_are_plain_file_names(name: str) -> None:
    with pytest.raises(ConfigError, match="bundles\\[0\\].name"):
        parse_config({"bundles": [{"name": name, "path": "b"}]}, "relkit.toml")
    with pytest.raises(ConfigError, match="components\\[0\\].name"):
        parse_config(
            {"components": [{"name": name, "paths": ["x"], "tag_prefix": "x/"}]}, "relkit.toml"
        )
