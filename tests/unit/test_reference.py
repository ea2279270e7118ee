"""Image references, oci:// URLs, insecure-registry rules, Docker config parsing, chart edits."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from relkit.adapters.registry import (
    DockerConfig,
    Reference,
    is_insecure,
    split_oci_url,
)
from relkit.core.errors import ConfigError, RelkitError, UsageError
from relkit.release.steps.chart import (
    chart_oci_tag,
    chart_reference,
    set_chart_versions,
    set_values_key,
)

DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest"),
    [
        ("nginx", "docker.io", "library/nginx", None, None),
        ("nginx:1.27", "docker.io", "library/nginx", "1.27", None),
        ("bitnami/redis:7", "docker.io", "bitnami/redis", "7", None),
        ("docker.io/nginx", "docker.io", "library/nginx", None, None),
        ("index.docker.io/library/nginx:1", "docker.io", "library/nginx", "1", None),
        ("ghcr.io/acme/web:1.2.0", "ghcr.io", "acme/web", "1.2.0", None),
        ("localhost:5000/acme/web", "localhost:5000", "acme/web", None, None),
        ("localhost/acme/web:1", "localhost", "acme/web", "1", None),
        ("127.0.0.1:5000/a/b/c:v1", "127.0.0.1:5000", "a/b/c", "v1", None),
        (f"ghcr.io/acme/web@{DIGEST}", "ghcr.io", "acme/web", None, DIGEST),
        (f"ghcr.io/acme/web:1.2.0@{DIGEST}", "ghcr.io", "acme/web", "1.2.0", DIGEST),
        ("oci://ghcr.io/acme/charts/web:1.0.0", "ghcr.io", "acme/charts/web", "1.0.0", None),
        (
            "registry.example.com:8443/team/app_x-y.z:1.0_rc",
            "registry.example.com:8443",
            "team/app_x-y.z",
            "1.0_rc",
            None,
        ),
    ],
)
def test_parse(
    text: str, registry: str, repository: str, tag: str | None, digest: str | None
) -> None:
    ref = Reference.parse(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (
        registry,
        repository,
        tag,
        digest,
    )


def test_str_and_target() -> None:
    ref = Reference.parse(f"ghcr.io/acme/web:1.2.0@{DIGEST}")
    assert str(ref) == f"ghcr.io/acme/web:1.2.0@{DIGEST}"
    assert ref.target == DIGEST
    assert ref.name == "ghcr.io/acme/web"
    assert Reference.parse("ghcr.io/acme/web").target == "latest"
    assert Reference.parse("ghcr.io/acme/web:1").with_digest(DIGEST).target == DIGEST
    assert str(Reference.parse("nginx")) == "docker.io/library/nginx"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "not an image reference"),
        ("ghcr.io/acme/web app:1", "not an image reference"),
        ("ghcr.io/Acme/web:1", "invalid repository path"),
        ("ghcr.io/acme//web", "invalid repository path"),
        ("ghcr.io/acme/web:", "invalid tag"),
        ("ghcr.io/acme/web:-bad", "invalid tag"),
        ("ghcr.io/acme/web@sha256:abc", "invalid digest"),
        ("ghcr.io/acme/web@md5:" + "0" * 32, "invalid digest"),
    ],
)
def test_parse_rejects(text: str, problem: str) -> None:
    with pytest.raises(UsageError, match=problem) as caught:
        Reference.parse(text)
    assert caught.value.hint


def test_split_oci_url() -> None:
    assert split_oci_url("oci://ghcr.io/acme/charts") == ("ghcr.io", "acme/charts")
    assert split_oci_url("oci://localhost:5000") == ("localhost:5000", "")
    with pytest.raises(UsageError):
        split_oci_url("https://ghcr.io/acme")
    with pytest.raises(UsageError):
        split_oci_url("oci:///path")


def test_insecure_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RELKIT_INSECURE_REGISTRIES", raising=False)
    assert is_insecure("localhost:5000")
    assert is_insecure("127.0.0.1:41234")
    assert is_insecure("[::1]:5000")
    assert not is_insecure("ghcr.io")
    assert not is_insecure("registry.lan:5000")
    assert is_insecure("registry.lan:5000", extra=["registry.lan:5000"])
    monkeypatch.setenv("RELKIT_INSECURE_REGISTRIES", "registry.lan:5000, other.lan")
    assert is_insecure("registry.lan:5000")
    assert is_insecure("other.lan:8080")  # a bare host covers every port
    assert not is_insecure("registry.lan:5001")


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data))
    return path


def test_docker_config_auth_forms(tmp_path: Path) -> None:
    def b64(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    config = DockerConfig.load(
        _write(
            tmp_path,
            {
                "auths": {
                    "https://index.docker.io/v1/": {"auth": b64("hubuser:hub:pass")},
                    "ghcr.io": {"auth": b64("gh:token")},
                    "https://registry.lan:5000/": {"username": "u", "password": "p"},
                    "broken.example": {"auth": "!!!not-base64"},
                    "helper.example": {},
                },
                "credsStore": "desktop",
            },
        )
    )
    assert config.credentials("docker.io") == ("hubuser", "hub:pass")
    assert config.credentials("ghcr.io") == ("gh", "token")
    assert config.credentials("registry.lan:5000") == ("u", "p")
    assert config.credentials("broken.example") is None
    assert config.credentials("helper.example") is None
    assert "token" not in repr(config) and "hub:pass" not in repr(config)


def test_docker_config_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path, {"auths": {"ghcr.io": {"username": "a", "password": "b"}}})
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    assert DockerConfig.load().credentials("ghcr.io") == ("a", "b")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "missing"))
    assert DockerConfig.load().auths == {}


def test_docker_config_malformed(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text("{not json")
    with pytest.raises(RelkitError, match="cannot read Docker config"):
        DockerConfig.load(path)


# --------------------------------------------------------------------------- chart edits


def test_chart_oci_tag_and_reference() -> None:
    assert chart_oci_tag("1.2.3+build.5") == "1.2.3_build.5"
    ref = chart_reference("oci://ghcr.io/acme/charts", "web", "1.2.3+b1")
    assert str(ref) == "ghcr.io/acme/charts/web:1.2.3_b1"
    assert (
        str(chart_reference("oci://localhost:5000", "web", "1.0.0")) == "localhost:5000/web:1.0.0"
    )


CHART = """\
# Chart for web
apiVersion: v2
name: web
version: 0.1.0  # bumped by relkit
appVersion: '0.1.0'
"""


def test_set_chart_versions_keeps_comments_and_quotes() -> None:
    text = set_chart_versions(CHART, version="1.10.0", app_version="1.10.0")
    assert text == CHART.replace("0.1.0  #", "1.10.0  #").replace("'0.1.0'", "'1.10.0'")


def test_set_chart_versions_adds_missing_app_version() -> None:
    text = set_chart_versions(
        "apiVersion: v2\nname: web\nversion: 0.1.0", version="2.0.0", app_version="2.0.0"
    )
    assert text == 'apiVersion: v2\nname: web\nversion: 2.0.0\nappVersion: "2.0.0"\n'


def test_set_chart_versions_only_what_is_asked() -> None:
    assert set_chart_versions(CHART, version=None, app_version=None) == CHART


def test_set_chart_versions_malformed() -> None:
    with pytest.raises(RelkitError, match=r"^Chart.yaml: not valid YAML at line \d+"):
        set_chart_versions("name: web\nversion: [1\n", version="1.0.0", app_version=None)


def test_set_values_key() -> None:
    values = "image:\n  repository: r  # the image\n  digest: ''\n"
    assert set_values_key(values, "image.digest", DIGEST) == (
        f"image:\n  repository: r  # the image\n  digest: '{DIGEST}'\n"
    )
    with pytest.raises(ConfigError, match="image_values_key 'image.sha'"):
        set_values_key(values, "image.sha", DIGEST)
