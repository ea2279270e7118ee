"""The release PR body and the PR preview comment: golden files, and the `Release-As`
parser (Hypothesis: only a maintainer's line above relkit's marker counts)."""

from __future__ import annotations

import os
import tomllib
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from relkit.core.config import RelkitConfig
from relkit.core.markdown_text import safe_inline
from relkit.core.model import Version
from relkit.cut.pr_preview import Preview, render_preview
from relkit.cut.release_pr import MARKER, release_as, render_body
from relkit.history.conventional import ConventionalCommit, Person

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "release_pr"

CONFIG = RelkitConfig.model_validate(
    tomllib.loads(
        """
[[charts]]
path = "charts/acme"
registry = "oci://ghcr.io/acme/charts"

[[bundles]]
name = "acme"
path = "bundles/acme"
registry = "oci://ghcr.io/acme/bundles"
images = ["ghcr.io/acme/web:{version}"]

[github]
repository = "acme/shop"

[promote]
repository = "acme/gitops"
environment = "staging"
"""
    )
)
# Notes as relkit renders them: each field of commit text escaped once (`safe_inline`).
NOTES = (
    "### Features\n\n"
    f"- **web:** {safe_inline('shopping cart for <b>@alice</b>')} ([1a2b3c4](https://x))\n"
)


def golden(name: str, actual: str) -> None:
    """Compare with tests/golden/release_pr/NAME; RELKIT_UPDATE_GOLDEN=1 rewrites it."""
    path = GOLDEN / name
    if os.environ.get("RELKIT_UPDATE_GOLDEN") == "1":
        path.write_text(actual, encoding="utf-8")
    assert actual == path.read_text(encoding="utf-8"), f"differs from golden file {path}"


def _body(release_as_line: str | None = None) -> str:
    return render_body(
        root_notes=NOTES,
        config=CONFIG,
        component=None,
        version=Version(1, 5, 0),
        tag="v1.5.0",
        reason="minor bump since 1.4.0, required by 1a2b3c4 (feat(web): shopping cart)",
        release_as_line=release_as_line,
    )


def test_release_pr_body_golden() -> None:
    golden("body.md", _body())
    golden("body-release-as.md", _body("2.0.0"))


def test_the_body_takes_the_notes_as_rendered_and_reads_back_its_release_as() -> None:
    body = _body("2.0.0")
    # Escaped once, when the notes were rendered: the body adds no second escape.
    assert NOTES.strip() in body
    assert "<b>" not in body and "`@alice`" in body and "\u2060" not in body
    assert body.count("<!--") == 1
    assert release_as(body) == "2.0.0"
    assert release_as(_body()) is None
    # The reason quotes a commit header: escaped once, here.
    reason = "minor bump, required by 1a2b3c4 (feat(web): cart for @bob <!-- x -->)"
    quoted = render_body(
        root_notes=NOTES,
        config=CONFIG,
        component=None,
        version=Version(1, 5, 0),
        tag="v1.5.0",
        reason=reason,
        release_as_line=None,
    )
    assert "(feat(web): cart for `@bob` &lt;!-- x -->)." in quoted


def test_preview_golden() -> None:
    commit = ConventionalCommit(
        sha="1a2b3c4" + "0" * 33,
        type="feat",
        scope="web",
        subject="shopping cart",
        body="",
        breaking=False,
        breaking_descriptions=(),
        footers=(),
        conventional=True,
        author=Person(name="a", email="a@example.com"),
        committed_at=datetime.fromtimestamp(0, UTC),
        header="feat(web): shopping cart for @bob",
    )
    preview = Preview(
        "v1.5.0",
        "minor bump since 1.4.0, required by 1a2b3c4 (feat(web): shopping cart)",
        [commit],
        {"feat": "Features"},
        ["- Helm chart `acme` 1.5.0 pushed to `oci://ghcr.io/acme/charts`"],
        [("title", "'added stuff': not a Conventional Commit")],
    )
    golden("preview.md", render_preview(preview))


_LINE = st.text(alphabet=st.characters(blacklist_characters="\r\n"), max_size=40)


@given(above=st.lists(_LINE, max_size=5), below=st.lists(_LINE, max_size=5), v=_LINE)
def test_release_as_reads_only_above_the_marker(above: list[str], below: list[str], v: str) -> None:
    version = "".join(ch for ch in v if not ch.isspace()) or "1.0.0"
    clean_above = [line for line in above if "release-as" not in line.lower()]
    body = "\n".join([*clean_above, "", MARKER, *below, f"Release-As: {version}"])
    assert release_as(body) is None  # below the marker: generated text, never read
    asked = "\n".join([f"  Release-As:  {version} ", *clean_above, MARKER, *below])
    assert release_as(asked) == version
    assert release_as(f"Release-As: {version}") is None  # no marker: not a relkit body


def test_huge_notes_are_cut_to_githubs_body_limit() -> None:
    from relkit.cut.release_pr import MAX_BODY

    huge = "".join(f"- fix number {n} " + "x" * 200 + "\n" for n in range(1000))
    body = render_body(
        root_notes=huge,
        config=CONFIG,
        component=None,
        version=Version(1, 5, 0),
        tag="v1.5.0",
        reason="r",
        release_as_line="2.0.0",
    )
    assert len(body) <= MAX_BODY
    assert "cut to fit GitHub's limit" in body and body.rstrip().endswith("overwritten.")
    assert release_as(body) == "2.0.0"
