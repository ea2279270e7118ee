"""`relkit bundle build NAME --version X` and `relkit bundle extract FILE --to DIR`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from relkit.adapters import git_history
from relkit.adapters.registry import resolve_many
from relkit.bundle.build import build_bundle
from relkit.bundle.extract import write_contents
from relkit.commands._common import repo_config, repo_root
from relkit.commands._verify_args import add_signature_options
from relkit.commands.verify import run_verification
from relkit.core.config import BundleConfig, RelkitConfig
from relkit.core.dist_files import sweep_stale
from relkit.core.errors import EXIT_OK, ConfigError, UsageError
from relkit.core.model import ReleasePlan, Version
from relkit.history.changelog import changelog_renderer

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("bundle", help="build or unpack a self-host Compose bundle")
    actions = parser.add_subparsers(dest="bundle_command", metavar="ACTION")
    actions.required = True

    build = actions.add_parser(
        "build",
        help="pin the images by digest and build NAME-VERSION.tar.gz (no signing, no push)",
    )
    build.add_argument("name", help="bundle name from the config (bundles[].name)")
    build.add_argument("--version", required=True, help="release version, e.g. 1.2.0")
    build.add_argument(
        "--commit",
        default=None,
        help="commit the archive time comes from (default: the version's tag, else HEAD)",
    )
    build.add_argument("--out", default=None, metavar="DIR", help="output directory (dist_dir)")
    build.set_defaults(handler=run_build)

    extract = actions.add_parser(
        "extract", help="verify a bundle, then unpack it safely (no traversal, links, devices)"
    )
    extract.add_argument("bundle", metavar="BUNDLE", help="NAME-VERSION.tar.gz or oci://host/path")
    extract.add_argument("--to", required=True, metavar="DIR", help="directory to unpack into")
    extract.add_argument(
        "--force", action="store_true", help="unpack into a non-empty directory, replacing files"
    )
    add_signature_options(extract)
    extract.set_defaults(handler=run_extract)


def _bundle(config: RelkitConfig, name: str) -> BundleConfig:
    for bundle in config.bundles:
        if bundle.name == name:
            return bundle
    known = ", ".join(b.name for b in config.bundles) or "none configured"
    raise ConfigError(f"unknown bundle {name!r} (known: {known})", hint="see bundles[] in config")


def _plan(root: Path, config: RelkitConfig, version_text: str, commit: str | None) -> ReleasePlan:
    version = Version.parse(version_text)
    tag = config.tag_format.format(version=version)
    rev = commit or (tag if git_history.resolve(root, tag) else "HEAD")
    sha = git_history.resolve(root, rev)
    if sha is None:
        raise UsageError(
            f"cannot find commit {rev!r} in {root}",
            hint="the archive time comes from a commit: run inside the repository",
        )
    remote = git_history.remote_web_url(root)
    repository = remote.split("github.com/", 1)[1] if remote and "github.com/" in remote else None
    return ReleasePlan(
        version=version,
        tag=tag,
        commit=sha,
        committed_at=git_history.commit_time(root, sha),
        previous_tag=None,
        notes="",
        repository=config.github.repository or repository,
    )


def run_build(args: argparse.Namespace) -> int:
    root = repo_root(args)
    config = repo_config(args)
    bundle = _bundle(config, args.name)
    plan = _plan(root, config, args.version, args.commit)
    dist_dir = Path(args.out) if args.out else root / config.dist_dir
    sweep_stale(dist_dir)  # scratch of a killed earlier run
    built = build_bundle(
        bundle,
        plan,
        repo_root=root,
        dist_dir=dist_dir,
        resolver=resolve_many,
        signing=config.signing,
        renderer=changelog_renderer(config, root),
    )
    for pin in built.pins:
        print(f"pinned {pin.pinned}")
    print(f"built {built.archive} ({built.digest})")
    return EXIT_OK


def run_extract(args: argparse.Namespace) -> int:
    target = Path(args.to)
    if target.is_dir() and any(target.iterdir()) and not args.force:
        raise UsageError(
            f"extract target {target} is not empty", hint="choose an empty directory or --force"
        )
    report = run_verification(args)
    for line in report.checks:
        print(f"verified {line}")
    # The verified contents, not the archive again: a file swapped on disk since cannot
    # slip in between the check and the unpacking (issue 9 §1).
    written = write_contents(
        report.contents, target, overwrite=args.force, source=report.archive.name
    )
    print(f"extracted {len(written)} files of {report.version} to {target}")
    return EXIT_OK
