"""Promotion of a release to an environment in a GitOps repository (the pure part).

`values` fills value templates from the plan, `paths` parses key paths, `edits` rewrites one
value in a YAML text, `marker` keeps the promoted version, `changes` combines them into a
`Promotion`, `naming` names its branch and commit. Git and GitHub I/O live in
`relkit.adapters.gitops_repo` and `relkit.adapters.github`; `relkit.release.steps.promote` runs it.
"""

from __future__ import annotations

from relkit.promote.changes import (
    EditChange,
    FileChange,
    Promotion,
    check_downgrade,
    plan_promotion,
)
from relkit.promote.edits import EditResult, apply_edit, edit_location
from relkit.promote.values import ValueContext, render_value

__all__ = [
    "EditChange",
    "EditResult",
    "FileChange",
    "Promotion",
    "ValueContext",
    "apply_edit",
    "check_downgrade",
    "edit_location",
    "plan_promotion",
    "render_value",
]
