"""The version marker relkit keeps in every file it promotes (pure).

A digest says nothing about which release it came from, so relkit records it next to the
values: one full-line YAML comment, `# relkit.dev/version: 1.2.0`. A comment changes nothing
for Helm, kustomize or Argo CD (no schema to violate, no annotation rolled out to pods) and
survives hand edits of other keys. It is rewritten in place on every promotion; when a file
has none yet, it goes on the first line (after a `%YAML` directive's `---`).
"""

from __future__ import annotations

import re

from relkit.core.model import Version

__all__ = ["MARKER_KEY", "read_marker", "write_marker"]

MARKER_KEY = "relkit.dev/version"

_MARKER = re.compile(r"^#[ \t]*relkit\.dev/version:[ \t]*(?P<version>\S+)[ \t]*(?:\r?\n)?", re.M)


def read_marker(text: str) -> Version | None:
    """The version recorded by the last promotion, or None (no marker, or not a version)."""
    match = _MARKER.search(text)
    if match is None or not Version.is_valid(match.group("version")):
        return None
    return Version.parse(match.group("version"))


def write_marker(text: str, version: Version) -> str:
    """`text` with the marker set to `version` (replaced where it is, else added on top)."""
    newline = "\r\n" if "\r\n" in text else "\n"
    line = f"# {MARKER_KEY}: {version}{newline}"
    match = _MARKER.search(text)
    if match is not None:
        return text[: match.start()] + line + text[match.end() :]
    if text.startswith("%"):
        # Directives must come first; the marker goes right after the document start.
        start = re.search(r"^---[^\n]*\n", text, re.M)
        if start is not None:
            return text[: start.end()] + line + text[start.end() :]
    return line + text
