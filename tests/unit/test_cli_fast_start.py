"""A fast start: each command imports only what it uses (issue 17).

Asserted on the modules a fresh interpreter has loaded after the command, never on time:
time belongs to `bench/startup.py`.
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from relkit.cli import COMMANDS

HEAVY = ("sigstore", "githubkit", "helm_python", "cyclonedx", "httpx", "cryptography", "pydantic")


def _loaded_after(argv: list[str], cwd: Path) -> set[str]:
    """The top-level packages a fresh interpreter holds after running `relkit ARGV`."""
    program = (
        "import json, sys\n"
        "from relkit.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.stdout.flush()\n"
        "sys.__stderr__.write(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], cwd=cwd, capture_output=True, text=True, check=False
    )
    return set(json.loads(done.stderr.splitlines()[-1]))


def test_every_help_line_is_the_one_its_command_registers() -> None:
    for name, module_name, summary in COMMANDS:
        parser = argparse.ArgumentParser()
        sub = parser.add_subparsers()
        importlib.import_module(module_name).register(sub)
        registered = {action.dest: action.help for action in sub._choices_actions}
        assert registered.get(name) == summary, f"{name}: COMMANDS says {summary!r}"


def test_help_imports_no_command_and_no_heavy_library(tmp_path: Path) -> None:
    loaded = _loaded_after(["--help"], tmp_path)
    assert not {m for m in loaded if m.startswith("relkit.commands")}
    assert not {m for m in loaded if m.split(".")[0] in HEAVY}
    assert "pydantic" not in loaded


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    from relkit.cli import main

    with pytest.raises(SystemExit) as stopped:
        main(["--help"])
    assert stopped.value.code == 0
    out = capsys.readouterr().out
    for name, _, summary in COMMANDS:
        assert f"{name}" in out and summary[:30] in " ".join(out.split())


def test_a_mistyped_command_lists_the_commands_without_importing_them(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from relkit.cli import main

    with pytest.raises(SystemExit) as stopped:
        main(["vresion"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("relkit: error: ") and "'version'" in err and "'release'" in err


@pytest.mark.parametrize("argv", [["version"], ["notes", "v0.0.1"], ["changelog", "--stdout"]])
def test_history_commands_import_no_network_or_signing_library(
    argv: list[str], tmp_path: Path
) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    loaded = _loaded_after(argv, tmp_path)
    assert any(m.startswith("relkit.history") for m in loaded), "the command did not run"
    heavy = sorted(m for m in loaded if m.split(".")[0] in HEAVY)
    assert not heavy, f"relkit {' '.join(argv)} imported {heavy[:5]}"


def test_help_and_version_option_skip_package_metadata_until_asked(tmp_path: Path) -> None:
    assert "importlib.metadata" not in _loaded_after(["--help"], tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "relkit", "--version"], capture_output=True, text=True, check=True
    )
    assert done.stdout.startswith("relkit ") and done.stdout.strip() != "relkit"


def test_version_renders_nothing_and_reads_no_yaml(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    loaded = _loaded_after(["version"], tmp_path)
    assert "relkit.history.releases" in loaded
    assert not {m for m in loaded if m.split(".")[0] in ("jinja2", "yaml", "ruamel")}


def _released_repo(root: Path) -> None:
    """A repository with one conventional commit tagged v1.0.0."""
    identity = ["-c", "user.name=A", "-c", "user.email=a@example.com"]
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(
        ["git", "-C", str(root), *identity, "commit", "-q", "--allow-empty", "-m", "feat: one"],
        check=True,
    )
    subprocess.run(["git", "-C", str(root), "tag", "v1.0.0"], check=True)


def test_full_changelog_with_the_shipped_templates_imports_no_jinja(tmp_path: Path) -> None:
    _released_repo(tmp_path)
    loaded = _loaded_after(["changelog", "--full", "--stdout"], tmp_path)
    assert "relkit.history.shipped_changelog" in loaded, "the command did not run"
    assert not {m for m in loaded if m.split(".")[0] in ("jinja2", "markupsafe")}
    assert "relkit.history.template_sandbox" not in loaded
    # What only a crash (platform, traceback) or GitHub Actions output (secrets) needs.
    assert not {"platform", "traceback", "secrets"} & loaded


def test_an_overridden_changelog_template_renders_through_the_sandbox(tmp_path: Path) -> None:
    _released_repo(tmp_path)
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "changelog.md.j2").write_text(
        "{% for r in releases %}release {{ r.title }}\n{% endfor %}"
    )
    (tmp_path / "relkit.toml").write_text('[changelog]\ntemplate_dir = "templates"\n')
    assert "relkit.history.template_sandbox" in _loaded_after(
        ["changelog", "--full", "--stdout"], tmp_path
    )
    done = subprocess.run(
        [sys.executable, "-m", "relkit", "changelog", "--full", "--stdout"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout == "release 1.0.0\n"
