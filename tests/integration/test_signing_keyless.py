"""Keyless signing against a local Fulcio + Rekor: sigstore-python signs and verifies.

Every way a bundle can be wrong is shown to be rejected: a changed file, a changed bundle
(signature, certificate, log entry), a wrong identity and a wrong issuer.
"""

from __future__ import annotations

import base64
import datetime
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from relkit.core.config import SigningConfig
from relkit.core.errors import RelkitError, UsageError
from relkit.signing.facade import (
    GITHUB_ACTIONS_ISSUER,
    KEYLESS_SUFFIX,
    release_workflow_identity,
    release_workflow_identity_regexp,
    sign_blob_keyless,
    sign_file,
    verify_blob_keyless,
)
from tests.fixtures.sigstore import SigstoreServices, TokenFactory, github_actions_claims

BLOB = b"shop self-host bundle\n" * 512
REPO = "acme/shop"
IDENTITY = release_workflow_identity(REPO, ref="v1.2.3")


@pytest.fixture(scope="module")
def signed(sigstore_services: SigstoreServices) -> dict[str, Any]:
    """One bundle over BLOB, signed as acme/shop's release workflow on v1.2.3."""
    token = sigstore_services.token(github_actions_claims(repo=REPO, ref="refs/tags/v1.2.3"))
    bundle = sign_blob_keyless(
        BLOB, identity_token=token, trust_config=sigstore_services.trust_config
    )
    return {"json": bundle, "doc": json.loads(bundle), "token": token}


def _verify(
    services: SigstoreServices, bundle: str | bytes, data: bytes | Path = BLOB, **kw: Any
) -> Any:
    kw.setdefault("issuer", GITHUB_ACTIONS_ISSUER)
    if "identity_regexp" not in kw:
        kw.setdefault("identity", IDENTITY)
    return verify_blob_keyless(data, bundle, trust_config=services.trust_config, **kw)


def test_bundle_is_v03_hashedrekord_with_the_workflow_identity(
    sigstore_services: SigstoreServices, signed: dict[str, Any]
) -> None:
    doc = signed["doc"]
    assert doc["mediaType"] == "application/vnd.dev.sigstore.bundle.v0.3+json"
    # v0.3 carries the leaf certificate alone (cosign's --bundle expects this shape).
    assert set(doc["verificationMaterial"]) >= {"certificate", "tlogEntries"}
    entry = doc["verificationMaterial"]["tlogEntries"][0]
    assert entry["kindVersion"] == {"kind": "hashedrekord", "version": "0.0.1"}
    assert entry["inclusionPromise"]["signedEntryTimestamp"]
    assert entry["inclusionProof"]["checkpoint"]["envelope"]
    assert doc["messageSignature"]["messageDigest"]["algorithm"] == "SHA2_256"
    assert signed["token"] not in signed["json"]

    verified = _verify(sigstore_services, signed["json"])

    assert verified.identity == (
        "https://github.com/acme/shop/.github/workflows/release.yml@refs/tags/v1.2.3"
    )
    assert verified.issuer == GITHUB_ACTIONS_ISSUER
    assert verified.log_index == int(entry["logIndex"])
    assert verified.integrated_time == int(entry["integratedTime"])


def test_bundle_verifies_with_an_independent_implementation(
    tmp_path: Path, sigstore_services: SigstoreServices, signed: dict[str, Any]
) -> None:
    """sigstore-js (npm's verifier) accepts what sigstore-python made, and rejects the same."""
    bundle, artifact = tmp_path / "blob.sigstore.json", tmp_path / "blob"
    bundle.write_text(signed["json"])
    artifact.write_bytes(BLOB)
    check = sigstore_services.verify_with_sigstore_js
    pattern = release_workflow_identity_regexp(REPO)

    ok, line = check(bundle, artifact, identity_regexp=pattern, issuer=GITHUB_ACTIONS_ISSUER)
    assert (ok, line) == (True, f"verified {IDENTITY}")

    other = release_workflow_identity_regexp("acme/other")
    ok, line = check(bundle, artifact, identity_regexp=other, issuer=GITHUB_ACTIONS_ISSUER)
    assert not ok and "UNTRUSTED_SIGNER_ERROR" in line
    ok, line = check(
        bundle, artifact, identity_regexp=pattern, issuer="https://accounts.google.com"
    )
    assert not ok and "UNTRUSTED_SIGNER_ERROR" in line
    artifact.write_bytes(BLOB + b"!")
    ok, line = check(bundle, artifact, identity_regexp=pattern, issuer=GITHUB_ACTIONS_ISSUER)
    assert not ok and "SIGNATURE_ERROR" in line


def test_identity_regexp_matches_any_tag_of_the_release_workflow(
    sigstore_services: SigstoreServices, signed: dict[str, Any]
) -> None:
    pattern = release_workflow_identity_regexp(REPO)
    verified = _verify(sigstore_services, signed["json"], identity_regexp=pattern)
    assert verified.identity == IDENTITY

    other_repo = release_workflow_identity_regexp("acme/shop-fork")
    with pytest.raises(RelkitError, match="identity does not match"):
        _verify(sigstore_services, signed["json"], identity_regexp=other_repo)


def test_branch_run_does_not_match_the_tag_regexp(
    sigstore_services: SigstoreServices, oidc_token: TokenFactory
) -> None:
    token = oidc_token(repo=REPO, ref="refs/heads/main")
    bundle = sign_blob_keyless(
        BLOB, identity_token=token, trust_config=sigstore_services.trust_config
    )
    with pytest.raises(RelkitError, match="identity does not match"):
        _verify(sigstore_services, bundle, identity_regexp=release_workflow_identity_regexp(REPO))
    exact = release_workflow_identity(REPO, ref="refs/heads/main")
    assert _verify(sigstore_services, bundle, identity=exact).identity == exact


def test_file_signed_by_path_verifies_by_path_and_bytes(
    tmp_path: Path, sigstore_services: SigstoreServices, oidc_token: TokenFactory
) -> None:
    blob = tmp_path / "shop-1.2.3.tar.gz"
    blob.write_bytes(BLOB)
    bundle = sign_blob_keyless(
        blob, identity_token=oidc_token(), trust_config=sigstore_services.trust_config
    )
    _verify(sigstore_services, bundle, data=blob)
    _verify(sigstore_services, bundle.encode(), data=BLOB)


def test_tampered_blob_is_rejected(
    tmp_path: Path, sigstore_services: SigstoreServices, signed: dict[str, Any]
) -> None:
    tampered = tmp_path / "tampered"
    tampered.write_bytes(BLOB[:-1] + b"!")
    with pytest.raises(RelkitError, match="verification failed") as info:
        _verify(sigstore_services, signed["json"], data=tampered)
    assert info.value.hint == "the file was changed after signing"


def _flip_b64(value: str, at: int = 40) -> str:
    raw = bytearray(base64.b64decode(value))
    raw[at % len(raw)] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def _set_signature(doc: dict[str, Any]) -> None:
    doc["messageSignature"]["signature"] = _flip_b64(doc["messageSignature"]["signature"])


def _set_digest(doc: dict[str, Any]) -> None:
    digest = doc["messageSignature"]["messageDigest"]
    digest["digest"] = _flip_b64(digest["digest"], at=0)


def _set_certificate(doc: dict[str, Any]) -> None:
    cert = doc["verificationMaterial"]["certificate"]
    cert["rawBytes"] = _flip_b64(cert["rawBytes"], at=-80)


def _set_integrated_time(doc: dict[str, Any]) -> None:
    entry = doc["verificationMaterial"]["tlogEntries"][0]
    entry["integratedTime"] = str(int(entry["integratedTime"]) - 1)


def _set_log_body(doc: dict[str, Any]) -> None:
    entry = doc["verificationMaterial"]["tlogEntries"][0]
    body = json.loads(base64.b64decode(entry["canonicalizedBody"]))
    body["spec"]["data"]["hash"]["value"] = "0" * 64
    entry["canonicalizedBody"] = base64.b64encode(json.dumps(body).encode()).decode()


def _set_entry_timestamp(doc: dict[str, Any]) -> None:
    promise = doc["verificationMaterial"]["tlogEntries"][0]["inclusionPromise"]
    promise["signedEntryTimestamp"] = _flip_b64(promise["signedEntryTimestamp"], at=-5)


@pytest.mark.parametrize(
    "tamper",
    [
        _set_signature,
        _set_digest,
        _set_certificate,
        _set_integrated_time,
        _set_log_body,
        _set_entry_timestamp,
    ],
    ids=["signature", "digest", "certificate", "integrated-time", "log-body", "log-promise"],
)
def test_tampered_bundle_is_rejected(
    sigstore_services: SigstoreServices,
    signed: dict[str, Any],
    tamper: Callable[[dict[str, Any]], None],
) -> None:
    doc = json.loads(signed["json"])
    tamper(doc)
    with pytest.raises(RelkitError, match=r"(verification failed|malformed)"):
        _verify(sigstore_services, json.dumps(doc))


def test_certificate_from_another_signing_is_rejected(
    sigstore_services: SigstoreServices, signed: dict[str, Any], oidc_token: TokenFactory
) -> None:
    """A valid certificate and log entry, but for a different key than the signature's."""
    other = json.loads(
        sign_blob_keyless(
            BLOB, identity_token=oidc_token(), trust_config=sigstore_services.trust_config
        )
    )
    doc = json.loads(signed["json"])
    doc["verificationMaterial"]["certificate"] = other["verificationMaterial"]["certificate"]
    with pytest.raises(RelkitError, match="verification failed"):
        _verify(sigstore_services, json.dumps(doc))


@pytest.mark.parametrize(
    "identity",
    [
        release_workflow_identity(REPO, ref="v1.2.4"),
        release_workflow_identity("acme/other", ref="v1.2.3"),
        release_workflow_identity(REPO, workflow=".github/workflows/ci.yml", ref="v1.2.3"),
    ],
    ids=["other-tag", "other-repo", "other-workflow"],
)
def test_wrong_identity_is_rejected(
    sigstore_services: SigstoreServices, signed: dict[str, Any], identity: str
) -> None:
    with pytest.raises(RelkitError, match="verification failed") as info:
        _verify(sigstore_services, signed["json"], identity=identity)
    assert info.value.hint == "the file was signed by a different identity than the one expected"


def test_wrong_issuer_is_rejected(
    sigstore_services: SigstoreServices, signed: dict[str, Any]
) -> None:
    for issuer in ("https://accounts.google.com", "https://token.actions.githubusercontent.co"):
        with pytest.raises(RelkitError, match="verification failed"):
            _verify(sigstore_services, signed["json"], issuer=issuer)
        with pytest.raises(RelkitError, match="verification failed"):
            _verify(
                sigstore_services,
                signed["json"],
                issuer=issuer,
                identity_regexp=release_workflow_identity_regexp(REPO),
            )


def _foreign_ca(root: dict[str, Any]) -> None:
    """Same CA name, different key: someone else's Fulcio posing as ours."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "sigstore"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "sigstore.mock"),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    der = cert.public_bytes(serialization.Encoding.DER)
    root["certificateAuthorities"][0]["certChain"]["certificates"] = [
        {"rawBytes": base64.b64encode(der).decode()}
    ]


def _foreign_key(section: str) -> Callable[[dict[str, Any]], None]:
    """Keep the log's ID, swap its key: a log (Rekor or CT) we do not actually trust."""

    def swap(root: dict[str, Any]) -> None:
        key = ec.generate_private_key(ec.SECP256R1()).public_key()
        spki = key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        root[section][0]["publicKey"]["rawBytes"] = base64.b64encode(spki).decode()

    return swap


@pytest.mark.parametrize(
    "distrust",
    [_foreign_ca, _foreign_key("tlogs"), _foreign_key("ctlogs")],
    ids=["fulcio-ca", "rekor-key", "ct-log-key"],
)
def test_signature_from_another_sigstore_instance_is_rejected(
    tmp_path: Path,
    sigstore_services: SigstoreServices,
    signed: dict[str, Any],
    distrust: Callable[[dict[str, Any]], None],
) -> None:
    """The same bundle checked against a trust root that holds someone else's keys."""
    config = json.loads(sigstore_services.trust_config.read_text())
    distrust(config["trustedRoot"])
    foreign = tmp_path / "foreign_trust.json"
    foreign.write_text(json.dumps(config))
    with pytest.raises(RelkitError, match="verification failed"):
        verify_blob_keyless(
            BLOB,
            signed["json"],
            identity=IDENTITY,
            issuer=GITHUB_ACTIONS_ISSUER,
            trust_config=foreign,
        )


def test_malformed_bundle_and_bad_arguments(
    tmp_path: Path, sigstore_services: SigstoreServices, signed: dict[str, Any]
) -> None:
    with pytest.raises(RelkitError, match="bundle is malformed"):
        _verify(sigstore_services, "{not json")
    with pytest.raises(RelkitError, match="bundle is malformed"):
        _verify(sigstore_services, json.dumps({"mediaType": "nope"}))
    with pytest.raises(UsageError, match="exactly one"):
        verify_blob_keyless(BLOB, signed["json"], issuer=GITHUB_ACTIONS_ISSUER)
    with pytest.raises(UsageError, match="regexp .* is invalid"):
        _verify(sigstore_services, signed["json"], identity_regexp="(unclosed")
    with pytest.raises(UsageError, match="cannot read trust config"):
        verify_blob_keyless(
            BLOB,
            signed["json"],
            identity=IDENTITY,
            issuer=GITHUB_ACTIONS_ISSUER,
            trust_config=tmp_path / "absent.json",
        )
    not_trust = tmp_path / "not_trust.json"
    not_trust.write_text('{"mediaType": "something else"}')
    with pytest.raises(UsageError, match="is not a Sigstore ClientTrustConfig"):
        verify_blob_keyless(
            BLOB,
            signed["json"],
            identity=IDENTITY,
            issuer=GITHUB_ACTIONS_ISSUER,
            trust_config=not_trust,
        )


def test_forged_token_is_refused_by_fulcio_without_leaking_it(
    sigstore_services: SigstoreServices,
) -> None:
    intruder = ec.generate_private_key(ec.SECP256R1())
    forged = sigstore_services.token(github_actions_claims(), key=intruder)
    with pytest.raises(RelkitError, match="Fulcio refused the signing certificate") as info:
        sign_blob_keyless(BLOB, identity_token=forged, trust_config=sigstore_services.trust_config)
    assert "401" in str(info.value)
    assert forged not in str(info.value)
    assert forged.split(".")[1] not in str(info.value)


def test_unusable_tokens_are_refused_before_any_request(
    sigstore_services: SigstoreServices, oidc_token: TokenFactory
) -> None:
    config = sigstore_services.trust_config
    with pytest.raises(RelkitError, match="needs an OIDC identity token") as missing:
        sign_blob_keyless(BLOB, identity_token=None, trust_config=config)
    assert missing.value.hint is not None and "id-token: write" in missing.value.hint
    expired = oidc_token(lifetime=-60)
    with pytest.raises(RelkitError, match="token was refused") as info:
        sign_blob_keyless(BLOB, identity_token=expired, trust_config=config)
    assert expired not in str(info.value)
    with pytest.raises(RelkitError, match="token was refused"):
        sign_blob_keyless(BLOB, identity_token=oidc_token(audience="other"), trust_config=config)
    with pytest.raises(RelkitError, match="token was refused"):
        sign_blob_keyless(BLOB, identity_token="not-a-jwt", trust_config=config)


# --- the ambient GitHub Actions token -------------------------------------------------------


class _TokenService:
    """GitHub Actions' OIDC token endpoint, as documented: GET ?audience=, bearer auth."""

    def __init__(self, token: str, bearer: str, status: int = 200) -> None:
        self.token, self.bearer, self.status = token, bearer, status
        self.requests: list[dict[str, Any]] = []


@pytest.fixture
def token_service() -> Iterator[Callable[..., tuple[_TokenService, str]]]:
    servers: list[ThreadingHTTPServer] = []

    def start(
        token: str, bearer: str = "runtime-bearer", status: int = 200
    ) -> tuple[_TokenService, str]:
        state = _TokenService(token, bearer, status)

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = parse_qs(urlsplit(self.path).query)
                state.requests.append(
                    {"query": query, "authorization": self.headers.get("Authorization")}
                )
                authorized = self.headers.get("Authorization") == f"bearer {state.bearer}"
                status = state.status if authorized else 401
                body = json.dumps(
                    {"count": 1, "value": state.token}
                    if status == 200
                    else {"message": "Unauthorized"}
                )
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        port = server.server_address[1]
        return state, f"http://127.0.0.1:{port}/_apis/token?api-version=2.0"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_sign_file_keyless_with_the_ambient_github_token(
    tmp_path: Path,
    sigstore_services: SigstoreServices,
    oidc_token: TokenFactory,
    token_service: Callable[..., tuple[_TokenService, str]],
) -> None:
    service, url = token_service(oidc_token(repo=REPO, ref="refs/tags/v2.0.0"))
    env = {"ACTIONS_ID_TOKEN_REQUEST_URL": url, "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "runtime-bearer"}
    blob = tmp_path / "shop-2.0.0.tar.gz"
    blob.write_bytes(BLOB)

    produced = sign_file(
        blob, SigningConfig(), env=env, trust_config=sigstore_services.trust_config
    )

    assert produced == tmp_path / f"shop-2.0.0.tar.gz{KEYLESS_SUFFIX}"
    assert service.requests[0]["query"] == {"api-version": ["2.0"], "audience": ["sigstore"]}
    verified = _verify(
        sigstore_services,
        produced.read_text(),
        data=blob,
        identity=release_workflow_identity(REPO, ref="v2.0.0"),
    )
    assert verified.identity.endswith("@refs/tags/v2.0.0")
    assert sorted(p.name for p in tmp_path.iterdir()) == [blob.name, produced.name]


def test_sign_file_keyless_failures(
    tmp_path: Path,
    sigstore_services: SigstoreServices,
    oidc_token: TokenFactory,
    token_service: Callable[..., tuple[_TokenService, str]],
) -> None:
    blob = tmp_path / "blob"
    blob.write_bytes(BLOB)
    config, trust = SigningConfig(mode="keyless"), sigstore_services.trust_config

    with pytest.raises(RelkitError, match="needs an OIDC identity token"):
        sign_file(blob, config, env={}, trust_config=trust)

    _, url = token_service(oidc_token(), status=403)
    env = {"ACTIONS_ID_TOKEN_REQUEST_URL": url, "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "runtime-bearer"}
    with pytest.raises(RelkitError, match="HTTP 403") as info:
        sign_file(blob, config, env=env, trust_config=trust)
    assert info.value.hint is not None and "id-token: write" in info.value.hint
    assert "runtime-bearer" not in str(info.value)

    with pytest.raises(RelkitError, match="half configured"):
        sign_file(blob, config, env={"ACTIONS_ID_TOKEN_REQUEST_URL": url}, trust_config=trust)

    # An explicit token wins over the environment.
    produced = sign_file(blob, config, env=env, trust_config=trust, identity_token=oidc_token())
    assert produced is not None and produced.name == "blob.sigstore.json"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blob", "blob.sigstore.json"]


def test_rekor_v1_is_preferred_when_the_signing_config_also_offers_v2(
    tmp_path: Path, sigstore_services: SigstoreServices, oidc_token: TokenFactory
) -> None:
    """sigstore-python would pick the operator's highest version (v2); relkit asks for v1."""
    config = json.loads(sigstore_services.trust_config.read_text())
    v1 = config["signingConfig"]["rekorTlogUrls"][0]
    # Port 9 (discard) on loopback: nothing listens, so logging to v2 would fail loudly.
    config["signingConfig"]["rekorTlogUrls"].append(
        {**v1, "url": "http://127.0.0.1:9", "majorApiVersion": 2}
    )
    trust = tmp_path / "trust_v1_v2.json"
    trust.write_text(json.dumps(config))

    bundle = sign_blob_keyless(BLOB, identity_token=oidc_token(), trust_config=trust)

    entry = json.loads(bundle)["verificationMaterial"]["tlogEntries"][0]
    assert entry["kindVersion"]["version"] == "0.0.1"
    _verify(sigstore_services, bundle)


# ------------------------------------------------ source repository (issue 9 item 2)

ATTACKED_IDENTITY = release_workflow_identity(REPO, ref="v1.0.0")


def _sign_as(services: SigstoreServices, data: bytes | Path, **claims: Any) -> str:
    token = services.token(github_actions_claims(**claims))
    return sign_blob_keyless(data, identity_token=token, trust_config=services.trust_config)


def _reusable_call_from(repo: str, ref: str = "refs/tags/v1.0.0") -> dict[str, Any]:
    """A run in `repo` for `ref` that calls acme/shop's release workflow at v1.0.0."""
    return {
        "repo": repo,
        "ref": ref,
        "workflow": ".github/workflows/ci.yml",
        "job_workflow_ref": f"{REPO}/.github/workflows/release.yml@refs/tags/v1.0.0",
    }


def _shop_bundle(directory: Path) -> Path:
    """A well-formed shop-1.0.0.tar.gz (pinned compose, digests.txt, SHA256SUMS)."""
    from relkit.bundle.archive import BundleFile, build_tar_gz
    from relkit.bundle.sums import render_digests, render_sha256sums

    pinned = f"example.com/acme/web:1.0.0@sha256:{'a' * 64}"
    files = {
        "compose.yaml": f"services:\n  web:\n    image: {pinned}\n".encode(),
        "digests.txt": render_digests([pinned]).encode(),
    }
    files["SHA256SUMS"] = render_sha256sums(files).encode()
    archive = directory / "shop-1.0.0.tar.gz"
    entries = {name: BundleFile(data) for name, data in files.items()}
    archive.write_bytes(build_tar_gz(entries, top="shop-1.0.0", mtime=0))
    return archive


def test_reusable_workflow_called_from_another_repository_is_refused(
    tmp_path: Path, sigstore_services: SigstoreServices, capsys: pytest.CaptureFixture[str]
) -> None:
    """evil/fork calls acme/shop's release.yml@v1.0.0: same SAN, other source repository."""
    from relkit.bundle.verify import SignaturePolicy, verify_bundle
    from relkit.cli import main

    archive = _shop_bundle(tmp_path)
    signature = archive.with_name(archive.name + KEYLESS_SUFFIX)
    signature.write_text(_sign_as(sigstore_services, archive, **_reusable_call_from("evil/fork")))
    trust = sigstore_services.trust_config
    cert = x509.load_der_x509_certificate(
        base64.b64decode(
            json.loads(signature.read_text())["verificationMaterial"]["certificate"]["rawBytes"]
        )
    )
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == [ATTACKED_IDENTITY]

    for tag in ("v1.0.0", None):
        policy = SignaturePolicy.for_repo(REPO, tag=tag, trust_config=trust)
        with pytest.raises(RelkitError, match="run in https://github.com/evil/fork, not in"):
            verify_bundle(archive, policy)
    cli = ["verify", str(archive), "--trust-config", str(trust), "--repo", REPO]
    assert main([*cli, "--tag", "v1.0.0"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("relkit: error: the signature was made by a workflow run in")
    assert "Traceback" not in err
    # The signature itself is fine: an exact identity alone (cosign's view) still accepts it.
    assert _verify(sigstore_services, signature.read_text(), archive, identity=ATTACKED_IDENTITY)

    # The genuine release run verifies, and the line names what the certificate says.
    signature.write_text(_sign_as(sigstore_services, archive, repo=REPO, ref="refs/tags/v1.0.0"))
    assert main([*cli, "--tag", "v1.0.0"]) == 0
    out = capsys.readouterr().out
    assert f"signed by {ATTACKED_IDENTITY} (issuer {GITHUB_ACTIONS_ISSUER}," in out
    assert " in a run of https://github.com/acme/shop for refs/tags/v1.0.0\n" in out


def test_source_ref_must_be_the_tag(
    sigstore_services: SigstoreServices, oidc_token: TokenFactory
) -> None:
    """acme/shop's own branch run calling release.yml@v1.0.0 is not the v1.0.0 release."""
    bundle = _sign_as(sigstore_services, BLOB, **_reusable_call_from(REPO, "refs/heads/main"))
    from relkit.signing.identity import github_source

    with pytest.raises(RelkitError, match="run for refs/heads/main, not for refs/tags/v1.0.0"):
        _verify(
            sigstore_services,
            bundle,
            identity=ATTACKED_IDENTITY,
            source=github_source(REPO, "v1.0.0"),
        )
    with pytest.raises(RelkitError, match="run for refs/heads/main, not for a tag"):
        _verify(
            sigstore_services,
            bundle,
            identity_regexp=release_workflow_identity_regexp(REPO),
            source=github_source(REPO),
        )
    # A tag run for another tag than asked.
    other = _sign_as(sigstore_services, BLOB, **_reusable_call_from(REPO, "refs/tags/v0.9.0"))
    with pytest.raises(RelkitError, match="not for refs/tags/v1.0.0"):
        _verify(
            sigstore_services,
            other,
            identity=ATTACKED_IDENTITY,
            source=github_source(REPO, "v1.0.0"),
        )


def test_verified_identity_is_read_from_the_certificate(
    sigstore_services: SigstoreServices, signed: dict[str, Any]
) -> None:
    from relkit.signing.identity import certificate_tag, github_source

    verified = _verify(
        sigstore_services,
        signed["json"],
        identity_regexp=r"acme/shop/",  # a loose pattern: the result is the SAN, not this
        source=github_source(REPO),
    )
    assert verified.identity == IDENTITY
    assert verified.issuer == GITHUB_ACTIONS_ISSUER
    assert verified.source_repository == "https://github.com/acme/shop"
    assert verified.source_ref == "refs/tags/v1.2.3"
    assert certificate_tag(verified) == "v1.2.3"
