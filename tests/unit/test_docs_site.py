"""The docs site stays true (issue 19 §3, §4): generated reference pages match the code, the
site builds with `mkdocs build --strict`, every TOML example is a valid config, quoted error
messages are ones the code prints, and the README stays a landing page."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from relkit.core.config import parse_config
from relkit.core.errors import ConfigError
from tests.docs_pages import DOCS, ROOT, fences, printed_by_code

SCHEMA = DOCS / "reference" / "relkit.schema.json"
GENERATED = {"config.md", "cli.md", "action.md"}


def _pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def _written_pages() -> list[Path]:
    """The README and the pages people write (generated ones quote the code by construction)."""
    written = [p for p in _pages() if not (p.parent.name == "reference" and p.name in GENERATED)]
    return [ROOT / "README.md", *written]


# -- generated pages and the build ---------------------------------------------------------


def test_generated_reference_pages_match_the_code() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen-docs"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_gen_docs_check_fails_on_a_stale_page(tmp_path: Path) -> None:
    # The script run from a copy whose cli.md was edited by hand: --check must say so.
    copy = tmp_path / "repo"
    for part in ("scripts", "docs", "src"):
        shutil.copytree(ROOT / part, copy / part)
    shutil.copy(ROOT / "action.yml", copy / "action.yml")
    page = copy / "docs" / "reference" / "cli.md"
    page.write_text(page.read_text(encoding="utf-8") + "an edit by hand\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(copy / "scripts" / "gen-docs"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "docs/reference/cli.md is out of date" in done.stderr


def test_mkdocs_build_strict_passes(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("mkdocs")),
            "build",
            "--strict",
            "--quiet",
            "--site-dir",
            str(tmp_path / "site"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "site" / "get-started" / "tutorial" / "index.html").is_file()
    assert (tmp_path / "site" / "reference" / "relkit.schema.json").is_file()


def test_every_page_is_in_the_nav() -> None:
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    listed = set(re.findall(r":\s+(\S+\.md)\s*$", nav, flags=re.MULTILINE))
    pages = {str(p.relative_to(DOCS)) for p in _pages()}
    assert pages - listed == set(), "pages missing from mkdocs.yml's nav"
    assert listed - pages == set(), "nav entries without a page"


# -- TOML examples -------------------------------------------------------------------------


@cache
def _validator() -> Draft202012Validator:
    import json

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return Draft202012Validator(schema, format_checker=FormatChecker())


def _relkit_settings(data: dict[str, Any]) -> dict[str, Any]:
    """The relkit part of a TOML example: `[tool.relkit]` of a pyproject, else all of it."""
    tool = data.get("tool")
    if isinstance(tool, dict) and "relkit" in tool:
        settings = tool["relkit"]
        assert isinstance(settings, dict)
        return settings
    return data


def _toml_examples() -> list[tuple[str, str]]:
    found = [
        (fence.where, fence.body)
        for page in [ROOT / "README.md", *_pages()]
        for fence in fences(page)
        if fence.lang == "toml"
    ]
    found += [
        (str(path.relative_to(ROOT)), path.read_text(encoding="utf-8"))
        for path in sorted((ROOT / "examples").rglob("*.toml"))
    ]
    return found


def test_there_are_toml_examples_to_check() -> None:
    assert len(_toml_examples()) >= 12


@pytest.mark.parametrize(("where", "text"), _toml_examples(), ids=lambda v: str(v)[:40])
def test_every_toml_example_is_a_valid_config(where: str, text: str) -> None:
    settings = _relkit_settings(tomllib.loads(text))
    errors = [
        f"{'.'.join(map(str, e.path))}: {e.message}" for e in _validator().iter_errors(settings)
    ]
    assert errors == [], where
    parse_config(settings, where)  # the loader agrees with the schema


def test_an_invalid_example_is_caught() -> None:
    # The hostile case: a first-run mistake from issue 19 (`[bundles]` for `[[bundles]]`).
    settings = tomllib.loads('[bundles]\nname = "acme"\npath = "bundles/acme"\n')
    assert list(_validator().iter_errors(_relkit_settings(settings))) != []


# -- quoted error messages -----------------------------------------------------------------

# Inline code in the docs that reads like a message but is not one relkit prints.
NOT_MESSAGES = {
    "BEGIN ENCRYPTED PRIVATE KEY",  # PEM headers relkit reads
    "BEGIN EC PRIVATE KEY",
    "BEGIN ENCRYPTED SIGSTORE PRIVATE KEY",
    "Squashed commit of the following:",  # commit messages relkit parses
    "This reverts commit X",
    'Revert "<header> (#1)" (#2)',
    '{{ "%d" % "x" }}',  # a template
    '[github] forge = "none"',  # config
    "bench/run.py --commits 3000 --tags 1000",  # a command
    "<!-- relkit: supersedes #N -->",  # a marker in a PR body
    "Merge pull request #1 from acme/x",  # commit text in docs/maintainers/squash-merges.md
    "handle empty queries when the index holds no documents yet",
    "* update unit tests",
    '/usr/bin/time -f "%e s" scripts/check-wheel',  # a command
    "Input should be a valid list",  # a part of a message, quoted in docs/notes/first-run.md
    "env: TITLE: ${{ github.event.pull_request.title }}",  # workflow YAML
    "<!-- relkit: supersedes … -->",  # a marker in a PR body
}

# Messages composed from parts (the config loader: "<file>: <key>: <reason>"),
# with the settings that make the loader print each: checked below, not taken on trust.
COMPOSED: dict[str, dict[str, Any]] = {
    "relkit.toml: changelog.fiel: unknown key": {"changelog": {"fiel": "CHANGELOG.md"}},
    "relkit.toml: charts[0].registry: Value error, must start with oci://": {
        "charts": [{"path": "charts/web", "registry": "ghcr.io/acme/charts"}]
    },
    "relkit.toml: exclude_patterns[1]: Value error, invalid regular expression "
    "'a{4294967296}': the repetition number is too large": {
        "exclude_patterns": ["^wip", "a{4294967296}"]
    },
    "relkit.toml: changelog.exclude_contributors[1]: Value error, invalid regular expression "
    "'[': unterminated character set": {"changelog": {"exclude_contributors": ["^bot", "["]}},
    "relkit.toml: changelog.file '/proc/self/environ': must be a relative path (it is absolute)": {
        "changelog": {"file": "/proc/self/environ"}
    },
    "relkit.toml: changelog.file '../../home/runner/.docker/config.json': must stay inside the "
    "repository (it climbs out with '..')": {
        "changelog": {"file": "../../home/runner/.docker/config.json"}
    },
    "relkit.toml: bundles: Input should be a valid list": {
        "bundles": {"name": "acme", "path": "deploy"}
    },
    "relkit.toml: charts[0].app_version_format: Value error, must contain {version} and no "
    'other placeholder, e.g. "v{version}"': {
        "charts": [
            {"path": "charts/web", "registry": "oci://ghcr.io/acme", "app_version_format": "v"}
        ]
    },
}


@pytest.mark.parametrize("message", sorted(COMPOSED))
def test_each_composed_message_is_what_the_loader_prints(message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(COMPOSED[message], "relkit.toml")
    assert raised.value.message == message


def _quoted_messages() -> list[tuple[str, str]]:
    """Inline code of four words or more, and `relkit: error:` lines, in the written pages."""
    found: list[tuple[str, str]] = []
    skip = ("relkit ", "git ", "cosign ", "helm ", "docker ", "openssl ", "scripts/", ".venv")
    skip += ("pip", "--", "$", "oci://", "gh ", "cd ", "export ", "curl", "uses:", "python")
    for page in _written_pages():
        text = page.read_text(encoding="utf-8")
        for fence in fences(page):
            for line in fence.body.splitlines():
                if line.startswith(("relkit: error: ", "relkit: hint: ")):
                    found.append((fence.where, line))
        prose = re.sub(r"^ *```.*?^ *```", "", text, flags=re.DOTALL | re.MULTILINE)
        prose = re.sub(r"``.+?``", "", prose, flags=re.DOTALL)
        for match in re.finditer(r"`([^`]+)`", prose):
            span = " ".join(match.group(1).split())
            if len(span.split()) < 4 or span.startswith(skip) or span[0] in ".;){":
                continue
            found.append((str(page.relative_to(ROOT)), span))
    return found


def test_quoted_messages_are_found_in_pages() -> None:
    quoted = [message for _, message in _quoted_messages()]
    assert len(quoted) >= 40
    assert "no commit since 1.4.0 requires a release" in quoted


def test_every_quoted_message_is_one_the_code_prints() -> None:
    stale = []
    for where, quoted in _quoted_messages():
        # `verified ` prefixes each line `relkit verify` prints (commands/verify.py).
        message = re.sub(r"^(relkit: (error|hint): |verified )", "", quoted)
        main, _, hint = message.partition(" (hint: ")
        if quoted in NOT_MESSAGES or message in COMPOSED:
            continue
        if not printed_by_code(main) or (hint and not printed_by_code(hint.rstrip(")"))):
            stale.append(f"{where}: {quoted}")
    assert stale == []


def test_a_message_the_code_does_not_print_is_caught() -> None:
    assert printed_by_code("no commit since 1.4.0 requires a release")
    assert printed_by_code("branch main is behind origin/main ...")
    assert printed_by_code("version: acme 1.2.0 (... agree)")
    assert not printed_by_code("version: acme 1.2.0 (... agreed)")
    assert not printed_by_code("keyless signing needs an OIDC token, and none was found")
    assert not printed_by_code("no commit since 1.4.0 requires a new release")


# -- the README ----------------------------------------------------------------------------


def test_the_readme_is_a_landing_page() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.encode()) < 15 * 1024
    headings = re.findall(r"^## (.+)$", readme, flags=re.MULTILINE)
    assert headings[0] == "Two commands"
    assert "scripts/demo" in readme and "scripts/test" in readme
    for link in re.findall(r"\]\((docs/[^)#]+)", readme):
        assert (ROOT / link).is_file(), link


def test_the_docs_tools_are_dev_dependencies_pinned_in_constraints() -> None:
    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    dev = {Requirement(r).name.lower() for r in project["optional-dependencies"]["dev"]}
    pins = {
        line.split("==")[0].lower()
        for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines()
        if "==" in line
    }
    for name in ("jsonschema", "mkdocs", "mkdocs-material"):
        assert name in dev, name
        assert name in pins, name


def test_every_repository_path_the_docs_name_exists() -> None:
    # A file moved or renamed (issue 17 moved most of src/) leaves no page pointing at nothing.
    # Files by name (a glob such as `test_conventional*.py` or an ignored cache is not one).
    named = re.compile(
        r"\b(?:src/relkit|tests|bench|scripts)/[A-Za-z0-9_/-]+(?:\.(?:py|mjs|json|toml|md)\b|$)"
        r"|\bscripts/[a-z-]+\b",
        flags=re.MULTILINE,
    )
    found = [
        (page.relative_to(ROOT), path)
        for page in _written_pages()
        for path in sorted(set(named.findall(page.read_text(encoding="utf-8"))))
    ]
    assert len(found) >= 20  # the pattern finds the paths the pages name
    missing = [f"{page}: {path}" for page, path in found if not (ROOT / path).exists()]
    assert missing == []
