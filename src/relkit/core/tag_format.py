"""Release tag names: a version rendered into `{prefix}{tag_format}`, and parsed back.

Lives in core because the config (components' tag prefixes) and the history engine both
need it; in `versioning` it made config and versioning import each other.
"""

from __future__ import annotations

import re

from relkit.core.errors import UsageError
from relkit.core.model import SEMVER_BODY, Version, version_from_match


class TagFormat:
    """Release tags: `{prefix}{tag_format}` with `{version}` replaced, and back."""

    def __init__(self, tag_format: str = "v{version}", prefix: str = "") -> None:
        if "{version}" not in tag_format:
            raise UsageError(f"tag format {tag_format!r} has no {{version}}")
        self.template = prefix + tag_format
        before, _, after = self.template.partition("{version}")
        self._before, self._after = before, after
        # One regex match per tag (the version inlined, ASCII digits only) keeps 10,000 tags cheap.
        self._pattern = re.compile(re.escape(before) + SEMVER_BODY + re.escape(after), re.ASCII)

    def render(self, version: Version) -> str:
        return f"{self._before}{version}{self._after}"

    def parse(self, tag: str) -> Version | None:
        """The version of a tag in this format, or `None` for any other tag.

        Only the exact format counts: "vv1.2.0" or "api/v1.2.0" under "v{version}" do not.
        """
        match = self._pattern.fullmatch(tag)
        if match is None:
            return None
        return version_from_match(match)  # None: a number too long to be a version
