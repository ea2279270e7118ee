"""`relkit cut [VERSION]`: changelog + version bumps, release commit, annotated tag, push."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from relkit.adapters.git_repo import GitRepo
from relkit.commands._common import repo_config, repo_root
from relkit.cut.prepare import CutOptions, CutPlan, execute_cut, plan_cut, render_dry_run
from relkit.errors import EXIT_OK

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "cut",
        help="cut a release: changelog, version bumps, commit, tag, atomic push",
        description=(
            "Compute (or validate) the next version, write the changelog section and version "
            "files, commit 'chore(release): <tag>', create an annotated tag and push branch "
            "and tag together with git push --atomic."
        ),
    )
    parser.add_argument(
        "version", nargs="?", metavar="VERSION", help="version to cut (default: computed)"
    )
    parser.add_argument("--pre", metavar="TOKEN", help="cut a pre-release, e.g. --pre rc")
    parser.add_argument("--component", metavar="NAME", help="monorepo component to release")
    parser.add_argument(
        "--force", action="store_true", help="cut VERSION even if the commits require more"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="show the diff and git commands; change nothing"
    )
    parser.add_argument("--no-push", action="store_true", help="commit and tag, do not push")
    parser.add_argument("--remote", default="origin", help="remote to push to (default: origin)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    config = repo_config(args)
    repo = GitRepo(repo_root(args))
    options = CutOptions(
        version=args.version,
        pre=args.pre,
        component=args.component,
        force=args.force,
        push=not args.no_push,
        remote=args.remote,
    )
    plan = plan_cut(repo, config, options)
    for warning in plan.warnings:
        sys.stderr.write(f"relkit: warning: {warning} (--force)\n")
    if args.dry_run:
        if args.json:
            print(json.dumps(_as_json(plan, commit=None, pushed=False, dry_run=True), indent=2))
        else:
            sys.stdout.write(render_dry_run(plan))
        return EXIT_OK
    result = execute_cut(repo, plan)
    if args.json:
        report = _as_json(plan, commit=result.commit, pushed=result.pushed, dry_run=False)
        print(json.dumps(report, indent=2))
        return EXIT_OK
    tag_kind = "signed" if plan.sign else "annotated"
    print(f"version {plan.version}: {plan.reason}")
    print(f"committed {plan.message} ({result.commit[:7]}): {', '.join(plan.paths)}")
    print(f"tagged {plan.tag} ({tag_kind})")
    if result.pushed:
        print(f"pushed {plan.branch} and {plan.tag} to {plan.remote} (atomic)")
    else:
        print(f"not pushed (--no-push); to publish: {plan.push_command}")
    return EXIT_OK


def _as_json(plan: CutPlan, *, commit: str | None, pushed: bool, dry_run: bool) -> dict[str, Any]:
    return {
        "version": str(plan.version),
        "tag": plan.tag,
        "branch": plan.branch,
        "previous_head": plan.base_sha,
        "commit": commit,
        "signed": plan.sign,
        "files": plan.paths,
        "remote": plan.remote,
        "pushed": pushed,
        "dry_run": dry_run,
        "reason": plan.reason,
        "warnings": list(plan.warnings),
        "commands": [["git", *command] for command in plan.commands()],
    }
