"""Who signed: the certificate identity and issuer a keyless signature is checked against.

A keyless signature made in GitHub Actions carries a Fulcio certificate whose identity (the
URI subject alternative name) is the workflow that ran, at the ref it ran for:

    https://github.com/OWNER/NAME/.github/workflows/release.yml@refs/tags/v1.2.3

and whose issuer is GitHub's OIDC provider, `https://token.actions.githubusercontent.com`.
A self-hoster pins both: the identity says "built by this repository's release workflow",
the issuer says "as vouched for by GitHub". When the tag is not known in advance, a regular
expression over the identity (cosign's `--certificate-identity-regexp`) matches any tag.

The identity alone is not enough. It names the workflow *file* that ran, and a workflow
that other repositories may call (`on: workflow_call`) yields the same identity when
`evil/fork` calls `acme/shop/.github/workflows/release.yml@refs/tags/v1.0.0`. Who ran it is
in Fulcio's certificate extensions (sigstore/fulcio docs/oid-info.md): the Source
Repository URI (`https://github.com/OWNER/NAME`, from the token's `repository` claim) and
the Source Repository Ref (`refs/tags/v1.0.0`, from `ref`). A repository policy checks
both (issue 9 item 2).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from cryptography.hazmat import asn1
from cryptography.x509 import (
    Certificate,
    ExtensionNotFound,
    ObjectIdentifier,
    OtherName,
    RFC822Name,
    SubjectAlternativeName,
    UniformResourceIdentifier,
    UnrecognizedExtension,
)

from relkit.core.errors import RelkitError, UsageError
from relkit.core.records import record

__all__ = [
    "DEFAULT_RELEASE_WORKFLOW",
    "GITHUB_ACTIONS_ISSUER",
    "CertificateFacts",
    "ExpectedSigner",
    "SourceRequirement",
    "VerifiedIdentity",
    "certificate_tag",
    "check_source",
    "decode_utf8_string",
    "github_source",
    "read_certificate",
    "release_workflow_identity",
    "release_workflow_identity_regexp",
    "signer_of_token",
]

GITHUB_ACTIONS_ISSUER = "https://token.actions.githubusercontent.com"
DEFAULT_RELEASE_WORKFLOW = ".github/workflows/release.yml"

# GitHub's rules: owner is alphanumerics and '-', repository names add '.' and '_'.
_REPO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*/(?!\.\.?$)[A-Za-z0-9._-]+$")
_WORKFLOW = re.compile(r"^\.github/workflows/[A-Za-z0-9._/-]+\.ya?ml$")


# Fulcio's extensions. .1.1 to .1.6 hold the raw string bytes; .1.7 is the other-name SAN;
# .1.8 and later hold a DER-encoded UTF8String (tag 0x0C, universal class).
OID_ISSUER_V1 = ObjectIdentifier("1.3.6.1.4.1.57264.1.1")
OID_OTHERNAME_SAN = ObjectIdentifier("1.3.6.1.4.1.57264.1.7")
OID_ISSUER_V2 = ObjectIdentifier("1.3.6.1.4.1.57264.1.8")
OID_SOURCE_REPOSITORY_URI = ObjectIdentifier("1.3.6.1.4.1.57264.1.12")
OID_SOURCE_REPOSITORY_REF = ObjectIdentifier("1.3.6.1.4.1.57264.1.14")

_TAG_REF = "refs/tags/"


@record
class VerifiedIdentity:
    """What a successful keyless verification established, as read from the certificate."""

    identity: str  # the certificate's identity (SAN) that matched
    issuer: str  # the OIDC issuer recorded in the certificate
    log_index: int  # the Rekor transparency-log entry that records the signature
    integrated_time: int  # when Rekor logged it (Unix seconds)
    source_repository: str | None = None  # Source Repository URI extension, if present
    source_ref: str | None = None  # Source Repository Ref extension, if present


@record
class CertificateFacts:
    """What a Fulcio certificate says about its subject, read from the certificate."""

    identities: tuple[str, ...]  # every SAN: URIs, emails, Sigstore other names
    issuer: str | None  # issuer v2 extension, else v1
    source_repository: str | None
    source_ref: str | None


@record
class SourceRequirement:
    """What the Source Repository extensions of the certificate must say."""

    repository: str  # the exact Source Repository URI, https://github.com/OWNER/NAME
    ref: str | None  # the exact Source Repository Ref; None: any tag (refs/tags/...)


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


def github_source(repo: str, tag: str | None = None) -> SourceRequirement:
    """`--repo OWNER/NAME [--tag T]`: built from that repository, for that tag (or any tag)."""
    _check_repo_and_workflow(repo, DEFAULT_RELEASE_WORKFLOW)
    return SourceRequirement(
        repository=f"https://github.com/{repo}", ref=_full_ref(tag) if tag is not None else None
    )


def decode_utf8_string(der: bytes, what: str) -> str:
    """The text of a DER UTF8String (a v2 Fulcio extension value); `RelkitError` if not one."""
    try:
        value = asn1.decode_der(str, der)
    except ValueError:
        raise RelkitError(
            f"the signing certificate's {what} extension is not a DER UTF8String"
        ) from None
    if not isinstance(value, str):  # defensive: decode_der(str, ...) returns str
        raise RelkitError(f"the signing certificate's {what} extension is not text")
    return value


def _extension_bytes(cert: Certificate, oid: ObjectIdentifier) -> bytes | None:
    try:
        value = cert.extensions.get_extension_for_oid(oid).value
    except ExtensionNotFound:
        return None
    if not isinstance(value, UnrecognizedExtension):
        raise RelkitError(f"the signing certificate's extension {oid.dotted_string} is malformed")
    return value.value


def _v2_text(cert: Certificate, oid: ObjectIdentifier, what: str) -> str | None:
    raw = _extension_bytes(cert, oid)
    return None if raw is None else decode_utf8_string(raw, what)


def _v1_text(cert: Certificate, oid: ObjectIdentifier, what: str) -> str | None:
    raw = _extension_bytes(cert, oid)
    if raw is None:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RelkitError(f"the signing certificate's {what} extension is not UTF-8") from None


def _identities(cert: Certificate) -> tuple[str, ...]:
    try:
        san = cert.extensions.get_extension_for_class(SubjectAlternativeName).value
    except ExtensionNotFound:
        return ()
    names: list[str] = list(san.get_values_for_type(UniformResourceIdentifier))
    names += san.get_values_for_type(RFC822Name)
    names += [
        other.value.decode("utf-8", "replace")
        for other in san.get_values_for_type(OtherName)
        if other.type_id == OID_OTHERNAME_SAN
    ]
    return tuple(names)


def read_certificate(cert: Certificate) -> CertificateFacts:
    """Identity, issuer and source repository/ref as the certificate states them."""
    issuer_v1 = _v1_text(cert, OID_ISSUER_V1, "issuer")
    issuer_v2 = _v2_text(cert, OID_ISSUER_V2, "issuer (v2)")
    if issuer_v1 is not None and issuer_v2 is not None and issuer_v1 != issuer_v2:
        # Fulcio writes both from the same claim; a disagreement is not a Fulcio certificate.
        raise RelkitError("the signing certificate names two different OIDC issuers")
    return CertificateFacts(
        identities=_identities(cert),
        issuer=issuer_v2 if issuer_v2 is not None else issuer_v1,
        source_repository=_v2_text(cert, OID_SOURCE_REPOSITORY_URI, "source repository URI"),
        source_ref=_v2_text(cert, OID_SOURCE_REPOSITORY_REF, "source repository ref"),
    )


def check_source(facts: CertificateFacts, required: SourceRequirement) -> None:
    """Refuse a certificate issued to a run of another repository, or for another ref."""
    if facts.source_repository is None:
        raise RelkitError(
            "the signing certificate has no source repository extension"
            f" ({OID_SOURCE_REPOSITORY_URI.dotted_string})",
            hint="it was not issued by Fulcio for a GitHub Actions run",
        )
    if facts.source_repository != required.repository:
        raise RelkitError(
            f"the signature was made by a workflow run in {facts.source_repository},"
            f" not in {required.repository}",
            hint="the release workflow was called from another repository"
            " (a reusable workflow): this is not the publisher's release",
        )
    ref = facts.source_ref
    if ref is None:
        raise RelkitError(
            "the signing certificate has no source repository ref extension"
            f" ({OID_SOURCE_REPOSITORY_REF.dotted_string})"
        )
    if required.ref is not None and ref != required.ref:
        raise RelkitError(
            f"the signature was made by a run for {ref}, not for {required.ref}",
            hint="check the tag you asked for (--tag)",
        )
    if required.ref is None and (not ref.startswith(_TAG_REF) or ref == _TAG_REF):
        raise RelkitError(
            f"the signature was made by a run for {ref}, not for a tag",
            hint="releases are signed by a run for their tag",
        )


def certificate_tag(verified: VerifiedIdentity) -> str | None:
    """The tag whose run signed (from the Source Repository Ref), or None if not a tag."""
    ref = verified.source_ref
    if ref is None or not ref.startswith(_TAG_REF) or ref == _TAG_REF:
        return None
    return ref[len(_TAG_REF) :]


@record
class ExpectedSigner:
    """Who a Fulcio certificate for an identity token names: identity, issuer, source."""

    identity: str
    issuer: str
    source: SourceRequirement | None


_MAX_TOKEN = 64 * 1024


def _token_claims(token: str) -> dict[str, Any]:
    # Only our own token's claims are read, to know whom *we* sign as; Fulcio checks its
    # signature. Never echo the token in an error: it is a bearer secret.
    parts = token.split(".")
    if len(token) > _MAX_TOKEN or len(parts) != 3:
        raise RelkitError("the OIDC identity token is not a JWT")
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(payload)
    except (binascii.Error, ValueError, RecursionError):
        raise RelkitError("the OIDC identity token's claims are not JSON") from None
    if not isinstance(claims, dict):
        raise RelkitError("the OIDC identity token's claims are not a JSON object")
    return claims


def _claim(claims: dict[str, Any], name: str) -> str | None:
    value = claims.get(name)
    return value if isinstance(value, str) and value else None


def signer_of_token(token: str) -> ExpectedSigner:
    """The identity, issuer and (GitHub Actions) source Fulcio certifies for `token`.

    Mirrors Fulcio's mapping: a GitHub Actions token becomes
    `https://github.com/<job_workflow_ref>` with the `repository` and `ref` claims as the
    Source Repository URI and Ref; other issuers' tokens become their `email` or `sub`.
    """
    claims = _token_claims(token)
    issuer = _claim(claims, "iss")
    if issuer is None:
        raise RelkitError("the OIDC identity token has no issuer (iss) claim")
    if issuer == GITHUB_ACTIONS_ISSUER:
        workflow, repository, ref = (
            _claim(claims, name) for name in ("job_workflow_ref", "repository", "ref")
        )
        if workflow is None or repository is None or ref is None:
            raise RelkitError(
                "the GitHub Actions identity token lacks job_workflow_ref, repository or ref"
            )
        return ExpectedSigner(
            identity=f"https://github.com/{workflow}",
            issuer=issuer,
            source=SourceRequirement(repository=f"https://github.com/{repository}", ref=ref),
        )
    subject = _claim(claims, "email") or _claim(claims, "sub")
    if subject is None:
        raise RelkitError("the OIDC identity token has neither an email nor a sub claim")
    return ExpectedSigner(identity=subject, issuer=issuer, source=None)
