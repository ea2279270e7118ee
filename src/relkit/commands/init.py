"""`relkit init`: write a commented relkit.toml, the GitHub workflows and `/dist/` in .gitignore."""

from __future__ import annotations

import argparse
import re
from typing import Any

from relkit import __version__
from relkit.commands._common import repo_root
from relkit.core.errors import EXIT_OK, UsageError
from relkit.init.detect import detect
from relkit.init.files import gitignore_text, plan_writes, read_facts, write_all
from relkit.init.render import InitOptions, render

__all__ = ["register"]

_GITOPS = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
_REGISTRY = re.compile(r"^oci://[A-Za-z0-9.-]+(?::\d{1,5})?(?:/[a-z0-9._/-]+)?$")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "init",
        help="write relkit.toml, GitHub workflows and /dist/ in .gitignore for this repository",
        description="Inspect the repository (origin, tags, charts, compose files, version "
        "files, changelog, components) and write a commented relkit.toml that `relkit check` "
        "accepts, workflows for pull requests, releases and (with --gitops) merges to main, "
        "and /dist/ in .gitignore. Never overwrites a different file without --force.",
    )
    parser.add_argument("--registry", metavar="oci://HOST/PATH", help="OCI registry base")
    parser.add_argument("--gitops", metavar="OWNER/REPO", help="the GitOps repository")
    parser.add_argument(
        "--signing", choices=("keyless", "key", "none"), default="keyless", help="bundle signing"
    )
    parser.add_argument("--dry-run", action="store_true", help="print the files, write nothing")
    parser.add_argument("--force", action="store_true", help="overwrite files that differ")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.registry is not None and not _REGISTRY.match(args.registry):
        raise UsageError(
            f"--registry {args.registry!r} is not an OCI registry URL",
            hint="e.g. --registry oci://ghcr.io/acme (lower case path)",
        )
    if args.gitops is not None and not _GITOPS.match(args.gitops):
        raise UsageError(f"--gitops {args.gitops!r} is not OWNER/REPO")
    root = repo_root(args)
    detected = detect(read_facts(root))
    if detected.pyproject_config:
        # relkit.toml next to [tool.relkit] is refused by every command: never create that.
        raise UsageError(
            "pyproject.toml already holds relkit settings ([tool.relkit]); "
            "relkit init writes relkit.toml",
            hint="this project is set up already (relkit check); to start over, "
            "remove [tool.relkit] and run relkit init again",
        )
    options = InitOptions(
        relkit_version=__version__,
        registry=args.registry,
        gitops=args.gitops,
        signing=args.signing,
    )
    files = render(detected, options)
    current = (root / ".gitignore").read_text("utf-8") if (root / ".gitignore").is_file() else None
    ignore = gitignore_text(current)
    if ignore is not None:
        files[".gitignore"] = ignore
    planned = plan_writes(root, files, force=args.force, dry_run=args.dry_run)
    if args.dry_run:
        for item in planned:
            action: str = item.action
            if action == "overwrite" and not args.force:
                action = "differs: needs --force"
            print(f"--- {item.path} ({action}, dry run)")
            print(item.text, end="")
        return EXIT_OK
    write_all(root, planned)
    for item in planned:
        print(f"{item.action:9} {item.path}")
    for note in detected.skipped:
        print(f"skipped   {note}")
    if any(item.action != "unchanged" for item in planned):
        print("next: relkit check, then relkit release --dry-run --forge none")
    return EXIT_OK
