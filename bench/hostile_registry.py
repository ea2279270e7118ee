"""Peak memory of pulling an artifact whose 4-byte layer a registry serves as 128 MiB.

    .venv/bin/python bench/hostile_registry.py [--mib 128]

A hostile registry (tests/fixtures/registry.py's `HostileServer`, a real socket on
127.0.0.1) names a 4-byte layer and streams `--mib` MiB of zeros for it without a
Content-Length. `relkit.adapters.oci_artifact.pull_artifact` runs in a child process whose
peak RSS (getrusage) is printed with the outcome and how much the server got to send. Put an
older relkit first on PYTHONPATH to measure it the same way (issue 12 §1).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fixtures.registry import oversized_blob_registry

__all__ = ["main"]

_PULL = """
import resource, sys, tempfile
from pathlib import Path
from relkit.adapters.oci_artifact import pull_artifact
from relkit.adapters.registry import DockerConfig, RegistryClient
from relkit.core.errors import RelkitError
try:
    with tempfile.TemporaryDirectory() as out:
        pull_artifact(sys.argv[1], Path(out), client=RegistryClient(DockerConfig({})))
    outcome = "accepted"
except RelkitError as exc:
    outcome = "refused: " + exc.message
print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB; {outcome}")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=128, help="bytes served for the layer")
    args = parser.parse_args()
    with oversized_blob_registry(args.mib * 1024 * 1024) as server:
        done = subprocess.run(
            [sys.executable, "-c", _PULL, f"oci://{server.host}/acme/art:1.0.0"],
            capture_output=True,
            text=True,
            check=False,
        )
        print(done.stdout.strip() or done.stderr.strip().splitlines()[-1])
        print(f"server sent {server.sent / 2**20:.1f} MiB of {args.mib} MiB")


if __name__ == "__main__":
    main()
