"""A registry behind TLS, signed by a private CA: the one shared TLS context (adapters/tls.py)
trusts what httpx's default trusted, `SSL_CERT_FILE` included, and is built once.

The registry is the real CNCF Distribution binary serving HTTPS on 127.0.0.2 (loopback, but
not a name relkit sends plain HTTP to), with a certificate from a CA made for the test."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from relkit.adapters.github import GitHubClient
from relkit.adapters.registry import DockerConfig, RegistryClient
from relkit.adapters.tls import shared_ssl_context
from relkit.core.errors import RelkitError
from tests.fakes.github_server import FakeGitHub
from tests.fixtures.registry import REGISTRY_BINARY, free_port

HOST = "127.0.0.2"


@dataclass(frozen=True)
class TlsRegistry:
    host: str  # host:port
    ca_file: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _issue(root: Path) -> tuple[Path, Path, Path]:
    """A CA, and a server certificate for HOST signed by it: (ca.pem, cert.pem, key.pem)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("relkit test CA"))
        .issuer_name(_name("relkit test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(HOST))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST))]),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    files = (root / "ca.pem", root / "cert.pem", root / "key.pem")
    files[0].write_bytes(ca.public_bytes(pem))
    files[1].write_bytes(cert.public_bytes(pem))
    files[2].write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return files


@pytest.fixture(scope="module")
def tls_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsRegistry]:
    root = tmp_path_factory.mktemp("tls-registry")
    ca_file, cert_file, key_file = _issue(root)
    port = free_port()
    config = root / "config.yml"
    config.write_text(
        "\n".join(
            [
                "version: 0.1",
                "log:",
                "  level: warn",
                "storage:",
                "  filesystem:",
                f"    rootdirectory: {root / 'data'}",
                "http:",
                f"  addr: {HOST}:{port}",
                "  secret: relkit-test-secret",
                "  tls:",
                f"    certificate: {cert_file}",
                f"    key: {key_file}",
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    log = root / "registry.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [REGISTRY_BINARY, "serve", str(config)], stdout=log_file, stderr=subprocess.STDOUT
        )
    trust = ssl.create_default_context(cafile=ca_file)
    deadline = time.monotonic() + 30
    try:
        while True:
            assert process.poll() is None, log.read_text()
            try:
                httpx.get(f"https://{HOST}:{port}/v2/", verify=trust, timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
        yield TlsRegistry(host=f"{HOST}:{port}", ca_file=ca_file)
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def no_ca_variables(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    return monkeypatch


def test_a_private_ca_named_by_ssl_cert_file_is_trusted(
    tls_registry: TlsRegistry, no_ca_variables: pytest.MonkeyPatch
) -> None:
    no_ca_variables.setenv("SSL_CERT_FILE", str(tls_registry.ca_file))
    with RegistryClient(DockerConfig({})) as client:
        digest = client.push_blob(f"{tls_registry.host}/tls/app", b"over TLS")
        assert client.get_blob(f"{tls_registry.host}/tls/app", digest) == b"over TLS"


def test_a_private_ca_named_by_ssl_cert_dir_is_trusted(
    tls_registry: TlsRegistry, no_ca_variables: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # OpenSSL looks certificates up in a directory by subject hash: <hash>.0.
    ca = x509.load_pem_x509_certificate(tls_registry.ca_file.read_bytes())
    hashed = subprocess.run(
        ["openssl", "x509", "-hash", "-noout", "-in", str(tls_registry.ca_file)],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    (tmp_path / f"{hashed}.0").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    no_ca_variables.setenv("SSL_CERT_DIR", str(tmp_path))
    with RegistryClient(DockerConfig({})) as client:
        assert client.push_blob(f"{tls_registry.host}/tls/dir", b"x").startswith("sha256:")


def test_without_the_ca_the_certificate_is_refused_in_one_line(
    tls_registry: TlsRegistry, no_ca_variables: pytest.MonkeyPatch
) -> None:
    with RegistryClient(DockerConfig({})) as client, pytest.raises(RelkitError) as raised:
        client.push_blob(f"{tls_registry.host}/tls/app", b"refused")
    assert "TLS error talking to registry" in str(raised.value)
    assert "\n" not in str(raised.value)


def test_every_client_in_a_process_shares_one_context(
    tls_registry: TlsRegistry, no_ca_variables: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """httpx parses the CA bundle for each client it makes; githubkit makes one per request.
    Counted at the stdlib call that builds a verifying context, for a CA setting no earlier
    test used (the context is kept per setting)."""
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(tls_registry.ca_file.read_bytes())
    no_ca_variables.setenv("SSL_CERT_FILE", str(ca_file))
    made: list[str | None] = []
    real = ssl.create_default_context

    def counted(*args: object, **kwargs: object) -> ssl.SSLContext:
        made.append(str(kwargs.get("cafile")))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    no_ca_variables.setattr(ssl, "create_default_context", counted)
    fake = FakeGitHub().start()
    try:
        fake.create_repo("acme/app")
        github = GitHubClient(fake.token, api_url=fake.api_url, backoff_s=0.01)
        for _ in range(3):
            assert github.default_branch("acme/app")
        for name in ("a", "b", "c"):
            with RegistryClient(DockerConfig({})) as client:
                client.push_blob(f"{tls_registry.host}/tls/{name}", name.encode())
    finally:
        fake.stop()
    assert made == [str(ca_file)]
    assert shared_ssl_context() is shared_ssl_context()
