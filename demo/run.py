"""relkit's main job end to end on the bundled example project, on this machine only.

Starts a local OCI registry, builds the example project (`examples/acme/` + `bundles/example/`)
into a git repository with a conventional-commit history and a bare `origin`, and a GitOps
bare repository; pushes the example images; then runs the real `relkit` command:
`version` → `cut` (changelog commit, annotated tag, atomic push) → `release --forge none`
(chart and signed bundle to the registry, release notes and assets in dist/release/, the
staging promotion branch pushed to the GitOps remote) → `verify` → `bundle extract`, and
`release` once more to show that a finished release is a no-op.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.e2e.scenario import Scenario, relkit_command, set_up
from tests.fixtures.registry import push_test_image, start_registry


def _say(text: str) -> None:
    print(f"\n\033[1m==> {text}\033[0m" if sys.stdout.isatty() else f"\n==> {text}", flush=True)


def _relkit(scenario: Scenario, *args: str) -> str:
    command = [*relkit_command(), "-C", str(scenario.root), *args]
    print("$ relkit " + " ".join(args), flush=True)
    done = subprocess.run(command, env=scenario.env, capture_output=True, text=True)
    sys.stdout.write(done.stderr)  # progress first, then the result
    sys.stdout.write(done.stdout)
    if done.returncode != 0:
        raise SystemExit(f"demo: `relkit {' '.join(args)}` failed with exit {done.returncode}")
    return done.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", help="keep everything here (default: a temporary dir)")
    args = parser.parse_args(argv)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="relkit-demo-")).resolve()
    if workdir.exists() and any(workdir.iterdir()):
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True, exist_ok=True)

    with contextlib.ExitStack() as stack:
        _say("starting a local OCI registry (CNCF Distribution)")
        registry = stack.enter_context(start_registry(workdir / "registry"))
        print(f"registry at {registry.url}")

        _say("building the example project and its GitOps repository")
        scenario = set_up(workdir / "work", registry.host, forge="none", signing="key")
        print(f"project: {scenario.root} (origin {scenario.project.remote})")
        print(f"gitops:  {scenario.gitops.remote}")
        print(f"signing: ephemeral ECDSA P-256 key, public key {scenario.public_key}")

        _say("what is the next version, and why?")
        _relkit(scenario, "version", "--json")

        _say("cutting the release: changelog, version files, annotated tag, atomic push")
        _relkit(scenario, "cut")

        _say("CI builds and pushes the images for the tag")
        for reference, digest in scenario.push_images("1.2.0").items():
            print(f"pushed {reference} ({digest})")

        _say("relkit release on the tag (forge none: notes and assets go to dist/release/)")
        _relkit(scenario, "release", "--tag", "v1.2.0")

        _say("a self-hoster verifies the bundle and unpacks it")
        bundle = scenario.dist / "acme-1.2.0.tar.gz"
        _relkit(scenario, "verify", str(bundle), "--key", str(scenario.public_key))
        target = workdir / "self-host"
        _relkit(
            scenario,
            "bundle",
            "extract",
            str(bundle),
            "--to",
            str(target),
            "--key",
            str(scenario.public_key),
        )

        _say("the provenance and SBOM the release published (step attest)")
        provenance = scenario.dist / "shop-1.2.0.intoto.sigstore.json"
        envelope = json.loads(provenance.read_text())["dsseEnvelope"]
        statement = json.loads(base64.b64decode(envelope["payload"]))
        print(f"{provenance.name}: {statement['predicateType']}, signed DSSE, subjects:")
        for subject in statement["subject"]:
            print(f"  {subject['name']}  sha256:{subject['digest']['sha256'][:16]}…")
        build = statement["predicate"]["buildDefinition"]
        print(f"  build type {build['buildType']}, source {build['externalParameters']}")
        sbom = json.loads((scenario.dist / "acme-1.2.0.cdx.json").read_text())
        print(f"acme-1.2.0.cdx.json: CycloneDX {sbom['specVersion']}, components:")
        for component in sbom["components"]:
            print(f"  {component['type']:>9}  {component.get('purl') or component['name']}")

        _say("anyone verifies the chart straight from the registry (signature + provenance)")
        chart = f"oci://{scenario.registry_host}/charts/acme:1.2.0"
        _relkit(scenario, "verify", chart, "--key", str(scenario.public_key))

        _say("running the release again: nothing left to do")
        _relkit(scenario, "release", "--tag", "v1.2.0")

        _say("a merge to main: CI pushes the image by digest and bumps dev (relkit promote)")
        sha = scenario.commit_and_push(
            "feat(web): faster search", {"docs/search.md": "Search is faster.\n"}
        )
        image = f"{scenario.registry_host}/acme/web:sha-{sha[:7]}"
        digest = push_test_image(
            scenario.registry_host, "acme/web", f"sha-{sha[:7]}", payload=f"web {sha}"
        )
        print(f"pushed {image} ({digest})")
        _relkit(scenario, "promote", "dev", "--image", f"web={image}", "--forge", "none")
        dev = subprocess.run(
            ["git", "--git-dir", str(scenario.gitops.remote), "diff", "main", "relkit/promote-dev"],
            capture_output=True,
            text=True,
            check=True,
        )
        print(dev.stdout)

        _say("where everything is")
        record = json.loads((scenario.dist / "relkit-release.json").read_text())
        for artifact in record["artifacts"]:
            where = artifact.get("reference") or artifact.get("url") or artifact.get("path")
            print(f"{artifact['kind']:>16}  {artifact['name']}  {where}")
        print(f"{'run record':>16}  {scenario.dist / 'relkit-release.json'}")
        print(f"{'self-host copy':>16}  {target}")

        _say("the staging promotion the GitOps repository received")
        diff = subprocess.run(
            [
                "git",
                "--git-dir",
                str(scenario.gitops.remote),
                "diff",
                "main",
                "relkit/promote-staging-1.2.0",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        print(diff.stdout)
        print(f"\nthe demo's files stay in {workdir}; the registry stops now.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
