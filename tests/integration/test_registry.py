"""The registry adapter against a real CNCF Distribution (plain and htpasswd)."""

from __future__ import annotations

import base64
import http.server
import json
import os
import socketserver
import threading
from pathlib import Path

import httpx
import pytest

from relkit.adapters.oci_artifact import pull_artifact
from relkit.adapters.registry import (
    DOCKER_MANIFEST,
    OCI_INDEX,
    OCI_MANIFEST,
    DockerConfig,
    NotFoundError,
    Reference,
    RegistryClient,
    digest_of,
    manifest_exists,
    resolve_digest,
    resolve_many,
)
from relkit.core.errors import RelkitError
from tests.e2e.scenario import relkit_command
from tests.fixtures import relkit_cli
from tests.fixtures.registry import (
    TEST_PASSWORD,
    TEST_USER,
    Answer,
    HostileServer,
    RegistryServer,
    SeenRequest,
    TokenRegistry,
    basic_header,
    json_answer,
    oversized_blob_registry,
    push_test_image,
    push_test_index,
    unauthorized,
)


def _open_client() -> RegistryClient:
    return RegistryClient(DockerConfig({}))


def test_resolve_digest_of_pushed_image_matches_manifest_bytes(registry: RegistryServer) -> None:
    digest = push_test_image(registry.host, "acme/web", "1.0.0")
    with _open_client() as client:
        assert client.resolve_digest(f"{registry.host}/acme/web:1.0.0") == digest
        manifest = client.get_manifest(f"{registry.host}/acme/web:1.0.0")
    assert manifest.media_type == OCI_MANIFEST
    assert digest_of(manifest.content) == digest
    assert manifest.json["layers"][0]["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip"


def test_pushing_the_same_image_twice_gives_the_same_digest(registry: RegistryServer) -> None:
    first = push_test_image(registry.host, "acme/same", "1.0.0")
    second = push_test_image(registry.host, "acme/same", "1.0.0")
    other = push_test_image(registry.host, "acme/same", "1.0.1")
    assert first == second
    assert other != first


def test_multi_arch_index_keeps_the_index_digest(registry: RegistryServer) -> None:
    index_digest = push_test_index(registry.host, "acme/multi", "2.0.0")
    with _open_client() as client:
        resolved = client.resolve_digest(f"{registry.host}/acme/multi:2.0.0")
        index = client.get_manifest(f"{registry.host}/acme/multi:2.0.0")
        children = [entry["digest"] for entry in index.json["manifests"]]
        platforms = [entry["platform"]["architecture"] for entry in index.json["manifests"]]
        child = client.get_manifest(f"{registry.host}/acme/multi@{children[0]}")
    assert resolved == index_digest
    assert index.is_index and index.media_type == OCI_INDEX
    assert platforms == ["amd64", "arm64"]
    assert index_digest not in children
    assert child.digest == children[0]
    assert child.media_type == OCI_MANIFEST


def test_docker_v2_manifest_is_resolved(registry: RegistryServer) -> None:
    # Older build tools push Docker schema-2 manifests; the Accept header must include them.
    with registry.client() as client:
        name = f"{registry.host}/acme/legacy"
        config = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
        config_digest = client.push_blob(name, config)
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": DOCKER_MANIFEST,
                "config": {
                    "mediaType": "application/vnd.docker.container.image.v1+json",
                    "digest": config_digest,
                    "size": len(config),
                },
                "layers": [],
            }
        ).encode()
        pushed = client.push_manifest(f"{name}:old", manifest, DOCKER_MANIFEST)
        fetched = client.get_manifest(f"{name}:old")
    assert fetched.media_type == DOCKER_MANIFEST
    assert fetched.digest == pushed


def test_pinned_reference_is_verified_by_digest(registry: RegistryServer) -> None:
    digest = push_test_image(registry.host, "acme/pinned", "1.0.0")
    with _open_client() as client:
        assert client.resolve_digest(f"{registry.host}/acme/pinned:1.0.0@{digest}") == digest
        wrong = "sha256:" + "1" * 64
        assert not client.manifest_exists(f"{registry.host}/acme/pinned@{wrong}")


def test_resolve_many_in_parallel(registry: RegistryServer) -> None:
    expected = {
        f"{registry.host}/acme/many{i}:1.0.0": push_test_image(
            registry.host, f"acme/many{i}", "1.0.0"
        )
        for i in range(6)
    }
    expected[f"{registry.host}/acme/multi-many:1.0.0"] = push_test_index(
        registry.host, "acme/multi-many", "1.0.0"
    )
    with _open_client() as client:
        assert resolve_many(list(expected), client=client, workers=4) == expected


def test_resolve_many_names_the_unknown_image(registry: RegistryServer) -> None:
    known = f"{registry.host}/acme/known:1.0.0"
    push_test_image(registry.host, "acme/known", "1.0.0")
    missing = f"{registry.host}/acme/missing:9.9.9"
    with _open_client() as client, pytest.raises(RelkitError) as caught:
        resolve_many([known, missing], client=client)
    message = str(caught.value)
    assert caught.value.message == (
        f"cannot resolve image: {missing} not found in registry {registry.host} (MANIFEST_UNKNOWN)"
    )
    assert "not found" in message
    assert "\n" not in message


def test_unknown_tag_is_not_found_error(registry: RegistryServer) -> None:
    push_test_image(registry.host, "acme/tagged", "1.0.0")
    with _open_client() as client, pytest.raises(NotFoundError) as caught:
        client.resolve_digest(f"{registry.host}/acme/tagged:nope")
    assert f"{registry.host}/acme/tagged:nope" in caught.value.message
    assert caught.value.hint
    # The cause comes from the registry's error body (a HEAD answer has none).
    assert caught.value.message.endswith("(MANIFEST_UNKNOWN)")


def test_list_tags(registry: RegistryServer) -> None:
    for tag in ("1.0.0", "1.1.0", "2.0.0"):
        push_test_image(registry.host, "acme/tags", tag)
    with _open_client() as client:
        assert sorted(client.list_tags(f"{registry.host}/acme/tags")) == ["1.0.0", "1.1.0", "2.0.0"]
        assert client.list_tags(f"{registry.host}/acme/never-pushed") == []
        # Distribution 2.8 ignores `n` for tags (it pages only the catalog): same answer.
        assert sorted(client.list_tags(f"{registry.host}/acme/tags", page_size=2)) == [
            "1.0.0",
            "1.1.0",
            "2.0.0",
        ]


def test_list_tags_follows_link_pagination() -> None:
    # GHCR and Harbor page tag lists with RFC 5988 Link headers; Distribution 2.8 does not,
    # so this endpoint serves the documented shape: ?n=2, then ?n=2&last=<tag>.
    pages = {
        "/v2/acme/paged/tags/list?n=2": (["a", "b"], "</v2/acme/paged/tags/list?n=2&last=b>"),
        "/v2/acme/paged/tags/list?n=2&last=b": (
            ["c", "d"],
            "</v2/acme/paged/tags/list?n=2&last=d>",
        ),
        "/v2/acme/paged/tags/list?n=2&last=d": (["e"], None),
    }

    class Paged(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            tags, link = pages[self.path]
            body = json.dumps({"name": "acme/paged", "tags": tags}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if link:
                self.send_header("Link", f'{link}; rel="next"')
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Paged)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        with _open_client() as client:
            tags = client.list_tags(f"127.0.0.1:{server.server_address[1]}/acme/paged", page_size=2)
    finally:
        server.shutdown()
        server.server_close()
    assert tags == ["a", "b", "c", "d", "e"]


def test_registry_down_is_one_line_error(unreachable_registry: str) -> None:
    image = f"{unreachable_registry}/acme/web:1.0.0"
    with _open_client() as client, pytest.raises(RelkitError) as caught:
        client.resolve_digest(image)
    assert caught.value.message == (
        f"registry {unreachable_registry} is not reachable for {image}: connection refused"
    )
    assert caught.value.hint


def _plain_http_server() -> tuple[socketserver.TCPServer, str]:
    """A plain-HTTP endpoint on 127.0.0.2: loopback, but not a name relkit treats as
    insecure, so the client speaks TLS to it and the handshake fails."""

    class Answer(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            self.request.recv(1024)
            self.request.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    server = socketserver.ThreadingTCPServer(("127.0.0.2", 0), Answer)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server, f"127.0.0.2:{server.server_address[1]}"


def test_tls_error_is_reported_with_insecure_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RELKIT_INSECURE_REGISTRIES", raising=False)
    server, host = _plain_http_server()
    image = f"{host}/acme/web:1.0.0"
    try:
        with _open_client() as client, pytest.raises(RelkitError) as caught:
            client.resolve_digest(image)
        assert caught.value.message == f"TLS error talking to registry {host} for {image}"
        assert "RELKIT_INSECURE_REGISTRIES" in str(caught.value.hint)
        # Listed as insecure, the same endpoint is spoken to over HTTP (and answers 400).
        monkeypatch.setenv("RELKIT_INSECURE_REGISTRIES", host)
        with _open_client() as client, pytest.raises(RelkitError) as caught:
            client.resolve_digest(image)
        assert caught.value.message == f"registry {host} failed for {image}: HTTP 400"
    finally:
        server.shutdown()
        server.server_close()


def test_reads_are_retried_on_rate_limits(registry: RegistryServer) -> None:
    # A proxy in front of the real registry that answers 429 to the first two requests.
    digest = push_test_image(registry.host, "acme/limited", "1.0.0")
    answered: list[int] = []

    class RateLimited(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:
            if len(answered) < 2:
                answered.append(429)
                self.send_response(429)
                self.send_header("Retry-After", "0")
                self.end_headers()
                return
            upstream = httpx.head(f"{registry.url}{self.path}", headers=dict(self.headers))
            answered.append(upstream.status_code)
            self.send_response(upstream.status_code)
            for name in ("Docker-Content-Digest", "Content-Type"):
                if name in upstream.headers:
                    self.send_header(name, upstream.headers[name])
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RateLimited)
    threading.Thread(target=proxy.serve_forever, args=(0.05,), daemon=True).start()
    try:
        host = f"127.0.0.1:{proxy.server_address[1]}"
        with _open_client() as client:
            assert client.resolve_digest(f"{host}/acme/limited:1.0.0") == digest
    finally:
        proxy.shutdown()
        proxy.server_close()
    assert answered == [429, 429, 200]


# --------------------------------------------------------------------------- auth


def test_auth_registry_with_docker_config(
    auth_registry: RegistryServer, docker_config: Path
) -> None:
    digest = push_test_image(auth_registry.host, "acme/private", "1.0.0", auth=auth_registry.auth)
    assert os.environ["DOCKER_CONFIG"] == str(docker_config)
    # No explicit client: credentials come from $DOCKER_CONFIG/config.json.
    assert resolve_digest(f"{auth_registry.host}/acme/private:1.0.0") == digest
    assert manifest_exists(f"{auth_registry.host}/acme/private:1.0.0")


def test_username_password_entries_are_read(tmp_path: Path, auth_registry: RegistryServer) -> None:
    path = tmp_path / "config.json"
    path.write_text(
        json.dumps(
            {
                "auths": {
                    f"https://{auth_registry.host}": {
                        "username": auth_registry.username,
                        "password": auth_registry.password,
                    }
                }
            }
        )
    )
    config = DockerConfig.load(path)
    assert config.credentials(auth_registry.host) == auth_registry.auth
    # Secrets never show in the repr.
    assert str(auth_registry.password) not in repr(config)


def test_wrong_credentials_are_one_line_error_without_secret(
    auth_registry: RegistryServer,
) -> None:
    push_test_image(auth_registry.host, "acme/private", "1.0.0", auth=auth_registry.auth)
    image = f"{auth_registry.host}/acme/private:1.0.0"
    bad = RegistryClient(DockerConfig({}), credentials={auth_registry.host: ("relkit", "wrong-pw")})
    with bad, pytest.raises(RelkitError) as caught:
        bad.resolve_digest(image)
    text = str(caught.value)
    assert caught.value.message == (
        f"registry {auth_registry.host} rejected the credentials for {image} (HTTP 401)"
    )
    assert "wrong-pw" not in text
    assert "\n" not in text


def test_missing_credentials_say_login(auth_registry: RegistryServer) -> None:
    image = f"{auth_registry.host}/acme/private:1.0.0"
    with _open_client() as client, pytest.raises(RelkitError) as caught:
        client.resolve_digest(image)
    assert (
        caught.value.message == f"registry {auth_registry.host} requires authentication for {image}"
    )
    assert "docker login" in str(caught.value.hint)


def test_push_to_auth_registry_without_credentials_pushes_nothing(
    auth_registry: RegistryServer,
) -> None:
    with _open_client() as client, pytest.raises(RelkitError):
        client.push_blob(f"{auth_registry.host}/acme/nothing", b"data")
    with auth_registry.client() as client:
        assert client.list_tags(f"{auth_registry.host}/acme/nothing") == []


def test_reference_parse_roundtrip_of_pushed_ref(registry: RegistryServer) -> None:
    ref = Reference.parse(f"{registry.host}/acme/web:1.0.0")
    assert ref.registry == registry.host
    assert ref.repository == "acme/web"
    assert str(ref) == f"{registry.host}/acme/web:1.0.0"


# --------------------------------------------------------------------------- bearer tokens


def test_bearer_token_flow(token_registry: TokenRegistry) -> None:
    digest = push_test_image(token_registry.host, "acme/tok", "1.0.0", auth=token_registry.auth)
    index = push_test_index(
        token_registry.host, "acme/tok-multi", "1.0.0", auth=token_registry.auth
    )
    with token_registry.client() as client:
        resolved = resolve_many(
            [
                f"{token_registry.host}/acme/tok:1.0.0",
                f"{token_registry.host}/acme/tok-multi:1.0.0",
            ],
            client=client,
        )
    assert resolved == {
        f"{token_registry.host}/acme/tok:1.0.0": digest,
        f"{token_registry.host}/acme/tok-multi:1.0.0": index,
    }
    # Pushes asked for push scope, reads for pull only.
    assert "repository:acme/tok:pull,push" in token_registry.scopes
    assert "repository:acme/tok:pull" in token_registry.scopes


def test_bearer_wrong_credentials(token_registry: TokenRegistry) -> None:
    push_test_image(token_registry.host, "acme/tok", "1.0.0", auth=token_registry.auth)
    image = f"{token_registry.host}/acme/tok:1.0.0"
    bad = RegistryClient(DockerConfig({}), credentials={token_registry.host: ("relkit", "nope-pw")})
    with bad, pytest.raises(RelkitError) as caught:
        bad.resolve_digest(image)
    assert caught.value.message == (
        f"registry {token_registry.host} rejected the credentials for {image} (HTTP 401)"
    )
    assert "nope-pw" not in str(caught.value)
    with _open_client() as anonymous, pytest.raises(RelkitError) as caught:
        anonymous.resolve_digest(image)
    assert (
        caught.value.message
        == f"registry {token_registry.host} requires authentication for {image}"
    )


# --------------------------------------------------------------------------- hostile registries
#
# Issue 12 §1: credentials stay with their registry, secrets never reach a message, and a
# registry cannot make relkit read more than a manifest's limit or a blob's descriptor.

_SECRET_FORMS = (
    TEST_PASSWORD,
    base64.b64encode(f"{TEST_USER}:{TEST_PASSWORD}".encode()).decode(),
    base64.b64encode(f"{TEST_USER}:{TEST_PASSWORD}".encode()).decode().rstrip("="),
    base64.urlsafe_b64encode(f"{TEST_USER}:{TEST_PASSWORD}".encode()).decode(),
    base64.b64encode(TEST_PASSWORD.encode()).decode().rstrip("="),
)


def assert_no_secret(text: str) -> None:
    for form in _SECRET_FORMS:
        assert form not in text


def _client_with_credentials(host: str) -> RegistryClient:
    return RegistryClient(DockerConfig({}), credentials={host: (TEST_USER, TEST_PASSWORD)})


def _requires_basic(request: SeenRequest) -> Answer | None:
    """The htpasswd registry's first answer: 401 until the right Basic credentials come."""
    if request.authorization != basic_header():
        return unauthorized('Basic realm="hostile"')
    return None


def test_a_redirect_target_never_gets_the_registry_credentials() -> None:
    # The reproduction: the registry answers 307 to another host, whose 401 names a
    # token endpoint on itself. Old code sent it Basic base64(user:password).
    def other(request: SeenRequest) -> Answer:
        if request.path.startswith("/token"):
            return json_answer(200, {"token": "stolen-token-123"})
        return unauthorized(f'Bearer realm="{elsewhere.url}/token",service="x"')

    with HostileServer(other) as elsewhere:

        def registry_answer(request: SeenRequest) -> Answer:
            return Answer(307, {"Location": f"{elsewhere.url}{request.path}"})

        with HostileServer(registry_answer) as registry:
            image = f"{registry.host}/acme/app:1.0.0"
            with (
                _client_with_credentials(registry.host) as client,
                pytest.raises(RelkitError) as caught,
            ):
                client.get_manifest(image)
    assert elsewhere.authorizations() == []
    assert not any(r.path.startswith("/token") for r in elsewhere.seen)
    assert caught.value.message == (
        f"registry {registry.host} failed for {image}: HTTP 401 from {elsewhere.host},"
        " which gets no credentials (UNAUTHORIZED)"
    )
    assert_no_secret(str(caught.value))


def test_a_blob_redirect_to_storage_is_followed_without_credentials() -> None:
    # Registries hand blobs out from S3-like storage with a signed URL: follow it, bare.
    blob = b"layer bytes from storage"
    digest = digest_of(blob)

    def storage_answer(request: SeenRequest) -> Answer:
        if request.authorization:
            return json_answer(400, {"errors": [{"code": "UNEXPECTED_AUTH"}]})
        return Answer(200, {"Content-Type": "application/octet-stream"}, blob)

    with HostileServer(storage_answer) as storage:

        def registry_answer(request: SeenRequest) -> Answer:
            return _requires_basic(request) or Answer(
                307, {"Location": f"{storage.url}/bucket/{digest}?X-Amz-Signature=abc"}
            )

        with (
            HostileServer(registry_answer) as registry,
            _client_with_credentials(registry.host) as client,
        ):
            got = client.get_blob(f"{registry.host}/acme/app", digest, size=len(blob))
    assert got == blob
    assert registry.authorizations() == [basic_header()]
    assert storage.authorizations() == []


def test_an_upload_location_on_another_host_gets_no_credentials() -> None:
    # A registry may hand the upload to its storage front: the PUT goes there bare.
    data = b"blob to upload"

    def storage_answer(request: SeenRequest) -> Answer:
        return Answer(201, {"Docker-Content-Digest": digest_of(data)})

    with HostileServer(storage_answer) as storage:

        def registry_answer(request: SeenRequest) -> Answer:
            if (challenge := _requires_basic(request)) is not None:
                return challenge
            if request.method == "HEAD":
                return Answer(404)
            return Answer(202, {"Location": f"{storage.url}/upload/1?state=x"})

        with (
            HostileServer(registry_answer) as registry,
            _client_with_credentials(registry.host) as client,
        ):
            assert client.push_blob(f"{registry.host}/acme/app", data) == digest_of(data)
    assert [r.method for r in storage.seen] == ["PUT"]
    assert storage.authorizations() == []
    assert set(registry.authorizations()) == {basic_header()}


def test_a_plain_http_token_realm_on_another_host_gets_no_credentials() -> None:
    def registry_answer(request: SeenRequest) -> Answer:
        return unauthorized('Bearer realm="http://tokens.example.invalid/token",service="r"')

    with (
        HostileServer(registry_answer) as registry,
        _client_with_credentials(registry.host) as client,
        pytest.raises(RelkitError) as caught,
    ):
        client.resolve_digest(f"{registry.host}/acme/app:1.0.0")
    assert caught.value.message == (
        f"registry {registry.host} names a plain-HTTP token realm on another host"
        " (tokens.example.invalid): credentials are only sent there over HTTPS"
    )


def _echoing_registry(request: SeenRequest) -> Answer:
    """Authenticates, then fails with an error body that echoes the Authorization header."""
    if (challenge := _requires_basic(request)) is not None:
        return challenge
    echoed = str(request.authorization)
    return json_answer(
        500,
        {
            "errors": [
                {"code": echoed, "message": f"bad request with Authorization: {echoed}"},
                {"code": "UNKNOWN", "detail": {"password": TEST_PASSWORD}},
            ]
        },
    )


def test_an_error_body_echoing_the_authorization_header_is_redacted() -> None:
    with HostileServer(_echoing_registry) as registry:
        image = f"{registry.host}/acme/app:1.0.0"
        with (
            _client_with_credentials(registry.host) as client,
            pytest.raises(RelkitError) as caught,
        ):
            client.get_manifest(image)
    assert (
        caught.value.message == f"registry {registry.host} failed for {image}: HTTP 500 (UNKNOWN)"
    )
    assert_no_secret(str(caught.value))


def test_no_secret_reaches_the_error_line_or_the_annotation(tmp_path: Path) -> None:
    # The CLI in GitHub Actions: `relkit: error:` on stderr and `::error::` on stdout.
    config = tmp_path / "docker"
    config.mkdir()
    with HostileServer(_echoing_registry) as registry:
        auth = base64.b64encode(f"{TEST_USER}:{TEST_PASSWORD}".encode()).decode()
        (config / "config.json").write_text(json.dumps({"auths": {registry.host: {"auth": auth}}}))
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RELKIT_"))},
            "DOCKER_CONFIG": str(config),
            "GITHUB_ACTIONS": "true",
        }
        done = relkit_cli.run(
            [*relkit_command(), "verify", f"oci://{registry.host}/acme/app:1.0.0", "--unsigned"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )
    assert done.returncode == 1, done.stderr
    assert "::error::" in done.stdout
    assert "relkit: error: registry" in done.stderr
    assert "Traceback" not in done.stderr
    assert_no_secret(done.stdout + done.stderr)


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "no-length"])
def test_a_manifest_over_4_mib_is_refused(declared: bool) -> None:
    big = b'{"schemaVersion":2,"annotations":{"x":"' + b"a" * (5 * 1024 * 1024) + b'"}}'

    def registry_answer(request: SeenRequest) -> Answer:
        return Answer(200, {"Content-Type": OCI_MANIFEST}, big, close=not declared)

    with HostileServer(registry_answer) as registry:
        image = f"{registry.host}/acme/app:1.0.0"
        with _open_client() as client, pytest.raises(RelkitError) as caught:
            client.get_manifest(image)
    assert caught.value.message == f"registry {registry.host} sent more than 4 MiB for {image}"


def test_a_blob_longer_than_its_descriptor_is_cut_off(tmp_path: Path) -> None:
    served = 128 * 1024 * 1024
    with (
        oversized_blob_registry(served) as registry,
        _open_client() as client,
        pytest.raises(RelkitError) as caught,
    ):
        pull_artifact(f"oci://{registry.host}/acme/art:1.0.0", tmp_path / "out", client=client)
    assert caught.value.message == (
        f"registry {registry.host} sent more than the 4 bytes of blob"
        f" {digest_of(b'tiny')} of {registry.host}/acme/art"
    )
    # Reading stopped at once: only what fits the sockets' buffers was ever sent.
    assert registry.sent < 32 * 1024 * 1024
    assert list((tmp_path / "out").iterdir()) == []


def test_a_blob_shorter_or_different_than_its_descriptor_is_refused() -> None:
    blob = b"four"

    def answer(request: SeenRequest) -> Answer:
        return Answer(200, {}, b"fou" if "short" in request.path else b"FOUR")

    with HostileServer(answer) as registry, _open_client() as client:
        with pytest.raises(RelkitError) as short:
            client.get_blob(f"{registry.host}/acme/short", digest_of(blob), size=4)
        with pytest.raises(RelkitError) as different:
            client.get_blob(f"{registry.host}/acme/other", digest_of(blob), size=4)
    assert short.value.message.startswith(f"registry {registry.host} sent 3 of the 4 bytes")
    assert different.value.message.endswith("does not match its digest")


def test_a_token_service_answering_html_is_one_line_naming_the_registry() -> None:
    def tokens(request: SeenRequest) -> Answer:
        page = b"<!DOCTYPE html><html><body>Sign in</body></html>"
        return Answer(200, {"Content-Type": "text/html"}, page)

    with HostileServer(tokens) as service:

        def registry_answer(request: SeenRequest) -> Answer:
            return unauthorized(f'Bearer realm="{service.url}/token",service="r"')

        with (
            HostileServer(registry_answer) as registry,
            _client_with_credentials(registry.host) as client,
            pytest.raises(RelkitError) as caught,
        ):
            client.resolve_digest(f"{registry.host}/acme/app:1.0.0")
    assert caught.value.message == (
        f"token service of registry {registry.host} answered something that is not JSON"
        " (an HTML page)"
    )


_MALFORMED = {
    "not-json": (b"<html><body>502 Bad Gateway</body></html>", "is not JSON (an HTML page)"),
    "layers-string": (
        b'{"schemaVersion":2,"layers":"sha256:abc"}',
        "is malformed: layers is a string, not a list",
    ),
    "annotations-list": (
        b'{"schemaVersion":2,"layers":[],"annotations":["a","b"]}',
        "is malformed: annotations is a list, not an object",
    ),
    "layer-string": (
        b'{"schemaVersion":2,"layers":["sha256:abc"]}',
        "is malformed: layers[0] is a string, not an object",
    ),
    "layer-annotations-list": (
        b'{"schemaVersion":2,"layers":[{"digest":"sha256:a","size":1,"annotations":[]}]}',
        "is malformed: layers[0].annotations is a list, not an object",
    ),
    "size-string": (
        b'{"schemaVersion":2,"layers":[{"digest":"sha256:a","size":"4"}]}',
        "is malformed: layers[0].size is not a non-negative integer",
    ),
    "config-list": (
        b'{"schemaVersion":2,"config":[]}',
        "is malformed: config is a list, not an object",
    ),
}


@pytest.mark.parametrize("case", sorted(_MALFORMED))
def test_a_malformed_manifest_is_one_line_naming_the_registry(case: str, tmp_path: Path) -> None:
    body, problem = _MALFORMED[case]

    def answer(request: SeenRequest) -> Answer:
        return Answer(200, {"Content-Type": OCI_MANIFEST}, body)

    with HostileServer(answer) as registry, _open_client() as client:
        reference = f"{registry.host}/acme/art:1.0.0"
        with pytest.raises(RelkitError) as caught:
            pull_artifact(f"oci://{reference}", tmp_path, client=client)
    assert (
        caught.value.message == f"manifest of {reference} from registry {registry.host} {problem}"
    )


def test_relkit_verify_of_a_malformed_manifest_exits_1_without_traceback(tmp_path: Path) -> None:
    def answer(request: SeenRequest) -> Answer:
        return Answer(200, {"Content-Type": OCI_MANIFEST}, _MALFORMED["layers-string"][0])

    with HostileServer(answer) as registry:
        done = relkit_cli.run(
            [*relkit_command(), "verify", f"oci://{registry.host}/acme/art:1.0.0", "--unsigned"],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines()[0].startswith("relkit: error: manifest of")
