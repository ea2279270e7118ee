"""Typed configuration with every default in one place.

Where it comes from: `relkit.toml` at the repository root, or `[tool.relkit]` in
`pyproject.toml`. A dedicated `relkit.toml` is explicit, so it wins; when both hold relkit
settings we refuse rather than silently ignore one of them. Unknown keys and wrong types are
a one-line `ConfigError` naming the file and the key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from relkit.core.errors import ConfigError
from relkit.core.paths import lexical_problem
from relkit.core.settings import (
    Check,
    Section,
    SettingError,
    SettingsInvalid,
    location,
    setting,
)
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
    "check_directories",
    "compile_pattern",
    "load_config",
    "path_problems",
    "path_settings",
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


def _oci_registry(value: str | None) -> str | None:
    if value is not None and not value.startswith("oci://"):
        raise ValueError("must start with oci://")
    return value.rstrip("/") if value else value


def _placeholder(name: str) -> Callable[[str], str]:
    """A check that `{name}` is in the value (a tag format, a branch name)."""

    def check(value: str) -> str:
        if "{" + name + "}" not in value:
            raise ValueError("must contain {" + name + "}")
        return value

    return check


def _app_version_format(value: str) -> str:
    if "{version}" not in value or value.replace("{version}", "").count("{"):
        raise ValueError('must contain {version} and no other placeholder, e.g. "v{version}"')
    return value


# Each pattern is checked, and later matched, on its own: joined into one alternation, a
# global flag such as `(?i)` or a group name used twice would break every command (issue 8).
Regex = Annotated[str, Check(_regex)]


class CommitType(Section):
    """How one conventional-commit type is shown and how far it bumps the version."""

    section: str | None = setting(
        default=None,
        description="Changelog heading for commits of this type; unset: never shown.",
        examples=["Features"],
    )
    bump: Bump = setting(
        default="none",
        description="How far a commit of this type bumps the next version.",
        examples=["minor"],
    )


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


class VersionFile(Section):
    """A file whose version is bumped by `relkit cut`.

    Exactly one of `key` (a dotted key path in a YAML or TOML file, by extension) or
    `pattern` (a regular expression with a named group `version`) says where.
    """

    path: str = setting(
        description="The file, relative to the repository root.",
        examples=["charts/web/Chart.yaml"],
    )
    key: str | None = setting(
        default=None,
        description="Dotted key path in a YAML or TOML file (by extension); "
        "set exactly one of key and pattern.",
        examples=["appVersion"],
    )
    pattern: str | None = setting(
        default=None,
        description="Regular expression with a named group `version`; "
        "set exactly one of key and pattern.",
        examples=['__version__ = "(?P<version>[^"]+)"'],
    )

    def _check(self) -> None:
        if (self.key is None) == (self.pattern is None):
            raise ValueError("set exactly one of 'key' or 'pattern'")
        if self.pattern is not None:
            compiled = compile_pattern(self.pattern, re.MULTILINE)
            if "version" not in compiled.groupindex:
                raise ValueError("'pattern' needs a named group (?P<version>...)")


class ChangelogConfig(Section):
    """The changelog file `relkit changelog` and `relkit cut` write."""

    file: str = setting(
        default="CHANGELOG.md",
        description="The changelog file, relative to the repository root.",
        examples=["docs/CHANGELOG.md"],
    )
    mode: Literal["update", "init"] = setting(
        default="update",
        description="update: insert new releases above the existing ones; "
        "init: rewrite the whole file from the history.",
        examples=["init"],
    )
    template_dir: str | None = setting(
        default=None,
        description="Directory whose Jinja2 templates override the shipped ones by name.",
        examples=[".relkit/templates"],
    )
    other_commits: Literal["list", "drop"] = setting(
        default="list",
        description="Non-conventional commits: listed under 'Other', or dropped.",
        examples=["drop"],
    )
    # "fold": a pre-release reached by a higher final release has no section of its own
    # (its commits are in the final's); "own": every pre-release tag has its section.
    prereleases: Literal["fold", "own"] = setting(
        default="fold",
        description="fold: a pre-release followed by its final release has no section of "
        "its own (its commits are in the final's); own: every pre-release tag has one.",
        examples=["own"],
    )
    # "@org/team" in commit text: "code" renders it as `@org/team` so publishing the notes
    # (GitHub Release, promotion PR) pings nobody; "keep" leaves the mention live (issue 15).
    mentions: Literal["code", "keep"] = setting(
        default="code",
        description="code: an @mention in commit text is shown as code, so publishing the "
        "notes pings nobody; keep: mentions stay live.",
        examples=["keep"],
    )
    # A squash merge whose title is a Conventional Commit: "title" lists the title alone (its
    # bullets still count for the version, breaking changes and reverts), "split" lists every
    # conventional bullet too (issue 16; docs/maintainers/squash-merges.md).
    squash_bullets: Literal["title", "split"] = setting(
        default="title",
        description="A squash merge with a conventional title: title lists the title alone "
        "(its bullets still count for the version, breaking changes and reverts); split lists "
        "every conventional bullet too.",
        examples=["split"],
    )
    # Contributors: GitHub bots ("[bot]" names, their noreply addresses) are left out unless
    # "list"; anyone whose name or e-mail address one of these patterns finds is left out.
    bot_contributors: Literal["drop", "list"] = setting(
        default="drop",
        description="GitHub bots ('[bot]' names, their noreply addresses) among the "
        "contributors: left out (drop), or listed.",
        examples=["list"],
    )
    exclude_contributors: list[Regex] = setting(
        default_factory=list,
        description="Contributors whose name or e-mail address one of these regular "
        "expressions finds are left out.",
        examples=[["^renovate", "@acme-robots\\.example$"]],
    )


class ChartConfig(Section):
    path: str = setting(
        description="The chart directory (holds Chart.yaml), relative to the repository root.",
        examples=["charts/web"],
    )
    registry: str = setting(
        description="OCI registry the chart is pushed to, as oci://host[:port]/path.",
        examples=["oci://ghcr.io/acme/charts"],
        check=_oci_registry,
    )
    set_version: bool = setting(
        default=True,
        description="Set Chart.yaml's version to the release version.",
        examples=[False],
    )
    set_app_version: bool = setting(
        default=True,
        description="Set Chart.yaml's appVersion to the release version.",
        examples=[False],
    )
    app_version_format: str = setting(
        default="{version}",
        description='How appVersion is written from the release version: "v{version}" for '
        "charts whose image tag is the appVersion and whose images are tagged v1.2.3.",
        examples=["v{version}"],
        check=_app_version_format,
    )
    image: str | None = setting(
        default=None,
        description="A release image (from bundles[].images) whose digest pins the chart's "
        "default image.",
        examples=["ghcr.io/acme/web"],
    )
    image_values_key: str | None = setting(
        default=None,
        description="The values.yaml key (dotted path) that receives the image's digest.",
        examples=["image.digest"],
    )
    helm: Literal["sdk", "cli"] = setting(
        default="sdk",
        description="sdk: the embedded Helm Go SDK; cli: run the helm binary.",
        examples=["cli"],
    )

    def app_version(self, version: str) -> str:
        return self.app_version_format.replace("{version}", version)


def _file_name(value: str) -> str:
    # Names become file and directory names in dist/ (`NAME-VERSION.tar.gz`, dist/<component>/):
    # one plain path segment, so a name cannot write outside the output directory (issue 15).
    if not _FILE_NAME.fullmatch(value) or ".." in value:
        raise ValueError("must be a plain name: letters, digits, '.', '_' or '-', no '/'")
    return value


_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
FileName = Annotated[str, Check(_file_name)]


class BundleConfig(Section):
    name: FileName = setting(
        description="The bundle's name: the archive is NAME-VERSION.tar.gz.", examples=["acme"]
    )
    path: str = setting(
        description="The bundle directory (holds the compose file), relative to the "
        "repository root.",
        examples=["bundles/example"],
    )
    registry: str | None = setting(
        default=None,
        description="OCI registry the bundle is pushed to (oci://host/path); "
        "unset: only written to the dist directory.",
        examples=["oci://ghcr.io/acme/bundles"],
        check=_oci_registry,
    )
    images: list[str] = setting(
        default_factory=list,
        description="Images released with this version ({version} is replaced); "
        "pinned by digest in the bundle.",
        examples=[["ghcr.io/acme/web:{version}"]],
    )


class SigningConfig(Section):
    """How bundles and attestations are signed."""

    mode: Literal["keyless", "key", "none"] = setting(
        default="keyless",
        description="keyless: Sigstore with the workflow's OIDC identity; key: an ECDSA P-256 "
        "key; none: unsigned.",
        examples=["key"],
    )
    key_file: str | None = setting(
        default=None,
        description="Key mode: a PEM EC P-256 private key file; unset: the key_env variable.",
        examples=["cosign.key"],
    )
    key_env: str = setting(
        default="RELKIT_SIGNING_KEY",
        description="Key mode: the environment variable holding the PEM private key.",
        examples=["RELEASE_SIGNING_KEY"],
    )
    key_password_env: str = setting(
        default="RELKIT_SIGNING_KEY_PASSWORD",
        description="Key mode: the environment variable holding an encrypted key's password.",
        examples=["RELEASE_SIGNING_KEY_PASSWORD"],
    )


class ImagesConfig(Section):
    """The signed-image gate: who must have signed every image a release pins."""

    verify: bool = setting(
        default=False,
        description="Check every pinned image's signature in the release plan "
        "(and in `relkit verify --images`).",
        examples=[True],
    )
    identity: str | None = setting(
        default=None,
        description="The exact certificate identity that must have signed the images.",
        examples=["https://github.com/acme/shop/.github/workflows/build.yml@refs/heads/main"],
    )
    identity_regexp: str | None = setting(
        default=None,
        description="Or a regular expression over the identity (unanchored, like cosign's).",
        examples=[r"^https://github\.com/acme/.+/\.github/workflows/build\.yml@refs/heads/main$"],
    )
    issuer: str = setting(
        default="https://token.actions.githubusercontent.com",
        description="The OIDC issuer of the signing certificate.",
        examples=["https://token.actions.githubusercontent.com"],
    )
    source_repository: str | None = setting(
        default=None,
        description="owner/name the signing workflow run must belong to (Fulcio extension).",
        examples=["acme/shop"],
    )
    source_ref: str | None = setting(
        default=None,
        description="The git ref the signing run must have run on; unset: any ref.",
        examples=["refs/heads/main"],
    )
    require_provenance: bool = setting(
        default=False,
        description="Also require SLSA provenance from the same signer.",
        examples=[True],
    )

    def _check(self) -> None:
        if self.verify and (self.identity is None) == (self.identity_regexp is None):
            raise ValueError("with verify = true set exactly one of identity or identity_regexp")
        if self.identity_regexp is not None:
            try:
                re.compile(self.identity_regexp)
            except re.error as exc:
                raise ValueError(f"invalid identity_regexp: {exc}") from exc


class GitHubConfig(Section):
    """Where the GitHub Release is created."""

    repository: str | None = setting(
        default=None,
        description="owner/name of the repository; unset: $GITHUB_REPOSITORY.",
        examples=["acme/shop"],
    )
    # None: $GITHUB_API_URL (set by GitHub Actions, also on Enterprise Server), else github.com
    api_url: str | None = setting(
        default=None,
        description="The REST API URL; unset: $GITHUB_API_URL, else https://api.github.com.",
        examples=["https://ghe.example.com/api/v3"],
    )
    forge: Literal["github", "none"] = setting(
        default="github",
        description="github: create the GitHub Release; none: write notes and assets to the "
        "dist directory only.",
        examples=["none"],
    )


class PromoteEdit(Section):
    """One change in the GitOps repository.

    `value` is a template over the release plan: {version}, {tag}, {chart_version},
    {digest:IMAGE} and {image:IMAGE} (the digest-pinned reference).
    """

    file: str = setting(
        description="The file to edit, relative to the GitOps repository root.",
        examples=["envs/staging/values.yaml"],
    )
    kind: Literal["helm-values", "kustomize", "yaml"] = setting(
        default="helm-values",
        description="helm-values or yaml: set `key`; kustomize: edit the images[] entry "
        "named `image`.",
        examples=["kustomize"],
    )
    key: str | None = setting(
        default=None,
        description="Dotted key path (helm-values, yaml; list indexes and [name=x] selectors "
        "for yaml), or the images[] field for kustomize (digest, newTag, newName).",
        examples=["image.digest"],
    )
    image: str | None = setting(
        default=None,
        description="kustomize: the images[].name entry to edit.",
        examples=["ghcr.io/acme/worker"],
    )
    value: str = setting(
        default="{digest}",
        description="Template of the new value: {version}, {tag}, {chart_version}, "
        "{digest:IMAGE}, {image:IMAGE}.",
        examples=["{digest:web}"],
    )


class PromoteEnvironment(Section):
    """One more environment `relkit promote NAME` can move (`[[promote.environments]]`).

    Unset keys take the `[promote]` value, so an environment usually only names its edits."""

    name: str = setting(
        description="The environment's name, for `relkit promote NAME`.", examples=["dev"]
    )
    edits: list[PromoteEdit] = setting(
        description="The changes that promote this environment.",
        examples=[[{"file": "envs/dev/values.yaml", "key": "image.digest"}]],
    )
    base: str | None = setting(
        default=None, description="Branch the PR targets; unset: [promote].base.", examples=["main"]
    )
    branch: str | None = setting(
        default=None,
        description="The PR branch; unset: [promote].branch.",
        examples=["relkit/promote-dev"],
    )
    labels: list[str] | None = setting(
        default=None, description="PR labels; unset: [promote].labels.", examples=[["dev-bump"]]
    )
    reviewers: list[str] | None = setting(
        default=None, description="PR reviewers; unset: [promote].reviewers.", examples=[["carol"]]
    )


class PromoteConfig(Section):
    """The GitOps promotion PR `relkit release` opens (and `relkit promote` for others)."""

    repository: str = setting(
        description="owner/name of the GitOps repository the PR is opened in.",
        examples=["acme/gitops"],
    )
    url: str | None = setting(
        default=None,
        description="Its git URL; unset: $GITHUB_SERVER_URL/<repository>.git.",
        examples=["https://github.com/acme/gitops.git"],
    )
    base: str = setting(
        default="main", description="The branch the PR targets.", examples=["production"]
    )
    environment: str = setting(
        default="staging",
        description="The environment `relkit release` promotes with `edits`.",
        examples=["staging"],
    )
    branch: str = setting(
        default="relkit/promote-{environment}-{version}",
        description="The PR branch: {environment}, {version} and {tag} are replaced.",
        examples=["relkit/promote-{environment}"],
    )
    labels: list[str] = setting(
        default_factory=list, description="Labels put on the PR.", examples=[["promotion"]]
    )
    reviewers: list[str] = setting(
        default_factory=list,
        description="GitHub logins asked to review the PR.",
        examples=[["alice"]],
    )
    token_env: str = setting(
        default="RELKIT_GITOPS_TOKEN",
        description="The environment variable holding the token for the GitOps repository.",
        examples=["GITOPS_TOKEN"],
    )
    edits: list[PromoteEdit] = setting(
        default_factory=list,
        description="The changes that promote `environment`.",
        examples=[[{"file": "envs/staging/values.yaml", "key": "image.digest"}]],
    )
    environments: list[PromoteEnvironment] = setting(
        default_factory=list,
        description="More environments for `relkit promote NAME`; unset keys come from here.",
        examples=[
            [{"name": "dev", "edits": [{"file": "envs/dev/values.yaml", "key": "image.digest"}]}]
        ],
    )

    @classmethod
    def _prepare(cls, data: dict[str, Any]) -> dict[str, Any]:
        """`[promote]` holding only shared settings, with the release's environment
        (`staging`) listed in `[[promote.environments]]`: that entry is the release's."""
        if data.get("edits"):
            return data
        environments = data.get("environments")
        name = data.get("environment", "staging")
        if not isinstance(environments, list):
            return data
        listed = [e for e in environments if isinstance(e, dict) and e.get("name") == name]
        if len(listed) != 1:
            return data  # none, or twice: the validation below says so
        # The other environments take the shared values, not the release environment's own.
        shared = {k: data[k] for k in ("base", "branch", "labels", "reviewers") if k in data}
        others = [
            {**shared, **e} if isinstance(e, dict) else e
            for e in environments
            if e is not listed[0]
        ]
        merged = {key: value for key, value in data.items() if key != "environments"}
        merged.update({key: value for key, value in listed[0].items() if key != "name"})
        merged["environments"] = others
        return merged

    def _check(self) -> None:
        names = [self.environment, *(e.name for e in self.environments)]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"environment {duplicates[0]!r} is configured twice")

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


class ComponentConfig(Section):
    """A monorepo component: its own paths, tags, changelog, version files, and what
    `relkit release` publishes for its tags (charts, bundles, promotion)."""

    name: FileName = setting(
        description="The component's name (`--component NAME`).", examples=["api"]
    )
    paths: list[str] = setting(
        description="Paths whose commits belong to this component.", examples=[["services/api"]]
    )
    tag_prefix: str = setting(
        description="Prefix of the component's tags: api/ gives api/v1.2.0.", examples=["api/"]
    )
    changelog_file: str | None = setting(
        default=None,
        description="The component's changelog; unset: changelog.file inside its first path.",
        examples=["services/api/CHANGELOG.md"],
    )
    version_files: list[VersionFile] = setting(
        default_factory=list,
        description="Files `relkit cut` bumps for this component (the top-level ones are not).",
        examples=[[{"path": "services/api/VERSION", "pattern": "^(?P<version>\\S+)$"}]],
    )
    charts: list[ChartConfig] = setting(
        default_factory=list,
        description="Charts released with this component's tags.",
        examples=[[{"path": "services/api/chart", "registry": "oci://ghcr.io/acme/charts"}]],
    )
    bundles: list[BundleConfig] = setting(
        default_factory=list,
        description="Bundles released with this component's tags.",
        examples=[[{"name": "api", "path": "services/api/bundle"}]],
    )
    promote: PromoteConfig | None = setting(
        default=None,
        description="The promotion this component's releases open.",
        examples=[{"repository": "acme/gitops"}],
    )


class ReleasePrConfig(Section):
    """`relkit cut --pr` and `relkit tag`: the release PR's branch and the label of a tagged one."""

    branch: str = setting(
        default="relkit/release",
        description="Head branch of the project's release PR.",
        examples=["release/next"],
    )
    component_branch: str = setting(
        default="relkit/release-{component}",
        description="Head branch of a component's release PR; must contain {component}.",
        examples=["release/{component}"],
        check=_placeholder("component"),
    )
    released_label: str = setting(
        default="relkit: released",
        description="Label `relkit tag` puts on the release PR it tagged.",
        examples=["released"],
    )

    def branch_for(self, component: str | None) -> str:
        return (
            self.branch
            if component is None
            else self.component_branch.replace("{component}", component)
        )


# What a component's `[components.promote]` takes from `[promote]` when it does not set it.
# Never `edits`, `environment(s)` or `branch` (two components must not share a branch).
_INHERITED_PROMOTE_KEYS = ("repository", "url", "base", "labels", "reviewers", "token_env")


class RelkitConfig(Section):
    """relkit's configuration: `relkit.toml`, or `[tool.relkit]` in `pyproject.toml`."""

    tag_format: str = setting(
        default="v{version}",
        description="How release tags are named; must contain {version}.",
        examples=["{version}"],
        check=_placeholder("version"),
    )
    release_branches: list[str] = setting(
        default_factory=lambda: ["main", "master"],
        description="Branches `relkit cut` and `relkit release` accept (globs allowed).",
        examples=[["main", "release/*"]],
    )
    major_on_zero: bool = setting(
        default=False,
        description="Whether a breaking change before 1.0.0 bumps the major version "
        "(false: the minor).",
        examples=[True],
    )
    prerelease_token: str = setting(
        default="rc", description="The pre-release label of `--pre`: 1.3.0-rc.1.", examples=["beta"]
    )
    exclude_patterns: list[Regex] = setting(
        default_factory=lambda: [r"^chore\(release\):"],
        description="Commit subjects matching any of these regular expressions are ignored.",
        examples=[["^chore\\(release\\):", "(?i)^wip"]],
    )
    commit_types: dict[str, CommitType] = setting(
        default_factory=lambda: dict(DEFAULT_COMMIT_TYPES),
        description="Conventional-commit types: their changelog section and version bump. "
        "Setting this table replaces the defaults.",
        examples=[{"feat": {"section": "Features", "bump": "minor"}}],
    )
    repository_url: str | None = setting(
        default=None,
        description="Web URL for links in the changelog; unset: derived from origin.",
        examples=["https://github.com/acme/shop"],
    )
    changelog: ChangelogConfig = setting(
        default_factory=ChangelogConfig,
        description="The changelog file.",
        examples=[{"file": "docs/CHANGELOG.md"}],
    )
    version_files: list[VersionFile] = setting(
        default_factory=list,
        description="Files whose version `relkit cut` bumps.",
        examples=[[{"path": "pyproject.toml", "key": "project.version"}]],
    )
    components: list[ComponentConfig] = setting(
        default_factory=list,
        description="Monorepo components with their own tags, changelog and artifacts.",
        examples=[[{"name": "api", "paths": ["services/api"], "tag_prefix": "api/"}]],
    )
    charts: list[ChartConfig] = setting(
        default_factory=list,
        description="Helm charts `relkit release` packages and pushes.",
        examples=[[{"path": "charts/web", "registry": "oci://ghcr.io/acme/charts"}]],
    )
    bundles: list[BundleConfig] = setting(
        default_factory=list,
        description="Self-host Compose bundles `relkit release` builds, signs and pushes.",
        examples=[[{"name": "acme", "path": "bundles/example"}]],
    )
    signing: SigningConfig = setting(
        default_factory=SigningConfig,
        description="How releases are signed.",
        examples=[{"mode": "key", "key_env": "RELKIT_SIGNING_KEY"}],
    )
    images: ImagesConfig = setting(
        default_factory=ImagesConfig,
        description="The signed-image gate.",
        examples=[{"verify": True, "identity_regexp": "^https://github\\.com/acme/"}],
    )
    github: GitHubConfig = setting(
        default_factory=GitHubConfig,
        description="The GitHub Release.",
        examples=[{"repository": "acme/shop", "forge": "github"}],
    )
    promote: PromoteConfig | None = setting(
        default=None,
        description="The GitOps promotion PR.",
        examples=[{"repository": "acme/gitops"}],
    )
    release_pr: ReleasePrConfig = setting(
        default_factory=ReleasePrConfig,
        description="`relkit cut --pr` and `relkit tag`: the release PR's branches and label.",
        examples=[{"branch": "relkit/release"}],
    )
    dist_dir: str = setting(
        default="dist",
        description="Where release outputs are written, relative to the repository root.",
        examples=["build/release"],
    )

    @classmethod
    def _prepare(cls, data: dict[str, Any]) -> dict[str, Any]:
        """`[components.promote]` inherits the shared `[promote]` settings, as
        `[[promote.environments]]` do."""
        shared, components = data.get("promote"), data.get("components")
        if not isinstance(shared, dict) or not isinstance(components, list):
            return data
        inherited = {k: shared[k] for k in _INHERITED_PROMOTE_KEYS if k in shared}
        merged = []
        for component in components:
            own = component.get("promote") if isinstance(component, dict) else None
            if isinstance(own, dict):
                component = {**component, "promote": {**inherited, **own}}
            merged.append(component)
        return {**data, "components": merged}

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


def path_settings(config: RelkitConfig) -> list[tuple[str, str, str]]:
    """Every path the config names, as (key, value, root): the root is "repository" (the
    repository root), "gitops" (the GitOps clone) or "dist" (relkit's output directory).

    The one list `load_config` and `relkit check` hold to the path rule (relkit.core.paths).
    """
    found: list[tuple[str, str, str]] = [
        ("changelog.file", config.changelog.file, "repository"),
        ("dist_dir", config.dist_dir, "repository"),
    ]
    if config.changelog.template_dir is not None:
        found.append(("changelog.template_dir", config.changelog.template_dir, "repository"))

    def releasable(prefix: str, owner: RelkitConfig | ComponentConfig) -> None:
        for i, spec in enumerate(owner.version_files):
            found.append((f"{prefix}version_files[{i}].path", spec.path, "repository"))
        for i, chart in enumerate(owner.charts):
            found.append((f"{prefix}charts[{i}].path", chart.path, "repository"))
        for i, bundle in enumerate(owner.bundles):
            found.append((f"{prefix}bundles[{i}].path", bundle.path, "repository"))
        if owner.promote is not None:
            promote(f"{prefix}promote", owner.promote)

    def promote(prefix: str, section: PromoteConfig) -> None:
        for i, edit in enumerate(section.edits):
            found.append((f"{prefix}.edits[{i}].file", edit.file, "gitops"))
        for e, environment in enumerate(section.environments):
            for i, edit in enumerate(environment.edits):
                key = f"{prefix}.environments[{e}].edits[{i}].file"
                found.append((key, edit.file, "gitops"))

    releasable("", config)
    for c, component in enumerate(config.components):
        prefix = f"components[{c}]."
        for i, pathspec in enumerate(component.paths):
            found.append((f"{prefix}paths[{i}]", pathspec, "repository"))
        if component.changelog_file is not None:
            found.append((f"{prefix}changelog_file", component.changelog_file, "repository"))
        releasable(prefix, component)
    return found


def path_problems(config: RelkitConfig, source: str) -> list[str]:
    """One line per configured path that is absolute or climbs out with `..`."""
    problems = []
    for key, value, _root in path_settings(config):
        problem = lexical_problem(value)
        if problem is not None:
            problems.append(f"{source}: {key} {value!r}: {problem}")
    return problems


def parse_config(data: dict[str, Any], source: str, *, check_paths: bool = True) -> RelkitConfig:
    """Validate raw settings; `source` names the file (and table) in error messages.

    `check_paths=False` leaves the path rule to the caller (`relkit check` lists every
    violation instead of the first)."""
    try:
        config = RelkitConfig.model_validate(data)
    except SettingsInvalid as exc:
        first = exc.errors[0]
        where = location(first.loc) or "(top level)"
        more = f" (and {len(exc.errors) - 1} more)" if len(exc.errors) > 1 else ""
        reason = first.message
        raise ConfigError(
            f"{source}: {where}: {reason}{more}", hint=_shape_hint(first, where)
        ) from None
    problems = path_problems(config, source) if check_paths else []
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ConfigError(
            f"{problems[0]}{more}",
            hint="configured paths are relative to the repository and stay inside it",
        )
    return config


def _shape_hint(error: SettingError, where: str) -> str | None:
    """The TOML spelling to use when a table was written where an array of tables belongs
    (`[bundles]` for `[[bundles]]`) or the other way round: the error only says the type."""
    if error.kind == "list_type" and isinstance(error.input, dict):
        return f"write [[{where}]] (an array of tables, one per entry), not [{where}]"
    if error.kind in ("model_type", "dict_type") and isinstance(error.input, list):
        return f"write [{where}] (a single table), not [[{where}]]"
    return None


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


def _directories(config: RelkitConfig) -> list[tuple[str, str]]:
    """(config location, path) of every setting that names a directory."""
    found: list[tuple[str, str]] = []
    scopes: list[tuple[str, list[ChartConfig], list[BundleConfig]]] = [
        ("", config.charts, config.bundles)
    ]
    scopes += [(f"components[{i}].", c.charts, c.bundles) for i, c in enumerate(config.components)]
    for prefix, charts, bundles in scopes:
        found += [(f"{prefix}charts[{i}].path", c.path) for i, c in enumerate(charts)]
        found += [(f"{prefix}bundles[{i}].path", b.path) for i, b in enumerate(bundles)]
    return found


def check_directories(config: RelkitConfig, root: Path, source: str) -> RelkitConfig:
    """Refuse a chart or bundle `path` that names a file (the compose file, Chart.yaml)
    rather than the directory holding it: caught at load, not later by `check`."""
    for where, value in _directories(config):
        if lexical_problem(value) is not None:
            continue  # the path rule reports it, without looking outside the repository
        target = root / value
        if target.is_file():
            parent = Path(value).parent.as_posix()
            raise ConfigError(
                f"{source}: {where}: {value!r} is a file, not a directory",
                hint=f"name the directory that holds it: path = {parent!r}",
            )
    return config


def load_config(
    root: Path, explicit: Path | None = None, *, check_paths: bool = True
) -> RelkitConfig:
    """Load the effective configuration for the repository at `root`."""

    def parsed(data: dict[str, Any], source: str) -> RelkitConfig:
        config = parse_config(data, source, check_paths=check_paths)
        return check_directories(config, root, source)

    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"config file {explicit} does not exist")
        data = _read_toml(explicit)
        if explicit.name == "pyproject.toml":
            return parsed(_pyproject_relkit(data) or {}, "pyproject.toml [tool.relkit]")
        return parsed(data, explicit.name)
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
        return parsed(_read_toml(relkit_toml), "relkit.toml")
    if from_pyproject is not None:
        return parsed(from_pyproject, "pyproject.toml [tool.relkit]")
    return RelkitConfig()
