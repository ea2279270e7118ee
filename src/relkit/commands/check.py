"""`relkit check`: fast checks for the pull-request pipeline (no registry write, no token)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from relkit.adapters.git_history import HistorySnapshot
from relkit.commands._common import repo_root
from relkit.core.config import RelkitConfig
from relkit.core.errors import EXIT_FAILED, EXIT_OK, UsageError
from relkit.core.workflow_commands import escape_data, json_safe, write_untrusted
from relkit.release.check import (
    CheckResult,
    changed_components,
    check_bundles,
    check_charts,
    check_commits,
    check_config,
    check_paths,
    check_release_dry_run,
    check_release_plan,
    check_title,
    range_commits,
)

__all__ = ["register"]

_MARK = {"ok": "ok", "warning": "warn", "failed": "FAIL", "skipped": "skip"}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "check",
        help="fast pull-request checks: config, helm lint, compose, commits, release plan",
        description="Check the configuration, lint every chart with Helm, check each bundle's "
        "compose file, the PR's commits and title, and that the next release plans. "
        "No registry write and no token needed; exit 1 if any check fails.",
    )
    parser.add_argument(
        "--range",
        dest="revision_range",
        metavar="A..B",
        help="commits to check, e.g. origin/main..HEAD",
    )
    parser.add_argument("--title", help="the PR title to check (what a squash merge commits)")
    parser.add_argument(
        "--resolve", action="store_true", help="look every bundle image up in its registry"
    )
    parser.add_argument(
        "--changed",
        action="store_true",
        help="only list the components the --range touches (for a GitHub Actions matrix)",
    )
    parser.add_argument(
        "--comment",
        action="store_true",
        help="keep one preview comment on the PR (next version, notes, what the tag "
        "publishes, failing checks); without a write token it goes to the step summary",
    )
    parser.add_argument(
        "--pr-number",
        type=int,
        metavar="N",
        help="the PR to comment on (default: from the GitHub Actions event)",
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    root = repo_root(args)
    explicit = Path(args.config).resolve() if args.config else None
    if args.changed:
        return _changed(args, root, explicit)
    results: list[CheckResult] = []
    # One view of the history for every check and the preview: the range's commits and
    # the tags are read once however many of them ask.
    history = HistorySnapshot(root)
    config_result, config = check_config(root, explicit)
    results.append(config_result)
    if config is not None:
        paths_result = check_paths(root, config)
        results.append(paths_result)
        if args.revision_range:
            results.append(check_commits(history, config, args.revision_range))
        if args.title is not None:
            results.append(check_title(config, args.title))
        if not paths_result.failed:
            # The checks below open what the config names: not when a path is refused.
            results += _file_checks(args, history, config)
    _print(results, as_json=args.json)
    if args.comment:
        # The exit code follows the checks only: a preview that cannot be posted warns.
        _comment(args, history, config, results)
    return EXIT_FAILED if any(r.failed for r in results) else EXIT_OK


def _file_checks(
    args: argparse.Namespace, history: HistorySnapshot, config: RelkitConfig
) -> list[CheckResult]:
    root = history.root
    results = check_charts(root, config)
    plan_result, plan = check_release_plan(history, config)
    results.append(plan_result)
    resolver = None
    if args.resolve:
        from relkit.adapters.registry import resolve_many

        resolver = resolve_many
    bundle_results, pins = check_bundles(root, config, plan, resolver)
    results += bundle_results
    if plan_result.status == "ok" and not any(r.failed for r in bundle_results):
        results.append(check_release_dry_run(root, config, plan, pins, dict(os.environ)))
    return results


def _comment(
    args: argparse.Namespace, history: HistorySnapshot, config: Any, results: list[CheckResult]
) -> None:
    from relkit.adapters.github import GitHubApiError
    from relkit.commands._common import github_for
    from relkit.cut.pr_preview import pr_context, render_preview, upsert_comment

    env = dict(os.environ)
    body = _preview_body(args, history, config, results, render_preview)
    context = pr_context(env, args.pr_number)
    why_not = context.why_not
    if config is None:
        why_not = "the configuration does not load"
    elif context.can_write and context.number is not None:
        try:
            client, github_repo = github_for(config, env)
            print(f"relkit: {upsert_comment(client, github_repo, context.number, body)}")
            return
        except GitHubApiError as exc:
            if exc.status not in (401, 403, 404):
                raise
            why_not = f"GitHub refused the comment (HTTP {exc.status}): the token cannot write"
    sys.stderr.write(f"relkit: warning: no PR comment: {why_not}\n")
    summary = env.get("GITHUB_STEP_SUMMARY")
    text = f"> relkit did not comment on the PR: {why_not}.\n\n{body}"
    if summary:
        with Path(summary).open("a", encoding="utf-8") as handle:
            handle.write(text + "\n")
        print("relkit: the preview is in the step summary")
    else:
        write_untrusted(sys.stdout, text, env=env)


def _preview_body(
    args: argparse.Namespace,
    history: HistorySnapshot,
    config: Any,
    results: list[CheckResult],
    render: Any,
) -> str:
    from relkit.core.errors import RelkitError
    from relkit.cut.pr_preview import Preview
    from relkit.cut.prepare import CutOptions, choose_version
    from relkit.cut.publish_summary import publish_lines
    from relkit.history.conventional import parse_commits
    from relkit.history.releases import scope_for

    failures = [(r.name, r.message) for r in results if r.failed]
    if config is None:
        return str(render(Preview(None, "the configuration does not load", [], {}, [], failures)))
    tag: str | None = None
    publishes: list[str] = []
    try:
        version, reason, _warnings = choose_version(history, config, CutOptions())
        tag = scope_for(config).tag_format.render(version)
        publishes = publish_lines(config, None, version)
    except RelkitError as exc:  # NothingToRelease included
        reason = exc.message
    commits = []
    if args.revision_range:
        try:
            # The commits the commit check read: not a second `git log` of the range.
            raws = range_commits(history, args.revision_range)
            commits = parse_commits(raws, config.exclude_patterns)
        except RelkitError:
            commits = []  # the commits check already reports it
    shown = {name: t.section for name, t in config.commit_types.items() if t.section}
    components = _component_versions(history, config, args.revision_range)
    preview = Preview(
        tag, reason, commits, shown, publishes, failures, components, config.changelog.mentions
    )
    return str(render(preview))


def _component_versions(
    history: HistorySnapshot, config: Any, revision_range: str | None
) -> list[tuple[str, str | None, str]]:
    """Next version of each component the PR's range touches (a monorepo's release PRs)."""
    from relkit.adapters.git_history import changed_paths
    from relkit.core.errors import RelkitError
    from relkit.cut.prepare import CutOptions, choose_version
    from relkit.history.releases import scope_for

    if not revision_range or not config.components:
        return []
    try:
        touched = changed_components(config, changed_paths(history.root, revision_range))
    except RelkitError:
        return []
    found: list[tuple[str, str | None, str]] = []
    for component in touched:
        try:
            options = CutOptions(component=component.name)
            version, why, _ = choose_version(history, config, options)
            found.append(
                (component.name, scope_for(config, component.name).tag_format.render(version), why)
            )
        except RelkitError as exc:
            found.append((component.name, None, exc.message))
    return found


def _changed(args: argparse.Namespace, root: Path, explicit: Path | None) -> int:
    from relkit.adapters.git_history import changed_paths
    from relkit.core.config import load_config

    if not args.revision_range:
        raise UsageError("--changed needs --range", hint="e.g. --range origin/main..HEAD")
    config = load_config(root, explicit)
    components = changed_components(config, changed_paths(root, args.revision_range))
    names = [c.name for c in components]
    if args.json:
        include = [{"component": c.name, "paths": list(c.paths)} for c in components]
        print(json_safe(json.dumps({"components": names, "matrix": {"include": include}})))
    else:
        write_untrusted(sys.stdout, "".join(f"{name}\n" for name in names))
    return EXIT_OK


def _print(results: list[CheckResult], *, as_json: bool) -> None:
    failed = sum(r.failed for r in results)
    if as_json:
        document = {"ok": failed == 0, "checks": [r.as_dict() for r in results]}
        print(json_safe(json.dumps(document, indent=2)))
    else:
        lines = []
        for result in results:
            lines.append(f"{_MARK[result.status]:<4}  {result.name}: {result.message}\n")
            if result.status in ("warning", "failed"):
                for detail in result.details[1 if result.failed else 0 :]:
                    lines.append(f"      {detail}\n")
        # The lines quote subjects, titles and paths from the pull request.
        write_untrusted(sys.stdout, "".join(lines))
        print(f"relkit: {len(results)} checks, {failed} failed")
    if os.environ.get("GITHUB_ACTIONS") == "true":
        for result in results:
            if result.status in ("failed", "warning"):
                level = "error" if result.failed else "warning"
                text = escape_data(f"{result.name}: {result.message}")
                sys.stdout.write(f"::{level} title=relkit check::{text}\n")
