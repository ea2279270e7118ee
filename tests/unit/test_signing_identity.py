"""The release workflow identity a self-hoster pins, exact and as a regexp."""

from __future__ import annotations

import base64
import datetime
import json
import re

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from relkit.core.errors import RelkitError, UsageError
from relkit.signing.identity import (
    GITHUB_ACTIONS_ISSUER,
    CertificateFacts,
    ExpectedSigner,
    SourceRequirement,
    VerifiedIdentity,
    certificate_tag,
    check_source,
    decode_utf8_string,
    github_source,
    read_certificate,
    release_workflow_identity,
    release_workflow_identity_regexp,
    signer_of_token,
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


# ------------------------------------ what a Fulcio certificate says (issue 9 item 2)


def _der_utf8(text: str) -> bytes:
    """DER UTF8String, written out by hand so the test does not trust the decoder."""
    data = text.encode("utf-8")
    if len(data) < 0x80:
        length = bytes([len(data)])
    else:
        size = (len(data).bit_length() + 7) // 8
        length = bytes([0x80 | size]) + len(data).to_bytes(size, "big")
    return b"\x0c" + length + data


def _certificate(
    extensions: dict[str, bytes], san: str = "https://github.com/acme/shop/x"
) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test")])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(minutes=10))
        .add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(san)]), critical=True
        )
    )
    for oid, value in extensions.items():
        builder = builder.add_extension(
            x509.UnrecognizedExtension(x509.ObjectIdentifier(oid), value), critical=False
        )
    return builder.sign(key, hashes.SHA256())


ISSUER_V1, ISSUER_V2 = "1.3.6.1.4.1.57264.1.1", "1.3.6.1.4.1.57264.1.8"
SOURCE_URI, SOURCE_REF = "1.3.6.1.4.1.57264.1.12", "1.3.6.1.4.1.57264.1.14"


def _fulcio_like(repo: str = "acme/shop", ref: str = "refs/tags/v1.0.0") -> x509.Certificate:
    return _certificate(
        {
            ISSUER_V1: GITHUB_ACTIONS_ISSUER.encode(),  # v1: the raw string
            ISSUER_V2: _der_utf8(GITHUB_ACTIONS_ISSUER),  # v2: DER UTF8String
            SOURCE_URI: _der_utf8(f"https://github.com/{repo}"),
            SOURCE_REF: _der_utf8(ref),
        }
    )


def test_read_certificate_decodes_v1_raw_and_v2_der_extensions() -> None:
    facts = read_certificate(_fulcio_like())
    assert facts == CertificateFacts(
        identities=("https://github.com/acme/shop/x",),
        issuer=GITHUB_ACTIONS_ISSUER,
        source_repository="https://github.com/acme/shop",
        source_ref="refs/tags/v1.0.0",
    )
    check_source(facts, github_source("acme/shop", "v1.0.0"))
    check_source(facts, github_source("acme/shop"))


@pytest.mark.parametrize(
    ("cert", "required", "message"),
    [
        (_fulcio_like("evil/fork"), ("acme/shop", None), "run in https://github.com/evil/fork"),
        (_fulcio_like("acme/shop-x"), ("acme/shop", "v1"), "run in https://github.com/acme/shop-x"),
        (_fulcio_like("ACME/shop"), ("acme/shop", None), "run in https://github.com/ACME/shop"),
        (_fulcio_like(ref="refs/tags/v1.0.1"), ("acme/shop", "v1.0.0"), "not for refs/tags/v1.0.0"),
        (_fulcio_like(ref="refs/heads/main"), ("acme/shop", None), "not for a tag"),
        (_fulcio_like(ref="refs/tags/"), ("acme/shop", None), "not for a tag"),
        (_certificate({}), ("acme/shop", None), "no source repository extension"),
        (
            _certificate({SOURCE_URI: _der_utf8("https://github.com/acme/shop")}),
            ("acme/shop", "v1.0.0"),
            "no source repository ref extension",
        ),
    ],
)
def test_check_source_refuses_another_repository_or_ref(
    cert: x509.Certificate, required: tuple[str, str | None], message: str
) -> None:
    with pytest.raises(RelkitError, match=re.escape(message)):
        check_source(read_certificate(cert), github_source(*required))


@pytest.mark.parametrize(
    ("extensions", "message"),
    [
        # A v2 extension written like a v1 one (raw string, no DER) is not read as text.
        ({SOURCE_URI: b"https://github.com/acme/shop"}, "source repository URI extension is not"),
        ({SOURCE_REF: b"\x13\x03abc"}, "ref extension is not a DER UTF8String"),  # PrintableString
        ({SOURCE_REF: _der_utf8("refs/tags/v1") + b"x"}, "ref extension is not"),  # trailing data
        ({ISSUER_V1: b"\xff\xfe"}, "issuer extension is not UTF-8"),
        (
            {ISSUER_V1: b"https://a.example", ISSUER_V2: _der_utf8("https://b.example")},
            "two different OIDC issuers",
        ),
    ],
)
def test_malformed_extensions_are_refused(extensions: dict[str, bytes], message: str) -> None:
    with pytest.raises(RelkitError, match=re.escape(message)):
        read_certificate(_certificate(extensions))


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.text())
def test_utf8_string_round_trip(text: str) -> None:
    assert decode_utf8_string(_der_utf8(text), "x") == text


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.binary(max_size=64))
def test_utf8_string_decoder_never_crashes(raw: bytes) -> None:
    try:
        value = decode_utf8_string(raw, "x")
    except RelkitError as exc:
        assert exc.message == "the signing certificate's x extension is not a DER UTF8String"
    else:
        assert _der_utf8(value) == raw  # accepted only when it is exactly the DER encoding


@pytest.mark.parametrize(
    ("ref", "tag"),
    [
        ("refs/tags/v1.2.3", "v1.2.3"),
        ("refs/tags/api/v1.0.0", "api/v1.0.0"),
        ("refs/heads/main", None),
        ("refs/tags/", None),
        (None, None),
    ],
)
def test_certificate_tag(ref: str | None, tag: str | None) -> None:
    verified = VerifiedIdentity("id", GITHUB_ACTIONS_ISSUER, 1, 0, "https://github.com/a/b", ref)
    assert certificate_tag(verified) == tag


def _jwt(claims: object) -> str:
    def part(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'ES256'})}.{part(claims)}.c2ln"


def test_signer_of_a_github_actions_token_is_what_fulcio_certifies() -> None:
    token = _jwt(
        {
            "iss": GITHUB_ACTIONS_ISSUER,
            "repository": "evil/fork",
            "ref": "refs/tags/v1.0.0",
            "job_workflow_ref": "acme/shop/.github/workflows/release.yml@refs/tags/v1.0.0",
        }
    )
    assert signer_of_token(token) == ExpectedSigner(
        identity="https://github.com/acme/shop/.github/workflows/release.yml@refs/tags/v1.0.0",
        issuer=GITHUB_ACTIONS_ISSUER,
        source=SourceRequirement("https://github.com/evil/fork", "refs/tags/v1.0.0"),
    )
    other = _jwt({"iss": "https://accounts.example", "sub": "x", "email": "me@example.com"})
    assert signer_of_token(other) == ExpectedSigner(
        "me@example.com", "https://accounts.example", None
    )


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("not-a-jwt", "not a JWT"),
        ("a.!!!.c", "not JSON"),
        (_jwt([1, 2]), "not a JSON object"),
        (_jwt({"sub": "x"}), "no issuer"),
        (_jwt({"iss": GITHUB_ACTIONS_ISSUER, "repository": "a/b"}), "lacks job_workflow_ref"),
        (_jwt({"iss": "https://x.example"}), "neither an email nor a sub"),
        ("a." + "b" * 70_000 + ".c", "not a JWT"),
    ],
)
def test_unusable_tokens_fail_without_echoing_them(token: str, message: str) -> None:
    with pytest.raises(RelkitError, match=message) as info:
        signer_of_token(token)
    assert token not in str(info.value) and token[:20] not in info.value.message
