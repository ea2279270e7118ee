"""`relkit config`: print the effective configuration (defaults filled in), or its schema."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from relkit.commands._common import repo_config
from relkit.core.errors import EXIT_OK

__all__ = ["register"]


def register(subparsers: Any) -> None:
    # The help line is also in cli.py's command list on main (issue 17): keep them equal.
    parser = subparsers.add_parser("config", help="show the effective configuration")
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument("--show", action="store_true", help="print it as JSON (the default)")
    shown.add_argument(
        "--schema",
        action="store_true",
        help="print the configuration's JSON Schema (2020-12) instead; reads no config",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.schema:
        # Imported here: only `--schema` needs the generator.
        from relkit.core.config_schema import config_schema_json

        sys.stdout.write(config_schema_json())
        return EXIT_OK
    print(repo_config(args).to_json())
    return EXIT_OK
