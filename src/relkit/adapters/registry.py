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
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from relkit.adapters.tls import shared_ssl_context
from relkit.core.errors import RelkitError, UsageError
from relkit.core.records import record
from relkit.core.redact import register_credentials, register_secret
from relkit.core.structured import DocumentError, load_json

__all__ = [
    "DOCKER_MANIFEST",
    "DOCKER_MANIFEST_LIST",
    "INSECURE_ENV",
    "MANIFEST_MEDIA_TYPES",
    "MAX_BLOB_BYTES",
    "MAX_MANIFEST_BYTES",
    "MIRRORS_ENV",
    "OCI_EMPTY_CONFIG",
    "OCI_EMPTY_JSON",
    "OCI_INDEX",
    "OCI_MANIFEST",
    "DockerConfig",
    "Manifest",
    "NotFoundError",
    "Reference",
    "RegistryClient",
    "digest_of",
    "empty_config_descriptor",
    "is_insecure",
    "manifest_exists",
    "mirror_oci_url",
    "mirror_of",
    "registry_mirrors",
    "resolve_digest",
    "resolve_many",
    "split_oci_url",
]

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_EMPTY_CONFIG = "application/vnd.oci.empty.v1+json"
OCI_EMPTY_JSON = b"{}"  # the empty config's content (pushed as a blob before the manifest)
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
# Index types first: a multi-arch image must resolve to its index digest, not one platform's.
MANIFEST_MEDIA_TYPES = (OCI_INDEX, DOCKER_MANIFEST_LIST, OCI_MANIFEST, DOCKER_MANIFEST)

INSECURE_ENV = "RELKIT_INSECURE_REGISTRIES"
MIRRORS_ENV = "RELKIT_REGISTRY_MIRRORS"

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
_REDIRECT_STATUS = (301, 302, 303, 307, 308)
_MAX_REDIRECTS = 5
_ERROR_CODE = re.compile(r"^[A-Z][A-Z0-9_]{1,63}$")

MAX_MANIFEST_BYTES = 4 * 1024 * 1024  # containerd's limit on a manifest (and a tag list)
MAX_BLOB_BYTES = 1024 * 1024 * 1024  # a blob whose descriptor gives no size
_MAX_BODY_BYTES = 1024 * 1024  # token answers and other small JSON
_MAX_ERROR_BYTES = 64 * 1024  # enough of an error body for its code
_CHUNK = 64 * 1024


# --------------------------------------------------------------------------- references


@record
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


def empty_config_descriptor() -> dict[str, Any]:
    """The `config` of an artifact manifest with no config: OCI's empty descriptor, inline."""
    return {
        "mediaType": OCI_EMPTY_CONFIG,
        "digest": digest_of(OCI_EMPTY_JSON),
        "size": len(OCI_EMPTY_JSON),
        "data": base64.b64encode(OCI_EMPTY_JSON).decode(),
    }


def _host_only(registry: str) -> str:
    if registry.startswith("["):  # [::1]:5000
        return registry.split("]", 1)[0] + "]"
    return registry.rsplit(":", 1)[0] if registry.count(":") == 1 else registry


def registry_mirrors() -> dict[str, str]:
    """`RELKIT_REGISTRY_MIRRORS`, e.g. `ghcr.io=localhost:5000,docker.io=mirror.lan`: every
    request relkit (and Helm, through relkit) makes to the first registry goes to the second.

    For rehearsals against a local registry: references keep their names (compose pins,
    chart references, the run record say `ghcr.io/...`), only where they are fetched from
    and pushed to changes, like a container runtime's registry mirror."""
    text = os.environ.get(MIRRORS_ENV, "")
    mirrors: dict[str, str] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        source, sep, target = (side.strip() for side in item.partition("="))
        if not sep or not source or not target or "/" in source + target:
            raise UsageError(
                f"{MIRRORS_ENV}: {item!r} is not REGISTRY=MIRROR",
                hint=f"e.g. {MIRRORS_ENV}=ghcr.io=localhost:5000 (hosts, no paths)",
            )
        mirrors[source] = target
    return mirrors


def mirror_of(registry: str) -> str:
    """The registry host requests for `registry` go to (itself unless mirrored)."""
    return registry_mirrors().get(registry, registry)


def mirror_oci_url(url: str) -> str:
    """`oci://host/path` with host replaced by its mirror (for Helm, which takes URLs)."""
    host, path = split_oci_url(url)
    target = mirror_of(host)
    return url if target == host else f"oci://{target}/{path}".rstrip("/")


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
                register_credentials(*creds)  # masked in every message from now on
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


@record
class Manifest:
    """A manifest as the registry stored it: exact bytes, their digest, the parsed JSON.

    `get_manifest` has already checked that the bytes are a JSON object whose standard
    fields (`layers`, `manifests`, `config`, `annotations`...) have their spec'd types, so
    callers may index them without guarding against a hostile registry.
    """

    reference: Reference
    media_type: str
    digest: str
    content: bytes

    @property
    def json(self) -> dict[str, Any]:
        return _parse_manifest(self.content, f"manifest of {self.reference}")

    @property
    def is_index(self) -> bool:
        return self.media_type in (OCI_INDEX, DOCKER_MANIFEST_LIST)


class NotFoundError(RelkitError):
    """The image, tag, repository or blob does not exist in the registry (HTTP 404)."""


@record
class _Reply:
    """One final HTTP answer, its body read within a bound (or streamed into a sink)."""

    status_code: int
    headers: httpx.Headers
    url: httpx.URL
    content: bytes

    def json(self) -> Any:
        """The body as JSON (bounded depth); a `DocumentError` when it is not."""
        return load_json(self.content, source=f"answer from {self.url.host}")


class _RequestFailed(Exception):
    """Internal: an HTTP answer that is not what we asked for (turned into a RelkitError)."""

    def __init__(self, reply: _Reply) -> None:
        super().__init__(reply.status_code)
        self.reply = reply

    @property
    def response(self) -> _Reply:
        """The answer (status_code, headers, url, content), under its former name."""
        return self.reply


class _TooLarge(Exception):
    """Internal: a body longer than relkit reads for that kind of answer."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


Sink = Callable[[bytes], object]


class RegistryClient:
    """A thread-safe OCI Distribution client (one connection pool, shared auth tokens).

    Credentials stay with their registry: every hop of a redirect chain is judged on its
    own, and only a hop to the registry's own origin (scheme, host, port) carries the Basic
    credentials or a Bearer token obtained for it. A redirect target (a blob store, another
    host) gets no credentials, and its `401` is an error, not a prompt to authenticate.
    """

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
        for user, password in [*self._credentials.values(), *self._config.auths.values()]:
            register_credentials(user, password)
        self._insecure = tuple(insecure)
        # Redirects are followed by hand (`_exchange`): httpx would re-send our headers.
        self._http = httpx.Client(
            timeout=timeout, follow_redirects=False, verify=shared_ssl_context()
        )
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
        """The manifest bytes (at most 4 MiB, containerd's limit), digest- and shape-checked."""
        ref = _as_ref(reference)
        with self._errors(ref):
            response = self._send(
                "GET",
                ref,
                f"/manifests/{ref.target}",
                headers=_accept_manifests(),
                limit=MAX_MANIFEST_BYTES,
            )
        content = response.content
        data = _parse_manifest(content, f"manifest of {ref} from registry {ref.registry}")
        media_type = response.headers.get("Content-Type", "").split(";", 1)[0].strip()
        if not media_type or media_type == "application/json":
            body_type = data.get("mediaType")
            media_type = body_type if isinstance(body_type, str) else media_type
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

    def get_blob(
        self, reference: str | Reference, digest: str, *, size: int | None = None
    ) -> bytes:
        """A blob's bytes, checked against its digest (and its descriptor's `size`).

        The download stops as soon as it passes `size` (or `MAX_BLOB_BYTES` when the size
        is unknown): a registry cannot make relkit hold more than the descriptor promised.
        """
        buffer = bytearray()
        self.stream_blob(reference, digest, buffer.extend, size=size)
        return bytes(buffer)

    def download_blob(
        self, reference: str | Reference, digest: str, target: Path, *, size: int | None = None
    ) -> None:
        """Stream a blob into `target` (removed again when the blob is refused)."""
        try:
            with target.open("wb") as handle:
                self.stream_blob(reference, digest, handle.write, size=size)
        except BaseException:
            target.unlink(missing_ok=True)
            raise

    def stream_blob(
        self, reference: str | Reference, digest: str, sink: Sink, *, size: int | None = None
    ) -> None:
        """Feed a blob to `sink` chunk by chunk, hashing as it goes; refuse a blob that is
        longer or shorter than `size` or does not match `digest` (nothing is kept in memory)."""
        ref = _as_ref(reference)
        what = f"blob {digest} of {ref.name}"
        _check_digest(digest, f"{ref.name}@{digest}")
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
            raise RelkitError(f"{what} has an invalid size {size!r} in its descriptor")
        limit = MAX_BLOB_BYTES if size is None else size
        hasher = hashlib.new(digest.split(":", 1)[0])
        received = 0

        def take(chunk: bytes) -> None:
            nonlocal received
            received += len(chunk)
            if received > limit:
                raise _TooLarge(limit)
            hasher.update(chunk)
            sink(chunk)

        try:
            with self._errors(ref, what=what):
                self._send("GET", ref, f"/blobs/{digest}", limit=limit, sink=take)
        except _BlobTooLarge:
            raise RelkitError(
                f"registry {ref.registry} sent more than the {limit} bytes of {what}"
                + ("" if size is not None else " (no size known)"),
                hint="the registry or a proxy in between altered the content",
            ) from None
        if size is not None and received != size:
            raise RelkitError(
                f"registry {ref.registry} sent {received} of the {size} bytes of {what}",
                hint="the registry or a proxy in between altered the content",
            )
        if f"{hasher.name}:{hasher.hexdigest()}" != digest:
            raise RelkitError(f"{what} does not match its digest")

    def list_tags(self, reference: str | Reference, *, page_size: int | None = None) -> list[str]:
        """Every tag of the repository (follows `Link` pagination); unknown repo → []."""
        ref = _as_ref(reference)
        tags: list[str] = []
        path: str | None = "/tags/list" + (f"?n={page_size}" if page_size else "")
        while path is not None:
            try:
                with self._errors(ref, what=f"tags of {ref.name}"):
                    response = self._send("GET", ref, path, limit=MAX_MANIFEST_BYTES)
            except NotFoundError:
                return tags
            tags.extend(_tag_list(response, ref))
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
            url = started.url.join(location)
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

    # -- preflight -----------------------------------------------------------------------

    def check_push_access(self, reference: str | Reference) -> str:
        """Check, without writing, that we may push to the reference's repository.

        The cheapest handshake that says so: `GET /v2/` (the API version check every client
        makes first). `200` without credentials: the registry takes anonymous pushes. A
        `401` challenge is answered as a push would answer it (Basic credentials, or a
        Bearer token asked for `repository:NAME:pull,push`) and the check is repeated; a
        refusal or missing credentials is a one-line error naming the registry. Returns how
        access was granted: "anonymous", "basic" or "token".
        """
        ref = _as_ref(reference)
        scope = f"repository:{ref.repository}:pull,push"
        ping = f"{self._base(ref.registry)}/v2/"
        with self._errors(ref, what=f"push to {ref.name}"):
            if self._creds(ref.registry) is None:
                # No credentials: only a registry that answers without any is open to us (a
                # token service also hands out anonymous tokens, but only to pull).
                asked = _Exchange("GET", {}, None, (200,), _MAX_BODY_BYTES, None)
                reply = self._exchange(asked, httpx.URL(ping), ref, scope)
                if reply.status_code == 401:
                    raise _NoCredentials(ref.registry)
                if reply.status_code != 200:
                    raise _RequestFailed(reply)
                return "anonymous"
            self._send("GET", ref, ping, push=True)
        with self._lock:
            granted = self._auth.get((ref.registry, scope)) or self._auth.get((ref.registry, "*"))
        if granted is None:
            return "anonymous"
        return "basic" if granted.startswith("Basic ") else "token"

    # -- plumbing ------------------------------------------------------------------------

    def _base(self, registry: str) -> str:
        target = mirror_of(registry)  # RELKIT_REGISTRY_MIRRORS
        host = _DOCKER_HUB_API if target == DOCKER_HUB else target
        scheme = "http" if is_insecure(target, self._insecure) else "https"
        return f"{scheme}://{host}"

    def _creds(self, registry: str) -> tuple[str, str] | None:
        target = mirror_of(registry)  # a mirror is logged in to as itself
        return self._credentials.get(target) or self._config.credentials(target)

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
        limit: int = MAX_MANIFEST_BYTES,
        sink: Sink | None = None,
    ) -> _Reply:
        url = path if "://" in path else f"{self._base(ref.registry)}/v2/{ref.repository}{path}"
        scope = f"repository:{ref.repository}:{'pull,push' if push else 'pull'}"
        exchange = _Exchange(method, dict(headers or {}), content, ok, limit, sink)
        reply = self._exchange(exchange, httpx.URL(url), ref, scope)
        if reply.status_code == 401:
            # Only the registry's own origin gets here (see `_exchange`).
            self._authenticate(ref, reply, scope)
            reply = self._exchange(exchange, httpx.URL(url), ref, scope)
            if reply.status_code == 401:
                raise _WrongCredentials(ref.registry)
        if reply.status_code not in ok:
            raise _RequestFailed(reply)
        return reply

    def _exchange(self, exchange: _Exchange, url: httpx.URL, ref: Reference, scope: str) -> _Reply:
        """One request and its redirects, each hop given credentials only if it is the
        registry's own origin. Returns the final answer, or the home origin's 401."""
        home = httpx.URL(self._base(ref.registry))
        method, content = exchange.method, exchange.content
        for _hop in range(_MAX_REDIRECTS + 1):
            at_home = _same_origin(url, home)
            headers = dict(exchange.headers)
            if at_home:
                cached = self._cached_auth(ref.registry, scope)
                if cached:
                    headers["Authorization"] = cached
            with self._open(method, url, headers, content) as response:
                status = response.status_code
                location = response.headers.get("Location")
                if status in _REDIRECT_STATUS and location:
                    target = url.join(location)
                    _check_redirect(url, target, ref)
                    if status == 303 or (status in (301, 302) and method == "POST"):
                        method, content = ("HEAD" if method == "HEAD" else "GET"), None
                    url = target
                    continue
                if status == 401 and not at_home:
                    # A redirect target asking for credentials never gets ours.
                    raise _RequestFailed(_reply(response, url, self._drain(response)))
                if status in exchange.ok and status != 401:
                    body = self._body(response, exchange.limit, exchange.sink)
                else:
                    body = self._drain(response)
                return _reply(response, url, body)
        raise RelkitError(
            f"registry {ref.registry} redirected more than {_MAX_REDIRECTS} times",
            hint="check the registry address",
        )

    @contextmanager
    def _open(
        self, method: str, url: httpx.URL, headers: Mapping[str, str], content: bytes | None
    ) -> Iterator[httpx.Response]:
        """One streamed HTTP request; reads are retried on rate limits and gateway hiccups."""
        for attempt in range(_RETRIES + 1):
            request = self._http.build_request(method, url, headers=headers, content=content)
            response = self._http.send(request, stream=True)
            retryable = method in ("GET", "HEAD") and response.status_code in _RETRY_STATUS
            if not retryable or attempt == _RETRIES:
                try:
                    yield response
                finally:
                    response.close()
                return
            response.close()
            time.sleep(_retry_delay(response, attempt))

    @staticmethod
    def _body(response: httpx.Response, limit: int, sink: Sink | None) -> bytes:
        """The body, at most `limit` bytes (a `Content-Length` above it is refused unread)."""
        if response.request.method == "HEAD":
            return b""
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise _TooLarge(limit)
        if sink is not None:
            for chunk in response.iter_bytes(_CHUNK):
                sink(chunk)
            return b""
        buffer = bytearray()
        for chunk in response.iter_bytes(_CHUNK):
            buffer.extend(chunk)
            if len(buffer) > limit:
                raise _TooLarge(limit)
        return bytes(buffer)

    @staticmethod
    def _drain(response: httpx.Response) -> bytes:
        """An answer we only look into for an error code: its first few KiB."""
        if response.request.method == "HEAD":
            return b""
        buffer = bytearray()
        for chunk in response.iter_bytes(_CHUNK):
            buffer.extend(chunk)
            if len(buffer) >= _MAX_ERROR_BYTES:
                break
        return bytes(buffer[:_MAX_ERROR_BYTES])

    def _cached_auth(self, registry: str, scope: str) -> str | None:
        with self._lock:
            return self._auth.get((registry, scope)) or self._auth.get((registry, "*"))

    def _authenticate(self, ref: Reference, challenge: _Reply, scope: str) -> str:
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
            token = self._fetch_token(ref, params, scope, creds)
            value = f"Bearer {token}"
            with self._lock:
                self._auth[(ref.registry, scope)] = value
            return value
        raise RelkitError(
            f"registry {ref.registry} asks for unsupported authentication {scheme or '(none)'!r}"
        )

    def _fetch_token(
        self,
        ref: Reference,
        params: Mapping[str, str],
        scope: str,
        creds: tuple[str, str] | None,
    ) -> str:
        """A Bearer token from the challenge's realm (Docker token spec), credentials sent
        only to a realm we trust with them (see `_check_realm`)."""
        realm = httpx.URL(params["realm"])
        _check_realm(realm, httpx.URL(self._base(ref.registry)), ref)
        query = {"scope": scope}
        if params.get("service"):
            query["service"] = params["service"]
        headers = {"Accept": "application/json"}
        if creds is not None:
            basic = base64.b64encode(f"{creds[0]}:{creds[1]}".encode()).decode()
            headers["Authorization"] = f"Basic {basic}"
        url = realm.copy_merge_params(query)
        service = f"token service of registry {ref.registry}"
        try:
            # Never follow a token service's redirect: it would carry the credentials along.
            with self._open("GET", url, headers, None) as response:
                status = response.status_code
                body = (
                    self._body(response, _MAX_BODY_BYTES, None)
                    if status == 200
                    else self._drain(response)
                )
        except _TooLarge:
            raise RelkitError(f"{service} sent more than {_MAX_BODY_BYTES} bytes") from None
        except httpx.HTTPError as exc:
            raise RelkitError(
                f"{service} is not reachable: {type(exc).__name__}",
                hint="check the registry's token realm and the network",
            ) from None
        if status == 401:
            raise _WrongCredentials(ref.registry) if creds else _NoCredentials(ref.registry)
        if status != 200:
            raise RelkitError(f"{service} answered HTTP {status}")
        try:
            data = load_json(body, source=service)
        except DocumentError:
            raise RelkitError(
                f"{service} answered something that is not JSON ({_describe_body(body)})",
                hint="is the registry's token realm a Docker token service?",
            ) from None
        token = (data.get("token") or data.get("access_token")) if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise RelkitError(f"{service} returned no token")
        register_secret(token)
        return token

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
        except _TooLarge as exc:
            if what is not None and what.startswith("blob "):
                raise _BlobTooLarge() from None
            raise RelkitError(
                f"registry {ref.registry} sent more than {_size_text(exc.limit)} for {subject}",
                hint="relkit reads at most 4 MiB of a manifest or tag list (containerd's limit)",
            ) from None
        except _RequestFailed as exc:
            status = exc.reply.status_code
            code = _error_code(exc.reply)
            if status == 404:
                raise NotFoundError(
                    f"{subject} not found in registry {ref.registry}"
                    + (f" ({code})" if code else ""),
                    hint="check the name and tag, and that it was pushed to this registry",
                ) from None
            reason = "access denied" if status == 403 else f"HTTP {status}"
            if status == 401:
                reason = f"HTTP 401 from {_netloc(exc.reply.url)}, which gets no credentials"
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


@record
class _Exchange:
    """What `_send` asks for, repeated as is after an authentication challenge."""

    method: str
    headers: dict[str, str]
    content: bytes | None
    ok: tuple[int, ...]
    limit: int
    sink: Sink | None


class _BlobTooLarge(Exception):
    pass


class _WrongCredentials(Exception):
    def __init__(self, registry: str) -> None:
        super().__init__(registry)


class _NoCredentials(Exception):
    def __init__(self, registry: str) -> None:
        super().__init__(registry)


def _reply(response: httpx.Response, url: httpx.URL, body: bytes) -> _Reply:
    return _Reply(response.status_code, response.headers, url, body)


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    default = {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host, url.port or default


def _netloc(url: httpx.URL) -> str:
    return url.netloc.decode("ascii", "replace")


def _same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    return _origin(a) == _origin(b)


def _is_loopback(url: httpx.URL) -> bool:
    return url.host in ("localhost", "::1") or url.host.startswith("127.")


def _check_redirect(source: httpx.URL, target: httpx.URL, ref: Reference) -> None:
    if target.scheme not in ("http", "https"):
        raise RelkitError(f"registry {ref.registry} redirected to a {target.scheme!r} URL")
    if source.scheme == "https" and target.scheme == "http" and not _is_loopback(target):
        raise RelkitError(
            f"registry {ref.registry} redirected from HTTPS to plain HTTP ({target.host})",
            hint="relkit never downgrades a registry connection",
        )


def _check_realm(realm: httpx.URL, home: httpx.URL, ref: Reference) -> None:
    """A token realm gets the registry's credentials: on the registry's own host it is
    spoken to as the registry is; on another host only over HTTPS (loopback excepted, for
    local test registries), so a plain-HTTP realm elsewhere never sees a password."""
    if realm.scheme not in ("http", "https") or not realm.host:
        raise RelkitError(f"registry {ref.registry} names an invalid token realm")
    if realm.host == home.host or realm.scheme == "https" or _is_loopback(realm):
        return
    raise RelkitError(
        f"registry {ref.registry} names a plain-HTTP token realm on another host"
        f" ({realm.host}): credentials are only sent there over HTTPS",
        hint="configure the registry's token realm with an https:// URL",
    )


def _describe_body(body: bytes) -> str:
    head = body.lstrip()[:64].lower()
    if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head:
        return "an HTML page"
    return f"{len(body)} bytes" if body else "an empty body"


def _size_text(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MiB" if limit % (1024 * 1024) == 0 else f"{limit} bytes"


def _parse_manifest(content: bytes, where: str) -> dict[str, Any]:
    """The manifest JSON, with the standard fields of the types the OCI image spec gives
    them, or a one-line error saying which field is wrong (issue 9 §7)."""
    try:
        data = load_json(content, source=where)
    except DocumentError:
        if _describe_body(content) not in ("an HTML page", "an empty body"):
            raise  # too deep, too big, malformed: the bounded loader's own line
        raise RelkitError(
            f"{where} is not JSON ({_describe_body(content)})",
            hint="is this an OCI registry? relkit reads OCI and Docker v2 manifests",
        ) from None
    if not isinstance(data, dict):
        raise RelkitError(f"{where} is not a JSON object")
    problem = _manifest_problem(data)
    if problem:
        raise RelkitError(f"{where} is malformed: {problem}")
    return data


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )


def _descriptor_problem(value: Any, field: str) -> str | None:
    if not isinstance(value, dict):
        return f"{field} is {_kind(value)}, not an object"
    for key in ("mediaType", "digest", "artifactType"):
        if key in value and not isinstance(value[key], str):
            return f"{field}.{key} is {_kind(value[key])}, not a string"
    size = value.get("size")
    if "size" in value and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
        return f"{field}.size is not a non-negative integer"
    return _annotations_problem(value, field)


def _annotations_problem(value: dict[str, Any], field: str) -> str | None:
    if "annotations" not in value or value["annotations"] is None:
        return None
    annotations = value["annotations"]
    name = f"{field}.annotations" if field else "annotations"
    if not isinstance(annotations, dict):
        return f"{name} is {_kind(annotations)}, not an object"
    if not all(isinstance(v, str) for v in annotations.values()):
        return f"{name} has a value that is not a string"
    return None


def _manifest_problem(data: dict[str, Any]) -> str | None:
    for key in ("mediaType", "artifactType"):
        if key in data and not isinstance(data[key], str):
            return f"{key} is {_kind(data[key])}, not a string"
    for key in ("layers", "manifests"):
        if key in data and data[key] is not None:
            items = data[key]
            if not isinstance(items, list):
                return f"{key} is {_kind(items)}, not a list"
            for position, item in enumerate(items):
                problem = _descriptor_problem(item, f"{key}[{position}]")
                if problem:
                    return problem
    for key in ("config", "subject"):
        if key in data and data[key] is not None:
            problem = _descriptor_problem(data[key], key)
            if problem:
                return problem
    return _annotations_problem(data, "")


def _tag_list(response: _Reply, ref: Reference) -> list[str]:
    try:
        data = response.json()
    except DocumentError:
        raise RelkitError(
            f"tag list of {ref.name} from registry {ref.registry} is not JSON"
        ) from None
    tags = data.get("tags") if isinstance(data, dict) else None
    if tags is None:
        return []
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise RelkitError(f"tag list of {ref.name} from registry {ref.registry} is malformed")
    return tags


def _as_ref(reference: str | Reference) -> Reference:
    return reference if isinstance(reference, Reference) else Reference.parse(reference)


def _accept_manifests() -> dict[str, str]:
    return {"Accept": ", ".join(MANIFEST_MEDIA_TYPES)}


def _error_code(reply: _Reply) -> str | None:
    try:
        errors = reply.json().get("errors") or []
    except (DocumentError, AttributeError):
        return None
    if not isinstance(errors, list):
        return None
    codes = [str(err.get("code")) for err in errors if isinstance(err, dict) and err.get("code")]
    # A code is the spec's UPPER_SNAKE word; anything else (an echoed header...) is not shown.
    shown = [code for code in codes if _ERROR_CODE.match(code)]
    return ", ".join(shown) or None


def _next_link(response: _Reply) -> str | None:
    link = response.headers.get("Link")
    if not link:
        return None
    match = re.search(r"<([^>]+)>", link)
    if match is None:
        return None
    return str(response.url.join(match.group(1)))


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
