"""Publish a bundle: build → sign → push as an OCI artifact → move into dist/.

Idempotent by content. The archive is reproducible, so its digest identifies the release's
bundle: if the registry already holds a bundle layer with the same digest under this
version, nothing is signed or pushed again (ALREADY_DONE) and the published signature is
fetched into dist/; a *different* digest under a released version is an error unless
forced. Signatures are not compared byte for byte (keyless ones differ on every run by
design), but nothing is reused unchecked (issue 9 item 6): a signature fetched from the
registry or left in dist/ must verify over this archive as this run's signer (the
configured key; for keyless, the identity Fulcio certifies for this run's token). A bad one
in the registry stops the step (a released version's signature does not change silently;
--force re-signs and pushes); a bad one in dist/ is replaced by a fresh signature.

dist/ is touched only at the very end: everything is built and signed in a scratch
directory, so a failure leaves dist/ as it was.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from relkit.adapters import oci_artifact
from relkit.adapters.registry import NotFoundError, Reference, RegistryClient, resolve_many
from relkit.bundle.build import (
    BuiltBundle,
    Resolver,
    build_bundle,
    bundle_top,
    release_image_references,
)
from relkit.bundle.compose import find_compose_file
from relkit.core.config import BundleConfig, SigningConfig
from relkit.core.dist_files import scratch_dir
from relkit.core.errors import RelkitError, UsageError
from relkit.core.model import Artifact, ReleasePlan, StepOutcome, StepRecord
from relkit.core.paths import dir_inside
from relkit.core.records import record
from relkit.history.templating import TemplateRenderer
from relkit.signing.ambient import github_actions_token
from relkit.signing.facade import (
    KEY_SUFFIX,
    KEYLESS_SUFFIX,
    KeySigner,
    public_key_pem,
    sign_file,
    signer_for,
    verify_blob_keyless,
    verify_blob_with_key,
)
from relkit.signing.identity import signer_of_token

__all__ = [
    "ANNOTATION_ARCHIVE_DIGEST",
    "ANNOTATION_DIGESTS",
    "ARTIFACT_TYPE",
    "KEY_SIGNATURE_MEDIA_TYPE",
    "LAYER_MEDIA_TYPE",
    "SIGSTORE_BUNDLE_MEDIA_TYPE",
    "TRUST_CONFIG_ENV",
    "PublishedBundle",
    "bundle_oci_reference",
    "describe_bundle",
    "publish_bundle",
]

ARTIFACT_TYPE = "application/vnd.relkit.bundle.v1"
LAYER_MEDIA_TYPE = "application/vnd.relkit.bundle.layer.v1.tar+gzip"
KEY_SIGNATURE_MEDIA_TYPE = "application/vnd.relkit.bundle.signature.v1+base64"
# Sigstore's own media type for a v0.3 bundle, so Sigstore-aware tools recognize the layer.
SIGSTORE_BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
ANNOTATION_DIGESTS = "dev.relkit.bundle.digests"
ANNOTATION_ARCHIVE_DIGEST = "dev.relkit.bundle.archive.digest"
# Where a non-public-good Sigstore (tests, private deployments) is described.
TRUST_CONFIG_ENV = "RELKIT_SIGSTORE_TRUST_CONFIG"

_log = logging.getLogger(__name__)


@record
class PublishedBundle:
    """Where the bundle went: dist/ files and, when a registry is configured, its reference."""

    built: BuiltBundle
    signature: Path | None
    reference: str | None  # oci://host/repo:tag@sha256:… of the artifact manifest
    outcome: StepOutcome


def bundle_oci_reference(bundle: BundleConfig, plan: ReleasePlan) -> str | None:
    """`oci://REGISTRY/PATH/NAME:VERSION`; None when the bundle goes to dist/ only.

    A `+build` part is not allowed in an OCI tag, so it becomes `_` (Helm's convention).
    """
    if bundle.registry is None:
        return None
    return f"{bundle.registry}/{bundle.name}:{str(plan.version).replace('+', '_')}"


def describe_bundle(
    bundle: BundleConfig,
    plan: ReleasePlan,
    *,
    repo_root: Path,
    dist_dir: Path,
    signing: SigningConfig,
) -> list[str]:
    """What `publish_bundle` would do (for --dry-run); reads local files only."""
    source = dir_inside(repo_root, bundle.path, key="bundles[].path")
    compose = find_compose_file(source) if source.is_dir() else None
    if compose is None:
        raise UsageError(f"bundle {bundle.name}: directory {bundle.path} does not exist")
    top = bundle_top(bundle, plan)
    actions = [f"pin every image in {bundle.path.rstrip('/')}/{compose.name} by digest"]
    release = release_image_references(bundle, plan)
    if release:
        actions.append(f"use release images {', '.join(release)}")
    actions.append(f"build {dist_dir / (top + '.tar.gz')} (mtime {plan.committed_at.isoformat()})")
    if signing.mode == "key":
        actions.append(f"sign it with the configured key ({top}.tar.gz{KEY_SUFFIX})")
    elif signing.mode == "keyless":
        actions.append(f"sign it with Sigstore keyless ({top}.tar.gz{KEYLESS_SUFFIX})")
    reference = bundle_oci_reference(bundle, plan)
    if reference:
        actions.append(f"push it as {ARTIFACT_TYPE} to {reference} (skip if already there)")
    return actions


def _published_layer(reference: str, client: RegistryClient) -> str | None:
    """The bundle layer digest the registry holds under `reference`, or None."""
    try:
        manifest = client.get_manifest(Reference.parse(reference))
    except NotFoundError:
        return None
    for layer in manifest.json.get("layers") or []:
        if layer.get("mediaType") == LAYER_MEDIA_TYPE:
            return str(layer.get("digest"))
    raise RelkitError(
        f"{reference} exists but is not a relkit bundle (no {LAYER_MEDIA_TYPE} layer)",
        hint="choose another registry path for bundles",
    )


def _annotations(built: BuiltBundle, plan: ReleasePlan) -> dict[str, str]:
    annotations = {
        oci_artifact.ANNOTATION_VERSION: str(plan.version),
        oci_artifact.ANNOTATION_REVISION: plan.commit,
        oci_artifact.ANNOTATION_CREATED: plan.committed_at.isoformat(),
        oci_artifact.ANNOTATION_TITLE: built.archive.name,
        ANNOTATION_DIGESTS: " ".join(sorted(pin.pinned for pin in built.pins)),
        ANNOTATION_ARCHIVE_DIGEST: built.digest,
    }
    if plan.repository:
        annotations[oci_artifact.ANNOTATION_SOURCE] = f"https://github.com/{plan.repository}"
    return annotations


def _artifact_files(built: BuiltBundle, signature: Path | None) -> list[oci_artifact.ArtifactFile]:
    files = [oci_artifact.ArtifactFile(built.archive, LAYER_MEDIA_TYPE)]
    if signature is not None:
        media_type = (
            SIGSTORE_BUNDLE_MEDIA_TYPE
            if signature.name.endswith(KEYLESS_SUFFIX)
            else KEY_SIGNATURE_MEDIA_TYPE
        )
        files.append(oci_artifact.ArtifactFile(signature, media_type))
    return files


def _signature_suffix(signing: SigningConfig) -> str | None:
    if signing.mode == "none":
        return None
    return KEY_SUFFIX if signing.mode == "key" else KEYLESS_SUFFIX


def _fetch_signature(
    reference: str, signature_name: str, scratch: Path, client: RegistryClient
) -> Path | None:
    """The signature published with an existing bundle, downloaded into `scratch`."""
    pulled = oci_artifact.pull_artifact(reference, scratch / "published", client=client)
    for path in pulled.files:
        if path.name == signature_name:
            target = scratch / path.name
            os.replace(path, target)
            return target
    return None


@record
class _Signing:
    """What this run signs with: to sign, and to check a signature it did not just make."""

    config: SigningConfig
    env: Mapping[str, str]
    trust_config: Path | None
    identity_token: str | None

    def sign(self, archive: Path) -> Path | None:
        return sign_file(
            archive,
            self.config,
            env=self.env,
            trust_config=self.trust_config,
            identity_token=self.identity_token,
        )

    def problem(self, archive: Path, signature: Path | None) -> str | None:
        """Why `signature` is not one this run's signer made over `archive`; None if it is."""
        if self.config.mode == "none":
            return None
        if signature is None:
            return "there is no signature"
        content = signature.read_bytes()
        # A bad key or token is a configuration error, raised as such, not a bad signature.
        if self.config.mode == "key":
            signer = signer_for(self.config, env=self.env)
            assert isinstance(signer, KeySigner)
            public = public_key_pem(signer.private_key_pem, signer.password)
        else:
            token = self.identity_token or github_actions_token(self.env)
            if not token:
                return "it cannot be checked without this run's OIDC identity token"
            expected = signer_of_token(token)
        try:
            if self.config.mode == "key":
                verify_blob_with_key(archive, content, public)
            else:
                verify_blob_keyless(
                    archive,
                    content,
                    identity=expected.identity,
                    issuer=expected.issuer,
                    trust_config=self.trust_config,
                    source=expected.source,
                )
        except RelkitError as exc:
            return exc.message
        return None


def publish_bundle(
    bundle: BundleConfig,
    plan: ReleasePlan,
    *,
    repo_root: Path,
    dist_dir: Path,
    signing: SigningConfig,
    env: Mapping[str, str],
    resolver: Resolver | None = None,
    client: RegistryClient | None = None,
    trust_config: Path | None = None,
    identity_token: str | None = None,
    force: bool = False,
    renderer: TemplateRenderer | None = None,
    from_commit: bool = False,
) -> StepRecord:
    """Build, sign, push and write the bundle; a no-op when the same bundle is published.

    `renderer` renders the bundle README (`changelog_renderer`, honouring
    `changelog.template_dir`, as `relkit bundle build` does). `from_commit`: the bundle's
    files come from `plan.commit`'s tree, not the work tree (`relkit release` sets it).
    """
    published = _publish(
        bundle,
        plan,
        repo_root=repo_root,
        dist_dir=dist_dir,
        signing=signing,
        env=env,
        resolver=resolver,
        client=client,
        trust_config=trust_config,
        identity_token=identity_token,
        force=force,
        renderer=renderer,
        from_commit=from_commit,
    )
    return _record(bundle, published)


def _publish(
    bundle: BundleConfig,
    plan: ReleasePlan,
    *,
    repo_root: Path,
    dist_dir: Path,
    signing: SigningConfig,
    env: Mapping[str, str],
    resolver: Resolver | None,
    client: RegistryClient | None,
    trust_config: Path | None,
    identity_token: str | None,
    force: bool,
    renderer: TemplateRenderer | None = None,
    from_commit: bool = False,
) -> PublishedBundle:
    if trust_config is None and env.get(TRUST_CONFIG_ENV):
        trust_config = Path(env[TRUST_CONFIG_ENV])
    signer = _Signing(signing, env, trust_config, identity_token)
    active = client or RegistryClient()
    dist_dir.mkdir(parents=True, exist_ok=True)
    scratch = scratch_dir(dist_dir, "publish")  # same filesystem: the final moves are atomic
    try:
        resolve = resolver or (lambda refs: resolve_many(refs, client=active))
        built = build_bundle(
            bundle,
            plan,
            repo_root=repo_root,
            dist_dir=scratch,
            resolver=resolve,
            signing=signing,
            renderer=renderer,
            from_commit=from_commit,
        )
        reference = bundle_oci_reference(bundle, plan)
        existing = _published_layer(reference, active) if reference else None
        outcome = StepOutcome.DONE
        pushed_reference: str | None = None
        done_in_dist, old_signature = (
            _signed_in_dist(dist_dir, built, signer) if reference is None else (False, None)
        )
        published_signature = (
            _published_signature(reference, built, signer, scratch, active, force=force)
            if reference and existing == built.digest
            else None
        )
        if reference and existing == built.digest and published_signature is not None:
            outcome = StepOutcome.ALREADY_DONE
            signature = published_signature[0]
            pushed_reference = f"{reference}@{active.resolve_digest(reference)}"
        elif done_in_dist:
            # dist/-only bundle, already built and signed from the same content: keep it.
            outcome = StepOutcome.ALREADY_DONE
            signature = None
            if old_signature is not None:
                signature = scratch / old_signature.name
                shutil.copyfile(old_signature, signature)
        else:
            if reference and existing is not None and not force:
                raise RelkitError(
                    f"bundle {bundle.name} {plan.version} is already published at {reference}"
                    f" with different content ({existing}, this build: {built.digest})",
                    hint="released versions are immutable: release a new version"
                    " (or --force to overwrite)",
                )
            signature = signer.sign(built.archive)
            if reference:
                pushed = oci_artifact.push_artifact(
                    reference,
                    _artifact_files(built, signature),
                    artifact_type=ARTIFACT_TYPE,
                    annotations=_annotations(built, plan),
                    client=active,
                )
                pushed_reference = pushed.reference
        final = _move_into(dist_dir, built, signature)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if client is None:
            active.close()
    return PublishedBundle(
        built=final,
        signature=dist_dir / signature.name if signature else None,
        reference=pushed_reference,
        outcome=outcome,
    )


def _published_signature(
    reference: str,
    built: BuiltBundle,
    signer: _Signing,
    scratch: Path,
    client: RegistryClient,
    *,
    force: bool,
) -> tuple[Path | None] | None:
    """The registry's signature for this same archive, checked; None: sign and push again.

    A published signature that does not verify is refused rather than replaced: the bundle
    of a released version is public, and a signature that changes under it must be looked
    at by a person. `--force` re-signs and pushes.
    """
    suffix = _signature_suffix(signer.config)
    found = (
        _fetch_signature(reference, built.archive.name + suffix, scratch, client)
        if suffix
        else None
    )
    problem = signer.problem(built.archive, found)
    if problem is None:
        return (found,)
    if force:
        _log.warning(
            "%s: published signature refused (%s); re-signing (--force)", reference, problem
        )
        return None
    raise RelkitError(
        f"{reference} holds this bundle, but its signature is not this release's: {problem}",
        hint="nothing was uploaded; check who pushed it, then re-run with --force to"
        " re-sign and push the bundle again",
    )


def _signed_in_dist(
    dist_dir: Path, built: BuiltBundle, signer: _Signing
) -> tuple[bool, Path | None]:
    """(done, signature): dist/ holds this exact archive with a signature that verifies.

    A signature left in dist/ that does not verify over the archive (another key, another
    file, another signer) is not reused: the caller signs again and replaces it.
    """
    existing = dist_dir / built.archive.name
    if not existing.is_file() or existing.read_bytes() != built.archive.read_bytes():
        return False, None
    suffix = _signature_suffix(signer.config)
    if suffix is None:
        return True, None
    signature = dist_dir / (built.archive.name + suffix)
    if not signature.is_file():
        return False, None
    problem = signer.problem(built.archive, signature)
    if problem is not None:
        _log.warning("%s: not reused (%s); signing again", signature.name, problem)
        return False, None
    return True, signature


def _move_into(dist_dir: Path, built: BuiltBundle, signature: Path | None) -> BuiltBundle:
    paths = [built.archive, built.sha256sums, built.digests]
    if signature is not None:
        paths.append(signature)
    else:
        # An old signature next to a new, unsigned archive would be a lie; drop it.
        for suffix in (KEY_SUFFIX, KEYLESS_SUFFIX):
            (dist_dir / (built.archive.name + suffix)).unlink(missing_ok=True)
    for path in paths:
        os.replace(path, dist_dir / path.name)
    return BuiltBundle(
        name=built.name,
        version=built.version,
        archive=dist_dir / built.archive.name,
        sha256sums=dist_dir / built.sha256sums.name,
        digests=dist_dir / built.digests.name,
        pins=built.pins,
        digest=built.digest,
    )


def _record(bundle: BundleConfig, published: PublishedBundle) -> StepRecord:
    built = published.built
    artifacts = [
        Artifact(
            "bundle",
            built.archive.name,
            path=str(built.archive),
            digest=built.digest,
            reference=published.reference,
        ),
        Artifact("sums", built.sha256sums.name, path=str(built.sha256sums)),
        Artifact("digests", built.digests.name, path=str(built.digests)),
    ]
    if published.signature is not None:
        kind = (
            "sigstore-bundle" if published.signature.name.endswith(KEYLESS_SUFFIX) else "signature"
        )
        artifacts.append(Artifact(kind, published.signature.name, path=str(published.signature)))
    where = published.reference or str(built.archive)
    verb = "already published" if published.outcome is StepOutcome.ALREADY_DONE else "published"
    return StepRecord(
        name=f"bundle:{bundle.name}",
        outcome=published.outcome,
        detail=f"{built.archive.name} {verb} ({built.digest}) at {where};"
        f" {len(built.pins)} image(s) pinned",
        artifacts=tuple(artifacts),
    )
