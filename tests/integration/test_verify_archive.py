"""Issue 9 §1 and §3 with real files, real signatures and the real local registry/Sigstore:
what is verified is what gets unpacked (one read of the archive, even when the file is
swapped mid-run), and an archive is refused under any name that tells another version."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from relkit.adapters import oci_artifact
from relkit.bundle.archive import BundleFile, build_tar_gz
from relkit.bundle.extract import read_archive
from relkit.bundle.publish import ARTIFACT_TYPE, KEY_SIGNATURE_MEDIA_TYPE, LAYER_MEDIA_TYPE
from relkit.bundle.sums import render_digests, render_sha256sums
from relkit.cli import main
from relkit.signing.keyless import sign_blob_keyless
from relkit.signing.keys import sign_blob_with_key
from tests.fixtures.registry import RegistryServer
from tests.fixtures.sigstore import SigningKeyPair, SigstoreServices, TokenFactory

ROOT = Path(__file__).resolve().parents[2]
GOOD_IMAGE = f"registry.example/acme/web:1.2.0@sha256:{'a' * 64}"
EVIL_IMAGE = f"evil.example/miner:latest@sha256:{'e' * 64}"


def _archive_bytes(top: str, image: str) -> bytes:
    files = {
        "compose.yaml": BundleFile(f"services:\n  web:\n    image: {image}\n".encode()),
        "digests.txt": BundleFile(render_digests([image]).encode()),
    }
    sums = render_sha256sums({path: entry.data for path, entry in files.items()})
    files["SHA256SUMS"] = BundleFile(sums.encode())
    return build_tar_gz(files, top=top, mtime=1_700_000_000)


def _signed(directory: Path, keys: SigningKeyPair, top: str = "acme-1.2.0") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    archive = directory / f"{top}.tar.gz"
    archive.write_bytes(_archive_bytes(top, GOOD_IMAGE))
    signature = sign_blob_with_key(archive.read_bytes(), keys.private_pem, None)
    archive.with_name(archive.name + ".sig").write_bytes(signature)
    return archive


def _audited(
    args: list[str], *, watch: str, log: Path, swap_with: Path | None = None
) -> tuple[subprocess.CompletedProcess[str], dict[str, object]]:
    env = {**os.environ, "AUDIT_WATCH": watch, "AUDIT_LOG": str(log)}
    if swap_with is not None:
        env["AUDIT_SWAP_WITH"] = str(swap_with)
    result = subprocess.run(
        [sys.executable, "-m", "tests.fixtures.audited_cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result, json.loads(log.read_text())


# --------------------------------------------------------------------------- §1 same bytes


def test_extract_unpacks_what_it_verified_when_the_file_is_swapped(
    signing_key_pair: SigningKeyPair, tmp_path: Path
) -> None:
    archive = _signed(tmp_path / "download", signing_key_pair)
    # The attacker's archive: unsigned, but consistent in itself (sums and pins match).
    evil = tmp_path / "evil.tar.gz"
    evil.write_bytes(_archive_bytes("acme-1.2.0", EVIL_IMAGE))
    target = tmp_path / "selfhost"
    keys_public = signing_key_pair.public_path
    result, audit = _audited(
        ["bundle", "extract", str(archive), "--to", str(target), "--key", str(keys_public)],
        watch=str(archive),
        log=tmp_path / "audit.json",
        swap_with=evil,
    )
    assert audit["swapped"] is True  # the file on disk really was replaced mid-run
    assert not evil.exists()  # moved over the download
    assert read_archive(archive).files["compose.yaml"].decode().count(EVIL_IMAGE) == 1
    # Before the fix: exit 0, "verified signature", and the attacker's compose.yaml.
    assert result.returncode == 0, result.stderr
    compose = (target / "compose.yaml").read_text()
    assert GOOD_IMAGE in compose and EVIL_IMAGE not in compose
    assert "verified signature: acme-1.2.0.tar.gz.sig is a valid ECDSA P-256" in result.stdout
    assert audit["reads"] == [str(archive)]  # opened for reading exactly once


def test_verify_reads_the_archive_once(signing_key_pair: SigningKeyPair, tmp_path: Path) -> None:
    archive = _signed(tmp_path / "download", signing_key_pair)
    result, audit = _audited(
        ["verify", str(archive), "--key", str(signing_key_pair.public_path)],
        watch=str(archive),
        log=tmp_path / "audit.json",
    )
    assert result.returncode == 0, result.stderr
    assert audit["reads"] == [str(archive)]


def _push(registry: RegistryServer, path: str, archive: Path, *, tag: str = "1.2.0") -> str:
    reference = registry.oci(f"{path}:{tag}")
    signature = archive.with_name(archive.name + ".sig")
    with registry.client() as client:
        oci_artifact.push_artifact(
            reference,
            [
                oci_artifact.ArtifactFile(archive, LAYER_MEDIA_TYPE),
                oci_artifact.ArtifactFile(signature, KEY_SIGNATURE_MEDIA_TYPE),
            ],
            artifact_type=ARTIFACT_TYPE,
            client=client,
        )
    return reference


def test_oci_bundle_is_checked_and_unpacked_from_one_read_of_the_download(
    registry: RegistryServer, signing_key_pair: SigningKeyPair, tmp_path: Path
) -> None:
    archive = _signed(tmp_path / "dist", signing_key_pair)
    reference = _push(registry, "it/once/acme", archive)
    target = tmp_path / "selfhost"
    keys_public = signing_key_pair.public_path
    result, audit = _audited(
        ["bundle", "extract", reference, "--to", str(target), "--key", str(keys_public)],
        # Wherever relkit puts the download, it is a .tar.gz under the temporary directory.
        watch=os.path.join(tempfile.gettempdir(), "*", "acme-1.2.0.tar.gz"),
        log=tmp_path / "audit.json",
    )
    assert result.returncode == 0, result.stderr
    assert len(audit["reads"]) == 1, audit  # type: ignore[arg-type]
    assert (target / "compose.yaml").read_bytes() == read_archive(archive).files["compose.yaml"]


# --------------------------------------------------------------------------- §3 versions


def test_a_renamed_archive_is_refused(
    signing_key_pair: SigningKeyPair, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    original = _signed(tmp_path / "dist", signing_key_pair)
    renamed = tmp_path / "download" / "acme-1.2.1.tar.gz"
    renamed.parent.mkdir()
    renamed.write_bytes(original.read_bytes())
    renamed.with_name("acme-1.2.1.tar.gz.sig").write_bytes(
        original.with_name(original.name + ".sig").read_bytes()
    )
    key = ["--key", str(signing_key_pair.public_path)]
    assert main(["verify", str(renamed), *key]) == 1
    err = capsys.readouterr().err
    assert err.startswith(
        "relkit: error: acme-1.2.1.tar.gz holds acme-1.2.0/: the file name and the archive's"
        " own version disagree"
    )
    assert err.splitlines()[1].startswith("relkit: hint: if 1.2.0 is the version you want")
    target = tmp_path / "never"
    assert main(["bundle", "extract", str(renamed), "--to", str(target), *key]) == 1
    assert not target.exists()
    # The original name verifies and says which version it verified.
    assert main(["verify", str(original), *key, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["version"] == "1.2.0"
    assert report["checks"][-1] == "version: acme 1.2.0 (file name, top directory agree)"


def test_a_registry_tag_naming_another_version_is_refused(
    registry: RegistryServer,
    signing_key_pair: SigningKeyPair,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-docker-config"))
    archive = _signed(tmp_path / "dist", signing_key_pair)
    key = ["--key", str(signing_key_pair.public_path)]
    rollback = _push(registry, "it/rollback/acme", archive, tag="1.2.1")
    assert main(["verify", rollback, *key]) == 1
    assert "the registry tag 1.2.1 holds acme-1.2.0" in capsys.readouterr().err
    latest = _push(registry, "it/rollback/acme", archive, tag="latest")
    assert main(["verify", latest, *key]) == 0
    assert "verified version: acme 1.2.0 (file name, top directory agree)" in (
        capsys.readouterr().out
    )
    exact = _push(registry, "it/rollback/acme", archive, tag="1.2.0")
    assert main(["verify", exact, *key]) == 0
    assert "registry tag 1.2.0 agree" in capsys.readouterr().out


def test_keyless_signature_from_another_tags_run_is_refused(
    sigstore_services: SigstoreServices,
    oidc_token: TokenFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    trust = sigstore_services.trust_config
    cli = ["--repo", "acme/shop", "--trust-config", str(trust)]
    for ref, directory in (("refs/tags/v1.2.1", "other-run"), ("refs/tags/v1.2.0", "own-run")):
        archive = tmp_path / directory / "acme-1.2.0.tar.gz"
        archive.parent.mkdir()
        archive.write_bytes(_archive_bytes("acme-1.2.0", GOOD_IMAGE))
        bundle = sign_blob_keyless(
            archive.read_bytes(),
            identity_token=oidc_token(repo="acme/shop", ref=ref),
            trust_config=trust,
        )
        archive.with_name(archive.name + ".sigstore.json").write_text(bundle)
    # Signed by the release run for v1.2.1, holding 1.2.0: not the release it claims to be.
    assert main(["verify", str(tmp_path / "other-run" / "acme-1.2.0.tar.gz"), *cli]) == 1
    err = capsys.readouterr().err
    assert "was signed by the release run for tag v1.2.1, but it holds 1.2.0" in err
    assert main(["verify", str(tmp_path / "own-run" / "acme-1.2.0.tar.gz"), *cli]) == 0
    out = capsys.readouterr().out
    assert (
        "verified version: acme 1.2.0 (file name, top directory,"
        " signing certificate's tag v1.2.0 agree)"
    ) in out


def test_tag_asks_for_a_release_whoever_signed_it(
    signing_key_pair: SigningKeyPair, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = _signed(tmp_path / "download", signing_key_pair)
    key = ["--key", str(signing_key_pair.public_path)]
    # An older release, correctly named and signed, is not the one asked for.
    assert main(["verify", str(archive), *key, "--tag", "v1.2.1"]) == 1
    assert "acme-1.2.0.tar.gz holds 1.2.0, not the release v1.2.1 asked for" in (
        capsys.readouterr().err
    )
    target = tmp_path / "never"
    extract = ["bundle", "extract", str(archive), "--to", str(target)]
    assert main([*extract, *key, "--tag", "1.2.1"]) == 1
    assert not target.exists()
    capsys.readouterr()
    assert main(["verify", str(archive), *key, "--tag", "v1.2.0"]) == 0
    assert "verified version: acme 1.2.0 (file name, top directory, --tag v1.2.0 agree)" in (
        capsys.readouterr().out
    )


# --------------------------------------------------------------------------- not a file


def _run_cli(args: list[str]) -> subprocess.CompletedProcess[str]:
    # In a child with a timeout: opening a FIFO for reading blocks until a writer comes.
    return subprocess.run(
        [sys.executable, "-m", "relkit", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_fifo_in_place_of_the_archive_or_signature_is_refused_not_waited_on(
    signing_key_pair: SigningKeyPair, tmp_path: Path
) -> None:
    key = ["--key", str(signing_key_pair.public_path)]
    fifo = tmp_path / "fifo" / "acme-1.2.0.tar.gz"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    result = _run_cli(["verify", str(fifo), *key])
    assert result.returncode == 2
    assert result.stderr.startswith(f"relkit: error: bundle archive {fifo} is not a regular file")

    archive = _signed(tmp_path / "download", signing_key_pair)
    sig = archive.with_name(archive.name + ".sig")
    sig.unlink()
    os.mkfifo(sig)
    result = _run_cli(["verify", str(archive), *key])
    assert result.returncode == 2
    assert result.stderr.startswith(f"relkit: error: signature file {sig} is not a regular file")
    result = _run_cli(["verify", "/dev/zero", "--unsigned"])
    assert result.returncode == 2
    assert "is not a regular file" in result.stderr
