"""Helpers every command uses: the repository root and its configuration."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from relkit.core.config import RelkitConfig, load_config
from relkit.core.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from relkit.adapters.github import GitHubClient

__all__ = ["github_for", "repo_config", "repo_root"]


def github_for(config: RelkitConfig, env: Mapping[str, str]) -> tuple[GitHubClient, str]:
    """The client and `owner/name` of the project's own repository (config, then Actions env)."""
    from relkit.adapters.github import GitHubClient  # githubkit is slow to import

    repository = config.github.repository or env.get("GITHUB_REPOSITORY")
    if not repository:
        raise ConfigError(
            "github.repository is not set and GITHUB_REPOSITORY is empty",
            hint="set github.repository = 'owner/name' in relkit.toml",
        )
    api_url = config.github.api_url or env.get("GITHUB_API_URL") or "https://api.github.com"
    return GitHubClient.from_env(env, api_url), repository


def repo_root(args: argparse.Namespace) -> Path:
    root = Path(args.repo).resolve()
    if not root.is_dir():
        raise UsageError(f"repository directory {args.repo} does not exist")
    return root


def repo_config(args: argparse.Namespace) -> RelkitConfig:
    explicit = Path(args.config).resolve() if args.config else None
    return load_config(repo_root(args), explicit)
