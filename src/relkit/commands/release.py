"""`relkit release`: plan from the tag, then publish chart → bundle → release → promote.

Every step looks at remote state first and does only what is missing, so a re-run after a
failure finishes the release and a re-run of a finished release changes nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from relkit.adapters.git_history import HistorySnapshot
from relkit.adapters.registry import resolve_many
from relkit.commands._common import repo_config, repo_root
from relkit.core.dist_files import sweep_stale
from relkit.core.errors import EXIT_OK, RelkitError
from relkit.core.reporting import (
    github_outputs,
    make_reporter,
    run_record,
    step_summary_markdown,
    write_github_outputs,
    write_run_record,
)
from relkit.release.pipeline import PipelineResult, PublishOptions, StepContext, run_pipeline
from relkit.release.plan import build_plan, plan_summary, tag_from_env
from relkit.release.preflight import register_secrets
from relkit.release.step_list import STEP_NAMES, STEPS

__all__ = ["register"]

RECORD_NAME = "relkit-release.json"


def _step_list(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "release",
        help="publish the release of a tag (chart, bundle, GitHub Release, promotion PR)",
        description="Publish the release of a tag. Re-running finishes a half-done release; "
        "re-running a finished one changes nothing.",
    )
    parser.add_argument("--tag", help="tag to release (default: GITHUB_REF's tag, else HEAD's)")
    parser.add_argument(
        "--dry-run", action="store_true", help="print the plan and every action; touch nothing"
    )
    steps = ",".join(STEP_NAMES)
    parser.add_argument(
        "--skip", type=_step_list, default=[], metavar="STEPS", help=f"steps to skip ({steps})"
    )
    parser.add_argument(
        "--only", type=_step_list, default=[], metavar="STEPS", help="run only these steps"
    )
    parser.add_argument("--forge", choices=("github", "none"), help="default: github.forge")
    parser.add_argument(
        "--force", action="store_true", help="overwrite a released chart/bundle with new content"
    )
    parser.add_argument(
        "--replace-assets", action="store_true", help="replace release assets that differ"
    )
    parser.add_argument(
        "--allow-downgrade", action="store_true", help="promote a version below the current one"
    )
    parser.add_argument("--dist", help="output directory (default: dist_dir from config)")
    parser.add_argument("--json", action="store_true", help="print the run record as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    root = repo_root(args)
    config = repo_config(args)
    env = dict(os.environ)
    register_secrets(config, env)  # before anything could print one
    history = HistorySnapshot(root)  # one read of git for the whole plan (issue 17)
    tag = args.tag or tag_from_env(history, config, env)
    # A component's tag (api/v1.2.0) releases that component: its history, charts, bundles
    # and promotion, into its own dist/<component>/ so two components never share files.
    component = config.component_of_tag(tag)
    config = config.release_config(component)
    dist_dir = Path(args.dist).resolve() if args.dist else root / config.dist_dir
    if component is not None and not args.dist:
        dist_dir = dist_dir / component
    reporter = make_reporter(sys.stderr, env)
    plan = build_plan(history, config, tag, env=env, resolver=resolve_many, component=component)
    if not args.json:
        for line in plan_summary(plan):
            print(f"relkit: plan: {line}", file=sys.stderr)

    options = PublishOptions(
        forge=args.forge or config.github.forge,
        force=args.force,
        replace_assets=args.replace_assets,
        allow_downgrade=args.allow_downgrade,
    )
    if not args.dry_run:
        # A run killed earlier (SIGKILL, CI timeout) may have left scratch in dist/.
        sweep_stale(dist_dir)
    with tempfile.TemporaryDirectory(prefix="relkit-work-") as work:
        context = StepContext(
            plan=plan,
            config=config,
            root=root,
            dist_dir=dist_dir,
            work_dir=Path(work),
            options=options,
            env=env,
        )
        result = run_pipeline(
            STEPS, context, reporter, skip=args.skip, only=args.only, dry_run=args.dry_run
        )
    _report(result, plan_args=(plan, args.dry_run), dist_dir=dist_dir, env=env, as_json=args.json)
    if result.error is not None:
        raise result.error
    return EXIT_OK


def _report(
    result: PipelineResult,
    *,
    plan_args: tuple[Any, bool],
    dist_dir: Path,
    env: dict[str, str],
    as_json: bool,
) -> None:
    plan, dry_run = plan_args
    error: RelkitError | None = result.error
    message = error.message if error else None
    record = run_record(plan, result.records, dry_run=dry_run, error=message)
    if not dry_run:
        write_run_record(dist_dir / RECORD_NAME, record)
    if env.get("GITHUB_OUTPUT"):
        outputs = github_outputs(plan, result.records, dry_run=dry_run, error=message)
        write_github_outputs(Path(env["GITHUB_OUTPUT"]), outputs)
    if env.get("GITHUB_STEP_SUMMARY"):
        with Path(env["GITHUB_STEP_SUMMARY"]).open("a", encoding="utf-8") as summary:
            summary.write(step_summary_markdown(plan, result.records))
    if as_json:
        print(json.dumps(record, indent=2))
    elif dry_run:
        print(f"relkit: dry run of {plan.tag}: nothing was changed")
    elif error is None and not result.changed_anything:
        print(f"relkit: {plan.tag} is already released: nothing to do")
    elif error is None:
        print(f"relkit: released {plan.tag}; record in {dist_dir / RECORD_NAME}")
