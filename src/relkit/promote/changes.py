"""What a promotion changes in the GitOps repository, worked out before anything is written.

Pure: the files are read through a callback, so the same code runs on a clone and in tests.
"""

from __future__ import annotations

from collections.abc import Callable

from relkit.core.config import PromoteConfig
from relkit.core.errors import RelkitError
from relkit.core.model import Version
from relkit.core.records import record
from relkit.promote.edits import apply_edit, edit_location
from relkit.promote.marker import read_marker, write_marker
from relkit.promote.values import ValueContext, render_value, version_from_value

__all__ = ["EditChange", "FileChange", "Promotion", "check_downgrade", "plan_promotion"]


@record
class EditChange:
    """One configured edit: where, and the value before and after."""

    file: str
    location: str
    old_value: str | None
    new_value: str

    @property
    def changed(self) -> bool:
        return self.old_value != self.new_value


@record
class FileChange:
    file: str
    old_text: str
    new_text: str


@record
class Promotion:
    """The edits for one release and environment, and the version deployed before them."""

    environment: str
    version: Version
    edits: tuple[EditChange, ...]
    files: tuple[FileChange, ...]
    deployed: Version | None  # None: unknown (first promotion, or values set by hand)

    @property
    def changed(self) -> bool:
        """False when the environment already holds every value: "already promoted"."""
        return any(edit.changed for edit in self.edits)


def plan_promotion(
    config: PromoteConfig, context: ValueContext, read: Callable[[str], str]
) -> Promotion:
    """Apply every configured edit to the files `read` returns; write nothing."""
    if not config.edits:
        raise RelkitError(
            "promote: no edits configured",
            hint="add [[promote.edits]] entries (file, kind, key or image, value)",
        )
    originals: dict[str, str] = {}
    texts: dict[str, str] = {}
    changes: list[EditChange] = []
    deployed: list[Version] = []
    for index, edit in enumerate(config.edits):
        where = f"promote.edits[{index}].value"
        value = render_value(edit.value, ValueContext(context.plan, context.chart_version, where))
        if edit.file not in texts:
            originals[edit.file] = texts[edit.file] = read(edit.file)
            marker = read_marker(texts[edit.file])
            if marker is not None:
                deployed.append(marker)
        result = apply_edit(texts[edit.file], edit, value)
        texts[edit.file] = result.text
        changes.append(EditChange(edit.file, edit_location(edit, value), result.old_value, value))
        previous = version_from_value(edit.value, result.old_value or "")
        if previous is not None:
            deployed.append(previous)
    version = context.plan.version
    files = tuple(
        FileChange(file, originals[file], write_marker(texts[file], version)) for file in texts
    )
    return Promotion(
        environment=config.environment,
        version=version,
        edits=tuple(changes),
        files=files,
        deployed=max(deployed) if deployed else None,
    )


def check_downgrade(promotion: Promotion, allow_downgrade: bool) -> None:
    """Refuse to move an environment back to an older release unless asked to."""
    deployed = promotion.deployed
    if deployed is None or allow_downgrade or not deployed > promotion.version:
        return
    raise RelkitError(
        f"promote: {promotion.environment} is at {deployed}, newer than {promotion.version};"
        " refusing to downgrade",
        hint="pass --allow-downgrade to roll back on purpose",
    )
