"""Typed configuration with every default in one place.

Where it comes from: `relkit.toml` at the repository root, or `[tool.relkit]` in
`pyproject.toml`. A dedicated `relkit.toml` is explicit, so it wins; when both hold relkit
settings we refuse rather than silently ignore one of them. Unknown keys and wrong types are
a one-line `ConfigError` naming the file and the key.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from relkit.core.errors import ConfigError
from relkit.core.structured import DocumentError, Limits, load_toml, read_text
from relkit.core.tag_format import TagFormat

__all__ = [
    "DEFAULT_COMMIT_TYPES",
    "BundleConfig",
    "ChangelogConfig",
    "ChartConfig",
    "CommitType",
    "ComponentConfig",
    "GitHubConfig",
    "ImagesConfig",
    "PromoteConfig",
    "PromoteEdit",
    "PromoteEnvironment",
    "ReleasePrConfig",
    "RelkitConfig",
    "SigningConfig",
    "VersionFile",
    "compile_pattern",
    "load_config",
]

Bump = Literal["major", "minor", "patch", "none"]


def compile_pattern(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """Compile a regular expression from the config; any failure is one `ValueError` line."""
    try:
        return re.compile(pattern, flags)
    except re.error as exc:
        reason = exc.msg
    except OverflowError as exc:  # a{4294967296}
        reason = str(exc)
    except RecursionError:  # thousands of nested groups
        reason = "too deeply nested"
    shown = pattern if len(pattern) <= 60 else pattern[:57] + "..."
    raise ValueError(f"invalid regular expression {shown!r}: {reason}")


def _regex(pattern: str) -> str:
    compile_pattern(pattern)
    return pattern


# Each pattern is checked, and later matched, on its own: joined into one alternation, a
# global flag such as `(?i)` or a group name used twice would break every command (issue 8).
Regex = Annotated[str, AfterValidator(_regex)]


class _Section(BaseModel):
    # Frozen: the config is read once and shared; forbid: a typo is an error, not a no-op.
    model_config = ConfigDict(extra="forbid", frozen=True)


class CommitType(_Section):
    """How one conventional-commit type is shown and how far it bumps the version."""

    section: str | None = None  # None: never shown in the changelog
    bump: Bump = "none"


DEFAULT_COMMIT_TYPES: dict[str, CommitType] = {
    "feat": CommitType(section="Features", bump="minor"),
    "fix": CommitType(section="Bug Fixes", bump="patch"),
    "perf": CommitType(section="Performance", bump="patch"),
    "revert": CommitType(section="Reverts", bump="patch"),
    "refactor": CommitType(section="Refactoring"),
    "docs": CommitType(section="Documentation"),
    "build": CommitType(section="Build"),
    "deps": CommitType(section="Dependencies", bump="patch"),
    "ci": CommitType(section=None),
    "test": CommitType(section=None),
    "style": CommitType(section=None),
    "chore": CommitType(section=None),
}


class VersionFile(_Section):
    """A file whose version is bumped by `relkit cut`.

    Exactly one of `key` (a dotted key path in a YAML or TOML file, by extension) or
    `pattern` (a regular expression with a named group `version`) says where.
    """

    path: str
    key: str | None = None
    pattern: str | None = None

    @model_validator(mode="after")
    def _one_locator(self) -> VersionFile:
        if (self.key is None) == (self.pattern is None):
            raise ValueError("set exactly one of 'key' or 'pattern'")
        if self.pattern is not None:
            compiled = compile_pattern(self.pattern, re.MULTILINE)
            if "version" not in compiled.groupindex:
                raise ValueError("'pattern' needs a named group (?P<version>...)")
        return self


class ChangelogConfig(_Section):
    file: str = "CHANGELOG.md"
    mode: Literal["update", "init"] = "update"
    template_dir: str | None = None  # templates here override the shipped ones by name
    other_commits: Literal["list", "drop"] = "list"  # non-conventional commits
    # "fold": a pre-release reached by a higher final release has no section of its own
    # (its commits are in the final's); "own": every pre-release tag has its section.
    prereleases: Literal["fold", "own"] = "fold"


class ChartConfig(_Section):
    path: str  # chart directory (holds Chart.yaml)
    registry: str  # oci://host[:port]/path
    set_version: bool = True
    set_app_version: bool = True
    image: str | None = None  # bundle image whose digest pins the chart's default image
    image_values_key: str | None = None  # e.g. "image.digest"
    helm: Literal["sdk", "cli"] = "sdk"

    @field_validator("registry")
    @classmethod
    def _oci(cls, value: str) -> str:
        if not value.startswith("oci://"):
            raise ValueError("must start with oci://")
        return value.rstrip("/")


class BundleConfig(_Section):
    name: str
    path: str  # bundles/<name>/ with compose.yaml
    registry: str | None = None  # oci://host/path; None: only written to dist/
    images: list[str] = Field(default_factory=list)  # images released with this version

    @field_validator("registry")
    @classmethod
    def _oci(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("oci://"):
            raise ValueError("must start with oci://")
        return value.rstrip("/") if value else value


class SigningConfig(_Section):
    mode: Literal["keyless", "key", "none"] = "keyless"
    key_file: str | None = None
    key_env: str = "RELKIT_SIGNING_KEY"  # PEM key in this environment variable
    key_password_env: str = "RELKIT_SIGNING_KEY_PASSWORD"


class ImagesConfig(_Section):
    """The signed-image gate: who must have signed every image a release pins."""

    verify: bool = False  # check signatures in the plan (and `relkit verify --images`)
    identity: str | None = None  # exact certificate identity, e.g. the merge workflow on main
    identity_regexp: str | None = None  # or a regexp over it (unanchored, like cosign's)
    issuer: str = "https://token.actions.githubusercontent.com"
    source_repository: str | None = None  # owner/name the signing run must belong to
    source_ref: str | None = None  # e.g. "refs/heads/main"; unset: any ref
    require_provenance: bool = False  # also require SLSA provenance from the same signer

    @model_validator(mode="after")
    def _one_identity(self) -> ImagesConfig:
        if self.verify and (self.identity is None) == (self.identity_regexp is None):
            raise ValueError("with verify = true set exactly one of identity or identity_regexp")
        if self.identity_regexp is not None:
            try:
                re.compile(self.identity_regexp)
            except re.error as exc:
                raise ValueError(f"invalid identity_regexp: {exc}") from exc
        return self


class GitHubConfig(_Section):
    repository: str | None = None  # owner/name; default: $GITHUB_REPOSITORY
    # None: $GITHUB_API_URL (set by GitHub Actions, also on Enterprise Server), else github.com
    api_url: str | None = None
    forge: Literal["github", "none"] = "github"


class PromoteEdit(_Section):
    """One change in the GitOps repository.

    `value` is a template over the release plan: {version}, {tag}, {chart_version},
    {digest:IMAGE} and {image:IMAGE} (the digest-pinned reference).
    """

    file: str
    kind: Literal["helm-values", "kustomize", "yaml"] = "helm-values"
    key: str | None = None  # dotted key path for helm-values / yaml
    image: str | None = None  # kustomize images[].name to edit
    value: str = "{digest}"


class PromoteEnvironment(_Section):
    """One more environment `relkit promote NAME` can move (`[[promote.environments]]`).

    Unset keys take the `[promote]` value, so an environment usually only names its edits."""

    name: str
    edits: list[PromoteEdit]
    base: str | None = None
    branch: str | None = None
    labels: list[str] | None = None
    reviewers: list[str] | None = None


class PromoteConfig(_Section):
    repository: str  # owner/name of the GitOps repository
    url: str | None = None  # git URL; default https://github.com/<repository>.git
    base: str = "main"
    environment: str = "staging"  # what `relkit release` promotes, with `edits`
    branch: str = "relkit/promote-{environment}-{version}"
    labels: list[str] = Field(default_factory=list)
    reviewers: list[str] = Field(default_factory=list)
    token_env: str = "RELKIT_GITOPS_TOKEN"
    edits: list[PromoteEdit] = Field(default_factory=list)
    environments: list[PromoteEnvironment] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_environments(self) -> PromoteConfig:
        names = [self.environment, *(e.name for e in self.environments)]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"environment {duplicates[0]!r} is configured twice")
        return self

    @property
    def environment_names(self) -> list[str]:
        return [self.environment, *(e.name for e in self.environments)]

    def for_environment(self, name: str) -> PromoteConfig:
        """This config as it applies to environment `name` (its edits, branch, labels...)."""
        if name == self.environment:
            return self
        found = next((e for e in self.environments if e.name == name), None)
        if found is None:
            raise KeyError(name)
        update: dict[str, Any] = {"environment": name, "edits": found.edits, "environments": []}
        for key in ("base", "branch", "labels", "reviewers"):
            value = getattr(found, key)
            if value is not None:
                update[key] = value
        return self.model_copy(update=update)


class ComponentConfig(_Section):
    """A monorepo component: its own paths, tags, changelog, version files, and what
    `relkit release` publishes for its tags (charts, bundles, promotion)."""

    name: str
    paths: list[str]
    tag_prefix: str  # e.g. "api/" gives tags "api/v1.2.0"
    changelog_file: str | None = None
    version_files: list[VersionFile] = Field(default_factory=list)
    charts: list[ChartConfig] = Field(default_factory=list)
    bundles: list[BundleConfig] = Field(default_factory=list)
    promote: PromoteConfig | None = None


class ReleasePrConfig(_Section):
    """`relkit cut --pr` and `relkit tag`: the release PR's branch and the label of a tagged one."""

    branch: str = "relkit/release"
    component_branch: str = "relkit/release-{component}"
    released_label: str = "relkit: released"

    @field_validator("component_branch")
    @classmethod
    def _has_component(cls, value: str) -> str:
        if "{component}" not in value:
            raise ValueError("must contain {component}")
        return value

    def branch_for(self, component: str | None) -> str:
        return (
            self.branch
            if component is None
            else self.component_branch.replace("{component}", component)
        )


class RelkitConfig(_Section):
    tag_format: str = "v{version}"
    release_branches: list[str] = Field(default_factory=lambda: ["main", "master"])
    major_on_zero: bool = False
    prerelease_token: str = "rc"
    exclude_patterns: list[Regex] = Field(default_factory=lambda: [r"^chore\(release\):"])
    commit_types: dict[str, CommitType] = Field(default_factory=lambda: dict(DEFAULT_COMMIT_TYPES))
    repository_url: str | None = None  # for links; default derived from the origin remote
    changelog: ChangelogConfig = Field(default_factory=ChangelogConfig)
    version_files: list[VersionFile] = Field(default_factory=list)
    components: list[ComponentConfig] = Field(default_factory=list)
    charts: list[ChartConfig] = Field(default_factory=list)
    bundles: list[BundleConfig] = Field(default_factory=list)
    signing: SigningConfig = Field(default_factory=SigningConfig)
    images: ImagesConfig = Field(default_factory=ImagesConfig)
    github: GitHubConfig = Field(default_factory=GitHubConfig)
    promote: PromoteConfig | None = None
    release_pr: ReleasePrConfig = Field(default_factory=ReleasePrConfig)
    dist_dir: str = "dist"

    @field_validator("tag_format")
    @classmethod
    def _has_version(cls, value: str) -> str:
        if "{version}" not in value:
            raise ValueError("must contain {version}")
        return value

    def component(self, name: str) -> ComponentConfig:
        for component in self.components:
            if component.name == name:
                return component
        known = ", ".join(c.name for c in self.components) or "none configured"
        raise ConfigError(f"unknown component {name!r} (known: {known})")

    def release_config(self, component: str | None) -> RelkitConfig:
        """The config `relkit release` publishes with: a component's tag releases that
        component's charts, bundles and promotion only, never the top-level ones."""
        if component is None:
            return self
        found = self.component(component)
        promote = found.promote
        if promote is not None and "branch" not in promote.model_fields_set:
            # Two components promoting the same version must not share a branch (and PR).
            promote = promote.model_copy(
                update={"branch": f"relkit/promote-{found.name}-{{environment}}-{{version}}"}
            )
        return self.model_copy(
            update={"charts": found.charts, "bundles": found.bundles, "promote": promote}
        )

    def component_of_tag(self, tag: str) -> str | None:
        """The component whose tags look like `tag` (`api/v1.2.0` → "api"), or None."""

        if TagFormat(self.tag_format).parse(tag) is not None:
            return None  # the project's own tag format wins over a component's empty prefix
        for component in self.components:
            if TagFormat(self.tag_format, component.tag_prefix).parse(tag) is not None:
                return component.name
        return None

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=False)


def _error_location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def parse_config(data: dict[str, Any], source: str) -> RelkitConfig:
    """Validate raw settings; `source` names the file (and table) in error messages."""
    try:
        return RelkitConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = _error_location(tuple(first["loc"])) or "(top level)"
        reason = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ConfigError(f"{source}: {where}: {reason}{more}") from None


# A config file is small; 1 MiB is far above any real one (pyproject.toml included).
_CONFIG_LIMITS = Limits(max_bytes=1024 * 1024)


def _read_toml(path: Path) -> dict[str, Any]:
    """The file's TOML, bounded (size, nesting, UTF-8); every failure is one `ConfigError`."""
    try:
        return load_toml(read_text(path, source=path.name, limits=_CONFIG_LIMITS), source=path.name)
    except DocumentError as exc:
        raise ConfigError(exc.message, hint=exc.hint) from None


def _table(data: dict[str, Any], key: str, source: str, where: str) -> dict[str, Any] | None:
    """`data[key]` when it is a table, None when absent; anything else is a `ConfigError`."""
    value = data.get(key)
    if value is None or isinstance(value, dict):
        return value
    raise ConfigError(f"{source}: {where}: not a table (found {type(value).__name__})")


def _pyproject_relkit(data: dict[str, Any]) -> dict[str, Any] | None:
    tool = _table(data, "tool", "pyproject.toml", "tool")
    return None if tool is None else _table(tool, "relkit", "pyproject.toml", "tool.relkit")


def load_config(root: Path, explicit: Path | None = None) -> RelkitConfig:
    """Load the effective configuration for the repository at `root`."""
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"config file {explicit} does not exist")
        data = _read_toml(explicit)
        if explicit.name == "pyproject.toml":
            return parse_config(_pyproject_relkit(data) or {}, "pyproject.toml [tool.relkit]")
        return parse_config(data, explicit.name)
    relkit_toml = root / "relkit.toml"
    pyproject = root / "pyproject.toml"
    from_pyproject: dict[str, Any] | None = None
    if pyproject.is_file():
        from_pyproject = _pyproject_relkit(_read_toml(pyproject))
    if relkit_toml.is_file():
        if from_pyproject is not None:
            raise ConfigError(
                "both relkit.toml and [tool.relkit] in pyproject.toml hold relkit settings",
                hint="keep one of them",
            )
        return parse_config(_read_toml(relkit_toml), "relkit.toml")
    if from_pyproject is not None:
        return parse_config(from_pyproject, "pyproject.toml [tool.relkit]")
    return RelkitConfig()
