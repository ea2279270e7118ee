"""`relkit release` end to end: the real command in a subprocess against a real registry
process, real Helm code, real git remotes, key or Sigstore signing, and the fake GitHub.

The resumability tests kill the process for real (SIGKILL) at each step boundary, re-run it,
and compare everything that was published with a clean run of the same history.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from relkit.adapters.oci_referrers import fetch_bundles, list_referrers
from relkit.adapters.registry import DockerConfig, Reference, RegistryClient
from relkit.signing.attest import verify_attestation_with_key
from relkit.signing.keys import generate_key_pair
from relkit.signing.provenance import subject_digests
from tests.e2e.scenario import Scenario, relkit_command, run_relkit, set_up
from tests.fakes.github_server import FakeGitHub
from tests.fixtures import relkit_cli
from tests.fixtures.registry import RegistryServer
from tests.schemas import cyclonedx_errors, slsa_errors

pytestmark = pytest.mark.e2e

HELM_CONFIG = "application/vnd.cncf.helm.config.v1+json"
HELM_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"


@dataclass
class World:
    scenario: Scenario
    github: FakeGitHub
    registry: RegistryServer
    namespace: str


@pytest.fixture
def make_world(tmp_path: Path, registry: RegistryServer) -> Iterator[Any]:
    fakes: list[FakeGitHub] = []

    def make(
        name: str = "w",
        *,
        tag: str | None = "v1.2.0",
        signing_key: bytes | None = None,
        namespace: str | None = None,
        **kw: Any,
    ) -> World:
        github = FakeGitHub().start()
        fakes.append(github)
        github.create_repo("acme/shop")
        github.create_repo("acme/gitops")
        namespace = namespace or f"{name}-{uuid.uuid4().hex[:8]}"
        scenario = set_up(
            tmp_path / name,
            registry.host,
            forge="github",
            api_url=github.api_url,
            github_token=github.token,
            namespace=namespace,
            tag=tag,
            signing_key=signing_key,
            **kw,
        )
        scenario.push_images("1.2.0")
        return World(scenario, github, registry, namespace)

    yield make
    for fake in fakes:
        fake.stop()
        assert fake.internal_errors == []


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _record(world: World) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((world.scenario.dist / "relkit-release.json").read_text())
    return data


def _manifest(world: World, repository: str, tag: str) -> dict[str, Any]:
    client = RegistryClient(DockerConfig({}))
    try:
        manifest = client.get_manifest(
            f"{world.registry.host}/{world.namespace}/{repository}:{tag}"
        )
        return dict(json.loads(manifest.content))
    finally:
        client.close()


def _published_state(world: World) -> dict[str, Any]:
    """What a user can see after the release: registry, GitHub release, PR, GitOps branch."""
    repo = world.github.repo("acme/shop")
    releases = list(repo.releases.values())
    gitops = world.github.repo("acme/gitops")
    pulls = [issue for issue in gitops.issues.values() if issue.is_pull]
    record = _record(world)
    chart = next(a for a in record["artifacts"] if a["kind"] == "chart")
    bundle = next(a for a in record["artifacts"] if a["kind"] == "bundle")
    branch = pulls[0].head if pulls else None
    values = (
        world.scenario.gitops.git(
            "--git-dir",
            str(world.scenario.gitops.remote),
            "show",
            f"{branch}:envs/staging/values.yaml",
        )
        if branch
        else None
    )
    return {
        "releases": [
            (r.tag_name, r.draft, r.prerelease, sorted(a.name for a in r.assets.values()))
            for r in releases
        ],
        # Signatures are randomized (ECDSA), everything else must be byte-identical.
        "asset_hashes": {
            a.name: hashlib.sha256(a.content).hexdigest()
            for r in releases
            for a in r.assets.values()
            if not a.name.endswith((".sig", ".sigstore.json"))
        },
        "chart_digest": chart["digest"],
        "bundle_digest": bundle["digest"],
        "pulls": [(p.title, p.state, p.head, sorted(p.labels)) for p in pulls],
        "staging_values": values,
    }


def test_release_publishes_everything_and_rerun_changes_nothing(make_world: Any) -> None:
    world = make_world()
    scenario = world.scenario
    first = run_relkit(scenario, "release", "--tag", "v1.2.0")
    assert "relkit: released v1.2.0" in first.stdout

    # The chart is a Helm chart in the registry, with Helm's own media types.
    chart = _manifest(world, "charts/acme", "1.2.0")
    assert chart["config"]["mediaType"] == HELM_CONFIG
    assert [layer["mediaType"] for layer in chart["layers"]] == [HELM_LAYER]

    # The bundle artifact, its pins and its signature verify with relkit.
    record = _record(world)
    assert [s["outcome"] for s in record["steps"]] == ["done"] * 5
    bundle = scenario.dist / "acme-1.2.0.tar.gz"
    verify = run_relkit(scenario, "verify", str(bundle), "--key", str(scenario.public_key))
    web_digest = scenario.images[f"{world.registry.host}/acme/web:1.2.0"]
    pinned = (scenario.dist / "acme-1.2.0.digests.txt").read_text()
    assert f"{world.registry.host}/acme/web:1.2.0@{web_digest}" in pinned
    print(verify.stdout)

    # GitHub: one published release (draft first, assets, then publish), latest.
    repo = world.github.repo("acme/shop")
    (release,) = repo.releases.values()
    assert (release.tag_name, release.draft, release.prerelease) == ("v1.2.0", False, False)
    assert repo.latest_release_id == release.id
    names = sorted(a.name for a in release.assets.values())
    assert names == sorted(
        [
            "acme-1.2.0.tar.gz",
            "acme-1.2.0.tar.gz.sig",
            "acme-1.2.0.SHA256SUMS",
            "acme-1.2.0.digests.txt",
            "acme-1.2.0.tgz",
            "acme-1.2.0.cdx.json",
            "acme-1.2.0.cdx.intoto.sigstore.json",
            "shop-1.2.0.intoto.sigstore.json",
        ]
    )
    _check_attestations(world)
    assert "### Features" in release.body and "shopping cart" in release.body

    # GitOps: one PR, labelled, moving staging to exactly the published digests.
    state = _published_state(world)
    assert len(state["pulls"]) == 1
    _title, pr_state, head, labels = state["pulls"][0]
    assert pr_state == "open" and labels == ["promotion", "staging"]
    assert head == "relkit/promote-staging-1.2.0"
    assert f"digest: {web_digest}" in state["staging_values"]
    assert 'tag: "1.2.0"' in state["staging_values"]
    assert "# Staging environment for acme." in state["staging_values"]  # comments kept

    # Re-running a finished release changes nothing and says so.
    again = run_relkit(scenario, "release", "--tag", "v1.2.0")
    assert "v1.2.0 is already released: nothing to do" in again.stdout
    assert [s["outcome"] for s in _record(world)["steps"]] == ["already done"] * 5
    assert _published_state(world) == state


def _check_attestations(world: World) -> None:
    """Provenance and SBOM: signed with the release key, about what was published, and
    attached to the chart and bundle manifests as referrers (tag schema on Distribution)."""
    scenario = world.scenario
    public = scenario.public_key.read_bytes()
    provenance = verify_attestation_with_key(
        (scenario.dist / "shop-1.2.0.intoto.sigstore.json").read_bytes(), public, where="p"
    ).statement
    assert slsa_errors(provenance) == []
    record = _record(world)
    chart = next(a for a in record["artifacts"] if a["kind"] == "chart")
    bundle = next(a for a in record["artifacts"] if a["kind"] == "bundle")
    bundle_manifest = bundle["reference"].rsplit("@", 1)[1]
    assert subject_digests(provenance) == {
        chart["digest"],
        bundle["digest"],
        bundle_manifest,
        f"sha256:{_sha256(scenario.dist / 'acme-1.2.0.tgz')}",
    }
    sbom = json.loads((scenario.dist / "acme-1.2.0.cdx.json").read_text())
    assert cyclonedx_errors(sbom) == []
    attested = verify_attestation_with_key(
        (scenario.dist / "acme-1.2.0.cdx.intoto.sigstore.json").read_bytes(), public, where="s"
    ).statement
    assert attested["predicate"] == sbom
    client = RegistryClient(DockerConfig({}))
    try:
        for reference, expected in ((chart["reference"], 2), (bundle["reference"], 3)):
            ref = Reference.parse(reference)
            subject = Reference(ref.registry, ref.repository, None, ref.digest)
            referrers, source = list_referrers(client, subject)
            assert source == "tag-schema"
            assert len(referrers) == expected, referrers
            for attached in fetch_bundles(client, subject):
                verify_attestation_with_key(attached.bundle, public, where=reference)
    finally:
        client.close()
    # relkit verify reads them back from the registry: the chart, and the bundle's provenance.
    chart_url = chart["reference"].rsplit("@", 1)[0]
    checked = run_relkit(scenario, "verify", chart_url, "--key", str(scenario.public_key))
    assert "verified signature: signed by key " in checked.stdout
    assert "verified provenance: source https://github.com/acme/shop ref refs/tags/v1.2.0" in (
        checked.stdout
    )
    bundle_url = bundle["reference"].rsplit("@", 1)[0]
    checked = run_relkit(scenario, "verify", bundle_url, "--key", str(scenario.public_key))
    assert "verified provenance: source https://github.com/acme/shop" in checked.stdout
    _, other = generate_key_pair()
    (scenario.workdir / "other.pub").write_bytes(other)
    refused = run_relkit(
        scenario, "verify", chart_url, "--key", str(scenario.workdir / "other.pub"), check=False
    )
    assert refused.returncode == 1 and "no valid signature" in refused.stderr


def _run_until(scenario: Scenario, kill_after: str) -> int:
    """Start `relkit release` and SIGKILL it as soon as step `kill_after` reports its end."""
    process = relkit_cli.popen(
        [*relkit_command(), "-C", str(scenario.root), "release", "--tag", "v1.2.0"],
        env=scenario.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    killed = False
    for line in process.stderr:
        if line.startswith(f"relkit: step {kill_after}: done"):
            os.kill(process.pid, signal.SIGKILL)
            killed = True
            break
    process.wait(timeout=120)
    assert killed, f"step {kill_after} never finished"
    return process.returncode


def _wipe(world: World) -> None:
    """Remove everything a run published, so the same history can be released again."""
    client = RegistryClient(DockerConfig({}))
    try:
        for repository, tag in (("charts/acme", "1.2.0"), ("bundles/acme", "1.2.0")):
            name = f"{world.registry.host}/{world.namespace}/{repository}"
            digest = client.resolve_digest(f"{name}:{tag}")
            deleted = httpx.delete(
                f"{world.registry.url}/v2/{world.namespace}/{repository}/manifests/{digest}"
            )
            assert deleted.status_code == 202, deleted.text
    finally:
        client.close()
    world.github.stop()
    shutil.rmtree(world.scenario.workdir)


@pytest.mark.parametrize("kill_after", ["chart", "bundle", "attest", "release"])
def test_killed_run_resumes_to_the_same_final_state(make_world: Any, kill_after: str) -> None:
    # The same history at the same paths and registry namespace, released twice: once
    # cleanly, once killed after `kill_after` and re-run. Everything published must match.
    key, _ = generate_key_pair()
    namespace = f"kill-{uuid.uuid4().hex[:8]}"
    clean = make_world("w", signing_key=key, namespace=namespace)
    run_relkit(clean.scenario, "release", "--tag", "v1.2.0")
    expected = _published_state(clean)
    _wipe(clean)

    resumed = make_world("w", signing_key=key, namespace=namespace)
    assert resumed.scenario.project.head == clean.scenario.project.head
    assert _run_until(resumed.scenario, kill_after) == -signal.SIGKILL
    finish = run_relkit(resumed.scenario, "release", "--tag", "v1.2.0")
    outcomes = {s["name"]: s["outcome"] for s in _record(resumed)["steps"]}
    assert outcomes[kill_after] == "already done"
    assert outcomes["promote"] == "done"
    assert "relkit: released v1.2.0" in finish.stdout

    assert _published_state(resumed) == expected


def test_two_releases_in_a_row_and_a_prerelease(make_world: Any) -> None:
    world = make_world()
    scenario = world.scenario
    run_relkit(scenario, "release", "--tag", "v1.2.0")

    scenario.commit_and_push("feat(web): wish list", {"wish.txt": "wishes\n"})
    scenario.tag("v1.3.0-rc.1")
    scenario.push_images("1.3.0-rc.1")
    _retarget_bundle_images(scenario)
    run_relkit(scenario, "release", "--tag", "v1.3.0-rc.1")
    repo = world.github.repo("acme/shop")
    by_tag = {r.tag_name: r for r in repo.releases.values()}
    assert by_tag["v1.3.0-rc.1"].prerelease is True
    assert repo.latest_release_id == by_tag["v1.2.0"].id  # a pre-release is never latest

    scenario.tag("v1.3.0")
    scenario.push_images("1.3.0")
    run_relkit(scenario, "release", "--tag", "v1.3.0")
    by_tag = {r.tag_name: r for r in repo.releases.values()}
    assert repo.latest_release_id == by_tag["v1.3.0"].id

    gitops = world.github.repo("acme/gitops")
    pulls = sorted((i for i in gitops.issues.values() if i.is_pull), key=lambda i: i.number)
    states = [(p.head, p.state) for p in pulls]
    assert states[-1] == ("relkit/promote-staging-1.3.0", "open")
    assert all(state == "closed" for _, state in states[:-1]), states


def _retarget_bundle_images(scenario: Scenario) -> None:
    """Nothing to do: bundles[].images use {version}, so each tag pins its own images."""
    text = (scenario.root / "relkit.toml").read_text()
    assert "acme/web:{version}" in text


def test_dry_run_touches_nothing(make_world: Any) -> None:
    world = make_world()
    done = run_relkit(world.scenario, "release", "--tag", "v1.2.0", "--dry-run")
    assert "relkit: dry run of v1.2.0: nothing was changed" in done.stdout
    assert "relkit: step chart: would:" in done.stderr
    assert "relkit: step promote: would:" in done.stderr
    assert world.github.repo("acme/shop").releases == {}
    assert not (world.scenario.dist / "relkit-release.json").exists()
    tags = httpx.get(f"{world.registry.url}/v2/{world.namespace}/charts/acme/tags/list")
    assert tags.status_code == 404


def test_a_tag_lower_than_its_commits_require_is_refused(make_world: Any) -> None:
    world = make_world(tag="v1.1.1")
    done = run_relkit(world.scenario, "release", "--tag", "v1.1.1", check=False)
    assert done.returncode == 2
    assert (
        "relkit: error: tag v1.1.1 is lower than 1.2.0 required by the minor change" in done.stderr
    )
    assert world.github.repo("acme/shop").releases == {}


def test_github_actions_outputs_and_summary(make_world: Any, tmp_path: Path) -> None:
    world = make_world()
    outputs, summary = tmp_path / "out", tmp_path / "summary.md"
    world.scenario.env.update(
        GITHUB_ACTIONS="true",
        GITHUB_REF="refs/tags/v1.2.0",
        GITHUB_OUTPUT=str(outputs),
        GITHUB_STEP_SUMMARY=str(summary),
    )
    done = run_relkit(world.scenario, "release")
    assert "::group::relkit chart" in done.stderr
    parsed: dict[str, str] = {}
    lines = outputs.read_text().splitlines()
    for index in range(0, len(lines), 3):
        key, _ = lines[index].split("<<")
        parsed[key] = lines[index + 1]
    assert parsed["version"] == "1.2.0" and parsed["tag"] == "v1.2.0"
    assert parsed["released"] == "true"
    assert parsed["chart_digest"].startswith("sha256:")
    assert parsed["pr_url"].endswith("/pull/1")
    assert parsed["release_url"].endswith("/releases/tag/v1.2.0")
    assert "| chart | ✓ done |" in summary.read_text()
    assert world.github.token not in done.stdout + done.stderr + outputs.read_text()
