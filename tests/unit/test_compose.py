"""Compose interpolation, image discovery and the comment-preserving pin rewrite."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relkit.bundle.compose import (
    COMPOSE_FILE_NAMES,
    OVERRIDE_FILE_NAMES,
    check_bundle_compose,
    check_env_file,
    compose_file_among,
    find_compose_file,
    parse_compose,
    pin_compose,
)
from relkit.bundle.interpolate import interpolate, parse_env_file
from relkit.bundle.reference import is_pinned, repository_of, split_digest
from relkit.core.errors import RelkitError, UsageError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "bundles" / "example"
GOLDEN = ROOT / "tests" / "golden" / "bundle"
WEB = "sha256:" + "a" * 64
WORKER = "sha256:" + "b" * 64


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ("${A}", {"A": "x"}, "x"),
        ("$A/b", {"A": "x"}, "x/b"),
        ("${A:-d}", {"A": ""}, "d"),
        ("${A:-d}", {}, "d"),
        ("${A-d}", {"A": ""}, ""),
        ("${A-d}", {}, "d"),
        ("${A:+alt}", {"A": "x"}, "alt"),
        ("${A:+alt}", {"A": ""}, ""),
        ("${A+alt}", {"A": ""}, "alt"),
        ("${A:?boom}", {"A": "x"}, "x"),
        ("$$A", {}, "$A"),
        ("cost $$5", {}, "cost $5"),
        ("${A:-${B:-deep}}/x", {}, "deep/x"),
        (
            "${REGISTRY:-localhost:5000}/acme/web:${VERSION:-1.0.0}",
            {},
            "localhost:5000/acme/web:1.0.0",
        ),
    ],
)
def test_interpolation(text: str, env: dict[str, str], expected: str) -> None:
    assert interpolate(text, env, where="t") == expected


@pytest.mark.parametrize(
    ("text", "env", "message"),
    [
        ("${A}", {}, "variable A is not set"),
        ("${A:?must be set}", {"A": ""}, "variable A: must be set"),
        ("${A?}", {}, "required variable is missing"),
        ("${A", {}, "unclosed"),
        ("${1A}", {}, "invalid variable name"),
        ("${A/x}", {"A": "x"}, "invalid interpolation format"),
        ("$-", {}, "invalid interpolation format"),
    ],
)
def test_interpolation_errors(text: str, env: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        interpolate(text, env, where="compose.yaml")


def test_env_file_parsing() -> None:
    text = (
        "# comment\n\nexport A=1\nB = two words # trailing\nC='single # kept'\n"
        'D="dq \\"x\\""\nE=\nF=a#b\n'
    )
    assert parse_env_file(text, ".env.example") == {
        "A": "1",
        "B": "two words",
        "C": "single # kept",
        "D": 'dq "x"',
        "E": "",
        "F": "a#b",
    }


def test_env_file_bad_line_is_named() -> None:
    with pytest.raises(UsageError, match=r"^\.env\.example:2: not a KEY=VALUE line"):
        parse_env_file("A=1\nnot a line\n", ".env.example")


def test_reference_helpers() -> None:
    assert repository_of("localhost:5000/acme/web:1.0") == "localhost:5000/acme/web"
    assert repository_of(f"localhost:5000/acme/web@{WEB}") == "localhost:5000/acme/web"
    assert split_digest(f"a/b:1@{WEB}") == ("a/b:1", WEB)
    assert is_pinned(f"a/b:1@{WEB}")
    assert not is_pinned("a/b:1@sha256:abc")


def test_example_images_are_found_and_interpolated() -> None:
    text = (EXAMPLE / "compose.yaml").read_text()
    env = parse_env_file((EXAMPLE / ".env.example").read_text(), ".env.example")
    images = parse_compose(text, "compose.yaml", {**env, "REGISTRY": "reg.example:5000"})
    assert [(i.service, i.reference) for i in images] == [
        ("web", "reg.example:5000/acme/web:1.0.0"),
        ("worker", "reg.example:5000/acme/worker:1.0.0"),
    ]


def test_pinning_keeps_comments_and_formatting_golden() -> None:
    text = (EXAMPLE / "compose.yaml").read_text()
    images = parse_compose(text, "compose.yaml", {})
    pinned = pin_compose(
        text,
        "compose.yaml",
        images,
        {
            "web": f"localhost:5000/acme/web:1.0.0@{WEB}",
            "worker": f"localhost:5000/acme/worker:1.0.0@{WORKER}",
        },
    )
    assert pinned == (GOLDEN / "compose.pinned.yaml").read_text()
    # Only the two image values changed: every other line is byte-identical.
    changed = [
        (a, b) for a, b in zip(text.splitlines(), pinned.splitlines(), strict=True) if a != b
    ]
    assert len(changed) == 2
    assert all("image:" in a and "image:" in b for a, b in changed)


@pytest.mark.parametrize("quote", ["", "'", '"'])
def test_pinning_keeps_quote_style(quote: str) -> None:
    text = f"services:\n  db:\n    image: {quote}postgres:16{quote}  # the database\n"
    images = parse_compose(text, "c.yaml", {})
    new = pin_compose(text, "c.yaml", images, {"db": f"postgres:16@{WEB}"})
    assert new == f"services:\n  db:\n    image: {quote}postgres:16@{WEB}{quote}  # the database\n"


def test_flow_mapping_is_pinned() -> None:
    text = "services:\n  db: {image: postgres:16, restart: always}\n"
    images = parse_compose(text, "c.yaml", {})
    new = pin_compose(text, "c.yaml", images, {"db": f"postgres:16@{WEB}"})
    assert new == f"services:\n  db: {{image: postgres:16@{WEB}, restart: always}}\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("services: [\n", "not valid YAML at line"),
        ("services:\n  a:\n    image: x\n  a:\n    image: y\n", "not valid YAML"),
        ("version: '3'\n", "no services defined"),
        ("services:\n  a:\n    build: .\n", "service 'a' uses build:"),
        ("services:\n  a:\n    image: 5\n", "image must be a string"),
        (
            "x-base: &base\n  image: x:1\nservices:\n  a:\n    <<: *base\n",
            "inherits image: through a YAML merge key",
        ),
    ],
)
def test_bad_compose_files(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message) as info:
        parse_compose(text, "compose.yaml", {})
    assert "\n" not in str(info.value)
    assert str(info.value).startswith("compose.yaml: ")


@pytest.mark.parametrize("value", ["&anchor x:1", ">-\n      x:1"], ids=["anchor", "block"])
def test_unsupported_scalar_styles_are_refused(value: str) -> None:
    text = f"services:\n  a:\n    image: {value}\n"
    images = parse_compose(text, "c.yaml", {})
    with pytest.raises(UsageError, match="image value style not supported"):
        pin_compose(text, "c.yaml", images, {"a": f"x:1@{WEB}"})


def test_compose_file_lookup(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="has no compose file"):
        find_compose_file(tmp_path)
    (tmp_path / "docker-compose.yml").write_text("services: {}\n")
    assert find_compose_file(tmp_path).name == "docker-compose.yml"
    # Two compose files: compose runs one of them, so which one must not be a guess.
    (tmp_path / "compose.yaml").write_text("services: {}\n")
    with pytest.raises(UsageError, match=r"more than one compose file \(compose.yaml, docker"):
        find_compose_file(tmp_path)


def test_release_images_take_the_release_tag_by_normalized_repository(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from relkit.bundle.build import pin_bundle_images
    from relkit.core.config import BundleConfig
    from relkit.core.model import ReleasePlan, Version

    (tmp_path / "compose.yaml").write_text(
        "services:\n  proxy:\n    image: nginx:1.25 # front\n  db:\n    image: postgres:16\n"
    )
    plan = ReleasePlan(
        version=Version.parse("2.0.0"),
        tag="v2.0.0",
        commit="c" * 40,
        committed_at=datetime(2026, 1, 1, tzinfo=UTC),
        previous_tag=None,
        notes="",
    )
    bundle = BundleConfig(name="b", path=".", images=["docker.io/library/nginx:{version}"])
    asked: list[str] = []

    def resolver(references: object) -> dict[str, str]:
        asked.extend(references)  # type: ignore[call-overload]
        return {ref: (WEB if "nginx" in ref else WORKER) for ref in asked}

    pinned = pin_bundle_images(bundle, plan, tmp_path, resolver)
    assert asked == ["docker.io/library/nginx:2.0.0", "postgres:16"]
    assert pinned.text == (
        f"services:\n  proxy:\n    image: docker.io/library/nginx:2.0.0@{WEB} # front\n"
        f"  db:\n    image: postgres:16@{WORKER}\n"
    )
    unknown = BundleConfig(name="b", path=".", images=["ghcr.io/acme/api:{version}"])
    with pytest.raises(UsageError, match="release image ghcr.io/acme/api:2.0.0 is not used"):
        pin_bundle_images(unknown, plan, tmp_path, resolver)
    bad = BundleConfig(name="b", path=".", images=["ghcr.io/acme/api:{build}"])
    with pytest.raises(UsageError, match="unknown placeholder"):
        pin_bundle_images(bad, plan, tmp_path, resolver)


# ------------------------------- everything docker compose would load (issue 9 item 5)

PINNED = f"example.com/acme/web:1@{WEB}"


@pytest.mark.parametrize("override", OVERRIDE_FILE_NAMES)
def test_override_files_are_refused(override: str) -> None:
    with pytest.raises(UsageError, match=f"{override} is merged over the compose file"):
        compose_file_among(["compose.yaml", override, "README.md"], "b")


def test_compose_file_is_the_only_one_compose_loads() -> None:
    for name in COMPOSE_FILE_NAMES:
        assert compose_file_among([name, ".env", "config"], "b") == name
    # relkit used to prefer docker-compose.yaml, compose prefers docker-compose.yml.
    with pytest.raises(UsageError, match="more than one compose file"):
        compose_file_among(["docker-compose.yaml", "docker-compose.yml"], "b")
    with pytest.raises(UsageError, match="has no compose file"):
        compose_file_among(["compose.yaml.txt", "x/compose.yaml"], "b")


@pytest.mark.parametrize(
    "text",
    [
        "COMPOSE_FILE=evil.yaml\n",
        "export COMPOSE_FILE=evil.yaml\n",
        "exportCOMPOSE_FILE=evil.yaml\n",  # compose-go trims "export" without a space
        "  COMPOSE_FILE = evil.yaml\n",
        "COMPOSE_FILE: evil.yaml\n",  # YAML-style separator
        'A="x" COMPOSE_FILE=evil.yaml\n',  # a key after a quoted value, same line
        "A='multi\nline' COMPOSE_FILE=evil.yaml\n",
        "COMPOSE_FILE\n",  # inherited from the environment
        "compose_file=evil.yaml\n",
        "COMPOSE_ENV_FILES=/etc/evil.env\n",
        "\ufeffCOMPOSE_FILE=x\n",
    ],
)
def test_env_file_pointing_compose_elsewhere_is_refused(text: str) -> None:
    with pytest.raises(UsageError, match="makes docker compose load other files"):
        check_env_file(text, ".env")


@pytest.mark.parametrize(
    "text",
    [
        "COMPOSE_PROFILES=debug\n",  # harmless: every service is checked whatever its profile
        "COMPOSE_PROJECT_NAME=shop\n",
        "MY_COMPOSE_FILE=x\nCOMPOSE_FILE_X=1\nCOMPOSE_FILE.bak=1\n",
        "REGISTRY=ghcr.io\nIMAGE=${REGISTRY}/acme/web:1\n",
    ],
)
def test_other_env_files_pass(text: str) -> None:
    check_env_file(text, ".env")


@settings(max_examples=200, derandomize=True, deadline=None)
@given(
    before=st.text(alphabet="AB=\"' \n#:x", max_size=20),
    prefix=st.sampled_from(["", " ", "\t", "export ", "export", "\n"]),
    key=st.sampled_from(["COMPOSE_FILE", "COMPOSE_ENV_FILES", "Compose_File"]),
    separator=st.sampled_from(["=", " =", ":", "\n", " = "]),
)
def test_env_file_key_is_found_wherever_compose_could_read_it(
    before: str, prefix: str, key: str, separator: str
) -> None:
    text = f"{before}\n{prefix}{key}{separator}evil.yaml\n"
    with pytest.raises(UsageError):
        check_env_file(text, ".env")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"services:\n  a:\n    image: {PINNED}\n    build: .\n", "service 'a' uses build:"),
        (
            f"x-b: &b\n  build: .\nservices:\n  a:\n    <<: *b\n    image: {PINNED}\n",
            "service 'a' uses build:",
        ),
        (
            f"services:\n  a:\n    image: {PINNED}\n    extends: {{file: x.yaml, service: a}}\n",
            "service 'a' uses extends:",
        ),
        (f"include:\n  - other.yaml\nservices:\n  a:\n    image: {PINNED}\n", "include:"),
        (f"models:\n  m: {{model: ai/x}}\nservices:\n  a:\n    image: {PINNED}\n", "models:"),
        (f"services:\n  a:\n    image: {PINNED}\n---\nservices: {{}}\n", "not valid YAML"),
    ],
)
def test_compose_features_that_run_unchecked_things_are_refused(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=re.escape(message)):
        parse_compose(text, "compose.yaml", {})


def test_received_images_must_be_literal() -> None:
    text = "services:\n  a:\n    image: ${IMAGE:-example.com/acme/web:1@" + WEB + "}\n"
    assert parse_compose(text, "compose.yaml", {})[0].reference == PINNED  # build time
    with pytest.raises(UsageError, match="uses a variable: docker compose would take it"):
        parse_compose(text, "compose.yaml", None)
    literal = f"services:\n  a:\n    image: {PINNED}\n"
    assert parse_compose(literal, "compose.yaml", None)[0].reference == PINNED


def _bundle_files(**extra: str) -> dict[str, bytes]:
    files = {"compose.yaml": f"services:\n  a:\n    image: {PINNED}\n", **extra}
    return {name.replace("__", "/"): text.encode() for name, text in files.items()}


def test_check_bundle_compose() -> None:
    checked = check_bundle_compose(_bundle_files(**{".env": "COMPOSE_PROFILES=x\n"}))
    assert (checked.file_name, [i.reference for i in checked.images]) == ("compose.yaml", [PINNED])
    # Only the top directory counts: compose does not look into subdirectories.
    assert check_bundle_compose(_bundle_files(config__compose_override_yaml="x")).file_name
    cases = {
        "compose.override.yaml": "services:\n  a:\n    image: evil\n",
        ".env": "COMPOSE_FILE=compose.yaml:evil.yaml\n",
        ".env.example": "export COMPOSE_FILE=evil.yaml\n",
        "docker-compose.yml": "services:\n  a:\n    image: evil\n",
    }
    for name, text in cases.items():
        with pytest.raises(RelkitError, match="^bundle: ") as info:
            check_bundle_compose({**_bundle_files(), name: text.encode()})
        assert not isinstance(info.value, UsageError)  # exit 1: a failed verification


def test_build_refuses_the_same(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(f"services:\n  a:\n    image: {PINNED}\n")
    (tmp_path / "compose.override.yml").write_text("services:\n  a:\n    image: evil\n")
    with pytest.raises(UsageError, match="compose.override.yml is merged over"):
        find_compose_file(tmp_path)
    (tmp_path / "compose.override.yml").unlink()
    (tmp_path / ".env.example").write_text("COMPOSE_FILE=compose.yaml:evil.yaml\n")
    with pytest.raises(UsageError, match=r"\.env\.example: mentions COMPOSE_FILE"):
        find_compose_file(tmp_path)
    (tmp_path / ".env.example").write_text("COMPOSE_PROFILES=debug\n")
    assert find_compose_file(tmp_path).name == "compose.yaml"
