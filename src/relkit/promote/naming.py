"""Names of a promotion: its branch, commit/PR title and commit message (pure)."""

from __future__ import annotations

import re

from relkit.config import PromoteConfig
from relkit.errors import ConfigError
from relkit.model import ReleasePlan
from relkit.promote.changes import Promotion

__all__ = ["app_name", "branch_name", "commit_message", "title"]

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


def app_name(plan: ReleasePlan) -> str:
    """The released application's name, as a reviewer recognises it."""
    return plan.repository.rsplit("/", 1)[-1] if plan.repository else "release"


def title(promotion: Promotion, plan: ReleasePlan) -> str:
    return f"chore({promotion.environment}): promote {app_name(plan)} to {plan.tag}"


def commit_message(promotion: Promotion, plan: ReleasePlan) -> str:
    lines = [title(promotion, plan), ""]
    for edit in promotion.edits:
        lines.append(f"- {edit.file}: {edit.location}: {edit.old_value} -> {edit.new_value}")
    lines += ["", f"Promoted-by: relkit ({plan.tag} @ {plan.commit[:12]})"]
    return "\n".join(lines) + "\n"
