"""The release workflow identity a self-hoster pins, exact and as a regexp."""

from __future__ import annotations

import re

import pytest

from relkit.errors import UsageError
from relkit.signing.identity import (
    GITHUB_ACTIONS_ISSUER,
    release_workflow_identity,
    release_workflow_identity_regexp,
)


def test_exact_identity_for_a_tag() -> None:
    assert release_workflow_identity("acme/shop", ref="v1.2.3") == (
        "https://github.com/acme/shop/.github/workflows/release.yml@refs/tags/v1.2.3"
    )
    assert GITHUB_ACTIONS_ISSUER == "https://token.actions.githubusercontent.com"


@pytest.mark.parametrize(
    ("workflow", "ref", "expected_tail"),
    [
        (".github/workflows/release.yml", "refs/tags/v2.0.0", "release.yml@refs/tags/v2.0.0"),
        (".github/workflows/publish.yaml", "api/v1.0.0", "publish.yaml@refs/tags/api/v1.0.0"),
        (".github/workflows/release.yml", "refs/heads/main", "release.yml@refs/heads/main"),
    ],
)
def test_exact_identity_workflow_and_ref_forms(workflow: str, ref: str, expected_tail: str) -> None:
    identity = release_workflow_identity("Acme-Corp/shop_api.v2", workflow, ref)
    assert identity == f"https://github.com/Acme-Corp/shop_api.v2/.github/workflows/{expected_tail}"


def test_exact_identity_needs_the_ref() -> None:
    with pytest.raises(UsageError, match="needs the tag") as info:
        release_workflow_identity("acme/shop")
    assert info.value.hint is not None and "regexp" in info.value.hint


@pytest.mark.parametrize(
    "repo",
    ["acme", "acme/shop/extra", "https://github.com/acme/shop", "-acme/shop", "acme/", "acme/.."],
)
def test_repository_must_be_owner_slash_name(repo: str) -> None:
    with pytest.raises(UsageError, match="owner/name"):
        release_workflow_identity(repo, ref="v1.0.0")
    with pytest.raises(UsageError, match="owner/name"):
        release_workflow_identity_regexp(repo)


@pytest.mark.parametrize(
    "workflow", ["release.yml", ".github/workflows/../x.sh", "workflows/a.yml"]
)
def test_workflow_must_be_a_workflow_file(workflow: str) -> None:
    with pytest.raises(UsageError, match="not a path under .github/workflows/"):
        release_workflow_identity("acme/shop", workflow, "v1.0.0")


@pytest.mark.parametrize(
    ("identity", "matches"),
    [
        ("https://github.com/acme/shop/.github/workflows/release.yml@refs/tags/v1.2.3", True),
        ("https://github.com/acme/shop/.github/workflows/release.yml@refs/tags/api/v1.0.0", True),
        ("https://github.com/acme/shop/.github/workflows/release.yml@refs/heads/main", False),
        ("https://github.com/acme/shop/.github/workflows/release.yml@refs/tags/", False),
        ("https://github.com/acme/shopx/.github/workflows/release.yml@refs/tags/v1", False),
        ("https://github.com/acme/shop/.github/workflows/releaseXyml@refs/tags/v1", False),
        ("https://github.com/evil/acme/shop/.github/workflows/release.yml@refs/tags/v1", False),
        ("https://github.com/acme/shop/.github/workflows/ci.yml@refs/tags/v1.2.3", False),
    ],
)
def test_identity_regexp_matches_only_tag_runs_of_the_workflow(
    identity: str, matches: bool
) -> None:
    # Unanchored search, as cosign's --certificate-identity-regexp does: anchors do the work.
    pattern = re.compile(release_workflow_identity_regexp("acme/shop"))
    assert bool(pattern.search(identity)) is matches
