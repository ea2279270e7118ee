"""What `relkit promote` moves an environment to: given image digests, or a released version.

Both end as a `ReleasePlan`, so the promotion runs through exactly the code the release's own
promote step runs (edits, marker, branch, PR, supersede, downgrade check).

Image promotions (the merge pipeline's dev bump) have no release version, yet downgrade
protection needs an order. The order is the source commit's position in history: the version
is `X.Y.Z-dev.N+gSHA12`, where X.Y.Z is one patch above the last final release reachable
from the commit (so it sorts above that release and below the next one) and N the number of
commits reachable from it (`git rev-list --count`), which grows along any line of history. A
digest built from an older commit of main than the one deployed therefore compares lower.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from relkit.adapters import git_history
from relkit.bundle.reference import is_pinned, split_digest
from relkit.core.config import RelkitConfig
from relkit.core.errors import RelkitError, UsageError
from relkit.core.model import ImagePin, ReleasePlan, Version
from relkit.core.records import record
from relkit.history.releases import release_tags, scope_for

__all__ = [
    "ImageArgument",
    "Target",
    "dev_version",
    "parse_image_argument",
    "target_for_images",
    "target_for_version",
]

Resolver = Callable[[Iterable[str]], Mapping[str, str]]


@record
class ImageArgument:
    """`--image NAME=REFERENCE`: NAME is what `{digest:NAME}` in the edits refers to."""

    name: str
    reference: str


@record
class Target:
    """The plan to promote and the chart version that goes with it (None: no chart)."""

    plan: ReleasePlan
    chart_version: str | None
    source: str  # says where the digests came from, for the output


def parse_image_argument(text: str) -> ImageArgument:
    name, sep, reference = text.partition("=")
    name, reference = name.strip(), reference.strip()
    if not sep or not name or not reference or any(c.isspace() for c in reference):
        raise UsageError(
            f"--image {text!r}: expected NAME=REFERENCE",
            hint="e.g. --image web=ghcr.io/acme/web@sha256:<hex> or web=ghcr.io/acme/web:sha-abc",
        )
    _, digest = split_digest(reference)
    if digest is not None and not is_pinned(reference):
        raise UsageError(f"--image {text!r}: {digest!r} is not a sha256 digest")
    return ImageArgument(name, reference)


def dev_version(root: Path, config: RelkitConfig, sha: str) -> Version:
    """`X.Y.Z-dev.N+gSHA12` for an unreleased commit (see the module docstring)."""
    scope = scope_for(config)
    base: Version | None = None
    for tag in release_tags(root, scope):  # highest version first
        if tag.version.is_prerelease:
            continue
        if tag.sha == sha or git_history.is_ancestor(root, tag.sha, sha):
            base = tag.version
            break
    core = Version(base.major, base.minor, base.patch + 1) if base is not None else Version(0, 0, 1)
    count = git_history.commit_count(root, sha)
    return Version.parse(f"{core}-dev.{count}+g{sha[:12]}")


def _pin(argument: ImageArgument, resolved: Mapping[str, str]) -> ImagePin:
    name, digest = split_digest(argument.reference)
    digest = digest or resolved.get(argument.reference)
    if digest is None:
        raise RelkitError(f"--image {argument.name}: {argument.reference} did not resolve")
    return ImagePin(reference=name, digest=digest)


def target_for_images(
    root: Path,
    config: RelkitConfig,
    images: Sequence[ImageArgument],
    *,
    commit: str,
    repository: str | None,
    resolver: Resolver,
) -> Target:
    """A plan holding exactly the given images, versioned by the source commit."""
    sha = git_history.resolve(root, commit)
    if sha is None:
        raise UsageError(f"--commit {commit}: no such commit in {root}")
    by_tag = [a.reference for a in images if split_digest(a.reference)[1] is None]
    resolved = resolver(by_tag) if by_tag else {}
    pins = tuple(_pin(a, resolved) for a in images)
    version = dev_version(root, config, sha)
    plan = ReleasePlan(
        version=version,
        tag=str(version),
        commit=sha,
        committed_at=git_history.commit_time(root, sha),
        previous_tag=None,
        notes="",
        repository=repository,
        images=pins,
    )
    for argument in images:  # every NAME must be reachable as {digest:NAME}
        try:
            plan.image(argument.name)
        except KeyError:
            raise UsageError(
                f"--image {argument.name}={argument.reference}: {{digest:{argument.name}}} "
                "would not find this image",
                hint="NAME is the image repository's last path segment, e.g. web for "
                "ghcr.io/acme/web",
            ) from None
    return Target(plan, None, f"{len(pins)} image(s) at {sha[:12]}")


def target_for_version(
    root: Path,
    config: RelkitConfig,
    version: str,
    *,
    record: Path,
    repository: str | None,
    resolver: Resolver,
) -> Target:
    """A released version: digests from its run record when it has one, else the registry."""
    from relkit.release.plan import build_plan
    from relkit.release.steps.promote import chart_version_of

    scope = scope_for(config)
    text = version.removeprefix("v")
    if not Version.is_valid(text):
        raise UsageError(f"--version {version!r} is not a semantic version")
    wanted = Version.parse(text)
    tag = scope.tag_format.render(wanted)
    recorded = _recorded_pins(record, str(wanted))
    if recorded is not None:
        pins, chart = recorded

        def from_record(references: Iterable[str]) -> Mapping[str, str]:
            known = {p.reference: p.digest for p in pins}
            return {r: known[r] for r in references if r in known}

        plan = build_plan(root, config, tag, env={}, resolver=from_record)
        plan = replace(plan, repository=repository, images=pins)
        return Target(plan, chart or chart_version_of(config, plan, ()), f"run record {record}")
    plan = build_plan(root, config, tag, env={}, resolver=resolver)
    plan = replace(plan, repository=repository)
    return Target(plan, chart_version_of(config, plan, ()), "the registry")


def _recorded_pins(record: Path, version: str) -> tuple[tuple[ImagePin, ...], str | None] | None:
    """The images and chart version of a complete run record of `version`, else None."""
    if not record.is_file():
        return None
    from relkit.core.structured import load_json

    document = load_json(record.read_bytes(), source=str(record))
    if not isinstance(document, dict) or document.get("version") != version:
        return None
    if not document.get("complete"):
        return None
    try:
        pins = tuple(
            ImagePin(reference=str(i["reference"]), digest=str(i["digest"]))
            for i in document.get("images", [])
        )
        chart = next(
            (
                str(a["reference"]).split("@", 1)[0].rsplit(":", 1)[-1].replace("_", "+")
                for a in document.get("artifacts", [])
                if a.get("kind") == "chart" and a.get("reference")
            ),
            None,
        )
    except (KeyError, TypeError, AttributeError):
        raise RelkitError(f"{record}: not a relkit run record") from None
    return pins, chart
