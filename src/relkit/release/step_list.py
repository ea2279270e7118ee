"""The five publish steps of `relkit release`, in order, as pipeline `Step`s.

chart → bundle → attest → release → promote: nothing user-visible points at something not yet
published. The release stays a draft until its assets are up; the promotion PR is opened last,
with the digests that now exist.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from relkit.adapters.github import GitHubClient
from relkit.core.errors import ConfigError
from relkit.core.model import ImagePin, StepOutcome, StepRecord
from relkit.release.pipeline import Step, StepContext
from relkit.release.preflight import check_attest, check_chart, check_promote, check_release
from relkit.release.steps import attest as attest_step
from relkit.release.steps import bundle as bundle_step
from relkit.release.steps.chart import describe_chart, publish_chart
from relkit.release.steps.github_release import (
    describe_github_release,
    publish_github_release,
    write_local_release,
)
from relkit.release.steps.promote import app_name_of, chart_version_of, describe_promotion, promote

__all__ = ["STEPS", "STEP_NAMES"]

# Files of earlier steps that become release assets, in upload order.
_ASSET_KINDS = (
    "bundle",
    "signature",
    "sigstore-bundle",
    "sums",
    "digests",
    "chart",
    # step "attest": provenance, SBOM and its attestation
    "provenance",
    "sbom",
    "sbom-attestation",
)


def _chart_image(context: StepContext, image: str | None) -> ImagePin | None:
    if image is None:
        return None
    try:
        return context.plan.image(image)
    except KeyError:
        raise ConfigError(
            f"charts[].image {image!r} is not an image of this release",
            hint="name one of the bundles[].images",
        ) from None


def _run_chart(context: StepContext) -> StepRecord:
    charts = context.config.charts
    if not charts:
        return StepRecord("chart", StepOutcome.SKIPPED, "no charts configured")
    records = [
        publish_chart(
            chart,
            context.plan.version,
            workdir=context.work_dir,
            dist_dir=context.dist_dir,
            image_pin=_chart_image(context, chart.image),
            force=context.options.force,
            root=context.root,
            source_time=context.plan.committed_at,
        )
        for chart in charts
    ]
    return _combine("chart", records)


def _describe_chart(context: StepContext) -> list[str]:
    if not context.config.charts:
        return ["nothing: no charts configured"]
    return [
        line
        for chart in context.config.charts
        for line in describe_chart(
            chart,
            context.plan.version,
            image_pin=_chart_image(context, chart.image),
            force=context.options.force,
            root=context.root,
            dist_dir=context.dist_dir,
        )
    ]


def _combine(name: str, records: list[StepRecord]) -> StepRecord:
    done = any(r.outcome is StepOutcome.DONE for r in records)
    return StepRecord(
        name,
        StepOutcome.DONE if done else StepOutcome.ALREADY_DONE,
        "; ".join(r.detail for r in records if r.detail),
        artifacts=tuple(a for r in records for a in r.artifacts),
    )


def _assets(context: StepContext) -> list[Path]:
    """Release assets: the files earlier steps wrote to dist/, bundle first."""
    seen: dict[str, Path] = {}
    for kind in _ASSET_KINDS:
        for artifact in context.artifacts(kind):
            if artifact.path and Path(artifact.path).is_file():
                seen.setdefault(Path(artifact.path).name, Path(artifact.path))
    return list(seen.values())


def _api_url(context: StepContext) -> str:
    """`github.api_url`, else `$GITHUB_API_URL` (Actions sets it, on GHES too), else github.com."""
    return (
        context.config.github.api_url
        or context.env.get("GITHUB_API_URL")
        or "https://api.github.com"
    )


def _github_repo(context: StepContext) -> str:
    repo = context.plan.repository
    if not repo:
        raise ConfigError(
            "github.repository is not set and GITHUB_REPOSITORY is empty",
            hint="set github.repository = 'owner/name', or use --forge none",
        )
    return repo


def _run_release(context: StepContext) -> StepRecord:
    assets = _assets(context)
    if context.options.forge == "none":
        return write_local_release(
            context.plan, assets, context.dist_dir, replace_assets=context.options.replace_assets
        )
    client = GitHubClient.from_env(context.env, _api_url(context))
    record = publish_github_release(
        client,
        _github_repo(context),
        context.plan,
        assets,
        replace_assets=context.options.replace_assets,
    )
    return _with_github_attestations(context, client, record)


def _with_github_attestations(
    context: StepContext, client: GitHubClient, record: StepRecord
) -> StepRecord:
    """Keyless attestations also go to GitHub's attestations API; failure only warns."""
    if context.config.signing.mode != "keyless":
        return record  # GitHub accepts Sigstore-certified bundles only, not key-signed ones
    bundles = [
        Path(a.path)
        for kind in ("provenance", "sbom-attestation")
        for a in context.artifacts(kind)
        if a.path
    ]
    warnings = attest_step.store_on_github(client, _github_repo(context), bundles)
    if not warnings:
        return record
    detail = "; ".join([record.detail, *warnings]) if record.detail else "; ".join(warnings)
    return StepRecord(record.name, record.outcome, detail, record.duration_s, record.artifacts)


def _describe_release(context: StepContext) -> list[str]:
    if context.options.forge == "none":
        return [f"write release notes and assets to {context.dist_dir / 'release'}"]
    # Assets are only known once the earlier steps ran: name them by kind.
    lines = describe_github_release(_github_repo(context), context.plan, [])
    return [lines[0], "upload the chart, bundle, signature, SHA256SUMS and digests.txt", *lines[1:]]


def _chart_version(context: StepContext) -> str | None:
    return chart_version_of(context.config, context.plan, context.artifacts())


def _release_url(context: StepContext) -> str | None:
    found = [a.url for a in context.artifacts("release") if a.url]
    return found[0] if found else None


def _run_promote(context: StepContext) -> StepRecord:
    config = context.config.promote
    if config is None:
        return StepRecord("promote", StepOutcome.SKIPPED, "no promote configured")
    github = None
    if context.options.forge != "none":
        names = (config.token_env, "GITHUB_TOKEN", "GH_TOKEN")
        github = GitHubClient.from_env(context.env, _api_url(context), names)
    return promote(
        context.plan,
        config,
        github=github,
        workdir=context.work_dir,
        chart_version=_chart_version(context),
        release_url=_release_url(context),
        allow_downgrade=context.options.allow_downgrade,
        env=context.env,
        artifacts=tuple(context.artifacts()),
        template_dir=_template_dir(context),
        app=app_name_of(context.root, context.config),
    )


def _template_dir(context: StepContext) -> Path | None:
    configured = context.config.changelog.template_dir
    return context.root / configured if configured else None


def _describe_promote(context: StepContext) -> list[str]:
    config = context.config.promote
    if config is None:
        return ["nothing: no promote configured"]
    return describe_promotion(
        context.plan,
        config,
        forge=context.options.forge,
        chart_version=_chart_version(context),
        env=context.env,
    )


STEPS: tuple[Step, ...] = (
    Step(
        "chart",
        "package the Helm chart and push it to OCI",
        _run_chart,
        _describe_chart,
        check_chart,
    ),
    bundle_step.STEP,
    replace(attest_step.STEP, check=check_attest),
    Step(
        "release",
        "release notes and assets (draft, upload, publish)",
        _run_release,
        _describe_release,
        check_release,
    ),
    Step(
        "promote", "open the staging promotion PR", _run_promote, _describe_promote, check_promote
    ),
)
STEP_NAMES: tuple[str, ...] = tuple(step.name for step in STEPS)
