"""`relkit changelog`: write or update the changelog file from the release tags."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from relkit.commands._common import repo_config, repo_root
from relkit.core.errors import EXIT_OK, RelkitError
from relkit.history.releases import changelog_text, scope_for, shallow_warning

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "changelog",
        help="write or update the changelog",
        description="Insert the sections of new releases into the changelog (update mode), "
        "or regenerate it with --full.",
    )
    parser.add_argument("--full", action="store_true", help="regenerate the whole file")
    parser.add_argument("--component", metavar="NAME", help="a monorepo component")
    parser.add_argument("--output", metavar="FILE", help="file to write (default from config)")
    parser.add_argument("--stdout", action="store_true", help="print instead of writing")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    root = repo_root(args)
    config = repo_config(args)
    scope = scope_for(config, args.component)
    # Relative paths are relative to the repository (-C), like the configured changelog file.
    target = root / (args.output or scope.changelog_file)
    try:
        # Bytes, not read_text(): universal newlines would turn CRLF into LF and the
        # "rest of the file stays byte-identical" promise would break.
        existing = target.read_bytes().decode("utf-8") if target.is_file() else None
    except (OSError, UnicodeDecodeError) as exc:
        raise RelkitError(f"cannot read {target}: {exc}", hint="check the file") from None
    if (warning := shallow_warning(root)) is not None:
        sys.stderr.write(f"relkit: warning: {warning}\n")
    text = changelog_text(root, config, existing, component=args.component, full=args.full)
    if args.stdout:
        sys.stdout.write(text)
        return EXIT_OK
    if text == existing:
        print(f"relkit: {target} is up to date")
        return EXIT_OK
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # newline="" keeps the bytes we computed: no CRLF translation of an LF file.
        with target.open("w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    except OSError as exc:
        raise RelkitError(f"cannot write {target}: {exc}", hint="check permissions") from None
    print(f"relkit: wrote {target}")
    return EXIT_OK
