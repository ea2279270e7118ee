"""Command line: parse arguments, hand over to a command module, map errors to exit codes.

No release logic lives here. Each command is a module in `relkit.commands` exposing
`register(subparsers)`, which adds its parser and sets `handler` to a function taking the
parsed arguments and returning an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any

import relkit
from relkit.core.errors import EXIT_FAILED, EXIT_USAGE, RelkitError
from relkit.core.workflow_commands import escape_data, write_untrusted

__all__ = ["EXIT_BROKEN_PIPE", "main", "report_internal_error"]

# The reader of stdout went away (`relkit notes v1 | head -1`): exit quietly with the status
# the shell reports for git and other Unix tools killed by SIGPIPE (128 + 13).
EXIT_BROKEN_PIPE = 141

# Order is the order of `relkit --help`: (command, module, one-line help).
# The help lines are repeated here so `relkit --help` and a mistyped command list every
# command without importing any (the release commands pull in githubkit and sigstore);
# tests/unit/test_cli_fast_start.py fails when a line drifts from its module's parser.
COMMANDS: tuple[tuple[str, str, str], ...] = (
    (
        "init",
        "relkit.commands.init",
        "write relkit.toml, GitHub workflows and /dist/ in .gitignore for this repository",
    ),
    ("config", "relkit.commands.config_cmd", "show the effective configuration"),
    (
        "release",
        "relkit.commands.release",
        "publish the release of a tag (chart, bundle, GitHub Release, promotion PR)",
    ),
    ("version", "relkit.commands.version", "print the next version"),
    ("changelog", "relkit.commands.changelog", "write or update the changelog"),
    ("notes", "relkit.commands.notes", "print the release notes of one version"),
    (
        "cut",
        "relkit.commands.cut",
        "cut a release: changelog, version bumps, commit, tag, atomic push",
    ),
    (
        "tag",
        "relkit.commands.tag",
        "tag HEAD if it is a merged relkit release PR (else do nothing, exit 0)",
    ),
    ("bundle", "relkit.commands.bundle", "build or unpack a self-host Compose bundle"),
    (
        "verify",
        "relkit.commands.verify",
        "verify a self-host bundle: signature, SHA256SUMS and digest pins",
    ),
    (
        "check",
        "relkit.commands.check",
        "fast pull-request checks: config, helm lint, compose, commits, release plan",
    ),
    (
        "promote",
        "relkit.commands.promote",
        "open the PR that moves an environment to given image digests or a release",
    ),
)
COMMAND_MODULES: tuple[str, ...] = tuple(module for _, module, _ in COMMANDS)


class _VersionAction(argparse.Action):
    """`--version`: the version is looked up only when asked for (importlib.metadata is slow
    to import, and every other command starts without it)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="show the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        sys.stdout.write(f"relkit {relkit.__version__}\n")
        parser.exit()


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # argparse prints usage plus the error; keep the one-line contract and exit 2.
        sys.stderr.write(f"relkit: error: {message}\n")
        raise SystemExit(EXIT_USAGE)


def _command_name(argv: Sequence[str]) -> str | None:
    """The command word of `argv`, skipping the global options and their values."""
    args = iter(argv)
    for token in args:
        if token in ("-C", "--repo", "--config"):
            next(args, None)
        elif not token.startswith("-"):
            return token
    return None


def _command_module(argv: Sequence[str] | None) -> str | None:
    """The module of the command `argv` names, or None."""
    name = _command_name(sys.argv[1:] if argv is None else argv)
    for command, module_name, _ in COMMANDS:
        if name == command:
            return module_name
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    parser = _Parser(prog="relkit", description="Release automation for conventional commits.")
    parser.add_argument("--version", action=_VersionAction)
    parser.add_argument(
        "-C",
        "--repo",
        default=".",
        metavar="DIR",
        help="repository to work on (default: current directory)",
    )
    parser.add_argument("--config", default=None, metavar="FILE", help="config file to use")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    # Import only the chosen command's module when argv names one: the release commands pull
    # in githubkit and sigstore (~1 s), which `relkit notes` in a CI step must not pay for.
    # Without a known command (`--help`, a typo) every command is listed from COMMANDS and
    # no command module is imported at all.
    wanted = _command_module(argv) if argv is not None else None
    if wanted is not None:
        importlib.import_module(wanted).register(subparsers)
    else:
        for command, _, summary in COMMANDS:
            subparsers.add_parser(command, help=summary)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:
        return _stdout_closed()
    except Exception as exc:
        return report_internal_error(exc)


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit:
        _flush_stdout()  # `relkit --help | head -1`: a closed pipe shows up here
        raise
    try:
        code: int = args.handler(args)
        _flush_stdout()  # inside the try: a closed pipe is reported now, not at exit
    except RelkitError as exc:
        # An error may quote user data (a subject, a path, a value): never a workflow command.
        lines = f"relkit: error: {exc.message}\n"
        if exc.hint:
            lines += f"relkit: hint: {exc.hint}\n"
        write_untrusted(sys.stderr, lines)
        if _in_github_actions():
            sys.stdout.write(f"::error::{escape_data(exc.message)}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("relkit: interrupted\n")
        return EXIT_FAILED
    return code


def _flush_stdout() -> None:
    if sys.stdout is not None:  # None when started with stdout closed (`relkit ... >&-`)
        sys.stdout.flush()


def _stdout_closed() -> int:
    # Python's documented recipe (library/signal.html, "Note on SIGPIPE"): point stdout at
    # devnull so the interpreter's final flush does not print a second BrokenPipeError.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
    return EXIT_BROKEN_PIPE


def report_internal_error(exc: BaseException) -> int:
    """One line for a bug, the full traceback in a private file (and on stderr with RELKIT_DEBUG=1).

    The file holds the traceback and versions only: no environment, no arguments, so nothing
    beyond what the exception itself carries.
    """
    # Imported here, not at the top: only a crash needs them, and every command's start
    # would pay for them (~7 ms, issue 17).
    import platform
    import traceback

    message = " ".join(str(exc).split())
    if len(message) > 300:
        message = message[:297] + "..."
    summary = f"relkit: internal error: {type(exc).__name__}" + (f": {message}" if message else "")
    trace = "".join(traceback.format_exception(exc))
    where = _write_traceback(
        f"relkit {relkit.__version__}, Python {platform.python_version()}"
        f" on {platform.platform()}\n{trace}"
    )
    err = sys.stderr
    if err is not None:
        if os.environ.get("RELKIT_DEBUG") == "1":
            err.write(trace)
        err.write(f"{summary}\n")
        shown = "set RELKIT_DEBUG=1 to print it; please report it"
        err.write(
            f"relkit: the full traceback is in {where} ({shown})\n"
            if where
            else f"relkit: could not write the traceback ({shown})\n"
        )
    if _in_github_actions() and sys.stdout is not None:
        try:
            sys.stdout.write(f"::error::{escape_data(summary)}\n")
            sys.stdout.flush()
        except (OSError, ValueError):
            pass
    return EXIT_FAILED


def _write_traceback(text: str) -> str | None:
    import tempfile

    try:
        # mkstemp: a new file only the user can read, in the system temp directory.
        handle, path = tempfile.mkstemp(prefix="relkit-traceback-", suffix=".txt")
        with os.fdopen(handle, "w", encoding="utf-8", errors="replace") as file:
            file.write(text)
    except OSError:
        return None
    return path


def _in_github_actions() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
