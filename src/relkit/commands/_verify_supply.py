"""`relkit verify` supply-chain options: a chart from the registry, bundle provenance, images.

    relkit verify oci://REGISTRY/charts/NAME:VERSION --repo OWNER/NAME [--tag T]
    relkit verify BUNDLE --repo OWNER/NAME --images [--image-identity … | --image-identity-regexp …]

Kept apart from commands/verify.py so the bundle verification stays readable; verify.py
calls `verify_chart_if_chart`, `bundle_provenance_lines` and `image_gate_lines`.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from relkit.adapters.registry import Reference, RegistryClient
from relkit.bundle.reference import split_digest
from relkit.core.config import ImagesConfig
from relkit.core.errors import RelkitError, UsageError
from relkit.core.model import ImagePin
from relkit.signing.oci_verify import AttestationPolicy, is_helm_chart, verify_oci_attestations

__all__ = [
    "add_supply_options",
    "bundle_provenance_lines",
    "image_gate_lines",
    "verify_chart_if_chart",
]


def add_supply_options(parser: Any) -> None:
    parser.add_argument(
        "--images",
        action="store_true",
        help="also check every pinned image's signature (the signed-image gate); with --repo"
        " the default signer is any workflow of that repository",
    )
    parser.add_argument("--image-identity", help="--images: exact certificate identity")
    parser.add_argument(
        "--image-identity-regexp", metavar="REGEXP", help="--images: identity regexp"
    )
    parser.add_argument(
        "--image-source-repo", metavar="OWNER/NAME", help="--images: Fulcio source repository"
    )
    parser.add_argument("--image-source-ref", metavar="REF", help="--images: e.g. refs/heads/main")
    parser.add_argument(
        "--require-provenance", action="store_true", help="--images: require SLSA provenance too"
    )


def _attestation_policy(args: argparse.Namespace, policy: Any) -> AttestationPolicy:
    if getattr(policy, "unsigned", False):
        raise UsageError("an OCI artifact's signature cannot be skipped: drop --unsigned")
    return AttestationPolicy(
        key=policy.key,
        identity=policy.identity,
        identity_regexp=policy.identity_regexp,
        issuer=policy.issuer,
        trust_config=policy.trust_config,
        source=policy.source,
    )


def verify_chart_if_chart(args: argparse.Namespace, policy: Any) -> list[str] | None:
    """The verification lines of a Helm chart at `args.bundle` (oci://), or None if it is
    not a chart (then it is verified as a bundle)."""
    if not args.bundle.startswith("oci://"):
        return None
    tagged = Reference.parse(args.bundle)
    with RegistryClient() as client:
        manifest = client.get_manifest(tagged)
        if manifest.is_index or not is_helm_chart(manifest.json):
            return None
        # The attestations of the manifest just read, by its digest: a registry may move the
        # tag before a second look-up.
        result = verify_oci_attestations(
            f"oci://{tagged.with_digest(manifest.digest)}",
            _attestation_policy(args, policy),
            client=client,
        )
    return list(result.lines)


def bundle_provenance_lines(
    args: argparse.Namespace, policy: Any, manifest_digest: str | None
) -> list[str]:
    """For an oci:// bundle: the signature/provenance referrers, when present, of the
    manifest `manifest_digest` that was pulled and verified (never the tag read again)."""
    if not args.bundle.startswith("oci://") or getattr(policy, "unsigned", False):
        return []
    if manifest_digest is None:
        raise RelkitError(f"{args.bundle}: the pulled manifest's digest is unknown")
    tagged = Reference.parse(args.bundle)
    pinned = Reference(tagged.registry, tagged.repository, None, manifest_digest)
    with RegistryClient() as client:
        result = verify_oci_attestations(
            f"oci://{pinned}",
            _attestation_policy(args, policy),
            client=client,
            require_provenance=False,
        )
    return [line for line in result.lines if not line.startswith("artifact:")]


def _image_policy(args: argparse.Namespace) -> ImagesConfig:
    identity, regexp = args.image_identity, args.image_identity_regexp
    source_repo = args.image_source_repo
    if identity is None and regexp is None:
        if not args.signer_repo:
            raise UsageError(
                "--images needs the images' signer",
                hint="pass --repo OWNER/NAME, or --image-identity / --image-identity-regexp",
            )
        regexp = f"^{re.escape(f'https://github.com/{args.signer_repo}/')}"
        source_repo = source_repo or args.signer_repo
    if identity is not None and regexp is not None:
        raise UsageError("give either --image-identity or --image-identity-regexp, not both")
    return ImagesConfig(
        verify=True,
        identity=identity,
        identity_regexp=regexp,
        issuer=args.issuer,
        source_repository=source_repo,
        source_ref=args.image_source_ref,
        require_provenance=args.require_provenance,
    )


def image_gate_lines(args: argparse.Namespace, pins: tuple[str, ...]) -> list[str]:
    """`--images`: every pinned image checked against the image signer policy."""
    if not args.images:
        return []
    from relkit.signing.image_gate import check_images

    policy = _image_policy(args)
    images = []
    for pinned in pins:
        reference, digest = split_digest(pinned)
        if digest is None:
            raise UsageError(f"image {pinned} is not pinned by digest")
        images.append(ImagePin(reference, digest))
    trust = Path(args.trust_config) if args.trust_config else None
    with RegistryClient() as client:
        verdicts = check_images(images, policy, client=client, trust_config=trust)
    return [
        f"image: {v.image} signed by {v.signer} ({v.layout})"
        + (", provenance verified" if v.provenance else "")
        for v in verdicts
    ]
