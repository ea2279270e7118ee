"""in-toto Statement v1 and SLSA Provenance v1: what relkit built, from what, and how.

Pure: every function takes plain values and returns plain JSON-ready dicts; nothing here
reads the environment directly (the caller passes `env`) or touches the network.

Inside GitHub Actions the predicate is filled the way GitHub's own artifact attestations
(`actions/attest-build-provenance`) fill it, build type
`https://actions.github.io/buildtypes/workflow/v1`, so `gh attestation verify` and policy
engines that read GitHub build provenance need no special case:

    externalParameters.workflow   {ref, repository, path}      from GITHUB_WORKFLOW_REF
    internalParameters.github     {event_name, repository_id, repository_owner_id,
                                   runner_environment}
    resolvedDependencies          git+https://github.com/OWNER/NAME@REF  {gitCommit}
    runDetails.builder.id         https://github.com/OWNER/NAME/.github/workflows/X@REF
    runDetails.metadata           invocationId .../actions/runs/RUN_ID/attempts/ATTEMPT

Outside Actions (a maintainer's laptop, another CI) the build type is relkit's own
`LOCAL_BUILD_TYPE`, documented in the README: the tag, commit and repository as external
parameters, the relkit version as builder version.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from relkit.core.errors import RelkitError
from relkit.core.records import record

__all__ = [
    "COSIGN_SIGN_PREDICATE",
    "CYCLONEDX_PREDICATE",
    "GITHUB_WORKFLOW_BUILD_TYPE",
    "IN_TOTO_PAYLOAD_TYPE",
    "IN_TOTO_STATEMENT_V1",
    "LOCAL_BUILDER_ID",
    "LOCAL_BUILD_TYPE",
    "SLSA_PROVENANCE_V1",
    "BuildSource",
    "Subject",
    "build_source",
    "in_toto_statement",
    "slsa_provenance",
    "subject_digests",
]

IN_TOTO_STATEMENT_V1 = "https://in-toto.io/Statement/v1"
IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
SLSA_PROVENANCE_V1 = "https://slsa.dev/provenance/v1"
CYCLONEDX_PREDICATE = "https://cyclonedx.org/bom"
# What cosign v3 signs for an OCI artifact: a statement about its manifest digest, no predicate.
COSIGN_SIGN_PREDICATE = "https://sigstore.dev/cosign/sign/v1"
GITHUB_WORKFLOW_BUILD_TYPE = "https://actions.github.io/buildtypes/workflow/v1"
# Outside Actions: relkit's own build type, documented in the README ("Provenance").
# URNs, not URLs: relkit has no site that could host the definition.
LOCAL_BUILD_TYPE = "urn:relkit:build-type:local:v1"
LOCAL_BUILDER_ID = "urn:relkit:builder:local"

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_WORKFLOW_REF = re.compile(r"^(?P<repo>[^/@]+/[^/@]+)/(?P<path>[^@]+)@(?P<ref>refs/\S+)$")


@dataclass(frozen=True)
class Subject:
    """One thing the statement is about: a file name or OCI reference, and its sha256."""

    name: str
    sha256: str  # lowercase hex, no "sha256:" prefix

    def __post_init__(self) -> None:
        if not _HEX64.match(self.sha256):
            raise RelkitError(f"subject {self.name!r}: {self.sha256!r} is not a sha256 hex digest")

    @classmethod
    def of(cls, name: str, digest: str) -> Subject:
        """From `sha256:<hex>` (OCI / relkit digests) or bare hex."""
        return cls(name, digest.removeprefix("sha256:"))

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "digest": {"sha256": self.sha256}}


@record
class BuildSource:
    """Where and how the build ran: the facts the predicate records."""

    repository: str | None  # owner/name
    ref: str  # refs/tags/v1.2.3
    commit: str
    server_url: str = "https://github.com"
    # GitHub Actions only (None elsewhere):
    workflow_path: str | None = None  # .github/workflows/release.yml
    workflow_repository: str | None = None  # owner/name the workflow file lives in
    workflow_ref: str | None = None
    event_name: str | None = None
    repository_id: str | None = None
    repository_owner_id: str | None = None
    runner_environment: str | None = None
    run_id: str | None = None
    run_attempt: str | None = None

    @property
    def in_github_actions(self) -> bool:
        return self.workflow_path is not None and self.run_id is not None


def build_source(
    env: Mapping[str, str], *, repository: str | None, tag: str, commit: str
) -> BuildSource:
    """The build facts from a GitHub Actions environment, or the local ones outside it."""
    ref = tag if tag.startswith("refs/") else f"refs/tags/{tag}"
    server = env.get("GITHUB_SERVER_URL") or "https://github.com"
    workflow_ref = env.get("GITHUB_WORKFLOW_REF", "")
    match = _WORKFLOW_REF.match(workflow_ref)
    if env.get("GITHUB_ACTIONS") != "true" or match is None or not env.get("GITHUB_RUN_ID"):
        return BuildSource(repository=repository, ref=ref, commit=commit, server_url=server)
    return BuildSource(
        repository=env.get("GITHUB_REPOSITORY") or repository,
        ref=env.get("GITHUB_REF") or ref,
        commit=env.get("GITHUB_SHA") or commit,
        server_url=server,
        workflow_path=match.group("path"),
        workflow_repository=match.group("repo"),
        workflow_ref=match.group("ref"),
        event_name=env.get("GITHUB_EVENT_NAME"),
        repository_id=env.get("GITHUB_REPOSITORY_ID"),
        repository_owner_id=env.get("GITHUB_REPOSITORY_OWNER_ID"),
        runner_environment=env.get("RUNNER_ENVIRONMENT"),
        run_id=env.get("GITHUB_RUN_ID"),
        run_attempt=env.get("GITHUB_RUN_ATTEMPT") or "1",
    )


def in_toto_statement(
    subjects: Sequence[Subject], predicate_type: str, predicate: Mapping[str, Any]
) -> dict[str, Any]:
    """An in-toto Statement v1 (subjects sorted and de-duplicated, so it is deterministic)."""
    unique = sorted({(s.name, s.sha256) for s in subjects})
    if not unique:
        raise RelkitError("an attestation needs at least one subject")
    return {
        "_type": IN_TOTO_STATEMENT_V1,
        "subject": [Subject(name, sha).to_json() for name, sha in unique],
        "predicateType": predicate_type,
        "predicate": dict(predicate),
    }


def _github_predicate(source: BuildSource) -> dict[str, Any]:
    assert source.workflow_path is not None
    server = source.server_url.rstrip("/")
    workflow_repo = source.workflow_repository or source.repository
    internal = {
        key: value
        for key, value in (
            ("event_name", source.event_name),
            ("repository_id", source.repository_id),
            ("repository_owner_id", source.repository_owner_id),
            ("runner_environment", source.runner_environment),
        )
        if value
    }
    return {
        "buildDefinition": {
            "buildType": GITHUB_WORKFLOW_BUILD_TYPE,
            "externalParameters": {
                "workflow": {
                    "ref": source.workflow_ref or source.ref,
                    "repository": f"{server}/{workflow_repo}",
                    "path": source.workflow_path,
                }
            },
            "internalParameters": {"github": internal},
            "resolvedDependencies": [
                {
                    "uri": f"git+{server}/{source.repository}@{source.ref}",
                    "digest": {"gitCommit": source.commit},
                }
            ],
        },
        "runDetails": {
            "builder": {
                "id": f"{server}/{workflow_repo}/{source.workflow_path}"
                f"@{source.workflow_ref or source.ref}"
            },
            "metadata": {
                "invocationId": f"{server}/{source.repository}/actions/runs/{source.run_id}"
                f"/attempts/{source.run_attempt}"
            },
        },
    }


def _local_predicate(source: BuildSource, relkit_version: str) -> dict[str, Any]:
    repository_url = (
        f"{source.server_url.rstrip('/')}/{source.repository}" if source.repository else None
    )
    external: dict[str, Any] = {"ref": source.ref}
    if repository_url:
        external["repository"] = repository_url
    dependency: dict[str, Any] = {"digest": {"gitCommit": source.commit}}
    if repository_url:
        dependency["uri"] = f"git+{repository_url}@{source.ref}"
    else:
        dependency["name"] = "source"
    return {
        "buildDefinition": {
            "buildType": LOCAL_BUILD_TYPE,
            "externalParameters": external,
            "internalParameters": {},
            "resolvedDependencies": [dependency],
        },
        "runDetails": {"builder": {"id": LOCAL_BUILDER_ID, "version": {"relkit": relkit_version}}},
    }


def slsa_provenance(
    subjects: Sequence[Subject], source: BuildSource, *, relkit_version: str
) -> dict[str, Any]:
    """The SLSA Provenance v1 statement over `subjects` (files and OCI manifests)."""
    predicate = (
        _github_predicate(source)
        if source.in_github_actions
        else _local_predicate(source, relkit_version)
    )
    return in_toto_statement(subjects, SLSA_PROVENANCE_V1, predicate)


def subject_digests(statement: Mapping[str, Any]) -> set[str]:
    """Every `sha256:<hex>` a statement names as subject (for matching against artifacts)."""
    found: set[str] = set()
    for subject in statement.get("subject") or []:
        digest = subject.get("digest") if isinstance(subject, dict) else None
        value = digest.get("sha256") if isinstance(digest, dict) else None
        if isinstance(value, str) and _HEX64.match(value):
            found.add(f"sha256:{value}")
    return found
