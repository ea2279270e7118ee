"""The self-host bundle end to end against a real registry: push test images, pin, build,
sign, push, pull back, verify; bad inputs publish nothing and leave dist/ untouched."""

from __future__ import annotations

import base64
import gzip
import io
import json
import shutil
import subprocess
import tarfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from relkit.adapters.registry import DockerConfig, RegistryClient, resolve_many
from relkit.bundle.build import Resolver, build_bundle
from relkit.bundle.extract import read_archive
from relkit.bundle.publish import (
    ARTIFACT_TYPE,
    KEY_SIGNATURE_MEDIA_TYPE,
    LAYER_MEDIA_TYPE,
    SIGSTORE_BUNDLE_MEDIA_TYPE,
    describe_bundle,
    publish_bundle,
)
from relkit.bundle.verify import SignaturePolicy, verify_bundle, verify_oci_bundle
from relkit.cli import main
from relkit.core.config import BundleConfig, SigningConfig
from relkit.core.errors import RelkitError
from relkit.core.model import ReleasePlan, StepOutcome, Version
from tests.fixtures.registry import RegistryServer, push_test_image, push_test_index
from tests.fixtures.sigstore import SigningKeyPair, SigstoreServices, TokenFactory

EXAMPLE = Path(__file__).resolve().parents[2] / "bundles" / "example"
COMMITTED = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
REPO = "acme/shop"


def _plan(version: str = "1.2.0") -> ReleasePlan:
    return ReleasePlan(
        version=Version.parse(version),
        tag=f"v{version}",
        commit="0123456789abcdef0123456789abcdef01234567",
        committed_at=COMMITTED,
        previous_tag=None,
        notes="",
        repository=REPO,
    )


def _project(tmp_path: Path, registry_host: str) -> Path:
    """A repository holding the example bundle, with REGISTRY pointing at `registry_host`."""
    root = tmp_path / "project"
    shutil.copytree(EXAMPLE, root / "bundles" / "example")
    env = root / "bundles" / "example" / ".env.example"
    env.write_text(env.read_text().replace("REGISTRY=localhost:5000", f"REGISTRY={registry_host}"))
    return root


def _config(server: RegistryServer, path: str = "bundles", **kw: object) -> BundleConfig:
    return BundleConfig.model_validate(
        {
            "name": "acme",
            "path": "bundles/example",
            "registry": server.oci(path),
            "images": [f"{server.host}/acme/web:{{version}}"],
            **kw,
        }
    )


def _push_images(server: RegistryServer, *, release: str = "1.2.0") -> dict[str, str]:
    auth = server.auth
    return {
        "web": push_test_image(server.host, "acme/web", release, auth=auth),
        "worker": push_test_index(server.host, "acme/worker", "1.0.0", auth=auth),
    }


def client_resolver(client: RegistryClient) -> Resolver:
    return lambda refs: resolve_many(refs, client=client)


def _key_signing(keys: SigningKeyPair) -> SigningConfig:
    return SigningConfig(mode="key", key_file=str(keys.private_path))


def _compose_in(archive: Path) -> str:
    return read_archive(archive).files["compose.yaml"].decode()


def test_publish_pins_signs_pushes_and_verifies(
    registry: RegistryServer, signing_key_pair: SigningKeyPair, tmp_path: Path
) -> None:
    digests = _push_images(registry)
    root = _project(tmp_path, registry.host)
    dist = tmp_path / "dist"
    bundle = _config(registry, "it/publish")
    with registry.client() as client:
        record = publish_bundle(
            bundle,
            _plan(),
            repo_root=root,
            dist_dir=dist,
            signing=_key_signing(signing_key_pair),
            env={},
            client=client,
        )
    assert record.outcome is StepOutcome.DONE
    assert sorted(p.name for p in dist.iterdir()) == [
        "acme-1.2.0.SHA256SUMS",
        "acme-1.2.0.digests.txt",
        "acme-1.2.0.tar.gz",
        "acme-1.2.0.tar.gz.sig",
    ]
    archive = dist / "acme-1.2.0.tar.gz"
    web = f"{registry.host}/acme/web:1.2.0@{digests['web']}"
    worker = f"{registry.host}/acme/worker:1.0.0@{digests['worker']}"
    compose = _compose_in(archive)
    # The release image got the release tag; the index kept its index digest; comments stay.
    assert f"    image: {web}\n" in compose
    assert f'    image: "{worker}" # background jobs\n' in compose
    assert "# The HTTP front end; published on WEB_PORT (default 8080).\n" in compose
    assert (dist / "acme-1.2.0.digests.txt").read_text() == f"{web}\n{worker}\n"
    bundle_artifact = next(a for a in record.artifacts if a.kind == "bundle")
    assert bundle_artifact.reference is not None
    assert bundle_artifact.reference.startswith(f"oci://{registry.host}/it/publish/acme:1.2.0@")

    # Verified by relkit with the public key ...
    report = verify_bundle(archive, SignaturePolicy(key=signing_key_pair.public_path))
    assert report.pins == (web, worker)
    assert [line.split(":", 1)[0] for line in report.checks] == [
        "signature",
        "archive",
        "SHA256SUMS",
        "images",
        "version",
    ]
    assert report.checks[-1] == "version: acme 1.2.0 (file name, top directory agree)"
    # ... and independently by openssl (base64-decoded DER signature).
    der = tmp_path / "sig.der"
    der.write_bytes(base64.b64decode((dist / "acme-1.2.0.tar.gz.sig").read_bytes()))
    openssl = subprocess.run(
        [
            "openssl",
            "dgst",
            "-sha256",
            "-verify",
            str(signing_key_pair.public_path),
            "-signature",
            str(der),
            str(archive),
        ],
        capture_output=True,
        text=True,
    )
    assert openssl.returncode == 0, openssl.stderr
    assert "Verified OK" in openssl.stdout

    # The registry holds an artifact with relkit's media types and annotations.
    with registry.client() as client:
        manifest = client.get_manifest(f"{registry.host}/it/publish/acme:1.2.0").json
    assert manifest["artifactType"] == ARTIFACT_TYPE
    assert [layer["mediaType"] for layer in manifest["layers"]] == [
        LAYER_MEDIA_TYPE,
        KEY_SIGNATURE_MEDIA_TYPE,
    ]
    assert manifest["annotations"]["org.opencontainers.image.version"] == "1.2.0"
    assert manifest["annotations"]["org.opencontainers.image.revision"] == _plan().commit
    assert manifest["annotations"]["dev.relkit.bundle.digests"] == f"{web} {worker}"

    # Pulled back from the registry and verified like a download.
    with registry.client() as client:
        pulled = verify_oci_bundle(
            registry.oci("it/publish/acme:1.2.0"),
            SignaturePolicy(key=signing_key_pair.public_path),
            client=client,
        )
    assert pulled.checks[0].startswith(f"pulled: oci://{registry.host}/it/publish/acme:1.2.0")
    assert pulled.pins == (web, worker)


def test_republish_is_a_no_op_and_changed_content_fails(
    registry: RegistryServer, signing_key_pair: SigningKeyPair, tmp_path: Path
) -> None:
    _push_images(registry)
    root = _project(tmp_path, registry.host)
    dist = tmp_path / "dist"
    bundle = _config(registry, "it/idempotent")
    kwargs = {"repo_root": root, "dist_dir": dist, "env": {}}
    signing = _key_signing(signing_key_pair)
    with registry.client() as client:
        first = publish_bundle(bundle, _plan(), signing=signing, client=client, **kwargs)
        manifest_before = client.resolve_digest(f"{registry.host}/it/idempotent/acme:1.2.0")
        signature_before = (dist / "acme-1.2.0.tar.gz.sig").read_bytes()
        (dist / "acme-1.2.0.tar.gz.sig").unlink()  # a fresh CI runner has an empty dist/

        again = publish_bundle(bundle, _plan(), signing=signing, client=client, **kwargs)
        assert first.outcome is StepOutcome.DONE
        assert again.outcome is StepOutcome.ALREADY_DONE
        assert client.resolve_digest(f"{registry.host}/it/idempotent/acme:1.2.0") == (
            manifest_before
        )
        # The signature in dist/ is the published one, fetched back, not a new one.
        assert (dist / "acme-1.2.0.tar.gz.sig").read_bytes() == signature_before

        archive_before = (dist / "acme-1.2.0.tar.gz").read_bytes()
        app = root / "bundles" / "example" / "config" / "app.toml"
        app.write_text(app.read_text() + "# changed after release\n")
        with pytest.raises(RelkitError, match="already published .* with different content"):
            publish_bundle(bundle, _plan(), signing=signing, client=client, **kwargs)
        assert client.resolve_digest(f"{registry.host}/it/idempotent/acme:1.2.0") == (
            manifest_before
        )
    assert (dist / "acme-1.2.0.tar.gz").read_bytes() == archive_before
    assert not [p for p in dist.iterdir() if p.name.startswith(".")]


def test_two_builds_are_byte_identical(registry: RegistryServer, tmp_path: Path) -> None:
    _push_images(registry)
    root = _project(tmp_path, registry.host)
    with registry.client() as client:
        resolver = client_resolver(client)
        one = build_bundle(
            _config(registry), _plan(), repo_root=root, dist_dir=tmp_path / "a", resolver=resolver
        )
        two = build_bundle(
            _config(registry), _plan(), repo_root=root, dist_dir=tmp_path / "b", resolver=resolver
        )
    assert one.archive.read_bytes() == two.archive.read_bytes()
    assert one.digest == two.digest
    with tarfile.open(one.archive) as tar:
        assert {m.mtime for m in tar.getmembers()} == {int(COMMITTED.timestamp())}


def test_auth_registry_with_docker_config(
    auth_registry: RegistryServer,
    docker_config: Path,
    signing_key_pair: SigningKeyPair,
    tmp_path: Path,
) -> None:
    digests = _push_images(auth_registry)
    root = _project(tmp_path, auth_registry.host)
    # No client passed: relkit reads credentials from $DOCKER_CONFIG/config.json.
    record = publish_bundle(
        _config(auth_registry, "it/auth"),
        _plan(),
        repo_root=root,
        dist_dir=tmp_path / "dist",
        signing=_key_signing(signing_key_pair),
        env={},
    )
    assert record.outcome is StepOutcome.DONE
    assert digests["web"] in _compose_in(tmp_path / "dist" / "acme-1.2.0.tar.gz")
    pulled = verify_oci_bundle(
        auth_registry.oci("it/auth/acme:1.2.0"), SignaturePolicy(key=signing_key_pair.public_path)
    )
    assert len(pulled.pins) == 2


def test_keyless_publish_and_verify(
    registry: RegistryServer,
    sigstore_services: SigstoreServices,
    oidc_token: TokenFactory,
    tmp_path: Path,
) -> None:
    _push_images(registry)
    root = _project(tmp_path, registry.host)
    dist = tmp_path / "dist"
    with registry.client() as client:
        record = publish_bundle(
            _config(registry, "it/keyless"),
            _plan(),
            repo_root=root,
            dist_dir=dist,
            signing=SigningConfig(mode="keyless"),
            env={"RELKIT_SIGSTORE_TRUST_CONFIG": str(sigstore_services.trust_config)},
            identity_token=oidc_token(repo=REPO, ref="refs/tags/v1.2.0"),
            client=client,
        )
        manifest = client.get_manifest(f"{registry.host}/it/keyless/acme:1.2.0").json
    assert [a.kind for a in record.artifacts][-1] == "sigstore-bundle"
    assert manifest["layers"][1]["mediaType"] == SIGSTORE_BUNDLE_MEDIA_TYPE
    archive = dist / "acme-1.2.0.tar.gz"
    trust = sigstore_services.trust_config
    exact = SignaturePolicy.for_repo(REPO, tag="v1.2.0", trust_config=trust)
    report = verify_bundle(archive, exact)
    assert ".github/workflows/release.yml@refs/tags/v1.2.0" in report.checks[0]
    assert verify_bundle(archive, SignaturePolicy.for_repo(REPO, trust_config=trust)).pins
    with pytest.raises(RelkitError, match="verification failed"):
        verify_bundle(archive, SignaturePolicy.for_repo("evil/shop", trust_config=trust))
    with pytest.raises(RelkitError, match="verification failed"):
        verify_bundle(archive, SignaturePolicy.for_repo(REPO, tag="v9.9.9", trust_config=trust))
    # The same through the CLI: --repo is the signer, -C/--repo the working directory.
    cli = ["-C", str(root), "verify", str(archive), "--trust-config", str(trust)]
    assert main([*cli, "--repo", REPO, "--tag", "v1.2.0"]) == 0
    assert main([*cli, "--repo", "evil/shop"]) == 1
    with pytest.raises(SystemExit) as usage:  # argparse: one signer kind only
        main([*cli, "--repo", REPO, "--key", "x.pem"])
    assert usage.value.code == 2


# --------------------------------------------------------------------------- bad inputs


def _assert_nothing_published(dist: Path, server: RegistryServer, path: str) -> None:
    assert not dist.exists() or not list(dist.iterdir())
    with server.client() as client:
        assert client.list_tags(f"{server.host}/{path}/acme") == []


@pytest.mark.parametrize(
    "case", ["missing compose", "unknown image", "malformed yaml", "unknown release image"]
)
def test_bad_inputs_publish_nothing(
    registry: RegistryServer, signing_key_pair: SigningKeyPair, tmp_path: Path, case: str
) -> None:
    _push_images(registry)
    root = _project(tmp_path, registry.host)
    source = root / "bundles" / "example"
    bundle = _config(registry, f"it/bad-{case.replace(' ', '-')}")
    expected = {
        "missing compose": "has no compose file",
        "unknown image": r"acme/nope:1\.0\.0 not found in registry",
        "malformed yaml": r"compose\.yaml: not valid YAML at line",
        "unknown release image": "release image .* is not used by any service",
    }[case]
    if case == "missing compose":
        (source / "compose.yaml").unlink()
    elif case == "unknown image":
        text = (source / "compose.yaml").read_text().replace("acme/worker", "acme/nope")
        (source / "compose.yaml").write_text(text)
    elif case == "malformed yaml":
        (source / "compose.yaml").write_text("services:\n  web: [\n")
    else:
        bundle = _config(registry, "it/bad-release", images=[f"{registry.host}/acme/api:1"])
    dist = tmp_path / "dist"
    with registry.client() as client, pytest.raises(RelkitError, match=expected) as info:
        publish_bundle(
            bundle,
            _plan(),
            repo_root=root,
            dist_dir=dist,
            signing=_key_signing(signing_key_pair),
            env={},
            client=client,
        )
    assert "\n" not in str(info.value)
    assert bundle.registry is not None
    _assert_nothing_published(dist, registry, bundle.registry.split("/", 3)[3])


def test_registry_down_publishes_nothing(
    unreachable_registry: str, signing_key_pair: SigningKeyPair, tmp_path: Path
) -> None:
    root = _project(tmp_path, unreachable_registry)
    dist = tmp_path / "dist"
    bundle = BundleConfig(
        name="acme", path="bundles/example", registry=f"oci://{unreachable_registry}/bundles"
    )
    with pytest.raises(RelkitError, match=f"registry {unreachable_registry} is not reachable"):
        publish_bundle(
            bundle,
            _plan(),
            repo_root=root,
            dist_dir=dist,
            signing=_key_signing(signing_key_pair),
            env={},
            client=RegistryClient(DockerConfig({})),
        )
    assert not list(dist.iterdir())


def test_wrong_credentials_publish_nothing(
    auth_registry: RegistryServer, signing_key_pair: SigningKeyPair, tmp_path: Path
) -> None:
    _push_images(auth_registry)
    root = _project(tmp_path, auth_registry.host)
    dist = tmp_path / "dist"
    client = RegistryClient(DockerConfig({}), credentials={auth_registry.host: ("relkit", "wrong")})
    with client, pytest.raises(RelkitError, match="rejected the credentials") as info:
        publish_bundle(
            _config(auth_registry, "it/wrong-creds"),
            _plan(),
            repo_root=root,
            dist_dir=dist,
            signing=_key_signing(signing_key_pair),
            env={},
            client=client,
        )
    assert "wrong" not in str(info.value)  # the password never appears
    assert not list(dist.iterdir())
    _assert_nothing_published(dist, auth_registry, "it/wrong-creds")


def test_already_pinned_image_is_verified_not_changed(
    registry: RegistryServer, tmp_path: Path
) -> None:
    digests = _push_images(registry)
    root = _project(tmp_path, registry.host)
    compose = root / "bundles" / "example" / "compose.yaml"
    pinned = f"{registry.host}/acme/worker:1.0.0@{digests['worker']}"
    original = compose.read_text().replace(
        "${REGISTRY:-localhost:5000}/acme/worker:${VERSION:-1.0.0}", pinned
    )
    compose.write_text(original)
    with registry.client() as client:
        built = build_bundle(
            _config(registry),
            _plan(),
            repo_root=root,
            dist_dir=tmp_path / "d",
            resolver=client_resolver(client),
        )
        assert f'image: "{pinned}" # background jobs' in _compose_in(built.archive)
        wrong = "sha256:" + "0" * 64
        compose.write_text(original.replace(digests["worker"], wrong))
        with pytest.raises(RelkitError, match=f"pinned to {wrong} but the registry has"):
            build_bundle(
                _config(registry),
                _plan(),
                repo_root=root,
                dist_dir=tmp_path / "e",
                resolver=client_resolver(client),
            )
    assert not (tmp_path / "e").exists() or not list((tmp_path / "e").iterdir())


# --------------------------------------------------------------------------- verify failures


@pytest.fixture
def published(registry: RegistryServer, signing_key_pair: SigningKeyPair, tmp_path: Path) -> Path:
    _push_images(registry)
    root = _project(tmp_path, registry.host)
    with registry.client() as client:
        publish_bundle(
            # One registry path per test: each test signs with its own fresh key, and the
            # same content under one path would (rightly) keep the first signature.
            _config(registry, f"it/verify/{tmp_path.name.lower()}"),
            _plan(),
            repo_root=root,
            dist_dir=tmp_path / "dist",
            signing=_key_signing(signing_key_pair),
            env={},
            client=client,
        )
    return tmp_path / "dist" / "acme-1.2.0.tar.gz"


def _repack(archive: Path, edit: dict[str, bytes], target: Path) -> Path:
    """Rebuild `archive` with some files replaced (SHA256SUMS not updated unless edited)."""
    raw = io.BytesIO()
    with tarfile.open(archive) as source, tarfile.open(fileobj=raw, mode="w") as tar:
        for member in source.getmembers():
            relative = member.name.split("/", 1)[1] if "/" in member.name else ""
            if member.isfile() and relative in edit:
                data = edit[relative]
                member.size = len(data)
                tar.addfile(member, io.BytesIO(data))
            else:
                tar.addfile(member, source.extractfile(member) if member.isfile() else None)
    target.write_bytes(gzip.compress(raw.getvalue()))
    return target


def test_verify_rejects_tampering(
    published: Path, signing_key_pair: SigningKeyPair, tmp_path: Path
) -> None:
    key = SignaturePolicy(key=signing_key_pair.public_path)
    # A flipped byte: the signature no longer matches.
    tampered = tmp_path / "tampered" / published.name
    tampered.parent.mkdir()
    data = bytearray(published.read_bytes())
    data[len(data) // 2] ^= 0xFF
    tampered.write_bytes(bytes(data))
    shutil.copy(published.with_name(published.name + ".sig"), tampered.parent)
    with pytest.raises(RelkitError, match="signature"):
        verify_bundle(tampered, key)
    # Another key.
    other = tmp_path / "other.pub"
    from relkit.signing.keys import generate_key_pair

    other.write_bytes(generate_key_pair()[1])
    with pytest.raises(RelkitError):
        verify_bundle(published, SignaturePolicy(key=other))
    # No signature file at all.
    lonely = tmp_path / "lonely" / published.name
    lonely.parent.mkdir()
    shutil.copy(published, lonely)
    with pytest.raises(RelkitError, match=r"signature file acme-1\.2\.0\.tar\.gz\.sig not found"):
        verify_bundle(lonely, key)

    files = read_archive(published).files
    # A changed file under an unchanged SHA256SUMS.
    edited = _repack(published, {"config/app.toml": b"evil = true\n"}, tmp_path / "e1.tar.gz")
    with pytest.raises(RelkitError, match="SHA256SUMS mismatch for config/app.toml"):
        verify_bundle(edited, SignaturePolicy(unsigned=True))
    # An unpinned image, with SHA256SUMS recomputed to match (only the signature would catch
    # it; --unsigned shows the pin check catches it too).
    from relkit.bundle.sums import render_sha256sums

    compose = files["compose.yaml"].decode()
    unpinned = compose.split("@sha256:", 1)[0] + compose.split("@sha256:", 1)[1][64:]
    new_files = {**files, "compose.yaml": unpinned.encode()}
    sums = render_sha256sums(new_files).encode()
    edited = _repack(
        published, {"compose.yaml": unpinned.encode(), "SHA256SUMS": sums}, tmp_path / "e2.tar.gz"
    )
    with pytest.raises(RelkitError, match="service 'web' image .* is not pinned by digest"):
        verify_bundle(edited, SignaturePolicy(unsigned=True))
    # A digests.txt that lists something else.
    other_pin = f"example.com/x:1@sha256:{'c' * 64}\n".encode()
    new_files = {**files, "digests.txt": files["digests.txt"] + other_pin}
    edited = _repack(
        published,
        {
            "digests.txt": new_files["digests.txt"],
            "SHA256SUMS": render_sha256sums(new_files).encode(),
        },
        tmp_path / "e3.tar.gz",
    )
    with pytest.raises(RelkitError, match="digests.txt lists example.com/x:1@sha256"):
        verify_bundle(edited, SignaturePolicy(unsigned=True))


def test_verify_and_extract_cli(
    published: Path,
    signing_key_pair: SigningKeyPair,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    key = str(signing_key_pair.public_path)
    assert main(["verify", str(published), "--key", key]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("verified signature: acme-1.2.0.tar.gz.sig is a valid ECDSA P-256")
    assert out[-1] == f"OK: {published} is verified"

    assert main(["verify", str(published), "--key", key, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["verified"] is True

    # No policy at all: a usage error (exit 2), not a silent pass.
    assert main(["verify", str(published)]) == 2
    assert "say who must have signed" in capsys.readouterr().err

    broken = tmp_path / "broken" / published.name
    broken.parent.mkdir()
    broken.write_bytes(published.read_bytes()[:-10] + b"0123456789")
    shutil.copy(published.with_name(published.name + ".sig"), broken.parent)
    assert main(["verify", str(broken), "--key", key]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("relkit: error: ")
    assert "Traceback" not in "".join(err)

    target = tmp_path / "selfhost"
    assert main(["bundle", "extract", str(published), "--to", str(target), "--key", key]) == 0
    assert (target / "compose.yaml").is_file()
    assert sorted(p.name for p in target.iterdir()) == [
        ".env.example",
        "README.md",
        "SHA256SUMS",
        "compose.yaml",
        "config",
        "digests.txt",
    ]
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=target, capture_output=True)
    assert check.returncode == 0
    capsys.readouterr()
    assert main(["bundle", "extract", str(published), "--to", str(target), "--key", key]) == 2
    assert "is not empty" in capsys.readouterr().err
    # A bundle that fails verification is not unpacked.
    empty = tmp_path / "never"
    assert main(["bundle", "extract", str(broken), "--to", str(empty), "--key", key]) == 1
    assert not empty.exists() or not list(empty.iterdir())


def test_bundle_build_cli_and_dry_run_description(
    registry: RegistryServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    digests = _push_images(registry)
    root = _project(tmp_path, registry.host)
    (root / "relkit.toml").write_text(
        "[[bundles]]\n"
        'name = "acme"\n'
        'path = "bundles/example"\n'
        f'images = ["{registry.host}/acme/web:{{version}}"]\n'
        "[signing]\n"
        'mode = "none"\n'
    )
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    env = {"GIT_COMMITTER_DATE": "2026-03-01T12:00:00+00:00", "PATH": "/usr/bin:/bin"}
    subprocess.run([*git, "commit", "-qm", "feat: bundle"], check=True, env=env)
    code = main(["-C", str(root), "bundle", "build", "acme", "--version", "1.2.0"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"pinned {registry.host}/acme/web:1.2.0@{digests['web']}" in out
    archive = root / "dist" / "acme-1.2.0.tar.gz"
    with tarfile.open(archive) as tar:
        assert {m.mtime for m in tar.getmembers()} == {int(COMMITTED.timestamp())}
    assert main(["-C", str(root), "bundle", "build", "nope", "--version", "1.2.0"]) == 2
    assert "unknown bundle 'nope' (known: acme)" in capsys.readouterr().err

    actions = describe_bundle(
        _config(registry),
        _plan(),
        repo_root=root,
        dist_dir=root / "dist",
        signing=SigningConfig(mode="keyless"),
    )
    assert actions[0] == "pin every image in bundles/example/compose.yaml by digest"
    assert any("Sigstore keyless" in a for a in actions)
    assert actions[-1].startswith(f"push it as {ARTIFACT_TYPE} to oci://{registry.host}/bundles/")


def test_pipeline_step_publishes_every_bundle_once(
    registry: RegistryServer,
    signing_key_pair: SigningKeyPair,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from relkit.core.config import parse_config
    from relkit.release.pipeline import PublishOptions, StepContext
    from relkit.release.steps import bundle as bundle_step

    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-docker-config"))
    _push_images(registry)
    root = _project(tmp_path, registry.host)
    config = parse_config(
        {
            "bundles": [_config(registry, "it/step").model_dump()],
            "signing": {"mode": "key"},
        },
        "relkit.toml",
    )
    # The step builds from the release commit's tree (issue 15): commit the project.
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "feat: bundle"], check=True)
    sha = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True)
    context = StepContext(
        plan=replace(_plan(), commit=sha.stdout.strip()),
        config=config,
        root=root,
        dist_dir=tmp_path / "dist",
        work_dir=tmp_path / "work",
        options=PublishOptions(),
        # The key comes from the environment, as in CI; it must not show up in the record.
        env={"RELKIT_SIGNING_KEY": signing_key_pair.private_pem.decode()},
    )
    planned = bundle_step.describe(context)
    assert planned[0] == "acme: pin every image in bundles/example/compose.yaml by digest"
    first = bundle_step.run(context)
    second = bundle_step.run(context)
    assert (first.outcome, second.outcome) == (StepOutcome.DONE, StepOutcome.ALREADY_DONE)
    assert {a.kind for a in first.artifacts} == {"bundle", "sums", "digests", "signature"}
    assert "PRIVATE KEY" not in repr(first) + repr(second)
    empty = replace(context, config=parse_config({}, "relkit.toml"))
    assert bundle_step.run(empty).outcome is StepOutcome.SKIPPED


def test_verify_and_extract_from_the_registry_cli(
    registry: RegistryServer,
    published: Path,
    signing_key_pair: SigningKeyPair,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-docker-config"))
    reference = registry.oci(f"it/verify/{tmp_path.name.lower()}/acme:1.2.0")
    key = str(signing_key_pair.public_path)
    assert main(["verify", reference, "--key", key]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"verified pulled: {reference} (manifest sha256:")
    target = tmp_path / "from-registry"
    assert main(["bundle", "extract", reference, "--to", str(target), "--key", key]) == 0
    assert (target / "compose.yaml").read_bytes() == read_archive(published).files["compose.yaml"]
    assert main(["verify", registry.oci("it/verify/absent/acme:9.9.9"), "--key", key]) == 1
    assert "not found in registry" in capsys.readouterr().err


def test_malformed_compose_inside_a_bundle_fails_verification_not_usage(
    published: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from relkit.bundle.sums import render_sha256sums

    files = {**read_archive(published).files, "compose.yaml": b"services: [\n"}
    edited = _repack(
        published,
        {"compose.yaml": files["compose.yaml"], "SHA256SUMS": render_sha256sums(files).encode()},
        tmp_path / "bad-compose.tar.gz",
    )
    assert main(["verify", str(edited), "--unsigned"]) == 1
    assert "bundle: compose.yaml: not valid YAML at line" in capsys.readouterr().err


def test_the_bundle_readme_names_the_real_compose_file_and_the_release(
    registry: RegistryServer, tmp_path: Path
) -> None:
    _push_images(registry)
    root = _project(tmp_path, registry.host)
    source = root / "bundles" / "example"
    (source / "compose.yaml").rename(source / "docker-compose.yml")
    with registry.client() as client:
        built = build_bundle(
            _config(registry),
            _plan(),
            repo_root=root,
            dist_dir=tmp_path / "dist",
            resolver=client_resolver(client),
        )
    files = read_archive(built.archive).files
    assert "docker-compose.yml" in files and "compose.yaml" not in files
    readme = files["README.md"].decode()
    assert "Every image in `docker-compose.yml` is pinned by digest" in readme
    assert "compose.yaml" not in readme
    assert "README section" not in readme
    assert f"[v1.2.0](https://github.com/{REPO}/releases/tag/v1.2.0)" in readme
