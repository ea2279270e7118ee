"""SIGKILL `relkit release` at random moments, re-run it, and get exactly a clean run's result.

Issue 12 §4: after a kill at any moment and a re-run, dist/, the registry and the GitOps
repository must equal what one uninterrupted run leaves. The kill moments come from a seeded
RNG (so a failure reproduces): a delay after the process starts, and delays after a step's
start line appears in the output. Each killed run is resumed by the next one, so one test
covers several kills at bounded cost. ECDSA signatures differ per run: they are compared by
verifying them with the public key, everything else byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import shutil
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from relkit.adapters.registry import DockerConfig, RegistryClient
from relkit.signing.attest import verify_attestation_with_key
from relkit.signing.keys import generate_key_pair, public_key_pem, verify_blob_with_key
from tests.e2e.scenario import Scenario, relkit_command, run_relkit, set_up
from tests.fixtures import relkit_cli
from tests.fixtures.registry import RegistryServer

pytestmark = pytest.mark.e2e

SEED = 20261201
SIGNATURE_TYPE = "application/vnd.relkit.bundle.signature.v1+base64"
RECORD = "relkit-release.json"
SIGNED = (".sig", ".sigstore.json")  # files holding a per-run signature
# What differs legitimately between a clean run and a resumed one: how each step went.
VOLATILE_STEP_KEYS = ("outcome", "detail", "duration_s")


def _world(tmp_path: Path, registry: RegistryServer, namespace: str, key: bytes) -> Scenario:
    # The same path, namespace and history each time: the same commits, so the same bytes.
    scenario = set_up(
        tmp_path / "w",
        registry.host,
        forge="none",
        namespace=namespace,
        tag="v1.2.0",
        signing_key=key,
    )
    scenario.push_images("1.2.0")
    return scenario


def _kill_during(scenario: Scenario, step: str | None, delay_s: float) -> int:
    """Run `relkit release`; SIGKILL it `delay_s` after `step` starts (None: after launch)."""
    process = relkit_cli.popen(
        [*relkit_command(), "-C", str(scenario.root), "release", "--tag", "v1.2.0"],
        env=scenario.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    timer = threading.Timer(delay_s, process.send_signal, (signal.SIGKILL,))
    if step is None:
        timer.start()
    for line in process.stderr:
        if step is not None and line.startswith(f"relkit: step {step}: started"):
            timer.start()
    process.wait(timeout=300)
    timer.cancel()
    return process.returncode


def _step_durations(stderr: str) -> dict[str, float]:
    """`relkit: step bundle: done (0.42s)` lines → {"bundle": 0.42}."""
    return {
        match["step"]: float(match["seconds"])
        for match in re.finditer(
            r"^relkit: step (?P<step>\w+): done \((?P<seconds>[\d.]+)s\)", stderr, re.M
        )
    }


def _dist_state(dist: Path, public_key: bytes) -> dict[str, Any]:
    """Every path under dist/ with its bytes' hash; signatures verified; the record normalized."""
    state: dict[str, Any] = {}
    for path in sorted(dist.rglob("*")):
        name = path.relative_to(dist).as_posix()
        if path.is_dir():
            state[name + "/"] = "directory"
        elif path.name.endswith(".intoto.sigstore.json"):
            # A DSSE envelope: its signature differs per run, its statement must not.
            verified = verify_attestation_with_key(path.read_bytes(), public_key, where=name)
            state[name] = {"verified statement": verified.statement}
        elif path.name.endswith(".sig"):
            verify_blob_with_key(
                path.with_name(path.name[: -len(".sig")]), path.read_bytes(), public_key
            )
            state[name] = "valid signature"
        elif path.name == RECORD:
            state[name] = _normalized_record(json.loads(path.read_text()))
        elif path.name == "release.json":  # --forge none: lists the .sig asset's hash
            metadata = json.loads(path.read_text())
            for asset in metadata["assets"]:
                if asset["name"].endswith(SIGNED):
                    asset["sha256"] = asset["size"] = "a signature"
            state[name] = metadata
        else:
            state[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return state


def _normalized_record(record: dict[str, Any]) -> dict[str, Any]:
    record = dict(record)
    record.pop("released")  # "something new was published by this very run"
    record["steps"] = [
        {
            **{k: v for k, v in step.items() if k not in VOLATILE_STEP_KEYS},
            "artifacts": [_normalized_artifact(a) for a in step["artifacts"]],
        }
        for step in record["steps"]
    ]
    record["artifacts"] = [_normalized_artifact(a) for a in record.get("artifacts", [])]
    return record


def _normalized_artifact(artifact: dict[str, Any]) -> dict[str, Any]:
    """Hashes of a signature, and of the bundle manifest that holds it, differ per run."""
    artifact = dict(artifact)
    if artifact["kind"] == "signature" or str(artifact.get("name", "")).endswith(SIGNED):
        artifact["digest"] = "a signature"
    if artifact["kind"] == "bundle" and artifact.get("reference"):
        artifact["reference"] = artifact["reference"].split("@", 1)[0] + "@(holds a signature)"
    return artifact


def _registry_state(
    registry: RegistryServer, namespace: str, archive: Path, public_key: bytes
) -> dict[str, Any]:
    """Every tag of the chart and bundle repositories and what it holds, signatures verified.

    Tags are the version and the referrers tag schema's `sha256-<subject>` indexes; each
    referrer is shown by its verified statement (its manifest digest changes per run).
    """
    state: dict[str, Any] = {}
    client = RegistryClient(DockerConfig({}))
    try:
        for repository in ("charts/acme", "bundles/acme"):
            name = f"{registry.host}/{namespace}/{repository}"
            tags = httpx.get(f"{registry.url}/v2/{namespace}/{repository}/tags/list").json()
            held: dict[str, Any] = {}
            for tag in sorted(tags["tags"]):
                manifest = json.loads(client.get_manifest(f"{name}:{tag}").content)
                if tag.startswith("sha256-"):
                    held[tag] = sorted(
                        (
                            _referrer(client, name, entry, public_key)
                            for entry in manifest["manifests"]
                        ),
                        key=json.dumps,
                    )
                    continue
                for layer in manifest.get("layers", []):
                    if layer["mediaType"] == SIGNATURE_TYPE:
                        blob = client.get_blob(name, layer["digest"])
                        verify_blob_with_key(archive, blob, public_key)
                        layer["digest"] = layer["size"] = "verified signature"
                held[tag] = manifest
            state[repository] = held
    finally:
        client.close()
    return state


def _referrer(
    client: RegistryClient, name: str, entry: dict[str, Any], public_key: bytes
) -> dict[str, Any]:
    manifest = json.loads(client.get_manifest(f"{name}@{entry['digest']}").content)
    (layer,) = manifest["layers"]
    verified = verify_attestation_with_key(
        client.get_blob(name, layer["digest"]), public_key, where=entry["digest"]
    )
    return {
        "artifactType": entry.get("artifactType"),
        "annotations": manifest.get("annotations"),
        "subject": manifest["subject"]["digest"],
        "statement": verified.statement,
    }


def _gitops_state(scenario: Scenario) -> dict[str, str]:
    """Every branch of the GitOps remote and the commit it holds (dates are the release's)."""
    remote = scenario.gitops.remote
    assert remote is not None
    lines = subprocess.run(
        ["git", "--git-dir", str(remote), "for-each-ref", "--format=%(refname) %(objectname)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    return dict(line.split(" ", 1) for line in lines)


def _state(scenario: Scenario, registry: RegistryServer, namespace: str) -> dict[str, Any]:
    key = public_key_pem(scenario.env["RELKIT_SIGNING_KEY"].encode(), None)
    archive = scenario.dist / "acme-1.2.0.tar.gz"
    state = {
        "dist": _dist_state(scenario.dist, key),
        "registry": _registry_state(registry, namespace, archive, key),
        "gitops": _gitops_state(scenario),
    }
    # The bundle's OCI manifest holds its signature, so its digest differs per run; where it
    # appears (referrers tag, provenance subjects, the record) it is compared by its role.
    record = json.loads((scenario.dist / RECORD).read_text())
    bundle = next(a for a in record["artifacts"] if a["kind"] == "bundle")
    manifest_hex = bundle["reference"].rsplit("@sha256:", 1)[1]
    text = json.dumps(state, sort_keys=True).replace(manifest_hex, "<bundle manifest>")
    result: dict[str, Any] = json.loads(text)
    return result


def _wipe(scenario: Scenario, registry: RegistryServer, namespace: str) -> None:
    """Delete every manifest the clean run tagged (version and referrers indexes), and its dirs."""
    client = RegistryClient(DockerConfig({}))
    try:
        for repository in ("charts/acme", "bundles/acme"):
            name = f"{registry.host}/{namespace}/{repository}"
            tags = httpx.get(f"{registry.url}/v2/{namespace}/{repository}/tags/list").json()
            for digest in {client.resolve_digest(f"{name}:{tag}") for tag in tags["tags"]}:
                deleted = httpx.delete(
                    f"{registry.url}/v2/{namespace}/{repository}/manifests/{digest}"
                )
                assert deleted.status_code == 202, deleted.text
    finally:
        client.close()
    shutil.rmtree(scenario.workdir)


def _tags(registry: RegistryServer, namespace: str) -> dict[str, list[str]]:
    found = {}
    for repository in ("charts/acme", "bundles/acme"):
        answer = httpx.get(f"{registry.url}/v2/{namespace}/{repository}/tags/list").json()
        found[repository] = answer.get("tags") or []
    return found


def test_sigkill_at_random_moments_then_rerun_equals_a_clean_run(
    tmp_path: Path, registry: RegistryServer
) -> None:
    rng = random.Random(SEED)
    key, _ = generate_key_pair()
    namespace = f"kill-{uuid.uuid4().hex[:8]}"

    clean = _world(tmp_path, registry, namespace, key)
    started = time.monotonic()
    output = run_relkit(clean, "release", "--tag", "v1.2.0").stderr
    clean_s = time.monotonic() - started
    took = _step_durations(output)
    expected = _state(clean, registry, namespace)
    _wipe(clean, registry, namespace)
    assert _tags(registry, namespace) == {"charts/acme": [], "bundles/acme": []}

    resumed = _world(tmp_path, registry, namespace, key)
    assert resumed.project.head == clean.project.head
    # Bounded: four kills, each resumed by the next run, then one run to the end. The moments
    # fall inside what the clean run took: anywhere, then within a step's clean duration.
    kills: list[tuple[str | None, float]] = [(None, rng.uniform(0.0, clean_s))]
    for step in ("chart", "bundle", rng.choice(["release", "promote"])):
        kills.append((step, rng.uniform(0.0, took[step])))
    codes = [_kill_during(resumed, step, delay) for step, delay in kills]
    print(f"kills (step, seconds after its start) -> exit codes: {kills} -> {codes}")
    assert -signal.SIGKILL in codes, f"no run was killed: {kills} -> {codes}"
    final = run_relkit(resumed, "release", "--tag", "v1.2.0")
    # The signing key never shows: not in the output, not in anything written to dist/.
    secret = key.decode().splitlines()[1]
    assert secret not in final.stdout + final.stderr
    assert not [
        p for p in resumed.dist.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()
    ]

    got = _state(resumed, registry, namespace)
    assert got == expected, f"kills: {kills} -> {codes}\n" + _differences(got, expected)


def _differences(got: Any, expected: Any, where: str = "") -> str:
    if isinstance(got, dict) and isinstance(expected, dict):
        return "".join(
            _differences(got.get(key), expected.get(key), f"{where}/{key}")
            for key in sorted(set(got) | set(expected), key=str)
        )
    if isinstance(got, list) and isinstance(expected, list) and len(got) == len(expected):
        return "".join(
            _differences(g, e, f"{where}[{i}]")
            for i, (g, e) in enumerate(zip(got, expected, strict=True))
        )
    return "" if got == expected else f"{where}: {got!r:.200} != {expected!r:.200}\n"
