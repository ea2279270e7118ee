"""Nothing reused unchecked (issue 9 item 6): on a re-run, a signature found in the registry
or left in dist/ is verified over the bundle before it is kept, published or uploaded.

A planted signature (another file's, with the right key or identity) in the registry stops
the step with nothing uploaded, and `--force` re-signs; one in dist/ is replaced by a fresh
signature. Real registry, real keys, real local Sigstore.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from relkit.adapters import oci_artifact
from relkit.adapters.registry import RegistryClient
from relkit.bundle.publish import (
    ARTIFACT_TYPE,
    KEY_SIGNATURE_MEDIA_TYPE,
    LAYER_MEDIA_TYPE,
    SIGSTORE_BUNDLE_MEDIA_TYPE,
    publish_bundle,
)
from relkit.bundle.verify import SignaturePolicy, verify_bundle
from relkit.core.config import BundleConfig, SigningConfig
from relkit.core.errors import RelkitError
from relkit.core.model import StepOutcome
from relkit.signing.facade import sign_blob_keyless, sign_blob_with_key, verify_blob_with_key
from tests.fixtures.registry import RegistryServer
from tests.fixtures.sigstore import SigningKeyPair, SigstoreServices, TokenFactory
from tests.integration.test_bundle import REPO, _config, _plan, _project, _push_images

ARCHIVE = "acme-1.2.0.tar.gz"
OTHER_CONTENT = b"some other file entirely\n"


def _plant(
    client: RegistryClient, reference: str, archive: Path, signature: bytes, media_type: str
) -> str:
    """Push the genuine archive with `signature` beside it, as an attacker with push rights
    (or a broken earlier run) could; return the manifest digest."""
    planted = archive.parent / "planted"
    planted.mkdir(exist_ok=True)
    suffix = ".sig" if media_type == KEY_SIGNATURE_MEDIA_TYPE else ".sigstore.json"
    sig_file = planted / (archive.name + suffix)
    sig_file.write_bytes(signature)
    pushed = oci_artifact.push_artifact(
        reference,
        [
            oci_artifact.ArtifactFile(archive, LAYER_MEDIA_TYPE),
            oci_artifact.ArtifactFile(sig_file, media_type),
        ],
        artifact_type=ARTIFACT_TYPE,
        client=client,
    )
    return pushed.digest


def test_key_signature_planted_in_the_registry_is_refused_then_forced(
    registry: RegistryServer, signing_key_pair: SigningKeyPair, tmp_path: Path
) -> None:
    _push_images(registry)
    root = _project(tmp_path, registry.host)
    dist = tmp_path / "dist"
    bundle = _config(registry, "it/reuse-key")
    signing = SigningConfig(mode="key", key_file=str(signing_key_pair.private_path))
    kwargs = {"repo_root": root, "dist_dir": dist, "env": {}, "signing": signing}
    reference = f"{registry.host}/it/reuse-key/acme:1.2.0"
    with registry.client() as client:
        publish_bundle(bundle, _plan(), client=client, **kwargs)
        archive = dist / ARCHIVE
        genuine = archive.read_bytes()
        # The right key, the wrong file: a valid signature, of something else.
        bad = sign_blob_with_key(OTHER_CONTENT, signing_key_pair.private_pem, None)
        planted = _plant(client, reference, archive, bad, KEY_SIGNATURE_MEDIA_TYPE)
        (dist / (ARCHIVE + ".sig")).unlink()  # a fresh runner: dist/ has the archive only

        with pytest.raises(RelkitError, match="its signature is not this release's") as info:
            publish_bundle(bundle, _plan(), client=client, **kwargs)
        assert info.value.hint is not None and "nothing was uploaded" in info.value.hint
        assert client.resolve_digest(reference) == planted  # not replaced
        assert not (dist / (ARCHIVE + ".sig")).exists()  # not brought into dist/ either
        assert archive.read_bytes() == genuine

        forced = publish_bundle(bundle, _plan(), client=client, force=True, **kwargs)
        assert forced.outcome is StepOutcome.DONE
        assert client.resolve_digest(reference) != planted
    signature = dist / (ARCHIVE + ".sig")
    verify_blob_with_key(archive, signature.read_bytes(), signing_key_pair.public_pem)
    verify_bundle(archive, SignaturePolicy(key=signing_key_pair.public_path))


def test_published_bundle_without_its_signature_is_refused(
    registry: RegistryServer, signing_key_pair: SigningKeyPair, tmp_path: Path
) -> None:
    _push_images(registry)
    root = _project(tmp_path, registry.host)
    dist = tmp_path / "dist"
    bundle = _config(registry, "it/reuse-nosig")
    signing = SigningConfig(mode="key", key_file=str(signing_key_pair.private_path))
    kwargs = {"repo_root": root, "dist_dir": dist, "env": {}, "signing": signing}
    reference = f"{registry.host}/it/reuse-nosig/acme:1.2.0"
    with registry.client() as client:
        publish_bundle(bundle, _plan(), client=client, **kwargs)
        # The same archive re-pushed without its signature layer.
        stripped = oci_artifact.push_artifact(
            reference,
            [oci_artifact.ArtifactFile(dist / ARCHIVE, LAYER_MEDIA_TYPE)],
            artifact_type=ARTIFACT_TYPE,
            client=client,
        ).digest
        with pytest.raises(RelkitError, match="there is no signature"):
            publish_bundle(bundle, _plan(), client=client, **kwargs)
        assert client.resolve_digest(reference) == stripped


def test_key_signature_left_in_dist_is_re_signed(
    signing_key_pair: SigningKeyPair, registry: RegistryServer, tmp_path: Path
) -> None:
    _push_images(registry)
    root = _project(tmp_path, registry.host)
    dist = tmp_path / "dist"
    local_only = BundleConfig.model_validate({**_config(registry).model_dump(), "registry": None})
    signing = SigningConfig(mode="key", key_file=str(signing_key_pair.private_path))
    kwargs = {"repo_root": root, "dist_dir": dist, "env": {}, "signing": signing}
    with registry.client() as client:
        publish_bundle(local_only, _plan(), client=client, **kwargs)
        signature = dist / (ARCHIVE + ".sig")
        signature.write_bytes(sign_blob_with_key(OTHER_CONTENT, signing_key_pair.private_pem, None))

        again = publish_bundle(local_only, _plan(), client=client, **kwargs)
        # Signed again rather than kept: dist/ is this job's own output, nothing public
        # depends on its old signature, and the new one is what the release step uploads.
        assert again.outcome is StepOutcome.DONE
        assert [a.path for a in again.artifacts if a.kind == "signature"] == [str(signature)]
        verify_blob_with_key(dist / ARCHIVE, signature.read_bytes(), signing_key_pair.public_pem)

        # A good signature in dist/ is still reused as is.
        kept = signature.read_bytes()
        third = publish_bundle(local_only, _plan(), client=client, **kwargs)
        assert third.outcome is StepOutcome.ALREADY_DONE
        assert signature.read_bytes() == kept


def test_keyless_signature_planted_in_registry_and_dist(
    registry: RegistryServer,
    sigstore_services: SigstoreServices,
    oidc_token: TokenFactory,
    tmp_path: Path,
) -> None:
    _push_images(registry)
    root = _project(tmp_path, registry.host)
    dist = tmp_path / "dist"
    bundle = _config(registry, "it/reuse-keyless")
    trust = sigstore_services.trust_config
    token = oidc_token(repo=REPO, ref="refs/tags/v1.2.0")
    kwargs = {
        "repo_root": root,
        "dist_dir": dist,
        "env": {"RELKIT_SIGSTORE_TRUST_CONFIG": str(trust)},
        "signing": SigningConfig(mode="keyless"),
        "identity_token": token,
    }
    reference = f"{registry.host}/it/reuse-keyless/acme:1.2.0"
    with registry.client() as client:
        publish_bundle(bundle, _plan(), client=client, **kwargs)
        archive = dist / ARCHIVE
        # The same identity, signing another file.
        other = sign_blob_keyless(OTHER_CONTENT, identity_token=token, trust_config=trust)
        planted = _plant(client, reference, archive, other.encode(), SIGSTORE_BUNDLE_MEDIA_TYPE)
        with pytest.raises(RelkitError, match="its signature is not this release's"):
            publish_bundle(bundle, _plan(), client=client, **kwargs)
        assert client.resolve_digest(reference) == planted

        # The genuine archive signed by a run of another repository (reusable workflow).
        fork = oidc_token(
            repo="evil/fork",
            ref="refs/tags/v1.2.0",
            job_workflow_ref=f"{REPO}/.github/workflows/release.yml@refs/tags/v1.2.0",
        )
        foreign = sign_blob_keyless(archive, identity_token=fork, trust_config=trust)
        _plant(client, reference, archive, foreign.encode(), SIGSTORE_BUNDLE_MEDIA_TYPE)
        with pytest.raises(RelkitError, match="run in https://github.com/evil/fork"):
            publish_bundle(bundle, _plan(), client=client, **kwargs)

        forced = publish_bundle(bundle, _plan(), client=client, force=True, **kwargs)
        assert forced.outcome is StepOutcome.DONE
        again = publish_bundle(bundle, _plan(), client=client, **kwargs)
        assert again.outcome is StepOutcome.ALREADY_DONE
    verify_bundle(archive, SignaturePolicy.for_repo(REPO, tag="v1.2.0", trust_config=trust))
