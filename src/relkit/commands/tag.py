"""`relkit tag`: on a push to the base branch, tag the release PR that was just merged."""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from relkit.adapters.git_repo import GitRepo
from relkit.commands._common import github_for, repo_config, repo_root
from relkit.core.errors import EXIT_OK
from relkit.core.workflow_commands import json_safe, write_untrusted

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "tag",
        help="tag HEAD if it is a merged relkit release PR (else do nothing, exit 0)",
        description=(
            "Find the pull request that made HEAD (GitHub's commit -> pulls API). If it is a "
            "merged relkit release PR, check that HEAD's changelog and version files hold its "
            "version, create the annotated tag on HEAD, push it and label the PR. Otherwise, "
            "and when the tag already exists on HEAD, do nothing."
        ),
    )
    parser.add_argument("--remote", default="origin", help="remote to push the tag to")
    parser.add_argument(
        "--via-api",
        action="store_true",
        help="create the tag through GitHub's Git Data API instead of git push",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from relkit.cut.tag import TagOptions, tag_merged_release

    config = repo_config(args)
    repo = GitRepo(repo_root(args))
    env = dict(os.environ)
    client, github_repo = github_for(config, env)
    outcome = tag_merged_release(
        repo, config, client, github_repo, TagOptions(remote=args.remote, via_api=args.via_api)
    )
    if args.json:
        print(json_safe(json.dumps(asdict(outcome), indent=2)))
    else:
        write_untrusted(sys.stdout, f"{outcome.message}\n")
    if env.get("GITHUB_OUTPUT"):
        from relkit.core.reporting import write_github_outputs

        write_github_outputs(
            Path(env["GITHUB_OUTPUT"]),
            {
                "tagged": "true" if outcome.tag else "false",
                "tag": outcome.tag or "",
                "version": outcome.version or "",
                "component": outcome.component or "",
            },
        )
    return EXIT_OK
