"""`relkit promote ENVIRONMENT`: move an environment in the GitOps repository by PR.

The merge pipeline's dev bump (`--image web=ghcr.io/acme/web@sha256:…`) and promotions of a
released version (`--version 1.2.0`) to any configured environment, through the same code as
the release's promote step.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from relkit.commands._common import repo_config, repo_root
from relkit.core.errors import EXIT_OK, UsageError
from relkit.core.model import StepOutcome, StepRecord

if TYPE_CHECKING:
    from relkit.core.config import PromoteConfig, RelkitConfig
    from relkit.release.promote_target import Target

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "promote",
        help="open the PR that moves an environment to given image digests or a release",
        description="Promote image digests (--image) and/or a released version (--version) to "
        "an environment of the GitOps repository: the same edits, branch and PR rules as the "
        "release's promote step.",
    )
    parser.add_argument("environment", help="[promote] environment or [[promote.environments]]")
    parser.add_argument(
        "--image",
        action="append",
        default=[],
        metavar="NAME=REF",
        help="an image to promote, pinned (@sha256:…) or by tag (resolved); repeatable",
    )
    parser.add_argument(
        "--version", help="a released version (digests from its run record, else the registry)"
    )
    parser.add_argument(
        "--commit", help="source commit of --image builds (default: $GITHUB_SHA, else HEAD)"
    )
    parser.add_argument("--forge", choices=("github", "none"), help="default: github.forge")
    parser.add_argument(
        "--allow-downgrade", action="store_true", help="promote something older than deployed"
    )
    parser.add_argument("--dist", help="where the run record is (default: dist_dir)")
    parser.add_argument("--dry-run", action="store_true", help="print what would be done")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from relkit.adapters.registry import resolve_many
    from relkit.promote.naming import branch_name
    from relkit.release.promote_target import (
        parse_image_argument,
        target_for_images,
        target_for_version,
    )

    root = repo_root(args)
    config = repo_config(args)
    if config.promote is None:
        raise UsageError("no [promote] configured", hint="see the README's Promotion section")
    try:
        promote_config = config.promote.for_environment(args.environment)
    except KeyError:
        known = ", ".join(config.promote.environment_names)
        raise UsageError(
            f"unknown environment {args.environment!r}", hint=f"configured: {known}"
        ) from None
    if not args.image and not args.version:
        raise UsageError("nothing to promote", hint="give --image NAME=REF and/or --version X")
    env = dict(os.environ)
    repository = config.github.repository or env.get("GITHUB_REPOSITORY") or None
    images = [parse_image_argument(text) for text in args.image]
    if args.version:
        dist = Path(args.dist).resolve() if args.dist else root / config.dist_dir
        target = target_for_version(
            root,
            config,
            args.version,
            record=dist / "relkit-release.json",
            repository=repository,
            resolver=resolve_many,
        )
        if images:  # given digests replace the release's for the same repositories
            extra = target_for_images(
                root,
                config,
                images,
                commit=target.plan.commit,
                repository=repository,
                resolver=resolve_many,
            ).plan.images
            replaced = {pin.repository for pin in extra}
            kept = tuple(p for p in target.plan.images if p.repository not in replaced)
            target = replace(target, plan=replace(target.plan, images=kept + extra))
    else:
        commit = args.commit or env.get("GITHUB_SHA") or "HEAD"
        target = target_for_images(
            root, config, images, commit=commit, repository=repository, resolver=resolve_many
        )
    forge = args.forge or config.github.forge
    branch = branch_name(promote_config, target.plan)
    if args.dry_run:
        return _dry_run(target, promote_config, forge, env, as_json=args.json)
    record = _promote(args, root, config, promote_config, target, forge, env)
    pr_url = next((a.url for a in record.artifacts if a.kind == "pr"), None)
    changed = record.outcome is StepOutcome.DONE
    # Names as `relkit release` writes them (pr_url); the action maps them to pr-url etc.
    outputs = {"pr_url": pr_url or "", "branch": branch, "changed": str(changed).lower()}
    if env.get("GITHUB_OUTPUT"):
        with Path(env["GITHUB_OUTPUT"]).open("a", encoding="utf-8") as handle:
            for key, value in outputs.items():
                handle.write(f"{key}={value}\n")
    if args.json:
        document = {
            "environment": promote_config.environment,
            "version": str(target.plan.version),
            "source": target.source,
            "images": [{"reference": p.reference, "digest": p.digest} for p in target.plan.images],
            "outcome": record.outcome.value,
            "detail": record.detail,
            **outputs,
        }
        print(json.dumps(document, indent=2))
    else:
        print(f"relkit: promote {promote_config.environment} to {target.plan.tag}: {record.detail}")
    return EXIT_OK


def _promote(
    args: argparse.Namespace,
    root: Path,
    config: RelkitConfig,
    promote_config: PromoteConfig,
    target: Target,
    forge: str,
    env: dict[str, str],
) -> StepRecord:
    from relkit.adapters.github import GitHubClient
    from relkit.release.steps.promote import app_name_of, promote

    github = None
    if forge != "none":
        api_url = config.github.api_url or env.get("GITHUB_API_URL") or "https://api.github.com"
        names = (promote_config.token_env, "GITHUB_TOKEN", "GH_TOKEN")
        github = GitHubClient.from_env(env, api_url, names)
    template_dir = config.changelog.template_dir
    with tempfile.TemporaryDirectory(prefix="relkit-promote-") as work:
        return promote(
            target.plan,
            promote_config,
            github=github,
            workdir=Path(work),
            chart_version=target.chart_version,
            release_url=None,
            allow_downgrade=args.allow_downgrade,
            env=env,
            template_dir=root / template_dir if template_dir else None,
            app=app_name_of(root, config),
        )


def _dry_run(
    target: Target, promote_config: PromoteConfig, forge: str, env: dict[str, str], *, as_json: bool
) -> int:
    from relkit.release.steps.promote import describe_promotion

    lines = describe_promotion(
        target.plan, promote_config, forge=forge, chart_version=target.chart_version, env=env
    )
    if as_json:
        print(json.dumps({"dry_run": True, "version": str(target.plan.version), "actions": lines}))
    else:
        print(f"relkit: dry run: promote {promote_config.environment} to {target.plan.tag}")
        for line in lines:
            print(f"  {line}", file=sys.stdout)
    return EXIT_OK
