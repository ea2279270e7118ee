"""`relkit notes VERSION`: print the release notes of one released version."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from relkit.commands._common import repo_config, repo_root
from relkit.core.errors import EXIT_OK
from relkit.history.releases import release_notes, shallow_warning

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "notes",
        help="print the release notes of one version",
        description="Print the release notes (the GitHub Release body) of a released version.",
    )
    parser.add_argument("version", metavar="VERSION", help="a tag (v1.2.0) or version (1.2.0)")
    parser.add_argument("--component", metavar="NAME", help="a monorepo component")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if (warning := shallow_warning(repo_root(args))) is not None:
        sys.stderr.write(f"relkit: warning: {warning}\n")
    notes = release_notes(
        repo_root(args), repo_config(args), args.version, component=args.component
    )
    sys.stdout.write(notes)
    return EXIT_OK
