"""The `attest` step on the real registry: referrers added once, foreign ones refused."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from pathlib import Path

import pytest

from relkit.adapters.oci_referrers import (
    SIGSTORE_BUNDLE_ARTIFACT_TYPE,
    attach_bundle,
    fetch_bundles,
    list_referrers,
    referrers_tag,
)
from relkit.adapters.registry import OCI_INDEX, OCI_MANIFEST, Reference, RegistryClient
from relkit.core.config import RelkitConfig, SigningConfig
from relkit.core.errors import RelkitError
from relkit.core.model import Artifact, ReleasePlan, StepOutcome, StepRecord, Version
from relkit.release.pipeline import PublishOptions, StepContext
from relkit.release.steps.attest import run
from relkit.signing.attest import KeyAttestationSigner, verify_attestation_with_key
from relkit.signing.provenance import (
    COSIGN_SIGN_PREDICATE,
    SLSA_PROVENANCE_V1,
    Subject,
    in_toto_statement,
    subject_digests,
)
from tests.fixtures.registry import RegistryServer, push_test_image
from tests.fixtures.sigstore import SigningKeyPair
from tests.schemas import slsa_errors


def _context(
    tmp_path: Path, registry: RegistryServer, keys: SigningKeyPair
) -> tuple[StepContext, Reference]:
    repository = f"charts/{secrets.token_hex(4)}"
    digest = push_test_image(registry.host, repository, "1.2.0")
    dist = tmp_path / "dist"
    dist.mkdir()
    package = dist / "shop-1.2.0.tgz"
    package.write_bytes(b"a chart package")
    chart = Artifact(
        "chart",
        "shop",
        path=str(package),
        digest=digest,
        reference=f"oci://{registry.host}/{repository}:1.2.0@{digest}",
    )
    plan = ReleasePlan(
        version=Version.parse("1.2.0"),
        tag="v1.2.0",
        commit="a" * 40,
        committed_at=datetime(2026, 11, 2, tzinfo=UTC),
        previous_tag=None,
        notes="",
        repository="acme/shop",
    )
    context = StepContext(
        plan=plan,
        config=RelkitConfig(signing=SigningConfig(mode="key")),
        root=tmp_path,
        dist_dir=dist,
        work_dir=tmp_path / "work",
        options=PublishOptions(),
        env={"RELKIT_SIGNING_KEY": keys.private_pem.decode()},
        previous=(StepRecord("chart", StepOutcome.DONE, artifacts=(chart,)),),
    )
    return context, Reference(registry.host, repository, None, digest)


def test_attest_signs_attaches_and_a_rerun_adds_nothing(
    tmp_path: Path, registry: RegistryServer, signing_key_pair: SigningKeyPair
) -> None:
    context, subject = _context(tmp_path, registry, signing_key_pair)
    record = run(context)
    assert record.outcome is StepOutcome.DONE
    provenance_file = context.dist_dir / "shop-1.2.0.intoto.sigstore.json"
    statement = verify_attestation_with_key(
        provenance_file.read_bytes(), signing_key_pair.public_pem, where="p"
    ).statement
    assert slsa_errors(statement) == []
    assert subject.digest in subject_digests(statement)
    with RegistryClient() as client:
        referrers, _ = list_referrers(client, subject)
        assert sorted(r.predicate_type or "" for r in referrers) == sorted(
            [COSIGN_SIGN_PREDICATE, SLSA_PROVENANCE_V1]
        )
        before = provenance_file.read_bytes()
        again = run(context)
        assert again.outcome is StepOutcome.ALREADY_DONE
        assert list_referrers(client, subject)[0] == referrers
        assert provenance_file.read_bytes() == before
        [attached] = fetch_bundles(client, subject, predicate_type=SLSA_PROVENANCE_V1)
        assert attached.bundle == before


def test_a_foreign_provenance_on_the_chart_stops_the_step_before_anything_is_published(
    tmp_path: Path, registry: RegistryServer, signing_key_pair: SigningKeyPair
) -> None:
    context, subject = _context(tmp_path, registry, signing_key_pair)
    foreign = in_toto_statement([Subject("other", "0" * 64)], SLSA_PROVENANCE_V1, {})
    [bundle] = KeyAttestationSigner(signing_key_pair.private_pem).sign([foreign])
    with RegistryClient() as client:
        attach_bundle(
            client,
            subject,
            bundle.encode(),
            predicate_type=SLSA_PROVENANCE_V1,
            created="2026-01-01T00:00:00Z",
        )
        with pytest.raises(RelkitError, match="is about other digests") as caught:
            run(context)
        assert "\n" not in str(caught.value)
        referrers, _ = list_referrers(client, subject)
        assert len(referrers) == 1  # nothing was added
    assert not (context.dist_dir / "shop-1.2.0.intoto.sigstore.json").exists()


def test_signing_mode_none_skips(
    tmp_path: Path, registry: RegistryServer, signing_key_pair: SigningKeyPair
) -> None:
    context, _ = _context(tmp_path, registry, signing_key_pair)
    unsigned = StepContext(
        plan=context.plan,
        config=RelkitConfig(signing=SigningConfig(mode="none")),
        root=context.root,
        dist_dir=context.dist_dir,
        work_dir=context.work_dir,
        options=context.options,
        env=context.env,
        previous=context.previous,
    )
    assert run(unsigned).outcome is StepOutcome.SKIPPED


def test_a_referrer_pointing_at_another_manifest_stops_the_step(
    tmp_path: Path, registry: RegistryServer, signing_key_pair: SigningKeyPair
) -> None:
    context, subject = _context(tmp_path, registry, signing_key_pair)
    other = push_test_image(registry.host, subject.repository, "other")
    about_other = Reference(subject.registry, subject.repository, None, other)
    with RegistryClient() as client:
        rogue = attach_bundle(
            client,
            about_other,
            b'{"mediaType": "x"}',
            predicate_type=SLSA_PROVENANCE_V1,
            created="2026-01-01T00:00:00Z",
        )
        manifest = client.get_manifest(about_other.with_digest(rogue))
        # A hostile writer lists that referrer (whose subject is `other`) in our index.
        index = {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": rogue,
                    "size": len(manifest.content),
                    "artifactType": SIGSTORE_BUNDLE_ARTIFACT_TYPE,
                    "annotations": {"dev.sigstore.bundle.predicateType": SLSA_PROVENANCE_V1},
                }
            ],
        }
        tag = referrers_tag(subject.digest or "")
        client.push_manifest(
            Reference(subject.registry, subject.repository, tag),
            json.dumps(index).encode(),
            OCI_INDEX,
        )
        with pytest.raises(RelkitError, match="points at another manifest") as caught:
            run(context)
        assert "\n" not in str(caught.value)
        assert len(list_referrers(client, subject)[0]) == 1  # nothing was added
    assert not (context.dist_dir / "shop-1.2.0.intoto.sigstore.json").exists()
