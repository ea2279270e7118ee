"""SLSA Provenance v1 statements: filled like GitHub's own, valid against the schema."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relkit.core.errors import RelkitError
from relkit.signing.provenance import (
    GITHUB_WORKFLOW_BUILD_TYPE,
    LOCAL_BUILD_TYPE,
    SLSA_PROVENANCE_V1,
    Subject,
    build_source,
    in_toto_statement,
    slsa_provenance,
    subject_digests,
)
from tests.schemas import slsa_errors

COMMIT = "c" * 40
CHART = hashlib.sha256(b"chart").hexdigest()
BUNDLE = hashlib.sha256(b"bundle").hexdigest()

ACTIONS_ENV = {
    "GITHUB_ACTIONS": "true",
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_REPOSITORY": "acme/shop",
    "GITHUB_REPOSITORY_ID": "123",
    "GITHUB_REPOSITORY_OWNER_ID": "456",
    "GITHUB_REF": "refs/tags/v1.2.3",
    "GITHUB_SHA": COMMIT,
    "GITHUB_WORKFLOW_REF": "acme/shop/.github/workflows/release.yml@refs/tags/v1.2.3",
    "GITHUB_EVENT_NAME": "push",
    "GITHUB_RUN_ID": "987",
    "GITHUB_RUN_ATTEMPT": "2",
    "RUNNER_ENVIRONMENT": "github-hosted",
}


def _subjects() -> list[Subject]:
    return [
        Subject("shop-1.2.3.tgz", CHART),
        Subject.of("shop-1.2.3.tar.gz", f"sha256:{BUNDLE}"),
    ]


def test_github_actions_provenance_is_filled_like_githubs_own() -> None:
    source = build_source(ACTIONS_ENV, repository="acme/shop", tag="v1.2.3", commit=COMMIT)
    statement = slsa_provenance(_subjects(), source, relkit_version="0.1.0")
    assert slsa_errors(statement) == []
    assert statement["predicateType"] == SLSA_PROVENANCE_V1
    build = statement["predicate"]["buildDefinition"]
    assert build["buildType"] == GITHUB_WORKFLOW_BUILD_TYPE
    assert build["externalParameters"] == {
        "workflow": {
            "ref": "refs/tags/v1.2.3",
            "repository": "https://github.com/acme/shop",
            "path": ".github/workflows/release.yml",
        }
    }
    assert build["internalParameters"] == {
        "github": {
            "event_name": "push",
            "repository_id": "123",
            "repository_owner_id": "456",
            "runner_environment": "github-hosted",
        }
    }
    assert build["resolvedDependencies"] == [
        {
            "uri": "git+https://github.com/acme/shop@refs/tags/v1.2.3",
            "digest": {"gitCommit": COMMIT},
        }
    ]
    run = statement["predicate"]["runDetails"]
    assert run["builder"]["id"] == (
        "https://github.com/acme/shop/.github/workflows/release.yml@refs/tags/v1.2.3"
    )
    assert run["metadata"]["invocationId"] == (
        "https://github.com/acme/shop/actions/runs/987/attempts/2"
    )
    assert subject_digests(statement) == {f"sha256:{CHART}", f"sha256:{BUNDLE}"}


def test_outside_actions_the_local_build_type_is_used() -> None:
    source = build_source({}, repository="acme/shop", tag="v1.2.3", commit=COMMIT)
    statement = slsa_provenance(_subjects(), source, relkit_version="0.1.0")
    assert slsa_errors(statement) == []
    build = statement["predicate"]["buildDefinition"]
    assert build["buildType"] == LOCAL_BUILD_TYPE
    assert build["externalParameters"] == {
        "ref": "refs/tags/v1.2.3",
        "repository": "https://github.com/acme/shop",
    }
    assert statement["predicate"]["runDetails"]["builder"]["version"] == {"relkit": "0.1.0"}


def test_without_a_repository_the_source_is_named_by_commit_only() -> None:
    source = build_source({}, repository=None, tag="v1.2.3", commit=COMMIT)
    statement = slsa_provenance(_subjects(), source, relkit_version="0.1.0")
    assert slsa_errors(statement) == []
    assert statement["predicate"]["buildDefinition"]["resolvedDependencies"] == [
        {"digest": {"gitCommit": COMMIT}, "name": "source"}
    ]


def test_a_half_set_actions_environment_is_not_mistaken_for_a_workflow_build() -> None:
    env = {k: v for k, v in ACTIONS_ENV.items() if k != "GITHUB_WORKFLOW_REF"}
    source = build_source(env, repository="acme/shop", tag="v1.2.3", commit=COMMIT)
    assert not source.in_github_actions


def test_subjects_are_sorted_and_deduplicated_so_statements_are_deterministic() -> None:
    twice = [*_subjects(), *reversed(_subjects())]
    statement = in_toto_statement(twice, SLSA_PROVENANCE_V1, {})
    assert [s["name"] for s in statement["subject"]] == ["shop-1.2.3.tar.gz", "shop-1.2.3.tgz"]


@pytest.mark.parametrize("bad", ["", "sha256:abc", "A" * 64, "g" * 64])
def test_a_subject_digest_must_be_sha256_hex(bad: str) -> None:
    with pytest.raises(RelkitError, match="not a sha256 hex digest"):
        Subject.of("x", bad)


def test_a_statement_needs_a_subject() -> None:
    with pytest.raises(RelkitError, match="at least one subject"):
        in_toto_statement([], SLSA_PROVENANCE_V1, {})


def test_the_schema_rejects_a_statement_without_a_builder() -> None:
    source = build_source({}, repository="acme/shop", tag="v1.2.3", commit=COMMIT)
    statement = slsa_provenance(_subjects(), source, relkit_version="0.1.0")
    del statement["predicate"]["runDetails"]["builder"]
    assert slsa_errors(statement)


@settings(max_examples=60, derandomize=True, deadline=None)
@given(
    st.one_of(
        st.none(),
        st.text(max_size=20),
        st.lists(st.dictionaries(st.text(max_size=5), st.text(max_size=70), max_size=3)),
        st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    )
)
def test_subject_digests_never_fails_on_hostile_statements(subject: object) -> None:
    found = subject_digests({"subject": subject} if subject is not None else {})
    assert all(d.startswith("sha256:") and len(d) == 71 for d in found)
