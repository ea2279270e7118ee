"""Check every credential the selected publish steps need, before anything is published.

A release used to find a missing credential only in the step that used it: without
`id-token: write`, keyless signing failed in the bundle step after the chart was pushed
(issue 12 §3). Each step now declares what it will need, and `run_pipeline` checks all of
them for the selected steps first; a missing or refused one is a one-line error (exit 1)
naming it, and nothing is published.

- chart, bundle: push access to each target repository, by the registry's `/v2/`
  handshake with the Docker config's credentials (Basic, or a token asked for `pull,push`);
  without an entry, only a registry that answers `/v2/` anonymously passes;
- bundle, attest: the signing key is readable and decrypts with its password; keyless: the
  Actions OIDC token service is configured and hands out a token (attest also needs push
  access to the chart and bundle repositories, for its referrers);
- release: the GitHub token is set and accepted (`GET /repos/OWNER/NAME`);
- promote: the GitOps token is set and accepted (`GET /repos/` of the GitOps repository).

Every secret a run holds is registered with `relkit.core.redact` first, so no check (and no
later step) can show one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from relkit.adapters.github import GitHubClient
from relkit.adapters.registry import Reference, RegistryClient
from relkit.bundle.publish import bundle_oci_reference
from relkit.core.config import RelkitConfig
from relkit.core.errors import RelkitError
from relkit.core.redact import register_env_secrets
from relkit.release.pipeline import StepContext
from relkit.release.steps.chart import chart_push_reference
from relkit.signing.ambient import check_github_actions_oidc
from relkit.signing.facade import signer_for

__all__ = [
    "SECRET_ENV",
    "PreflightError",
    "check_attest",
    "check_bundle",
    "check_chart",
    "check_promote",
    "check_release",
    "github_api_url",
    "register_secrets",
]

# Variables that hold secrets whatever the configuration says.
SECRET_ENV = (
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "RELKIT_GITHUB_APP_PRIVATE_KEY",
)


class PreflightError(RelkitError):
    """A credential a selected step needs is missing or refused; nothing was published."""


def register_secrets(config: RelkitConfig, env: Mapping[str, str]) -> None:
    """Mask every secret this run can hold, before anything could print one."""
    names = [*SECRET_ENV, config.signing.key_password_env]
    if config.promote is not None:
        names.append(config.promote.token_env)
    register_env_secrets(env, names)


@contextmanager
def _checking(step: str, what: str) -> Iterator[None]:
    try:
        yield
    except RelkitError as exc:
        raise PreflightError(
            f"preflight for step {step}: {what}: {exc.message}", exc.hint
        ) from None


def _check_push(step: str, references: list[Reference]) -> None:
    if not references:
        return
    with RegistryClient() as client:
        for ref in dict.fromkeys(references):
            with _checking(step, f"push access to oci://{ref.name}"):
                client.check_push_access(ref)


def _chart_targets(context: StepContext) -> list[Reference]:
    return [
        chart_push_reference(chart, context.plan.version, root=context.root)
        for chart in context.config.charts
    ]


def _bundle_targets(context: StepContext) -> list[Reference]:
    targets = [bundle_oci_reference(bundle, context.plan) for bundle in context.config.bundles]
    return [Reference.parse(target) for target in targets if target]


def _check_signing(step: str, context: StepContext, *, keyless_outside_actions: bool) -> None:
    signing = context.config.signing
    if signing.mode == "key":
        with _checking(step, "signing key"):
            signer_for(signing, env=context.env)  # reads the key and decrypts it
    elif signing.mode == "keyless":
        if not keyless_outside_actions and context.env.get("GITHUB_ACTIONS") != "true":
            return
        with _checking(step, "keyless signing"):
            check_github_actions_oidc(context.env)


def check_chart(context: StepContext) -> None:
    _check_push("chart", _chart_targets(context))


def check_bundle(context: StepContext) -> None:
    if not context.config.bundles:
        return
    _check_signing("bundle", context, keyless_outside_actions=True)
    _check_push("bundle", _bundle_targets(context))


def check_attest(context: StepContext) -> None:
    """The attest step signs, then attaches referrers to the chart and bundle manifests."""
    if context.config.signing.mode == "none":
        return
    if not context.config.charts and not context.config.bundles:
        return
    # Outside Actions the attest step skips keyless signing (there is no token to take).
    _check_signing("attest", context, keyless_outside_actions=False)
    _check_push("attest", [*_chart_targets(context), *_bundle_targets(context)])


def github_api_url(context: StepContext) -> str:
    """The same API URL the publish steps use (config, `$GITHUB_API_URL`, github.com)."""
    return (
        context.config.github.api_url
        or context.env.get("GITHUB_API_URL")
        or "https://api.github.com"
    )


def _check_github(
    step: str, what: str, context: StepContext, repo: str, names: tuple[str, ...]
) -> None:
    with _checking(step, what):
        client = GitHubClient.from_env(context.env, github_api_url(context), names)
        client.default_branch(repo)  # one authenticated GET /repos/OWNER/NAME


def check_release(context: StepContext) -> None:
    if context.options.forge == "none":
        return
    repo = context.plan.repository
    if not repo:
        raise PreflightError(
            "preflight for step release: github.repository is not set and GITHUB_REPOSITORY"
            " is empty",
            hint="set github.repository = 'owner/name', or use --forge none",
        )
    _check_github("release", "GitHub token", context, repo, ("GITHUB_TOKEN", "GH_TOKEN"))


def check_promote(context: StepContext) -> None:
    config = context.config.promote
    if config is None or context.options.forge == "none":
        return
    names = (config.token_env, "GITHUB_TOKEN", "GH_TOKEN")
    what = f"GitOps token ({config.token_env}, else GITHUB_TOKEN / GH_TOKEN)"
    _check_github("promote", what, context, config.repository, names)
