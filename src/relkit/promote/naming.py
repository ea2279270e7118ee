"""Names of a promotion: its branch, commit/PR title and commit message (pure)."""

from __future__ import annotations

import re

from relkit.core.config import PromoteConfig
from relkit.core.errors import ConfigError
from relkit.core.model import ReleasePlan, Version
from relkit.core.remote_url import parse_remote_url
from relkit.promote.changes import Promotion

__all__ = [
    "app_name",
    "branch_name",
    "commit_message",
    "repository_name",
    "sibling_branches",
    "title",
    "version_of_branch",
]

_BRANCH_FIELDS = ("environment", "version", "tag")
# git check-ref-format rules that a rendered branch could break.
_BAD_REF = re.compile(r"(^[/.-]|[/.]$|\.\.|//|@\{|[\x00-\x20~^:?*\[\\\x7f]|\.lock$|/\.|\.lock/)")


def branch_name(config: PromoteConfig, plan: ReleasePlan) -> str:
    """`promote.branch` with {environment}, {version} and {tag} filled in."""
    values = {"environment": config.environment, "version": str(plan.version), "tag": plan.tag}

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise ConfigError(
                f"promote.branch: unknown placeholder {{{name}}}",
                hint="use " + ", ".join("{" + f + "}" for f in _BRANCH_FIELDS),
            )
        return values[name]

    branch = re.sub(r"\{([^{}]*)\}", fill, config.branch)
    if not branch or _BAD_REF.search(branch):
        raise ConfigError(f"promote.branch: {branch!r} is not a valid git branch name")
    return branch


def app_name(plan: ReleasePlan, fallback: str | None = None) -> str:
    """The released application's name, as a reviewer recognises it.

    The GitHub repository's name; without one, `fallback` (the name of the repository the
    release came from, see `repository_name`); "release" only when nothing is known.
    """
    if plan.repository:
        return plan.repository.rsplit("/", 1)[-1]
    return fallback or "release"


def repository_name(url: str | None) -> str | None:
    """`https://github.com/acme/web.git`, `git@host:acme/web`, `/srv/git/web.git` → `web`.

    Read by `core/remote_url`: never a credential, a host or a path separator; None when
    the URL names no repository.
    """
    remote = parse_remote_url(url)
    return remote.name if remote is not None else None


def title(promotion: Promotion, plan: ReleasePlan, app: str | None = None) -> str:
    return f"chore({promotion.environment}): promote {app_name(plan, app)} to {plan.tag}"


def commit_message(promotion: Promotion, plan: ReleasePlan, app: str | None = None) -> str:
    lines = [title(promotion, plan, app), ""]
    for edit in promotion.edits:
        # None: the key did not exist (relkit added it), never Python's "None".
        old = "(added)" if edit.old_value is None else (edit.old_value or "(empty)")
        lines.append(f"- {edit.file}: {edit.location}: {old} -> {edit.new_value}")
    lines += ["", f"Promoted-by: relkit ({plan.tag} @ {plan.commit[:12]})"]
    return "\n".join(lines) + "\n"


def sibling_branches(config: PromoteConfig) -> tuple[str, re.Pattern[str]] | None:
    """A glob for the promotion branches of other versions, and a regex reading their version.

    None when the branch name does not depend on the version: then every release reuses the
    same branch (and PR), so there is nothing to supersede.
    """
    if "{version}" not in config.branch and "{tag}" not in config.branch:
        return None
    glob = ""
    pattern = ""
    for literal, name in re.findall(r"([^{]*)(?:\{([^{}]*)\})?", config.branch):
        glob += literal
        pattern += re.escape(literal)
        if name == "environment":
            glob += config.environment
            pattern += re.escape(config.environment)
        elif name in ("version", "tag"):
            glob += "*"
            pattern += r"(?P<v>\S+)" if "(?P<v>" not in pattern else r"\S+"
    return glob, re.compile(pattern)


def version_of_branch(pattern: re.Pattern[str], branch: str) -> Version | None:
    """The version in a promotion branch name matched by `sibling_branches`' regex."""
    match = pattern.fullmatch(branch)
    if match is None:
        return None
    text = match.group("v")
    for start in range(len(text)):
        if Version.is_valid(text[start:]):
            return Version.parse(text[start:])
    return None
