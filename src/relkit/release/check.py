"""`relkit check`: the pull-request pipeline's fast checks, with no registry write and no token.

Each check returns a `CheckResult` instead of raising, so one run reports every problem at
once (a PR author fixes them in one go) and the command decides the exit code from them.
The checks reuse the release code paths (config loading, Helm's linter, compose pinning, the
commit parser, the release plan) so that "check passed" means the same thing as "the release
would get past this point".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from relkit.adapters import git_history
from relkit.adapters.git_history import HistorySnapshot, snapshot_of
from relkit.bundle.build import Resolver, pin_bundle_images, release_image_references
from relkit.bundle.reference import split_digest
from relkit.core.config import ComponentConfig, RelkitConfig, load_config, path_settings
from relkit.core.errors import NothingToRelease, RelkitError
from relkit.core.model import ImagePin, RawCommit, ReleasePlan, Version
from relkit.core.paths import PathError, dir_inside, lexical_problem, resolve_inside
from relkit.core.records import record
from relkit.history.conventional import (
    ConventionalCommit,
    Person,
    count_non_conventional,
    parse_commits,
    parse_message,
)
from relkit.history.releases import plan_release
from relkit.history.versioning import BumpLevel, decide_bump
from relkit.release.plan import plan_of

__all__ = [
    "CheckResult",
    "Status",
    "changed_components",
    "check_bundles",
    "check_charts",
    "check_commits",
    "check_config",
    "check_paths",
    "check_release_dry_run",
    "check_release_plan",
    "check_title",
    "offline_resolver",
    "range_commits",
]

Status = Literal["ok", "warning", "failed", "skipped"]

_NOBODY = Person(name="", email="")  # a PR title has no author of its own

# What a header must look like, said the way the parser reads it.
EXPECTED_HEADER = "'type(scope)!: description' (scope and ! optional)"


@record
class CheckResult:
    """One line of `relkit check`'s output."""

    name: str
    status: Status
    message: str
    details: tuple[str, ...] = field(default_factory=tuple)

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "status": self.status,
            "message": self.message,
            "details": list(self.details),
        }


def check_config(root: Path, explicit: Path | None) -> tuple[CheckResult, RelkitConfig | None]:
    """The configuration loads and validates (the same loader every command uses)."""
    try:
        # The path rule is `check_paths`'s: it lists every violation, not just the first.
        config = load_config(root, explicit, check_paths=False)
    except RelkitError as error:
        # The hint ("write [[bundles]] ...") is the fix; details[0] repeats the message.
        details = (error.message, f"hint: {error.hint}") if error.hint else ()
        return CheckResult("config", "failed", error.message, details), None
    source = explicit.name if explicit else _config_source(root)
    return CheckResult("config", "ok", f"{source} is valid"), config


def check_paths(root: Path, config: RelkitConfig) -> CheckResult:
    """Every configured path is relative and, through symlinks, stays inside its root.

    Nothing is read: a path that resolves outside is refused before any command opens it.
    GitOps edit paths are checked as text here; the clone is checked where it is edited.
    """
    problems: list[str] = []
    for key, value, where in path_settings(config):
        if where != "repository":
            problem = lexical_problem(value)
            if problem is not None:
                problems.append(f"{key} {value!r}: {problem}")
            continue
        try:
            resolve_inside(root, value, key=key)
        except PathError as error:
            problems.append(error.message)
    if not problems:
        return CheckResult("paths", "ok", f"{len(path_settings(config))} configured paths inside")
    count = f"{len(problems)} configured path{'s' if len(problems) != 1 else ''}"
    return CheckResult("paths", "failed", f"{count} refused: {problems[0]}", tuple(problems))


def _config_source(root: Path) -> str:
    if (root / "relkit.toml").is_file():
        return "relkit.toml"
    if (root / "pyproject.toml").is_file():
        return "pyproject.toml"
    return "defaults (no relkit.toml)"


# ---------------------------------------------------------------------------------- charts

LintRunner = Callable[[str, Path], list[str]]  # (helm backend kind, chart dir) → warnings


def _helm_lint(kind: str, chart_dir: Path) -> list[str]:
    from relkit.adapters.helm import helm_backend

    backend = helm_backend("cli" if kind == "cli" else "sdk")
    return [str(f) for f in backend.lint(chart_dir) if f.severity == "warning"]


def check_charts(
    root: Path, config: RelkitConfig, lint: LintRunner = _helm_lint
) -> list[CheckResult]:
    """Every configured chart passes Helm's own linter: errors fail, warnings are shown."""
    results = []
    charts = [*config.charts, *(c for component in config.components for c in component.charts)]
    for chart in charts:
        name = f"helm lint {chart.path}"
        try:
            # Helm follows links: a values.yaml linked outside would be read by the linter.
            chart_dir = dir_inside(root, chart.path, key="charts[].path")
        except PathError as error:
            results.append(CheckResult(name, "failed", error.message))
            continue
        if not (chart_dir / "Chart.yaml").is_file():
            results.append(CheckResult(name, "failed", f"{chart.path}/Chart.yaml does not exist"))
            continue
        try:
            warnings = lint(chart.helm, chart_dir)
        except RelkitError as error:
            results.append(CheckResult(name, "failed", error.message))
            continue
        if warnings:
            count = f"{len(warnings)} warning{'s' if len(warnings) != 1 else ''}"
            results.append(CheckResult(name, "warning", count, tuple(warnings)))
        else:
            results.append(CheckResult(name, "ok", "no findings"))
    return results


# --------------------------------------------------------------------------------- bundles

# Stands for "the registry knows this image" when --resolve is not given: the structure is
# checked (compose parses, release images are used, written pins are well formed), no lookup.
_OFFLINE_DIGEST = "sha256:" + "0" * 64


def offline_resolver(references: Iterable[str]) -> Mapping[str, str]:
    """A resolver that makes no request: pinned references keep their digest."""
    return {ref: split_digest(ref)[1] or _OFFLINE_DIGEST for ref in references}


def check_bundles(
    root: Path, config: RelkitConfig, plan: ReleasePlan, resolver: Resolver | None
) -> tuple[list[CheckResult], list[ImagePin]]:
    """Each bundle's compose file parses and every image it will pin is pinnable; returns the
    pins too (placeholder digests without a resolver) for the dry run.

    With a resolver (`--resolve`), every image that must already exist is looked up in its
    registry (read-only); the release's own images (`bundles[].images`) are built at tag
    time, so they are never looked up, and they are named by their template: the plan's
    version may be a placeholder when nothing is releasable yet."""
    results = []
    pins: dict[str, ImagePin] = {}
    for bundle in config.bundles:
        name = f"compose {bundle.name}"
        try:
            built = dict(zip(release_image_references(bundle, plan), bundle.images, strict=True))
            source = dir_inside(root, bundle.path, key="bundles[].path")
            pinned = pin_bundle_images(bundle, plan, source, _existing_only(resolver, set(built)))
        except RelkitError as error:
            results.append(CheckResult(name, "failed", error.message))
            continue
        for pin in pinned.pins:
            pins.setdefault(pin.reference, pin)
        existing = [p for p in pinned.pins if p.reference not in built]
        details = tuple(p.pinned if resolver else p.reference for p in existing)
        details += tuple(
            f"{built[p.reference]} (built by the release)"
            for p in pinned.pins
            if p.reference in built
        )
        how = "resolved" if resolver else "pinnable (not looked up; --resolve does)"
        summary = f"{pinned.file_name}: {len(existing)} image(s) {how}"
        if len(existing) < len(pinned.pins):
            summary += f", {len(pinned.pins) - len(existing)} built by the release"
        results.append(CheckResult(name, "ok", summary, details))
    return results, sorted(pins.values(), key=lambda pin: pin.reference)


def _existing_only(resolver: Resolver | None, built: set[str]) -> Resolver:
    """`resolver` for the images that must exist; the release's own images, which do not
    exist before the tag, get the offline placeholder digest."""

    def resolve(references: Iterable[str]) -> Mapping[str, str]:
        wanted = list(references)
        found = dict(offline_resolver(r for r in wanted if r in built))
        others = [r for r in wanted if r not in built]
        if others:
            found.update((resolver or offline_resolver)(others))
        return found

    return resolve


# --------------------------------------------------------------------------------- commits


def _problem(commit: ConventionalCommit, config: RelkitConfig) -> str | None:
    """Why a commit is not a Conventional Commit under this config, or None."""
    if not commit.conventional:
        return f"not a Conventional Commit: expected {EXPECTED_HEADER}"
    if commit.type not in config.commit_types:
        known = ", ".join(sorted(config.commit_types))
        return f"type {commit.type!r} is not one of the configured types ({known})"
    return None


def _bump_sentence(commits: Sequence[ConventionalCommit], config: RelkitConfig) -> str:
    decision = decide_bump(commits, dict(config.commit_types))
    if decision.level is BumpLevel.NONE:
        return "this releases nothing on its own"
    first = decision.reasons[0]
    return f"this releases as a {decision.level.label} ({first.header})"


def _named(commit: ConventionalCommit) -> str:
    """The commit as a reader finds it: by sha and subject; a squashed message by its place
    in the squash (`bullet 3 of 27f841a 'feat(server): ...'`) and its own header."""
    if commit.bullet is not None and commit.squash_header is not None:
        return (
            f"bullet {commit.bullet} of {commit.short_sha} {commit.squash_header!r}: "
            f"{commit.header!r}"
        )
    return f"{commit.short_sha} {commit.header!r}"


def range_commits(root: Path | HistorySnapshot, revision_range: str) -> list[RawCommit]:
    """The commits of `revision_range`, read once per snapshot.

    `relkit check --comment` needs them twice (the commit check, the preview's notes): the
    second reader gets the first one's answer, or its error, without another `git log`."""
    history = snapshot_of(root)

    def read() -> tuple[RawCommit, ...] | RelkitError:
        try:
            return tuple(history.read_commits((revision_range,)))
        except RelkitError as error:
            return error

    found = history.memo(f"check.range_commits:{revision_range}", read)
    if isinstance(found, RelkitError):
        raise found
    return list(found)


def check_commits(
    root: Path | HistorySnapshot, config: RelkitConfig, revision_range: str
) -> CheckResult:
    """Every commit of the range is conventional under the config; says the bump they cause.

    The number of commits that are not conventional is the one `relkit version --json` gives
    as `non_conventional` (issue 16); entries of a configured-out type are counted apart."""
    name = f"commits {revision_range}"
    try:
        raws = range_commits(root, revision_range)
    except RelkitError as error:
        return CheckResult(name, "failed", error.message)
    commits = parse_commits(raws, config.exclude_patterns)
    problems = [
        f"{_named(commit)}: {reason}"
        for commit in commits
        if (reason := _problem(commit, config)) is not None
    ]
    count = len({c.sha for c in commits})
    if problems:
        not_conventional = count_non_conventional(commits)
        unknown = len(problems) - not_conventional
        counts = []
        if not_conventional:
            counts.append(f"{not_conventional} of {count} commit(s) not conventional")
        if unknown:
            counts.append(f"{unknown} entr{'y' if unknown == 1 else 'ies'} of an unknown type")
        return CheckResult(name, "failed", f"{', '.join(counts)}: {problems[0]}", tuple(problems))
    if not commits:
        return CheckResult(name, "ok", "no commits to check (merges and excluded only)")
    return CheckResult(
        name, "ok", f"{count} commit(s), all conventional; {_bump_sentence(commits, config)}"
    )


def check_title(config: RelkitConfig, title: str) -> CheckResult:
    """The PR title (what a squash merge commits) is conventional under the config."""
    message = parse_message(title)
    commit = ConventionalCommit(
        sha="title",
        type=message.type,
        scope=message.scope,
        subject=message.subject,
        body="",
        breaking=message.breaking,
        breaking_descriptions=message.breaking_descriptions,
        footers=(),
        conventional=message.conventional,
        author=_NOBODY,
        committed_at=datetime.fromtimestamp(0, UTC),
        header=message.header,
    )
    reason = _problem(commit, config)
    if reason:
        return CheckResult("title", "failed", f"{title!r}: {reason}")
    return CheckResult("title", "ok", f"conventional; {_bump_sentence([commit], config)}")


# ---------------------------------------------------------------------------- release plan


def check_release_plan(
    root: Path | HistorySnapshot, config: RelkitConfig
) -> tuple[CheckResult, ReleasePlan]:
    """`relkit release --dry-run` of the next version gets its plan: version, notes, previous.

    Returns the plan (or a placeholder 0.0.0 plan when nothing is releasable) for the bundle
    checks, which pin images against it."""
    name = "release plan"
    history = snapshot_of(root)
    try:
        info = plan_release(history, config)
    except NothingToRelease as nothing:
        return CheckResult(name, "skipped", nothing.message), _placeholder_plan(history)
    except RelkitError as error:
        return CheckResult(name, "failed", error.message), _placeholder_plan(history)
    plan = plan_of(info)
    previous = info.previous_tag or "none"
    return CheckResult(name, "ok", f"next release {info.tag} (previous: {previous})"), plan


def _placeholder_plan(history: HistorySnapshot) -> ReleasePlan:
    head = history.resolve("HEAD") or "0" * 40
    return ReleasePlan(
        version=Version(0, 0, 0),
        tag="v0.0.0",
        commit=head,
        committed_at=datetime.fromtimestamp(0, UTC),
        previous_tag=None,
        notes="",
    )


def check_release_dry_run(
    root: Path,
    config: RelkitConfig,
    plan: ReleasePlan,
    pins: Sequence[ImagePin],
    env: Mapping[str, str],
) -> CheckResult:
    """`relkit release --dry-run` of the next version: every step describes what it would do.

    That renders the promotion edits' values, the chart and bundle names and the release's
    target, so a config error a release would only meet at publish time fails the PR."""
    import io
    import tempfile

    from relkit.core.reporting import PlainReporter
    from relkit.release.pipeline import PublishOptions, StepContext, run_pipeline
    from relkit.release.step_list import STEPS

    name = "release --dry-run"
    repository = config.github.repository or env.get("GITHUB_REPOSITORY") or None
    planned = replace(plan, images=tuple(pins), repository=repository)
    with tempfile.TemporaryDirectory(prefix="relkit-check-") as work:
        context = StepContext(
            plan=planned,
            config=config,
            root=root,
            dist_dir=root / config.dist_dir,
            work_dir=Path(work),
            options=PublishOptions(forge=config.github.forge),
            env=dict(env),
        )
        try:
            result = run_pipeline(STEPS, context, PlainReporter(io.StringIO()), dry_run=True)
        except RelkitError as error:
            return CheckResult(name, "failed", error.message)
    steps = [record.name for record in result.records]
    return CheckResult(name, "ok", f"{plan.tag}: {', '.join(steps)} described")


# ------------------------------------------------------------------------------ components


def changed_files(root: Path, revision_range: str) -> set[str]:
    """Paths touched by the commits of the range (what a PR changes)."""
    return git_history.changed_paths(root, revision_range)


def changed_components(config: RelkitConfig, paths: set[str]) -> list[ComponentConfig]:
    """The components whose paths hold at least one of `paths`, in config order."""

    def touches(component: ComponentConfig) -> bool:
        prefixes = [p.strip("/") for p in component.paths]
        return any(
            path == prefix or path.startswith(prefix + "/") or prefix in ("", ".")
            for path in paths
            for prefix in prefixes
        )

    return [c for c in config.components if touches(c)]
