"""Command line: parse arguments, hand over to a command module, map errors to exit codes.

No release logic lives here. Each command is a module in `relkit.commands` exposing
`register(subparsers)`, which adds its parser and sets `handler` to a function taking the
parsed arguments and returning an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from relkit import __version__
from relkit.errors import EXIT_FAILED, EXIT_USAGE, RelkitError

__all__ = ["main"]

# Order is the order of `relkit --help`.
COMMAND_MODULES: tuple[str, ...] = (
    "relkit.commands.config_cmd",
    "relkit.commands.release",
    "relkit.commands.version",
    "relkit.commands.changelog",
    "relkit.commands.notes",
    "relkit.commands.cut",
    "relkit.commands.bundle",
    "relkit.commands.verify",
    "relkit.commands.check",
    "relkit.commands.promote",
)


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
    """The module of the command in `argv` by convention (`config` → `...config_cmd`)."""
    name = _command_name(sys.argv[1:] if argv is None else argv)
    for module_name in COMMAND_MODULES:
        base = module_name.rsplit(".", 1)[-1]
        if name in (base, base.removesuffix("_cmd")):
            return module_name
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    parser = _Parser(prog="relkit", description="Release automation for conventional commits.")
    parser.add_argument("--version", action="version", version=f"relkit {__version__}")
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
    # `--help` or an unknown command imports them all, so help and errors list every command.
    wanted = _command_module(argv) if argv is not None else None
    modules: Sequence[str] = (wanted,) if wanted else COMMAND_MODULES
    if argv is not None and wanted is None and "--version" in argv:
        modules = ()  # `relkit --version` exits while parsing; it needs no command
    for module_name in modules:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
    except RelkitError as exc:
        sys.stderr.write(f"relkit: error: {exc.message}\n")
        if exc.hint:
            sys.stderr.write(f"relkit: hint: {exc.hint}\n")
        if _in_github_actions():
            sys.stdout.write(f"::error::{exc.message}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("relkit: interrupted\n")
        return EXIT_FAILED
    return code


def _in_github_actions() -> bool:
    import os

    return os.environ.get("GITHUB_ACTIONS") == "true"


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
