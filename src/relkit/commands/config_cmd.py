"""`relkit config --show`: print the effective configuration (defaults filled in)."""

from __future__ import annotations

import argparse
from typing import Any

from relkit.commands._common import repo_config
from relkit.core.errors import EXIT_OK

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("config", help="show the effective configuration")
    parser.add_argument("--show", action="store_true", help="print it as JSON (the default)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    print(repo_config(args).to_json())
    return EXIT_OK
