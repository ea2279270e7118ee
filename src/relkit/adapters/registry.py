"""A small OCI Distribution client: references, Docker config auth, manifests, blobs, tags.

Talks the OCI distribution-spec HTTP API with httpx. Authentication follows the registry's
`WWW-Authenticate` challenge: Basic (htpasswd registries) or the Bearer token flow (Docker
Hub, GHCR, Harbor...), with credentials from the Docker config file (`auths` entries only;
credential helpers and `credsStore` are not supported). Loopback registries are spoken to
over plain HTTP, everything else over HTTPS, unless listed in `RELKIT_INSECURE_REGISTRIES`.

Every failure a user can cause (unknown image, wrong credentials, registry down, TLS) is a
one-line `RelkitError` naming the image; credentials never appear in messages or logs.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import ssl
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from relkit.errors import RelkitError, UsageError
from relkit.structured import DocumentError, load_json

__all__ = [
    "DOCKER_MANIFEST",
    "DOCKER_MANIFEST_LIST",
    "INSECURE_ENV",
    "MANIFEST_MEDIA_TYPES",
    "OCI_EMPTY_CONFIG",
    "OCI_INDEX",
    "OCI_MANIFEST",
    "DockerConfig",
    "Manifest",
    "NotFoundError",
    "Reference",
    "RegistryClient",
    "digest_of",
    "is_insecure",
    "manifest_exists",
    "resolve_digest",
    "resolve_many",
    "split_oci_url",
]

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_EMPTY_CONFIG = "application/vnd.oci.empty.v1+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
# Index types first: a multi-arch image must resolve to its index digest, not one platform's.
MANIFEST_MEDIA_TYPES = (OCI_INDEX, DOCKER_MANIFEST_LIST, OCI_MANIFEST, DOCKER_MANIFEST)

INSECURE_ENV = "RELKIT_INSECURE_REGISTRIES"

DOCKER_HUB = "docker.io"
# Docker Hub's API does not live at docker.io; its config.json key is the legacy v1 URL.
_DOCKER_HUB_API = "registry-1.docker.io"
_DOCKER_HUB_CONFIG_KEYS = ("https://index.docker.io/v1/", "index.docker.io", "docker.io")

_LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]", "::1")
_PATH_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_DIGEST = re.compile(r"^(?P<algorithm>sha256|sha512):(?P<hex>[a-f0-9]+)$")
_DIGEST_HEX_LENGTH = {"sha256": 64, "sha512": 128}
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')
_RETRY_STATUS = (429, 502, 503, 504)
_RETRIES = 2
_MAX_RETRY_DELAY = 10.0


# --------------------------------------------------------------------------- references


@dataclass(frozen=True)
class Reference:
    """`host[:port]/path[:tag][@digest]`, normalized (`nginx` → `docker.io/library/nginx`)."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @classmethod
    def parse(cls, text: str) -> Reference:
        original = text
        text = text.strip()
        if text.startswith("oci://"):
            text = text[len("oci://") :]
        if not text or any(c.isspace() for c in text):
            raise UsageError(f"{original!r} is not an image reference", hint=_REF_HINT)
        digest: str | None = None
        if "@" in text:
            text, digest = text.split("@", 1)
            _check_digest(digest, original)
        tag: str | None = None
        slash = text.rfind("/")
        colon = text.rfind(":")
        if colon > slash:
            text, tag = text[:colon], text[colon + 1 :]
            if not _TAG.match(tag):
                raise UsageError(f"{original!r} has an invalid tag {tag!r}", hint=_REF_HINT)
        first, _, rest = text.partition("/")
        # Docker's rule: the first component is a registry host when it looks like one.
        if rest and ("." in first or ":" in first or first == "localhost"):
            registry, path = first, rest
        else:
            registry, path = DOCKER_HUB, text
        if registry in ("index.docker.io", "registry-1.docker.io"):
            registry = DOCKER_HUB
        if registry == DOCKER_HUB and "/" not in path:
            path = f"library/{path}"
        if not path or not all(_PATH_COMPONENT.match(part) for part in path.split("/")):
            raise UsageError(
                f"{original!r} has an invalid repository path {path!r}",
                hint="repository names are lowercase letters, digits and . _ - separators",
            )
        return cls(registry=registry, repository=path, tag=tag, digest=digest)

    @property
    def name(self) -> str:
        """`host/path` without tag or digest."""
        return f"{self.registry}/{self.repository}"

    @property
    def target(self) -> str:
        """What the manifest endpoint is asked for: the digest if pinned, else the tag."""
        return self.digest or self.tag or "latest"

    def with_tag(self, tag: str) -> Reference:
        return Reference(self.registry, self.repository, tag, None)

    def with_digest(self, digest: str) -> Reference:
        return Reference(self.registry, self.repository, self.tag, digest)

    def __str__(self) -> str:
        text = self.name
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


_REF_HINT = "use host[:port]/path[:tag][@sha256:...], e.g. ghcr.io/acme/web:1.2.0"


def _check_digest(digest: str, where: str) -> None:
    match = _DIGEST.match(digest)
    if match is None or len(match.group("hex")) != _DIGEST_HEX_LENGTH[match.group("algorithm")]:
        raise UsageError(f"{where!r} has an invalid digest {digest!r}", hint=_REF_HINT)


def split_oci_url(url: str) -> tuple[str, str]:
    """`oci://host[:port]/path` → (`host[:port]`, `path`)."""
    if not url.startswith("oci://"):
        raise UsageError(f"{url!r} is not an oci:// URL", hint="use oci://host[:port]/path")
    host, _, path = url[len("oci://") :].partition("/")
    path = path.strip("/")
    if not host:
        raise UsageError(f"{url!r} has no registry host", hint="use oci://host[:port]/path")
    return host, path


def digest_of(content: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}:{hashlib.new(algorithm, content).hexdigest()}"


def _host_only(registry: str) -> str:
    if registry.startswith("["):  # [::1]:5000
        return registry.split("]", 1)[0] + "]"
    return registry.rsplit(":", 1)[0] if registry.count(":") == 1 else registry


def is_insecure(registry: str, extra: Iterable[str] = ()) -> bool:
    """Plain HTTP for loopback hosts and those listed in `RELKIT_INSECURE_REGISTRIES`."""
    if _host_only(registry) in _LOOPBACK_HOSTS:
        return True
    listed = {item.strip() for item in os.environ.get(INSECURE_ENV, "").split(",") if item.strip()}
    listed.update(extra)
    return registry in listed or _host_only(registry) in listed


# --------------------------------------------------------------------------- credentials


@dataclass(frozen=True, repr=False)
class DockerConfig:
    """Registry credentials from a Docker config file's `auths` section.

    `repr=False`: a stray print or log of this object must not show passwords.
    """

    auths: Mapping[str, tuple[str, str]]
    source: str = "(none)"

    @classmethod
    def load(cls, path: Path | None = None) -> DockerConfig:
        """`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`; missing → empty."""
        if path is None:
            base = os.environ.get("DOCKER_CONFIG")
            path = Path(base) / "config.json" if base else Path.home() / ".docker" / "config.json"
        if not path.is_file():
            return cls({}, str(path))
        try:
            data = load_json(path.read_bytes(), source=f"cannot read Docker config {path}")
        except (OSError, ValueError) as exc:
            raise RelkitError(
                f"cannot read Docker config {path}: {type(exc).__name__}",
                hint="fix the file or point DOCKER_CONFIG at a valid one",
            ) from None
        auths: dict[str, tuple[str, str]] = {}
        raw_auths = data.get("auths") if isinstance(data, dict) else None
        for key, entry in (raw_auths or {}).items():
            creds = _entry_credentials(entry)
            if creds is not None:
                auths[_normalize_config_key(key)] = creds
        return cls(auths, str(path))

    def credentials(self, registry: str) -> tuple[str, str] | None:
        if registry in self.auths:
            return self.auths[registry]
        if registry == DOCKER_HUB:
            for key in _DOCKER_HUB_CONFIG_KEYS:
                if _normalize_config_key(key) in self.auths:
                    return self.auths[_normalize_config_key(key)]
        return None

    def __repr__(self) -> str:
        return f"DockerConfig(source={self.source!r}, registries={sorted(self.auths)!r})"


def _normalize_config_key(key: str) -> str:
    # Keys are "host:port", "https://host" or "https://index.docker.io/v1/".
    key = re.sub(r"^[a-z]+://", "", key).split("/", 1)[0]
    return DOCKER_HUB if key in ("index.docker.io", "registry-1.docker.io") else key


def _entry_credentials(entry: Any) -> tuple[str, str] | None:
    if not isinstance(entry, dict):
        return None
    if entry.get("username") and entry.get("password") is not None:
        return str(entry["username"]), str(entry["password"])
    encoded = entry.get("auth")
    if isinstance(encoded, str) and encoded:
        try:
            user, sep, password = base64.b64decode(encoded).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        if sep:
            return user, password
    return None


# --------------------------------------------------------------------------- client


@dataclass(frozen=True)
class Manifest:
    """A manifest as the registry stored it: exact bytes, their digest, the parsed JSON."""

    reference: Reference
    media_type: str
    digest: str
    content: bytes

    @property
    def json(self) -> dict[str, Any]:
        data = load_json(self.content, source=f"manifest of {self.reference}")
        if not isinstance(data, dict):
            raise RelkitError(f"manifest of {self.reference} is not a JSON object")
        return data

    @property
    def is_index(self) -> bool:
        return self.media_type in (OCI_INDEX, DOCKER_MANIFEST_LIST)


class NotFoundError(RelkitError):
    """The image, tag, repository or blob does not exist in the registry (HTTP 404)."""


class _RequestFailed(Exception):
    """Internal: an HTTP answer that is not what we asked for (turned into a RelkitError)."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(response.status_code)
        self.response = response


class RegistryClient:
    """A thread-safe OCI Distribution client (one connection pool, shared auth tokens)."""

    def __init__(
        self,
        docker_config: DockerConfig | None = None,
        *,
        credentials: Mapping[str, tuple[str, str]] | None = None,
        insecure: Iterable[str] = (),
        timeout: float = 30.0,
    ) -> None:
        # Explicit credentials win over the Docker config file (tests, CI secrets).
        self._config = docker_config if docker_config is not None else DockerConfig.load()
        self._credentials = dict(credentials or {})
        self._insecure = tuple(insecure)
        self._http = httpx.Client(timeout=timeout, follow_redirects=True)
        self._auth: dict[tuple[str, str], str] = {}  # (registry, scope) → Authorization
        self._lock = threading.Lock()

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reads ---------------------------------------------------------------------------

    def resolve_digest(self, reference: str | Reference) -> str:
        """The manifest digest a reference points at (an index keeps the index digest)."""
        ref = _as_ref(reference)
        try:
            with self._errors(ref):
                response = self._send(
                    "HEAD", ref, f"/manifests/{ref.target}", headers=_accept_manifests()
                )
        except NotFoundError:
            # A HEAD answer has no body: GET to name the cause (MANIFEST_UNKNOWN, NAME_UNKNOWN).
            return self.get_manifest(ref).digest
        header: str | None = response.headers.get("Docker-Content-Digest")
        if header and _DIGEST.match(header):
            if ref.digest and header != ref.digest:
                raise RelkitError(f"{ref}: registry answered digest {header}")
            return header
        # No digest header on HEAD (allowed by the spec): GET and hash the body.
        return self.get_manifest(ref).digest

    def get_manifest(self, reference: str | Reference) -> Manifest:
        ref = _as_ref(reference)
        with self._errors(ref):
            response = self._send(
                "GET", ref, f"/manifests/{ref.target}", headers=_accept_manifests()
            )
        content = response.content
        media_type = response.headers.get("Content-Type", "").split(";", 1)[0].strip()
        if not media_type or media_type == "application/json":
            media_type = _media_type_from_body(content) or media_type
        header = response.headers.get("Docker-Content-Digest")
        expected = ref.digest or header
        algorithm = expected.split(":", 1)[0] if expected and _DIGEST.match(expected) else "sha256"
        actual = digest_of(content, algorithm)
        if expected and actual != expected:
            raise RelkitError(
                f"manifest of {ref} does not match its digest (expected {expected}, got {actual})",
                hint="the registry or a proxy in between altered the content",
            )
        return Manifest(ref, media_type, actual, content)

    def manifest_exists(self, reference: str | Reference) -> bool:
        ref = _as_ref(reference)
        try:
            self.resolve_digest(ref)
        except NotFoundError:
            return False
        return True

    def get_blob(self, reference: str | Reference, digest: str) -> bytes:
        """A blob's bytes, checked against its digest."""
        ref = _as_ref(reference)
        _check_digest(digest, f"{ref.name}@{digest}")
        with self._errors(ref, what=f"blob {digest} of {ref.name}"):
            response = self._send("GET", ref, f"/blobs/{digest}")
        if digest_of(response.content, digest.split(":", 1)[0]) != digest:
            raise RelkitError(f"blob {digest} of {ref.name} does not match its digest")
        return response.content

    def list_tags(self, reference: str | Reference, *, page_size: int | None = None) -> list[str]:
        """Every tag of the repository (follows `Link` pagination); unknown repo → []."""
        ref = _as_ref(reference)
        tags: list[str] = []
        path: str | None = "/tags/list" + (f"?n={page_size}" if page_size else "")
        while path is not None:
            try:
                with self._errors(ref, what=f"tags of {ref.name}"):
                    response = self._send("GET", ref, path)
            except NotFoundError:
                return tags
            listed = load_json(response.content, source=f"tags of {ref.name}")
            tags.extend((listed.get("tags") if isinstance(listed, dict) else None) or [])
            path = _next_link(response)
        return tags

    # -- writes --------------------------------------------------------------------------

    def push_blob(self, reference: str | Reference, data: bytes) -> str:
        """Upload a blob to the reference's repository (skipped when already there)."""
        ref = _as_ref(reference)
        digest = digest_of(data)
        what = f"blob {digest} to {ref.name}"
        with self._errors(ref, what=what):
            head = self._send("HEAD", ref, f"/blobs/{digest}", push=True, ok=(200, 404))
            if head.status_code == 200:
                return digest
            started = self._send("POST", ref, "/blobs/uploads/", push=True, ok=(202,))
            location = started.headers.get("Location")
            if not location:
                raise RelkitError(f"registry {ref.registry} gave no upload location for {what}")
            url = httpx.URL(self._base(ref.registry)).join(location)
            self._send(
                "PUT",
                ref,
                str(url.copy_merge_params({"digest": digest})),
                push=True,
                ok=(201,),
                headers={"Content-Type": "application/octet-stream"},
                content=data,
            )
        return digest

    def push_manifest(self, reference: str | Reference, content: bytes, media_type: str) -> str:
        """PUT a manifest under the reference's tag (or digest); returns its digest."""
        ref = _as_ref(reference)
        digest = digest_of(content)
        with self._errors(ref, what=f"manifest {ref}"):
            response = self._send(
                "PUT",
                ref,
                f"/manifests/{ref.tag or digest}",
                push=True,
                ok=(201,),
                headers={"Content-Type": media_type},
                content=content,
            )
        answered = response.headers.get("Docker-Content-Digest")
        if answered and answered != digest:
            raise RelkitError(f"registry stored manifest {ref} as {answered}, expected {digest}")
        return digest

    # -- plumbing ------------------------------------------------------------------------

    def _base(self, registry: str) -> str:
        host = _DOCKER_HUB_API if registry == DOCKER_HUB else registry
        scheme = "http" if is_insecure(registry, self._insecure) else "https"
        return f"{scheme}://{host}"

    def _creds(self, registry: str) -> tuple[str, str] | None:
        return self._credentials.get(registry) or self._config.credentials(registry)

    def _send(
        self,
        method: str,
        ref: Reference,
        path: str,
        *,
        push: bool = False,
        ok: tuple[int, ...] = (200,),
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        url = path if "://" in path else f"{self._base(ref.registry)}/v2/{ref.repository}{path}"
        scope = f"repository:{ref.repository}:{'pull,push' if push else 'pull'}"
        request_headers = dict(headers or {})
        # An upload Location may point at another host (a storage backend): never hand it
        # the registry's credentials.
        same_origin = httpx.URL(url).netloc == httpx.URL(self._base(ref.registry)).netloc
        cached = self._cached_auth(ref.registry, scope) if same_origin else None
        if cached:
            request_headers["Authorization"] = cached
        response = self._request(method, url, request_headers, content)
        if response.status_code == 401 and same_origin:
            authorization = self._authenticate(ref, response, scope)
            request_headers["Authorization"] = authorization
            response = self._request(method, url, request_headers, content)
            if response.status_code == 401:
                raise _WrongCredentials(ref.registry)
        if response.status_code not in ok:
            raise _RequestFailed(response)
        return response

    def _request(
        self, method: str, url: str, headers: Mapping[str, str], content: bytes | None
    ) -> httpx.Response:
        """One HTTP request; reads are retried on rate limits and gateway hiccups."""
        for attempt in range(_RETRIES + 1):
            response = self._http.request(method, url, headers=headers, content=content)
            retryable = method in ("GET", "HEAD") and response.status_code in _RETRY_STATUS
            if not retryable or attempt == _RETRIES:
                return response
            time.sleep(_retry_delay(response, attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    def _cached_auth(self, registry: str, scope: str) -> str | None:
        with self._lock:
            return self._auth.get((registry, scope)) or self._auth.get((registry, "*"))

    def _authenticate(self, ref: Reference, challenge: httpx.Response, scope: str) -> str:
        header = challenge.headers.get("WWW-Authenticate", "")
        scheme, _, params_text = header.partition(" ")
        params = dict(_CHALLENGE_PARAM.findall(params_text))
        creds = self._creds(ref.registry)
        if scheme.lower() == "basic":
            if creds is None:
                raise _NoCredentials(ref.registry)
            value = "Basic " + base64.b64encode(f"{creds[0]}:{creds[1]}".encode()).decode()
            with self._lock:
                self._auth[(ref.registry, "*")] = value
            return value
        if scheme.lower() == "bearer" and params.get("realm"):
            query = {"scope": scope}
            if params.get("service"):
                query["service"] = params["service"]
            auth = httpx.BasicAuth(*creds) if creds else None
            response = self._http.get(params["realm"], params=query, auth=auth)
            if response.status_code == 401:
                raise _WrongCredentials(ref.registry) if creds else _NoCredentials(ref.registry)
            if response.status_code != 200:
                raise _RequestFailed(response)
            body = response.json()
            token = body.get("token") or body.get("access_token")
            if not token:
                raise RelkitError(f"token service of {ref.registry} returned no token")
            value = f"Bearer {token}"
            with self._lock:
                self._auth[(ref.registry, scope)] = value
            return value
        raise RelkitError(
            f"registry {ref.registry} asks for unsupported authentication {scheme or '(none)'!r}"
        )

    @contextmanager
    def _errors(self, ref: Reference, *, what: str | None = None) -> Iterator[None]:
        """Turn transport and HTTP failures into one-line errors naming the image."""
        subject = what or str(ref)
        try:
            yield
        except _WrongCredentials:
            raise RelkitError(
                f"registry {ref.registry} rejected the credentials for {subject} (HTTP 401)",
                hint=f"check the auths entry for {ref.registry} in {self._config.source}"
                " (docker login)",
            ) from None
        except _NoCredentials:
            raise RelkitError(
                f"registry {ref.registry} requires authentication for {subject}",
                hint=f"run docker login {ref.registry} or set DOCKER_CONFIG"
                " (credential helpers are not supported)",
            ) from None
        except _RequestFailed as exc:
            status = exc.response.status_code
            code = _error_code(exc.response)
            if status == 404:
                raise NotFoundError(
                    f"{subject} not found in registry {ref.registry}"
                    + (f" ({code})" if code else ""),
                    hint="check the name and tag, and that it was pushed to this registry",
                ) from None
            reason = "access denied" if status == 403 else f"HTTP {status}"
            raise RelkitError(
                f"registry {ref.registry} failed for {subject}: {reason}"
                + (f" ({code})" if code else ""),
                hint="check the repository permissions" if status == 403 else None,
            ) from None
        except httpx.ConnectError as exc:
            if _is_tls_error(exc):
                raise RelkitError(
                    f"TLS error talking to registry {ref.registry} for {subject}",
                    hint=f"for a plain-HTTP registry add it to {INSECURE_ENV}",
                ) from None
            raise RelkitError(
                f"registry {ref.registry} is not reachable for {subject}: connection refused",
                hint="check the registry address and that it is running",
            ) from None
        except httpx.TimeoutException:
            raise RelkitError(
                f"registry {ref.registry} timed out for {subject}",
                hint="check the network or retry",
            ) from None
        except httpx.TransportError as exc:
            raise RelkitError(
                f"cannot talk to registry {ref.registry} for {subject}: {type(exc).__name__}",
                hint="check the registry address",
            ) from None


class _WrongCredentials(Exception):
    def __init__(self, registry: str) -> None:
        super().__init__(registry)


class _NoCredentials(Exception):
    def __init__(self, registry: str) -> None:
        super().__init__(registry)


def _as_ref(reference: str | Reference) -> Reference:
    return reference if isinstance(reference, Reference) else Reference.parse(reference)


def _accept_manifests() -> dict[str, str]:
    return {"Accept": ", ".join(MANIFEST_MEDIA_TYPES)}


def _media_type_from_body(content: bytes) -> str | None:
    try:
        data = load_json(content, source="manifest")
    except DocumentError:
        return None
    value = data.get("mediaType") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def _error_code(response: httpx.Response) -> str | None:
    try:
        errors = load_json(response.content, source="registry error").get("errors") or []
    except (ValueError, AttributeError, httpx.ResponseNotRead, DocumentError):
        return None
    codes = [str(err.get("code")) for err in errors if isinstance(err, dict) and err.get("code")]
    return ", ".join(codes) or None


def _next_link(response: httpx.Response) -> str | None:
    link = response.headers.get("Link")
    if not link:
        return None
    match = re.search(r"<([^>]+)>", link)
    if match is None:
        return None
    return str(response.request.url.join(match.group(1)))


def _retry_delay(response: httpx.Response, attempt: int) -> float:
    # Honour a numeric Retry-After (GHCR and Docker Hub send it on 429), within reason.
    header: str = response.headers.get("Retry-After", "")
    if header.isdigit():
        return min(float(header), _MAX_RETRY_DELAY)
    return 0.5 * float(2**attempt)


def _is_tls_error(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError) or "SSL" in str(seen) or "CERTIFICATE" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


# --------------------------------------------------------------------------- module API


def resolve_digest(reference: str, *, client: RegistryClient | None = None) -> str:
    """`sha256:...` of a reference; an unknown image is a RelkitError naming it."""
    with _client(client) as active:
        return active.resolve_digest(reference)


def manifest_exists(reference: str, *, client: RegistryClient | None = None) -> bool:
    with _client(client) as active:
        return active.manifest_exists(reference)


def resolve_many(
    references: Iterable[str], *, client: RegistryClient | None = None, workers: int = 8
) -> dict[str, str]:
    """Resolve references in parallel: {reference as given: digest}.

    All are attempted; if any fails, the error names the first failing one (in input order)
    and how many others failed, so nothing is published with a partial set of pins.
    """
    wanted = list(dict.fromkeys(references))
    if not wanted:
        return {}
    with _client(client) as active:

        def one(reference: str) -> str | RelkitError:
            try:
                return active.resolve_digest(reference)
            except RelkitError as exc:
                return exc

        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(wanted)))) as pool:
            results = list(pool.map(one, wanted))
    failures = [result for result in results if isinstance(result, RelkitError)]
    if failures:
        first = failures[0]
        more = f" (and {len(failures) - 1} more image(s) failed)" if len(failures) > 1 else ""
        raise type(first)(f"cannot resolve image: {first.message}{more}", first.hint)
    return {
        ref: result for ref, result in zip(wanted, results, strict=True) if isinstance(result, str)
    }


@contextmanager
def _client(client: RegistryClient | None) -> Iterator[RegistryClient]:
    if client is not None:
        yield client
        return
    owned = RegistryClient()
    try:
        yield owned
    finally:
        owned.close()
