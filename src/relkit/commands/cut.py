"""`relkit cut [VERSION]`: changelog + version bumps, release commit, annotated tag, push."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from relkit.adapters.git_repo import GitRepo
from relkit.commands._common import github_for, repo_config, repo_root
from relkit.core.config import RelkitConfig
from relkit.core.errors import EXIT_OK, UsageError
from relkit.core.workflow_commands import json_safe, write_untrusted
from relkit.cut.prepare import CutOptions, CutPlan, execute_cut, plan_cut, render_dry_run

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
    parser.add_argument(
        "--pr",
        action="store_true",
        help="keep the release pull request up to date instead of committing on the branch "
        "(for a protected base branch; `relkit tag` tags it once merged)",
    )
    parser.add_argument(
        "--via-api",
        action="store_true",
        help="with --pr: create the release commit through GitHub's Git Data API "
        "(signed by GitHub for an App token or GITHUB_TOKEN) instead of git push",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    config = repo_config(args)
    repo = GitRepo(repo_root(args))
    if args.pr:
        return _run_pr(args, config, repo)
    if args.via_api:
        raise UsageError("--via-api needs --pr", hint="relkit cut --pr --via-api")
    options = CutOptions(
        version=args.version,
        pre=args.pre,
        component=args.component,
        force=args.force,
        push=not args.no_push,
        remote=args.remote,
    )
    plan = plan_cut(repo, config, options)
    _warn(plan.warnings)
    if args.dry_run:
        if args.json:
            document = _as_json(plan, commit=None, pushed=False, dry_run=True)
            print(json_safe(json.dumps(document, indent=2)))
        else:
            write_untrusted(sys.stdout, render_dry_run(plan))  # diffs of repository files
        return EXIT_OK
    result = execute_cut(repo, plan)
    if args.json:
        report = _as_json(plan, commit=result.commit, pushed=result.pushed, dry_run=False)
        print(json_safe(json.dumps(report, indent=2)))
        return EXIT_OK
    tag_kind = "signed" if plan.sign else "annotated"
    lines = [
        f"version {plan.version}: {plan.reason}",  # the reason quotes a commit's header
        f"committed {plan.message} ({result.commit[:7]}): {', '.join(plan.paths)}",
        f"tagged {plan.tag} ({tag_kind})",
        f"pushed {plan.branch} and {plan.tag} to {plan.remote} (atomic)"
        if result.pushed
        else f"not pushed (--no-push); to publish: {plan.push_command}",
    ]
    _say(lines)
    return EXIT_OK


def _say(lines: list[str]) -> None:
    """Lines for the user that may quote commit text: never a workflow command in Actions."""
    write_untrusted(sys.stdout, "".join(f"{line}\n" for line in lines))


def _warn(warnings: Sequence[str]) -> None:
    if warnings:
        text = "".join(f"relkit: warning: {warning} (--force)\n" for warning in warnings)
        write_untrusted(sys.stderr, text)  # a warning names the commit that requires more


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


def _run_pr(args: argparse.Namespace, config: RelkitConfig, repo: GitRepo) -> int:
    from relkit.cut.prepare import unified_diff
    from relkit.cut.release_pr import ReleasePrOptions, plan_release_pr, sync_release_pr

    if args.no_push:
        raise UsageError("--no-push does not go with --pr", hint="use --pr --dry-run to look")
    client, github_repo = github_for(config, os.environ)
    options = ReleasePrOptions(
        version=args.version,
        pre=args.pre,
        component=args.component,
        force=args.force,
        remote=args.remote,
        via_api=args.via_api,
    )
    plan = plan_release_pr(repo, config, options, client, github_repo)
    _warn(plan.warnings)
    if args.dry_run:
        if args.json:
            print(json_safe(json.dumps(_pr_plan_json(plan), indent=2)))
            return EXIT_OK
        if plan.version is None:
            pr = f"close #{plan.existing.number} and " if plan.existing else ""
            _say([f"{plan.reason}: would {pr}delete {plan.branch} (dry run)"])
            return EXIT_OK
        _say(
            [
                f"{plan.title} on {plan.branch} -> {plan.base} (dry run: nothing was changed)",
                f"reason: {plan.reason}",
            ]
        )
        # The diff holds the changelog section: commit text.
        write_untrusted(sys.stdout, "".join(unified_diff(change) for change in plan.changes))
        return EXIT_OK
    outcome = sync_release_pr(repo, plan, options, client, github_repo)
    open_pr = outcome if outcome.action in ("created", "updated", "unchanged") else None
    if os.environ.get("GITHUB_OUTPUT"):
        from relkit.core.reporting import write_github_outputs

        write_github_outputs(
            Path(os.environ["GITHUB_OUTPUT"]),
            {
                "release_pr_number": str(open_pr.number or "") if open_pr else "",
                "release_pr_url": (open_pr.url or "") if open_pr else "",
                "release_pr_action": outcome.action,
                "version": str(plan.version or ""),
                "tag": plan.tag or "",
            },
        )
    if args.json:
        document = {
            **_pr_plan_json(plan),
            "action": outcome.action,
            "number": outcome.number,
            "url": outcome.url,
            "commit": outcome.commit,
            "pushed": outcome.pushed,
            "signed": outcome.signed,
        }
        print(json_safe(json.dumps(document, indent=2)))
        return EXIT_OK
    lines = [outcome.message]  # may quote the reason, a commit's header
    if outcome.commit:
        how = "pushed" if outcome.pushed else "unchanged"
        short = outcome.commit[:7]
        if outcome.signed is None:
            lines.append(f"{plan.branch}: {short} {how}")
        elif outcome.signed:
            lines.append(f"{plan.branch}: {short} {how} (signed by GitHub)")
        else:
            lines.append(f"{plan.branch}: {short} {how} (not signed by GitHub)")
    if outcome.url:
        lines.append(outcome.url)
    _say(lines)
    return EXIT_OK


def _pr_plan_json(plan: Any) -> dict[str, Any]:
    return {
        "version": str(plan.version) if plan.version else None,
        "tag": plan.tag,
        "base": plan.base,
        "base_sha": plan.base_sha,
        "branch": plan.branch,
        "title": plan.title,
        "reason": plan.reason,
        "requested_by": plan.requested_by,
        "files": [change.path for change in plan.changes],
        "existing_pr": plan.existing.number if plan.existing else None,
        "warnings": list(plan.warnings),
    }
