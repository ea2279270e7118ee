"""`relkit verify BUNDLE.tar.gz | oci://…`: check a self-host bundle before running it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from relkit.bundle.verify import VerifyReport, verify_bundle, verify_oci_bundle
from relkit.commands._verify_args import add_signature_options, policy_from_args
from relkit.errors import EXIT_OK

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "verify",
        help="verify a self-host bundle: signature, SHA256SUMS and digest pins",
        description="Verify a bundle archive (or an oci:// bundle reference): its signature,"
        " every file against SHA256SUMS, and that every compose image is pinned by digest"
        " and listed in digests.txt. Exits 1 with the reason on any mismatch.",
    )
    parser.add_argument("bundle", metavar="BUNDLE", help="NAME-VERSION.tar.gz or oci://host/path")
    add_signature_options(parser)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(handler=run)


def run_verification(args: argparse.Namespace) -> VerifyReport:
    """Verify the bundle once; the report carries the checked contents for extraction."""
    policy = policy_from_args(args)
    if args.bundle.startswith("oci://"):
        return verify_oci_bundle(args.bundle, policy, expected_tag=args.tag)
    signature = Path(args.signature) if args.signature else None
    return verify_bundle(Path(args.bundle), policy, signature=signature, expected_tag=args.tag)


def run(args: argparse.Namespace) -> int:
    report = run_verification(args)
    if args.json:
        print(
            json.dumps(
                {
                    "verified": True,
                    "bundle": args.bundle,
                    "version": report.version,
                    "checks": report.checks,
                    "images": report.pins,
                },
                indent=2,
            )
        )
    else:
        for line in report.checks:
            print(f"verified {line}")
        print(f"OK: {args.bundle} is verified")
    return EXIT_OK
