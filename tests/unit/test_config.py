from __future__ import annotations

from pathlib import Path

import pytest

from relkit.cli import main
from relkit.core.config import RelkitConfig, load_config, parse_config
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


@pytest.mark.parametrize(
    ("text", "message", "hint"),
    [
        (
            '[bundles]\nname = "app"\npath = "deploy"\n',
            "relkit.toml: bundles: Input should be a valid list",
            "write [[bundles]] (an array of tables, one per entry), not [bundles]",
        ),
        (
            '[[signing]]\nmode = "none"\n',
            "relkit.toml: signing: Input should be a valid dictionary or instance of SigningConfig",
            "write [signing] (a single table), not [[signing]]",
        ),
        (
            '[promote]\nrepository = "a/b"\n[promote.edits]\nfile = "x.yaml"\n',
            "relkit.toml: promote.edits: Input should be a valid list",
            "write [[promote.edits]] (an array of tables, one per entry), not [promote.edits]",
        ),
    ],
)
def test_table_where_an_array_belongs_says_which_brackets(
    tmp_path: Path, text: str, message: str, hint: str
) -> None:
    (tmp_path / "relkit.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(tmp_path)
    assert (raised.value.message, raised.value.hint) == (message, hint)


def test_a_list_type_error_from_a_scalar_gets_no_bracket_hint(tmp_path: Path) -> None:
    (tmp_path / "relkit.toml").write_text('release_branches = "main"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(tmp_path)
    assert raised.value.hint is None


@pytest.mark.parametrize(
    ("section", "file_name"),
    [("bundles", "deploy/docker-compose.yml"), ("charts", "deploy/Chart.yaml")],
)
def test_a_file_where_a_directory_belongs_fails_at_load_with_the_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], section: str, file_name: str
) -> None:
    (tmp_path / "deploy").mkdir()
    (tmp_path / file_name).write_text("services: {}\n", encoding="utf-8")
    extra = 'name = "app"' if section == "bundles" else 'registry = "oci://r.example/c"'
    (tmp_path / "relkit.toml").write_text(
        f'[[{section}]]\n{extra}\npath = "{file_name}"\n', encoding="utf-8"
    )
    assert main(["-C", str(tmp_path), "config"]) == EXIT_USAGE
    assert capsys.readouterr().err.splitlines() == [
        f"relkit: error: relkit.toml: {section}[0].path: '{file_name}' is a file, not a directory",
        "relkit: hint: name the directory that holds it: path = 'deploy'",
    ]
    (tmp_path / "relkit.toml").write_text(
        f'[[{section}]]\n{extra}\npath = "deploy"\n', encoding="utf-8"
    )
    assert main(["-C", str(tmp_path), "config"]) == 0


SHARED_PROMOTE = """\
[promote]
repository = "acme/gitops"
url = "https://git.example/acme/gitops.git"
base = "trunk"
labels = ["promotion"]
branch = "relkit/{environment}-{version}"
"""


def _promote_config(tmp_path: Path, text: str) -> RelkitConfig:
    (tmp_path / "relkit.toml").write_text(text, encoding="utf-8")
    return load_config(tmp_path)


def test_staging_may_be_listed_in_environments_when_promote_has_no_edits(
    tmp_path: Path,
) -> None:
    config = _promote_config(
        tmp_path,
        SHARED_PROMOTE
        + """
[[promote.environments]]
name = "staging"
labels = ["staging"]
[[promote.environments.edits]]
file = "envs/staging/values.yaml"
key = "image.digest"

[[promote.environments]]
name = "dev"
[[promote.environments.edits]]
file = "envs/dev/values.yaml"
key = "image.digest"
""",
    )
    promote = config.promote
    assert promote is not None
    assert promote.environment_names == ["staging", "dev"]
    # What `relkit release` promotes: staging's own edits, with the shared settings.
    assert [e.file for e in promote.edits] == ["envs/staging/values.yaml"]
    assert (promote.repository, promote.base, promote.labels) == (
        "acme/gitops",
        "trunk",
        ["staging"],
    )
    dev = promote.for_environment("dev")
    assert [e.file for e in dev.edits] == ["envs/dev/values.yaml"]
    assert (dev.base, dev.labels, dev.url) == ("trunk", ["promotion"], promote.url)
    assert promote.for_environment("staging").edits == promote.edits


def test_staging_twice_is_still_refused_when_promote_has_its_own_edits(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="environment 'staging' is configured twice"):
        _promote_config(
            tmp_path,
            SHARED_PROMOTE
            + """
[[promote.edits]]
file = "a.yaml"
key = "k"

[[promote.environments]]
name = "staging"
[[promote.environments.edits]]
file = "b.yaml"
key = "k"
""",
        )


def test_a_component_promote_inherits_the_shared_promote_settings(tmp_path: Path) -> None:
    config = _promote_config(
        tmp_path,
        SHARED_PROMOTE
        + """
[[components]]
name = "api"
paths = ["api"]
tag_prefix = "api/"
[components.promote]
base = "main"
[[components.promote.edits]]
file = "apps/api/values.yaml"
key = "image.digest"
""",
    )
    promote = config.release_config("api").promote
    assert promote is not None
    assert (promote.repository, promote.url) == (
        "acme/gitops",
        "https://git.example/acme/gitops.git",
    )
    assert promote.base == "main"  # its own setting wins
    assert promote.labels == ["promotion"]
    # Never the shared branch: two components promoting one version must not share a PR.
    assert promote.branch == "relkit/promote-api-{environment}-{version}"


def test_a_component_promote_without_any_repository_is_still_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"components\[0\]\.promote\.repository: Field required"):
        _promote_config(
            tmp_path,
            """
[[components]]
name = "api"
paths = ["api"]
tag_prefix = "api/"
[components.promote]
[[components.promote.edits]]
file = "apps/api/values.yaml"
key = "image.digest"
""",
        )
