"""`relkit release` checks every credential before it publishes anything (issue 12 §3).

The real command in a subprocess, against the real local registries (open and htpasswd)
and the fake GitHub: a missing or refused credential is exit 1 with one line naming it,
and the registry and GitHub are untouched. No secret reaches any output, record or
annotation, raw or base64.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from relkit.signing.keys import generate_key_pair
from tests.e2e.scenario import Scenario, run_relkit, set_up
from tests.fakes.github_server import FakeGitHub
from tests.fixtures.registry import (
    TEST_PASSWORD,
    TEST_USER,
    Answer,
    HostileServer,
    RegistryServer,
    SeenRequest,
    json_answer,
)

pytestmark = pytest.mark.e2e

WRONG_TOKEN = "ghp_" + "0badc0ffee" * 4
GITOPS_TOKEN = "ghp_" + "9a17095" * 6
KEY_PASSWORD = "key-password-" + "7" * 8
OIDC_BEARER = "actions-oidc-request-" + "5" * 12


@dataclass
class Run:
    scenario: Scenario
    github: FakeGitHub
    namespace: str
    outputs: Path
    summary: Path


@pytest.fixture
def make_run(tmp_path: Path, registry: RegistryServer) -> Iterator[Callable[..., Run]]:
    fakes: list[FakeGitHub] = []

    def make(signing: str = "key", signing_key: bytes | None = None) -> Run:
        github = FakeGitHub().start()
        fakes.append(github)
        github.create_repo("acme/shop")
        github.create_repo("acme/gitops")
        namespace = f"pre-{uuid.uuid4().hex[:8]}"
        scenario = set_up(
            tmp_path / namespace,
            registry.host,
            forge="github",
            api_url=github.api_url,
            github_token=github.token,
            namespace=namespace,
            tag="v1.2.0",
            signing=signing,
            signing_key=signing_key,
        )
        scenario.push_images("1.2.0")
        outputs, summary = tmp_path / f"{namespace}.out", tmp_path / f"{namespace}.md"
        scenario.env.update(
            GITHUB_ACTIONS="true",  # annotations and outputs, as in a workflow
            GITHUB_REF="refs/tags/v1.2.0",
            GITHUB_OUTPUT=str(outputs),
            GITHUB_STEP_SUMMARY=str(summary),
        )
        return Run(scenario, github, namespace, outputs, summary)

    yield make
    for fake in fakes:
        fake.stop()
        assert fake.internal_errors == []


def _forms(secret: str, user: str | None = None) -> list[str]:
    raws = [secret] + ([f"{user}:{secret}"] if user else [])
    forms = []
    for raw in raws:
        forms += [raw, base64.b64encode(raw.encode()).decode().rstrip("=")]
        forms.append(base64.urlsafe_b64encode(raw.encode()).decode().rstrip("="))
    return forms


def assert_nothing_leaked(run: Run, done: Any, *secrets: tuple[str, str | None]) -> None:
    texts = [done.stdout, done.stderr]
    for path in (run.outputs, run.summary, run.scenario.dist / "relkit-release.json"):
        if path.exists():
            texts.append(path.read_text())
    everything = "\n".join(texts)
    for secret, user in [(run.github.token, "x-access-token"), *secrets]:
        for form in _forms(secret, user):
            assert form not in everything, f"a secret leaked in the form {form[:6]}..."


def assert_nothing_published(run: Run, registry: RegistryServer) -> None:
    for repository in ("charts/acme", "bundles/acme"):
        tags = httpx.get(f"{registry.url}/v2/{run.namespace}/{repository}/tags/list")
        assert tags.status_code == 404, f"{repository} was pushed"
    assert run.github.repo("acme/shop").releases == {}
    assert run.github.repo("acme/gitops").pulls == []
    writes = [c for c in run.github.requests() if c.method in ("POST", "PATCH", "PUT", "DELETE")]
    assert writes == []


def _oidc_service(status: int) -> HostileServer:
    def answer(request: SeenRequest) -> Answer:
        if status != 200:
            return json_answer(status, {"message": "Forbidden"})
        return json_answer(200, {"value": "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJzaWdzdG9yZSJ9.c2ln"})

    return HostileServer(answer)


def _release(run: Run) -> Any:
    return run_relkit(run.scenario, "release", check=False)


def _error_line(done: Any) -> str:
    lines = [line for line in done.stderr.splitlines() if line.startswith("relkit: error:")]
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    annotations = [line for line in done.stdout.splitlines() if line.startswith("::error")]
    assert annotations, done.stdout
    return lines[0]


def test_keyless_without_the_id_token_permission_publishes_nothing(
    make_run: Callable[..., Run], registry: RegistryServer
) -> None:
    # The case: no `id-token: write`, so no ACTIONS_ID_TOKEN_REQUEST_*. The chart
    # used to be pushed before the bundle step found out.
    run = make_run(signing="keyless")
    done = _release(run)
    assert done.returncode == 1, done.stderr
    assert _error_line(done) == (
        "relkit: error: preflight for step bundle: keyless signing: keyless signing needs the"
        " GitHub Actions OIDC token, but ACTIONS_ID_TOKEN_REQUEST_URL and"
        " ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set"
    )
    assert "id-token: write" in done.stderr
    assert_nothing_published(run, registry)
    record = json.loads((run.scenario.dist / "relkit-release.json").read_text())
    assert record["complete"] is False and record["artifacts"] == []
    assert_nothing_leaked(run, done)


def test_an_oidc_service_that_refuses_publishes_nothing(
    make_run: Callable[..., Run], registry: RegistryServer
) -> None:
    run = make_run(signing="keyless")
    with _oidc_service(403) as service:
        run.scenario.env.update(
            ACTIONS_ID_TOKEN_REQUEST_URL=f"{service.url}/token?api-version=2.0",
            ACTIONS_ID_TOKEN_REQUEST_TOKEN=OIDC_BEARER,
        )
        done = _release(run)
    assert done.returncode == 1, done.stderr
    assert _error_line(done) == (
        "relkit: error: preflight for step bundle: keyless signing:"
        " GitHub Actions OIDC token service answered HTTP 403"
    )
    assert service.authorizations() == [f"bearer {OIDC_BEARER}"]
    assert_nothing_published(run, registry)
    assert_nothing_leaked(run, done, (OIDC_BEARER, None))


@pytest.mark.parametrize("case", ["refused", "missing"])
def test_a_github_token_that_is_refused_or_missing_publishes_nothing(
    make_run: Callable[..., Run], registry: RegistryServer, case: str
) -> None:
    run = make_run()
    if case == "refused":
        run.scenario.env["GITHUB_TOKEN"] = WRONG_TOKEN
    else:
        del run.scenario.env["GITHUB_TOKEN"]
        run.scenario.env["RELKIT_GITOPS_TOKEN"] = run.github.token  # promote could go on
    done = _release(run)
    assert done.returncode == 1, done.stderr
    line = _error_line(done)
    assert line.startswith("relkit: error: preflight for step release: GitHub token: ")
    if case == "refused":
        assert line.endswith("GitHub get repository acme/shop failed: HTTP 401 Bad credentials")
    else:
        assert line.endswith("no GitHub credentials: none of GITHUB_TOKEN, GH_TOKEN is set")
    assert_nothing_published(run, registry)
    assert_nothing_leaked(run, done, (WRONG_TOKEN, "x-access-token"))


def test_a_refused_gitops_token_publishes_nothing(
    make_run: Callable[..., Run], registry: RegistryServer
) -> None:
    run = make_run()
    run.scenario.env["RELKIT_GITOPS_TOKEN"] = GITOPS_TOKEN  # not a token the fake knows
    done = _release(run)
    assert done.returncode == 1, done.stderr
    assert _error_line(done) == (
        "relkit: error: preflight for step promote: GitOps token (RELKIT_GITOPS_TOKEN, else"
        " GITHUB_TOKEN / GH_TOKEN): GitHub get repository acme/gitops failed:"
        " HTTP 401 Bad credentials"
    )
    assert_nothing_published(run, registry)
    assert_nothing_leaked(run, done, (GITOPS_TOKEN, "x-access-token"))


def test_a_signing_key_that_does_not_decrypt_publishes_nothing(
    make_run: Callable[..., Run], registry: RegistryServer
) -> None:
    private, _public = generate_key_pair(password=KEY_PASSWORD.encode())
    run = make_run(signing_key=None)
    run.scenario.env["RELKIT_SIGNING_KEY"] = private.decode()
    run.scenario.env["RELKIT_SIGNING_KEY_PASSWORD"] = KEY_PASSWORD[::-1]
    done = _release(run)
    assert done.returncode == 1, done.stderr
    assert _error_line(done).startswith("relkit: error: preflight for step bundle: signing key: ")
    assert_nothing_published(run, registry)
    assert_nothing_leaked(run, done, (KEY_PASSWORD, None), (KEY_PASSWORD[::-1], None))


def _publish_bundles_to(run: Run, target: RegistryServer) -> None:
    """Commit a relkit.toml whose bundles go to `target` (the chart stays on the open
    registry, so before this check the chart was pushed before the bundle step failed)."""
    scenario = run.scenario
    config = (scenario.root / "relkit.toml").read_text()
    bundles = f'registry = "oci://{scenario.registry_host}/{run.namespace}/bundles"'
    assert bundles in config
    config = config.replace(bundles, f'registry = "oci://{target.host}/{run.namespace}/bundles"')
    scenario.project.git("tag", "-d", "v1.2.0")
    scenario.project.git("push", "-q", "origin", ":refs/tags/v1.2.0")
    scenario.commit_and_push(
        "chore: publish bundles to the private registry", {"relkit.toml": config}
    )
    scenario.tag("v1.2.0")


def _login(run: Run, registry: RegistryServer, password: str) -> None:
    auth = base64.b64encode(f"{TEST_USER}:{password}".encode()).decode()
    config = Path(run.scenario.env["DOCKER_CONFIG"]) / "config.json"
    config.write_text(json.dumps({"auths": {registry.host: {"auth": auth}}}))


def test_push_access_is_checked_for_every_push_target(
    make_run: Callable[..., Run], registry: RegistryServer, auth_registry: RegistryServer
) -> None:
    run = make_run()
    _publish_bundles_to(run, auth_registry)
    target = f"oci://{auth_registry.host}/{run.namespace}/bundles/acme"

    # No Docker config entry for the private registry.
    done = _release(run)
    assert done.returncode == 1, done.stderr
    assert _error_line(done) == (
        f"relkit: error: preflight for step bundle: push access to {target}: registry"
        f" {auth_registry.host} requires authentication for push to {target[len('oci://') :]}"
    )
    assert_nothing_published(run, registry)

    # An entry with the wrong password.
    _login(run, auth_registry, "not-the-" + TEST_PASSWORD)
    done = _release(run)
    assert done.returncode == 1, done.stderr
    assert "rejected the credentials" in _error_line(done)
    assert_nothing_published(run, registry)
    assert_nothing_leaked(run, done, ("not-the-" + TEST_PASSWORD, TEST_USER))

    # The right one: the release goes through, the bundle lands in the private registry.
    _login(run, auth_registry, TEST_PASSWORD)
    done = _release(run)
    assert done.returncode == 0, done.stderr
    with auth_registry.client() as client:
        tags = client.list_tags(f"{auth_registry.host}/{run.namespace}/bundles/acme")
    assert "1.2.0" in tags  # (with the attest step's referrers tag next to it)
    assert_nothing_leaked(run, done, (TEST_PASSWORD, TEST_USER))
