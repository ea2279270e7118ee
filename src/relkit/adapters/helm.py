"""Helm: lint, dependency update, package, push/pull/show charts in OCI registries.

Two backends with one interface. `SdkHelm` calls Helm's Go SDK embedded by
`helm-python-sdk` (import `helm_python`; no binary needed). `CliHelm` runs the `helm` binary
for users who configure `charts[].helm = "cli"` (to match the Helm version of their
cluster tooling). Both push with Helm's own media types (config
`application/vnd.cncf.helm.config.v1+json`, layer
`application/vnd.cncf.helm.chart.content.v1.tar+gzip`), so `helm pull`/`helm install oci://`
work on the result.

Registry credentials come from relkit's Docker config reader and are handed to Helm through
a private, temporary registry config: the user's own Helm login state is never read or
changed. Loopback registries (and `RELKIT_INSECURE_REGISTRIES`) are spoken to over plain HTTP.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, Protocol

from relkit.adapters.registry import DockerConfig, is_insecure, mirror_oci_url, split_oci_url
from relkit.core.errors import RelkitError
from relkit.core.records import record
from relkit.core.structured import DocumentError, load_yaml, read_text

__all__ = [
    "HELM_CHART_LAYER",
    "HELM_CONFIG",
    "CliHelm",
    "HelmBackend",
    "LintFinding",
    "Runner",
    "SdkHelm",
    "helm_backend",
]

HELM_CONFIG = "application/vnd.cncf.helm.config.v1+json"
HELM_CHART_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"

Severity = Literal["info", "warning", "error"]
# helm lint's support.Severity values (pkg/lint/support): 1 info, 2 warning, 3 error.
_SEVERITY: dict[int, Severity] = {1: "info", 2: "warning", 3: "error"}


@record
class LintFinding:
    severity: Severity
    path: str
    message: str

    def __str__(self) -> str:
        return f"[{self.severity.upper()}] {self.path}: {self.message}".replace("\n", " ")


class HelmBackend(Protocol):
    """What the chart step needs from Helm."""

    def lint(self, chart_dir: Path) -> list[LintFinding]:
        """Findings below error level; lint errors raise a RelkitError."""
        ...

    def dependency_update(self, chart_dir: Path) -> None: ...

    def package(self, chart_dir: Path, destination: Path) -> Path: ...

    def push(self, archive: Path, remote: str) -> None:
        """Push `NAME-VERSION.tgz` to `oci://host/path` (Helm appends `/NAME:VERSION`)."""
        ...

    def pull(self, chart_ref: str, version: str, destination: Path) -> Path: ...

    def show_chart(self, chart_ref: str, version: str) -> str: ...


def _lint_failure(chart_dir: Path, errors: Sequence[LintFinding]) -> RelkitError:
    first = errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return RelkitError(
        f"chart {chart_dir.name} fails helm lint: {first.path}: {first.message}{more}",
        hint="fix the chart; helm lint shows every finding",
    )


def _registry_host(remote: str) -> str:
    return split_oci_url(remote)[0]


# --------------------------------------------------------------------------- SDK


class SdkHelm:
    """Helm through its embedded Go SDK (`helm_python`)."""

    def __init__(
        self,
        docker_config: DockerConfig | None = None,
        *,
        credentials: Mapping[str, tuple[str, str]] | None = None,
        insecure: Sequence[str] = (),
    ) -> None:
        try:
            import helm_python  # noqa: F401  (fail here, not half-way through a release)
        except (ImportError, OSError) as exc:
            raise RelkitError(
                f"the Helm SDK (helm-python-sdk) cannot be loaded: {type(exc).__name__}",
                hint='reinstall relkit, or set charts[].helm = "cli" to use the helm binary',
            ) from None
        self._config = docker_config if docker_config is not None else DockerConfig.load()
        self._credentials = dict(credentials or {})
        self._insecure = tuple(insecure)

    def lint(self, chart_dir: Path) -> list[LintFinding]:
        import helm_python as helm

        with _sdk_errors(f"helm lint {chart_dir.name}"):
            report: dict[str, Any] = helm.lint(chart_dir)
        findings = [
            LintFinding(
                _SEVERITY.get(int(item.get("severity", 0)), "info"),
                str(item.get("path", "")),
                " ".join(str(item.get("error", "")).split()),
            )
            for item in report.get("messages") or []
        ]
        errors = [f for f in findings if f.severity == "error"]
        if errors:
            raise _lint_failure(chart_dir, errors)
        return findings

    def dependency_update(self, chart_dir: Path) -> None:
        import helm_python as helm

        plain = any(is_insecure(host, self._insecure) for host in _oci_dependency_hosts(chart_dir))
        with _sdk_errors(f"helm dependency update {chart_dir.name}"):
            helm.dependency_update(chart_dir, plain_http=plain)

    def package(self, chart_dir: Path, destination: Path) -> Path:
        import helm_python as helm

        destination.mkdir(parents=True, exist_ok=True)
        with _sdk_errors(f"helm package {chart_dir.name}"):
            return Path(helm.package(chart_dir, destination=destination))

    def push(self, archive: Path, remote: str) -> None:
        import helm_python as helm

        remote = mirror_oci_url(remote)  # RELKIT_REGISTRY_MIRRORS
        host = _registry_host(remote)
        plain = is_insecure(host, self._insecure)
        with self._client(host) as client, _sdk_errors(f"helm push {archive.name} to {remote}"):
            helm.push(archive, remote, client=client, plain_http=plain)

    def pull(self, chart_ref: str, version: str, destination: Path) -> Path:
        import helm_python as helm

        chart_ref = mirror_oci_url(chart_ref)  # RELKIT_REGISTRY_MIRRORS
        host = _registry_host(chart_ref)
        plain = is_insecure(host, self._insecure)
        destination.mkdir(parents=True, exist_ok=True)
        with self._client(host) as client, _sdk_errors(f"helm pull {chart_ref}:{version}"):
            helm.pull(
                f"{chart_ref}:{version}", client=client, destination=destination, plain_http=plain
            )
        return _archive_in(destination, chart_ref, version)

    def show_chart(self, chart_ref: str, version: str) -> str:
        import helm_python as helm

        chart_ref = mirror_oci_url(chart_ref)  # RELKIT_REGISTRY_MIRRORS
        host = _registry_host(chart_ref)
        plain = is_insecure(host, self._insecure)
        with self._client(host) as client, _sdk_errors(f"helm show chart {chart_ref}:{version}"):
            return helm.show(
                f"{chart_ref}:{version}", client=client, output_format="chart", plain_http=plain
            )

    @contextmanager
    def _client(self, host: str) -> Iterator[Any]:
        import helm_python as helm

        plain = is_insecure(host, self._insecure)
        creds = self._credentials.get(host) or self._config.credentials(host)
        # A private credentials file: never touch the user's Helm registry login state.
        with tempfile.TemporaryDirectory(prefix="relkit-helm-") as tmp:
            credentials_file = Path(tmp) / "registry.json"
            with helm.RegistryClient(plain_http=plain, credentials_file=credentials_file) as client:
                if creds is not None:
                    with _sdk_errors(f"helm registry login {host}"):
                        client.login(host, creds[0], creds[1], plain_http=plain)
                yield client


@contextmanager
def _sdk_errors(action: str) -> Iterator[None]:
    import helm_python as helm

    try:
        yield
    except helm.HelmError as exc:
        detail = " ".join(str(exc.detail or exc).split())
        raise RelkitError(f"{action} failed: {_scrub(detail)}", hint=_hint_for(detail)) from None


def _hint_for(detail: str) -> str | None:
    lowered = detail.lower()
    if "connection refused" in lowered or "no such host" in lowered:
        return "check the registry address and that it is running"
    if "401" in lowered or "unauthorized" in lowered:
        return "check the registry credentials (docker login)"
    if "http response to https client" in lowered or "tls" in lowered:
        return "for a plain-HTTP registry add it to RELKIT_INSECURE_REGISTRIES"
    return None


_BASIC_IN_URL = re.compile(r"//[^/@\s:]+:[^/@\s]+@")


def _scrub(text: str) -> str:
    # Defensive: a credential embedded in a URL (user:pass@host) must never reach a log.
    return _BASIC_IN_URL.sub("//***@", text)


def _oci_dependency_hosts(chart_dir: Path) -> list[str]:
    """Registry hosts of `oci://` dependencies in Chart.yaml (for plain-HTTP decisions)."""
    try:
        data = load_yaml(read_text(chart_dir / "Chart.yaml"), source="Chart.yaml")
    except DocumentError:
        return []  # Helm itself reports an unreadable Chart.yaml
    dependencies = data.get("dependencies") if isinstance(data, dict) else None
    hosts: list[str] = []
    for dep in dependencies or []:
        repository = str(dep.get("repository") or "") if isinstance(dep, dict) else ""
        if repository.startswith("oci://"):
            hosts.append(split_oci_url(repository)[0])
    return hosts


def _archive_in(destination: Path, chart_ref: str, version: str) -> Path:
    name = chart_ref.rstrip("/").rsplit("/", 1)[-1]
    archive = destination / f"{name}-{version}.tgz"
    if not archive.is_file():
        raise RelkitError(f"helm pull {chart_ref}:{version} wrote no {archive.name}")
    return archive


# --------------------------------------------------------------------------- CLI

Runner = Callable[
    [Sequence[str], str | None, Mapping[str, str]], "subprocess.CompletedProcess[str]"
]


def _run(
    args: Sequence[str], stdin: str | None, env: Mapping[str, str]
) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        list(args),
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=False,
    )


_CLI_LINT_LINE = re.compile(r"^\[(INFO|WARNING|ERROR)\]\s+(?:(\S+?):\s+)?(.*)$")


class CliHelm:
    """Helm through the `helm` binary (`charts[].helm = "cli"`)."""

    def __init__(
        self,
        docker_config: DockerConfig | None = None,
        *,
        credentials: Mapping[str, tuple[str, str]] | None = None,
        insecure: Sequence[str] = (),
        binary: str = "helm",
        runner: Runner = _run,
    ) -> None:
        found = shutil.which(binary)
        if found is None:
            raise RelkitError(
                f'the helm CLI ({binary!r}) is not on PATH but charts[].helm is "cli"',
                hint='install helm, or set charts[].helm = "sdk" to use the embedded Helm SDK',
            )
        self._binary = found
        self._config = docker_config if docker_config is not None else DockerConfig.load()
        self._credentials = dict(credentials or {})
        self._insecure = tuple(insecure)
        self._runner = runner

    def _helm(
        self,
        action: str,
        args: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        stdin: str | None = None,
    ) -> str:
        result = self._runner([self._binary, *args], stdin, dict(env or {}))
        if result.returncode != 0:
            lines = (result.stderr or result.stdout).strip().splitlines()
            detail = _scrub(lines[-1]) if lines else f"exit code {result.returncode}"
            raise RelkitError(f"{action} failed: {detail}", hint=_hint_for(detail))
        return result.stdout

    def lint(self, chart_dir: Path) -> list[LintFinding]:
        result = self._runner([self._binary, "lint", str(chart_dir)], None, {})
        findings: list[LintFinding] = []
        for line in (result.stdout + "\n" + result.stderr).splitlines():
            match = _CLI_LINT_LINE.match(line.strip())
            if match:
                severity: Severity = match.group(1).lower()  # type: ignore[assignment]
                findings.append(LintFinding(severity, match.group(2) or "", match.group(3)))
        errors = [f for f in findings if f.severity == "error"]
        if errors or result.returncode != 0:
            raise _lint_failure(
                chart_dir, errors or [LintFinding("error", "", result.stderr.strip() or "failed")]
            )
        return findings

    def dependency_update(self, chart_dir: Path) -> None:
        self._helm(
            f"helm dependency update {chart_dir.name}", ["dependency", "update", str(chart_dir)]
        )

    def package(self, chart_dir: Path, destination: Path) -> Path:
        destination.mkdir(parents=True, exist_ok=True)
        out = self._helm(
            f"helm package {chart_dir.name}", ["package", str(chart_dir), "-d", str(destination)]
        )
        match = re.search(r"saved it to:\s*(\S+)", out)
        if match is None:
            raise RelkitError(f"helm package {chart_dir.name} did not say where it wrote the chart")
        return Path(match.group(1))

    def push(self, archive: Path, remote: str) -> None:
        remote = mirror_oci_url(remote)  # RELKIT_REGISTRY_MIRRORS
        host = _registry_host(remote)
        with self._login(host) as env:
            self._helm(
                f"helm push {archive.name} to {remote}",
                ["push", str(archive), remote, *self._plain(host)],
                env=env,
            )

    def pull(self, chart_ref: str, version: str, destination: Path) -> Path:
        chart_ref = mirror_oci_url(chart_ref)  # RELKIT_REGISTRY_MIRRORS
        host = _registry_host(chart_ref)
        destination.mkdir(parents=True, exist_ok=True)
        with self._login(host) as env:
            self._helm(
                f"helm pull {chart_ref}:{version}",
                [
                    "pull",
                    chart_ref,
                    "--version",
                    version,
                    "-d",
                    str(destination),
                    *self._plain(host),
                ],
                env=env,
            )
        return _archive_in(destination, chart_ref, version)

    def show_chart(self, chart_ref: str, version: str) -> str:
        chart_ref = mirror_oci_url(chart_ref)  # RELKIT_REGISTRY_MIRRORS
        host = _registry_host(chart_ref)
        with self._login(host) as env:
            return self._helm(
                f"helm show chart {chart_ref}:{version}",
                ["show", "chart", chart_ref, "--version", version, *self._plain(host)],
                env=env,
            )

    def _plain(self, host: str) -> list[str]:
        return ["--plain-http"] if is_insecure(host, self._insecure) else []

    @contextmanager
    def _login(self, host: str) -> Iterator[dict[str, str]]:
        creds = self._credentials.get(host) or self._config.credentials(host)
        with tempfile.TemporaryDirectory(prefix="relkit-helm-") as tmp:
            # Private registry config for this call only; the password goes through stdin.
            env = {"HELM_REGISTRY_CONFIG": str(Path(tmp) / "registry.json")}
            if creds is not None:
                # `registry login --plain-http` needs Helm >= 3.19 (older ones lack the flag).
                self._helm(
                    f"helm registry login {host}",
                    [
                        "registry",
                        "login",
                        host,
                        "-u",
                        creds[0],
                        "--password-stdin",
                        *self._plain(host),
                    ],
                    env=env,
                    stdin=creds[1],
                )
            yield env


def helm_backend(
    kind: Literal["sdk", "cli"],
    docker_config: DockerConfig | None = None,
    *,
    credentials: Mapping[str, tuple[str, str]] | None = None,
    insecure: Sequence[str] = (),
) -> HelmBackend:
    """The backend `charts[].helm` asks for."""
    if kind == "cli":
        return CliHelm(docker_config, credentials=credentials, insecure=insecure)
    return SdkHelm(docker_config, credentials=credentials, insecure=insecure)
