"""Release tag names: a version rendered into `{prefix}{tag_format}`, and parsed back.

Lives in core because the config (components' tag prefixes) and the history engine both
need it; in `versioning` it made config and versioning import each other.
"""

from __future__ import annotations

import re

from relkit.core.errors import UsageError
from relkit.core.model import MAX_NUMBER_DIGITS, SEMVER_BODY, Version, version_from_match

# A final release's numbers alone: most tags of a long history are finals, and reading their
# numbers without building a `Version` is what lets 23,000 tags sort in a few milliseconds.
# Each number has at most MAX_NUMBER_DIGITS digits, the bound `parse` applies: a longer one
# does not match here, and `parse` refuses it.
_NUMBER = rf"(0|[1-9][0-9]{{0,{MAX_NUMBER_DIGITS - 1}}})"
_FINAL_BODY = rf"{_NUMBER}\.{_NUMBER}\.{_NUMBER}"


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
        final = re.compile(re.escape(before) + _FINAL_BODY + re.escape(after), re.ASCII)
        # The match of a final release tag (no pre-release, no build metadata), its groups
        # the three numbers, else `None` (a pre-release `parse` may still read). `before` and
        # `after` are literal, so a tag that matches reads as the same final version through
        # `parse`: the two never disagree. The pattern's own method, not a wrapper: the reader
        # of every tag of a history calls it without a Python call in between.
        self.final_match = final.fullmatch

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
