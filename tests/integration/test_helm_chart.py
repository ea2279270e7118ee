"""The chart step with real Helm (embedded Go SDK) against a real registry."""

from __future__ import annotations

import io
import json
import os
import shutil
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import helm_python
import pytest
import yaml

from relkit.adapters.helm import HELM_CHART_LAYER, HELM_CONFIG, CliHelm, SdkHelm, helm_backend
from relkit.adapters.registry import DockerConfig, RegistryClient, digest_of
from relkit.core.config import ChartConfig
from relkit.core.errors import ConfigError, RelkitError
from relkit.core.model import ImagePin, StepOutcome, Version
from relkit.release.steps.chart import describe_chart, publish_chart
from tests.fixtures.registry import RegistryServer

DATA = Path(__file__).parent.parent / "data" / "charts"
GOLDEN = Path(__file__).parent.parent / "golden" / "chart"
COMMIT_TIME = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
PIN = ImagePin("ghcr.io/acme/web:1.2.3", "sha256:" + "ab" * 32)


@pytest.fixture
def charts(tmp_path: Path) -> Path:
    """A private copy of the test charts (tests may break them)."""
    target = tmp_path / "repo" / "charts"
    shutil.copytree(DATA, target)
    return target.parent


def _config(registry: RegistryServer, path: str = "charts/example", **extra: object) -> ChartConfig:
    return ChartConfig.model_validate(
        {"path": path, "registry": registry.oci("charts"), "image_values_key": "image.digest"}
        | extra
    )


def _publish(
    chart: ChartConfig,
    root: Path,
    tmp_path: Path,
    version: str = "1.2.3",
    *,
    pin: ImagePin | None = PIN,
    force: bool = False,
    source_time: datetime = COMMIT_TIME,
    client: RegistryClient | None = None,
) -> tuple[StepOutcome, str, str, Path]:
    record = publish_chart(
        chart,
        Version.parse(version),
        workdir=tmp_path / "work",
        dist_dir=tmp_path / "dist",
        image_pin=pin,
        force=force,
        root=root,
        source_time=source_time,
        client=client or RegistryClient(DockerConfig({})),
    )
    assert record.name == "chart"
    (artifact,) = record.artifacts
    assert artifact.kind == "chart"
    assert artifact.digest and artifact.reference and artifact.path
    return record.outcome, artifact.digest, artifact.reference, Path(artifact.path)


def _files_in(archive: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        return {
            m.name: tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in tar
            if m.isfile()
        }


def test_publish_pushes_a_helm_chart_with_helm_media_types(
    registry: RegistryServer, charts: Path, tmp_path: Path
) -> None:
    before = {p: p.read_bytes() for p in (charts / "charts/example").rglob("*") if p.is_file()}
    outcome, digest, reference, dist = _publish(_config(registry), charts, tmp_path)

    assert outcome is StepOutcome.DONE
    assert reference == f"oci://{registry.host}/charts/example:1.2.3@{digest}"
    assert dist == tmp_path / "dist" / "example-1.2.3.tgz"
    with registry.client() as client:
        manifest = client.get_manifest(f"{registry.host}/charts/example:1.2.3")
        (layer,) = manifest.json["layers"]
        blob = client.get_blob(f"{registry.host}/charts/example", layer["digest"])
    assert manifest.digest == digest
    assert manifest.json["config"]["mediaType"] == HELM_CONFIG
    assert layer["mediaType"] == HELM_CHART_LAYER
    assert blob == dist.read_bytes()
    assert manifest.json["annotations"]["org.opencontainers.image.version"] == "1.2.3"
    # Helm's "created" annotation comes from the archive mtime: the commit time.
    assert manifest.json["annotations"]["org.opencontainers.image.created"] == (
        "2026-03-01T12:00:00Z"
    )
    # The user's chart is untouched.
    assert {p: p.read_bytes() for p in before} == before


def test_pulled_chart_has_release_version_and_pinned_image(
    registry: RegistryServer, charts: Path, tmp_path: Path
) -> None:
    _publish(_config(registry), charts, tmp_path, "1.3.0")
    helm = SdkHelm(DockerConfig({}))
    pulled = helm.pull(f"oci://{registry.host}/charts/example", "1.3.0", tmp_path / "pulled")
    shown = yaml.safe_load(helm.show_chart(f"oci://{registry.host}/charts/example", "1.3.0"))
    files = _files_in(pulled.read_bytes())

    assert shown["version"] == "1.3.0"
    assert shown["appVersion"] == "1.3.0"
    values = yaml.safe_load(files["example/values.yaml"])
    assert values["image"]["digest"] == PIN.digest
    # values.yaml keeps its comments: only the digest token changed.
    assert files["example/values.yaml"].decode() == (GOLDEN / "values.yaml").read_text()
    # Rendered by Helm as `helm install` would: the default image is pinned by digest.
    with helm_python.Chart.load(pulled) as loaded:
        rendered = loaded.render(name="demo")["example/templates/deployment.yaml"]
    assert f'image: "ghcr.io/acme/web@{PIN.digest}"' in rendered
    assert 'app.kubernetes.io/version: "1.3.0"' in rendered


def test_work_copy_keeps_comments(registry: RegistryServer, charts: Path, tmp_path: Path) -> None:
    _publish(_config(registry), charts, tmp_path, "1.2.3")
    work = tmp_path / "work" / "charts" / "example" / "example"
    assert (work / "Chart.yaml").read_text() == (GOLDEN / "Chart.yaml").read_text()
    assert (work / "values.yaml").read_text() == (GOLDEN / "values.yaml").read_text()


def test_rerun_is_already_done_and_reproducible(
    registry: RegistryServer, charts: Path, tmp_path: Path
) -> None:
    chart = _config(registry)
    first = _publish(chart, charts, tmp_path / "a", "2.0.0")
    second = _publish(chart, charts, tmp_path / "b", "2.0.0")
    assert first[0] is StepOutcome.DONE
    assert second[0] is StepOutcome.ALREADY_DONE
    assert second[1] == first[1]
    # Byte-identical package from two runs in different work dirs.
    assert first[3].read_bytes() == second[3].read_bytes()


def test_same_content_different_bytes_is_already_done(
    registry: RegistryServer, charts: Path, tmp_path: Path
) -> None:
    chart = _config(registry)
    first = _publish(chart, charts, tmp_path / "a", "2.1.0")
    later = datetime(2026, 3, 2, tzinfo=UTC)
    second = _publish(chart, charts, tmp_path / "b", "2.1.0", source_time=later)
    assert digest_of(first[3].read_bytes()) != digest_of(second[3].read_bytes())
    assert second[0] is StepOutcome.ALREADY_DONE
    assert second[1] == first[1]  # the registry's digest is recorded, nothing re-pushed


def test_different_content_is_refused_then_forced(
    registry: RegistryServer, charts: Path, tmp_path: Path
) -> None:
    chart = _config(registry)
    _, pushed, _, _ = _publish(chart, charts, tmp_path / "a", "3.0.0")
    other_pin = ImagePin("ghcr.io/acme/web:3.0.0", "sha256:" + "cd" * 32)

    with pytest.raises(RelkitError) as caught:
        _publish(chart, charts, tmp_path / "b", "3.0.0", pin=other_pin)
    assert caught.value.message == (
        f"chart example 3.0.0 already exists in oci://{registry.host}/charts/example:3.0.0"
        " with different content; released chart versions are immutable"
    )
    assert "--force" in str(caught.value.hint)
    with registry.client() as client:
        assert client.resolve_digest(f"{registry.host}/charts/example:3.0.0") == pushed
    assert not (tmp_path / "b" / "dist").exists()

    outcome, forced, _, _ = _publish(
        chart, charts, tmp_path / "c", "3.0.0", pin=other_pin, force=True
    )
    assert outcome is StepOutcome.DONE
    assert forced != pushed
    with registry.client() as client:
        assert client.resolve_digest(f"{registry.host}/charts/example:3.0.0") == forced


def test_lint_error_fails_and_pushes_nothing(
    registry: RegistryServer, charts: Path, tmp_path: Path
) -> None:
    (charts / "charts/example/templates/broken.yaml").write_text("{{ .Values.x | nosuchfunc }}\n")
    with pytest.raises(RelkitError) as caught:
        _publish(_config(registry), charts, tmp_path, "4.0.0")
    message = caught.value.message
    assert message.startswith("chart example fails helm lint: templates/: parse error")
    assert "nosuchfunc" in message
    assert "\n" not in message
    with registry.client() as client:
        assert "4.0.0" not in client.list_tags(f"{registry.host}/charts/example")


def test_lint_warnings_are_reported(registry: RegistryServer, charts: Path, tmp_path: Path) -> None:
    # An object name Kubernetes would reject is a lint warning, not an error.
    (charts / "charts/example/templates/cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n"
    )
    record = publish_chart(
        _config(registry),
        Version.parse("4.1.0"),
        workdir=tmp_path / "work",
        dist_dir=tmp_path / "dist",
        image_pin=PIN,
        force=False,
        root=charts,
        client=RegistryClient(DockerConfig({})),
    )
    assert record.outcome is StepOutcome.DONE
    assert "; lint: 1 warning(s): [WARNING] templates/cm.yaml: object name does not conform" in (
        record.detail
    )


def test_chart_with_local_dependency(
    registry: RegistryServer, charts: Path, tmp_path: Path
) -> None:
    chart = _config(registry, "charts/with-deps")
    outcome, _, reference, dist = _publish(chart, charts, tmp_path, "0.5.0")
    files = _files_in(dist.read_bytes())
    assert outcome is StepOutcome.DONE
    assert reference.startswith(f"oci://{registry.host}/charts/with-deps:0.5.0@sha256:")
    # Helm stores the resolved subchart expanded inside the package.
    assert "with-deps/charts/common/Chart.yaml" in files
    assert "with-deps/Chart.lock" in files
    # The user's chart directory did not get a charts/ dir or a Chart.lock.
    assert not (charts / "charts/with-deps/charts").exists()
    assert not (charts / "charts/with-deps/Chart.lock").exists()


def test_auth_registry_with_docker_config(
    auth_registry: RegistryServer, docker_config: Path, charts: Path, tmp_path: Path
) -> None:
    chart = _config(auth_registry)
    record = publish_chart(
        chart,
        Version.parse("1.0.0"),
        workdir=tmp_path / "work",
        dist_dir=tmp_path / "dist",
        image_pin=PIN,
        force=False,
        root=charts,
    )
    assert record.outcome is StepOutcome.DONE
    # Helm itself (with credentials from the same Docker config) can pull it back.
    pulled = SdkHelm().pull(f"oci://{auth_registry.host}/charts/example", "1.0.0", tmp_path / "p")
    assert pulled.read_bytes() == (tmp_path / "dist" / "example-1.0.0.tgz").read_bytes()


def test_wrong_credentials_fail_one_line_without_secret(
    auth_registry: RegistryServer, charts: Path, tmp_path: Path
) -> None:
    bad = RegistryClient(
        DockerConfig({}), credentials={auth_registry.host: ("relkit", "not-the-password")}
    )
    with pytest.raises(RelkitError) as caught:
        _publish(_config(auth_registry), charts, tmp_path, "9.0.0", client=bad)
    assert caught.value.message == (
        f"registry {auth_registry.host} rejected the credentials for"
        f" {auth_registry.host}/charts/example:9.0.0 (HTTP 401)"
    )
    assert "not-the-password" not in str(caught.value)
    with auth_registry.client() as client:
        assert "9.0.0" not in client.list_tags(f"{auth_registry.host}/charts/example")


def test_registry_down(unreachable_registry: str, charts: Path, tmp_path: Path) -> None:
    chart = ChartConfig(path="charts/example", registry=f"oci://{unreachable_registry}/charts")
    with pytest.raises(RelkitError) as caught:
        _publish(chart, charts, tmp_path, pin=None)
    assert caught.value.message == (
        f"registry {unreachable_registry} is not reachable for"
        f" {unreachable_registry}/charts/example:1.2.3: connection refused"
    )


def test_image_pin_without_values_key_is_config_error(
    registry: RegistryServer, charts: Path, tmp_path: Path
) -> None:
    chart = ChartConfig(path="charts/example", registry=registry.oci("charts"))
    with pytest.raises(ConfigError, match="image_values_key is not set"):
        _publish(chart, charts, tmp_path)


def test_unknown_values_key_is_config_error(
    registry: RegistryServer, charts: Path, tmp_path: Path
) -> None:
    chart = _config(registry, image_values_key="image.sha")
    with pytest.raises(ConfigError) as caught:
        _publish(chart, charts, tmp_path)
    assert "image.sha" in caught.value.message


def test_missing_chart_dir_is_config_error(registry: RegistryServer, tmp_path: Path) -> None:
    chart = ChartConfig(path="charts/nope", registry=registry.oci("charts"))
    with pytest.raises(ConfigError, match="no Chart.yaml"):
        _publish(chart, tmp_path, tmp_path)


def test_helm_cli_backend_reports_missing_binary(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # An empty PATH: no helm binary anywhere (the case on this machine and most CI images).
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RelkitError) as caught:
        helm_backend("cli", DockerConfig({}))
    assert (
        caught.value.message == "the helm CLI ('helm') is not on PATH but charts[].helm is \"cli\""
    )
    assert 'helm = "sdk"' in str(caught.value.hint)
    with pytest.raises(RelkitError):
        CliHelm(DockerConfig({}), binary="helm-definitely-missing")


def test_describe_chart(registry: RegistryServer, charts: Path) -> None:
    actions = describe_chart(
        _config(registry, "charts/with-deps"), Version.parse("1.4.0"), image_pin=PIN, root=charts
    )
    assert actions == [
        "copy chart charts/with-deps to a work dir and set version/appVersion to 1.4.0",
        f"set values.yaml image.digest to {PIN.digest}",
        "update chart dependencies",
        "helm lint and package dist/with-deps-1.4.0.tgz (helm sdk)",
        f"push to oci://{registry.host}/charts/with-deps:1.4.0 unless already there with the"
        " same content (fail if it holds different content)",
    ]
    assert os.environ.get("RELKIT_INSECURE_REGISTRIES") is None


# --------------------------------------------------------------------------- helm CLI backend
#
# No helm binary on this machine: this stand-in speaks the helm CLI's arguments and output
# format and does the work with the same real Helm SDK, so the CLI backend's plumbing
# (arguments, --plain-http, login through --password-stdin, lint output parsing) is
# exercised end to end against the real registry.

HELM_SHIM = """#!{python}
import argparse, json, os, sys
import helm_python as helm

with open(os.environ["SHIM_LOG"], "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
args = sys.argv[1:]
config = os.environ.get("HELM_REGISTRY_CONFIG")

def client(plain):
    return helm.RegistryClient(plain_http=plain, credentials_file=config)

try:
    if args[0] == "lint":
        report = helm.lint(args[1])
        print(f"==> Linting {{args[1]}}")
        for m in report["messages"]:
            level = {{1: "INFO", 2: "WARNING", 3: "ERROR"}}[m["severity"]]
            print(f"[{{level}}] {{m['path']}}: {{m['error']}}")
        if report["errors"]:
            print("Error: 1 chart(s) linted, 1 chart(s) failed", file=sys.stderr)
            sys.exit(1)
        print("1 chart(s) linted, 0 chart(s) failed")
    elif args[0] == "package":
        path = helm.package(args[1], destination=args[args.index("-d") + 1])
        print(f"Successfully packaged chart and saved it to: {{path}}")
    elif args[:2] == ["registry", "login"]:
        with client("--plain-http" in args) as c:
            c.login(args[2], args[args.index("-u") + 1], sys.stdin.read(),
                    plain_http="--plain-http" in args)
        print("Login Succeeded")
    elif args[0] == "push":
        with client("--plain-http" in args) as c:
            c.push(args[1], args[2], plain_http="--plain-http" in args)
    elif args[:2] == ["dependency", "update"]:
        helm.dependency_update(args[2])
    else:
        print(f"Error: unknown command {{args}}", file=sys.stderr)
        sys.exit(1)
except helm.HelmError as exc:
    print(f"Error: {{exc}}", file=sys.stderr)
    sys.exit(1)
"""


@pytest.fixture
def helm_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    import sys

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "helm"
    shim.write_text(HELM_SHIM.format(python=sys.executable))
    shim.chmod(0o755)
    log = tmp_path / "helm-calls.log"
    monkeypatch.setenv("SHIM_LOG", str(log))
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return log


def test_cli_backend_publishes_with_login(
    auth_registry: RegistryServer,
    docker_config: Path,
    helm_on_path: Path,
    charts: Path,
    tmp_path: Path,
) -> None:
    chart = _config(auth_registry, helm="cli")
    record = publish_chart(
        chart,
        Version.parse("5.0.0"),
        workdir=tmp_path / "work",
        dist_dir=tmp_path / "dist",
        image_pin=PIN,
        force=False,
        root=charts,
    )
    assert record.outcome is StepOutcome.DONE
    with auth_registry.client() as client:
        manifest = client.get_manifest(f"{auth_registry.host}/charts/example:5.0.0")
    assert manifest.json["config"]["mediaType"] == HELM_CONFIG
    calls = [json.loads(line) for line in helm_on_path.read_text().splitlines()]
    assert [c[0] for c in calls] == ["lint", "package", "registry", "push"]
    login = calls[2]
    assert login[:3] == ["registry", "login", auth_registry.host]
    assert "--plain-http" in login and "--password-stdin" in login
    # The password went through stdin, never the command line.
    assert str(auth_registry.password) not in helm_on_path.read_text()
    assert calls[3][-1] == "--plain-http"


def test_cli_backend_lint_error(
    registry: RegistryServer, helm_on_path: Path, charts: Path, tmp_path: Path
) -> None:
    (charts / "charts/example/templates/broken.yaml").write_text("{{ .Values.x | nosuchfunc }}\n")
    chart = _config(registry, helm="cli")
    with pytest.raises(RelkitError) as caught:
        _publish(chart, charts, tmp_path, "5.1.0")
    assert caught.value.message.startswith("chart example fails helm lint: templates/: parse error")
    with registry.client() as client:
        assert "5.1.0" not in client.list_tags(f"{registry.host}/charts/example")


def test_app_version_format_gives_a_v_prefixed_app_version(
    registry: RegistryServer, charts: Path, tmp_path: Path
) -> None:
    chart = _config(registry, app_version_format="v{version}")
    assert describe_chart(chart, Version.parse("1.4.0"), image_pin=None, root=charts)[0] == (
        "copy chart charts/example to a work dir and set version to 1.4.0 and appVersion to v1.4.0"
    )
    _publish(chart, charts, tmp_path, "1.4.0", pin=None)
    shown = yaml.safe_load(
        SdkHelm(DockerConfig({})).show_chart(f"oci://{registry.host}/charts/example", "1.4.0")
    )
    assert (shown["version"], shown["appVersion"]) == ("1.4.0", "v1.4.0")


@pytest.mark.parametrize("value", ["{version", "release", "{version}-{tag}"])
def test_app_version_format_without_version_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="app_version_format"):
        ChartConfig(path="c", registry="oci://r.example/c", app_version_format=value)
