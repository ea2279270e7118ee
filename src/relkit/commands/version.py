"""`relkit version`: print the next version computed from the commits since the last release."""

from __future__ import annotations

import argparse
import json
from typing import Any

from relkit.commands._common import repo_config, repo_root
from relkit.core.errors import EXIT_NO_RELEASE, EXIT_OK, NothingToRelease
from relkit.history.conventional import count_non_conventional
from relkit.history.releases import compute_next_version, scope_for
from relkit.history.versioning import commit_bump

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "version",
        help="print the next version",
        description="Print the next version from the commits since the last release "
        "(exit 3 when nothing is releasable).",
    )
    parser.add_argument("--component", metavar="NAME", help="a monorepo component")
    parser.add_argument(
        "--pre",
        nargs="?",
        const="",
        default=None,
        metavar="TOKEN",
        help="a pre-release, e.g. --pre rc gives X.Y.Z-rc.N (default token from config)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON with the bump reason")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    root = repo_root(args)
    config = repo_config(args)
    pre = args.pre if args.pre else (config.prerelease_token if args.pre == "" else None)
    computed, commits = compute_next_version(root, config, component=args.component, pre=pre)
    scope = scope_for(config, args.component)
    if args.json:
        document = {
            "version": str(computed.version) if computed.version else None,
            "tag": scope.tag_format.render(computed.version) if computed.version else None,
            "previous": str(computed.previous) if computed.previous else None,
            "previous_tag": scope.tag_format.render(computed.previous)
            if computed.previous
            else None,
            "component": args.component,
            "bump": computed.decision.level.label,
            "reasons": [
                {
                    "sha": c.sha,
                    "header": c.header,
                    "bump": commit_bump(c, dict(config.commit_types)).label,
                    "breaking": c.breaking,
                }
                for c in computed.decision.reasons
            ],
            "commits": len({c.sha for c in commits}),
            # Counted even when changelog.other_commits = "drop" hides them.
            "non_conventional": count_non_conventional(commits),
        }
        print(json.dumps(document, indent=2))
        return EXIT_OK if computed.version else EXIT_NO_RELEASE
    if computed.version is None:
        raise NothingToRelease(
            f"no releasable commit since {computed.previous or 'the start of the history'}",
            hint="feat/fix/perf commits or breaking changes make a release",
        )
    print(computed.version)
    return EXIT_OK
