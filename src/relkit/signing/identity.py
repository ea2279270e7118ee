"""Who signed: the certificate identity and issuer a keyless signature is checked against.

A keyless signature made in GitHub Actions carries a Fulcio certificate whose identity (the
URI subject alternative name) is the workflow that ran, at the ref it ran for:

    https://github.com/OWNER/NAME/.github/workflows/release.yml@refs/tags/v1.2.3

and whose issuer is GitHub's OIDC provider, `https://token.actions.githubusercontent.com`.
A self-hoster pins both: the identity says "built by this repository's release workflow",
the issuer says "as vouched for by GitHub". When the tag is not known in advance, a regular
expression over the identity (cosign's `--certificate-identity-regexp`) matches any tag.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from relkit.errors import UsageError

__all__ = [
    "DEFAULT_RELEASE_WORKFLOW",
    "GITHUB_ACTIONS_ISSUER",
    "VerifiedIdentity",
    "release_workflow_identity",
    "release_workflow_identity_regexp",
]

GITHUB_ACTIONS_ISSUER = "https://token.actions.githubusercontent.com"
DEFAULT_RELEASE_WORKFLOW = ".github/workflows/release.yml"

# GitHub's rules: owner is alphanumerics and '-', repository names add '.' and '_'.
_REPO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*/(?!\.\.?$)[A-Za-z0-9._-]+$")
_WORKFLOW = re.compile(r"^\.github/workflows/[A-Za-z0-9._/-]+\.ya?ml$")


@dataclass(frozen=True)
class VerifiedIdentity:
    """What a successful keyless verification established about the signer."""

    identity: str  # the certificate's identity (SAN) that matched
    issuer: str  # the OIDC issuer recorded in the certificate
    log_index: int  # the Rekor transparency-log entry that records the signature
    integrated_time: int  # when Rekor logged it (Unix seconds)


def _check_repo_and_workflow(repo: str, workflow: str) -> None:
    if not _REPO.match(repo):
        raise UsageError(
            f"repository {repo!r} is not in owner/name form", hint="e.g. --repo acme/shop"
        )
    if not _WORKFLOW.match(workflow):
        raise UsageError(
            f"workflow {workflow!r} is not a path under .github/workflows/",
            hint="e.g. .github/workflows/release.yml",
        )


def _full_ref(ref: str) -> str:
    # A bare tag name is what people type; the certificate holds the full ref.
    return ref if ref.startswith("refs/") else f"refs/tags/{ref}"


def release_workflow_identity(
    repo: str, workflow: str = DEFAULT_RELEASE_WORKFLOW, ref: str | None = None
) -> str:
    """The exact certificate identity of `repo`'s release workflow run for `ref`.

    `ref` is a tag name (`v1.2.3`, expanded to `refs/tags/v1.2.3`) or a full ref
    (`refs/heads/main`). Without a ref the identity cannot be exact: use
    `release_workflow_identity_regexp` instead.
    """
    _check_repo_and_workflow(repo, workflow)
    if ref is None:
        raise UsageError(
            "the exact release workflow identity needs the tag it ran for",
            hint="pass the tag (e.g. v1.2.3), or match any tag with the identity regexp",
        )
    return f"https://github.com/{repo}/{workflow}@{_full_ref(ref)}"


def release_workflow_identity_regexp(repo: str, workflow: str = DEFAULT_RELEASE_WORKFLOW) -> str:
    """A regexp matching `repo`'s release workflow identity for any tag (never a branch)."""
    _check_repo_and_workflow(repo, workflow)
    return f"^{re.escape(f'https://github.com/{repo}/{workflow}@refs/tags/')}.+$"
