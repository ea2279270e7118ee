"""The signature options `relkit verify` and `relkit bundle extract` share."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from relkit.bundle.publish import TRUST_CONFIG_ENV
from relkit.bundle.verify import SignaturePolicy
from relkit.signing.facade import DEFAULT_RELEASE_WORKFLOW, GITHUB_ACTIONS_ISSUER

__all__ = ["add_signature_options", "policy_from_args"]


def add_signature_options(parser: Any) -> None:
    group = parser.add_mutually_exclusive_group()  # who must have signed: one of these
    group.add_argument("--key", metavar="PEM", help="public key of a key-signed bundle")
    group.add_argument(
        "--repo",
        # Not "repo": that is the global -C/--repo (the working repository) in the namespace.
        dest="signer_repo",
        metavar="OWNER/NAME",
        help="keyless: signed by this repository's release workflow in GitHub Actions",
    )
    group.add_argument("--identity", help="keyless: exact certificate identity")
    group.add_argument(
        "--identity-regexp", metavar="REGEXP", help="keyless: certificate identity regexp"
    )
    group.add_argument(
        "--unsigned", action="store_true", help="accept an unsigned bundle (checks sums only)"
    )
    parser.add_argument(
        "--issuer",
        default=GITHUB_ACTIONS_ISSUER,
        help=f"keyless: expected OIDC issuer (default: {GITHUB_ACTIONS_ISSUER})",
    )
    parser.add_argument(
        "--workflow",
        default=DEFAULT_RELEASE_WORKFLOW,
        help=f"with --repo: the release workflow path (default: {DEFAULT_RELEASE_WORKFLOW})",
    )
    parser.add_argument(
        "--tag",
        help="the release asked for, e.g. v1.2.0: the archive must hold that version (any"
        " signer); with --repo also the exact tag the workflow ran for (default: any tag)",
    )
    parser.add_argument(
        "--signature", metavar="FILE", help="signature file (default: next to the archive)"
    )
    parser.add_argument(
        "--trust-config",
        metavar="FILE",
        default=os.environ.get(TRUST_CONFIG_ENV),
        help="Sigstore client trust config (default: public-good Sigstore;"
        f" env {TRUST_CONFIG_ENV})",
    )


def policy_from_args(args: argparse.Namespace) -> SignaturePolicy:
    trust_config = Path(args.trust_config) if args.trust_config else None
    if args.signer_repo:
        return SignaturePolicy.for_repo(
            args.signer_repo,
            workflow=args.workflow,
            tag=args.tag,
            issuer=args.issuer,
            trust_config=trust_config,
        )
    return SignaturePolicy(
        key=Path(args.key) if args.key else None,
        identity=args.identity,
        identity_regexp=args.identity_regexp,
        issuer=args.issuer,
        trust_config=trust_config,
        unsigned=args.unsigned,
    )
