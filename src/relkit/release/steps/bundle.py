"""Pipeline step "bundle": build, sign and publish every configured self-host bundle."""

from __future__ import annotations

from pathlib import Path

from relkit.bundle.publish import TRUST_CONFIG_ENV, describe_bundle, publish_bundle
from relkit.core.model import StepOutcome, StepRecord
from relkit.history.changelog import changelog_renderer
from relkit.release.pipeline import Step, StepContext
from relkit.release.preflight import check_bundle

__all__ = ["STEP", "describe", "run"]


def run(context: StepContext) -> StepRecord:
    """Publish each bundle in order; one record for the step, with every artifact."""
    bundles = context.config.bundles
    if not bundles:
        return StepRecord("bundle", StepOutcome.SKIPPED, "no bundles configured")
    trust = context.env.get(TRUST_CONFIG_ENV)
    # The same templates as `relkit bundle build`: changelog.template_dir overrides by name.
    renderer = changelog_renderer(context.config, context.root)
    records = [
        publish_bundle(
            bundle,
            context.plan,
            repo_root=context.root,
            dist_dir=context.dist_dir,
            signing=context.config.signing,
            env=context.env,
            trust_config=Path(trust) if trust else None,
            force=context.options.force,
            renderer=renderer,
        )
        for bundle in bundles
    ]
    done = any(record.outcome is StepOutcome.DONE for record in records)
    return StepRecord(
        name="bundle",
        outcome=StepOutcome.DONE if done else StepOutcome.ALREADY_DONE,
        detail="; ".join(record.detail for record in records),
        artifacts=tuple(artifact for record in records for artifact in record.artifacts),
    )


def describe(context: StepContext) -> list[str]:
    if not context.config.bundles:
        return ["nothing: no bundles configured"]
    return [
        f"{bundle.name}: {action}"
        for bundle in context.config.bundles
        for action in describe_bundle(
            bundle,
            context.plan,
            repo_root=context.root,
            dist_dir=context.dist_dir,
            signing=context.config.signing,
        )
    ]


STEP = Step(
    name="bundle",
    summary="build, sign and publish the self-host Compose bundle(s)",
    run=run,
    describe=describe,
    check=check_bundle,
)
