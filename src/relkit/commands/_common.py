"""Helpers every command uses: the repository root and its configuration."""

from __future__ import annotations

import argparse
from pathlib import Path

from relkit.core.config import RelkitConfig, load_config
from relkit.core.errors import UsageError

__all__ = ["repo_config", "repo_root"]


def repo_root(args: argparse.Namespace) -> Path:
    root = Path(args.repo).resolve()
    if not root.is_dir():
        raise UsageError(f"repository directory {args.repo} does not exist")
    return root


def repo_config(args: argparse.Namespace) -> RelkitConfig:
    explicit = Path(args.config).resolve() if args.config else None
    return load_config(repo_root(args), explicit)
