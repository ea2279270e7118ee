"""History → releases → Markdown through templates. Pure: no git, no file I/O.

A `Release` is one version's entries grouped into sections in `commit_types` order, with the
breaking changes first, "Other" (non-conventional commits) last when
`changelog.other_commits == "list"`, and the contributors (authors and co-authors, bots and
`exclude_contributors` left out). A squash commit's bullets are listed as `squash_bullets` says
(issue 16; docs/maintainers/squash-merges.md); its breaking changes always are.

Update mode inserts only the new sections into an existing changelog: right below the line
`<!-- relkit: insert -->` when the file has it, otherwise above the first release heading
(a line starting with `## `), otherwise at the end. Everything else stays byte-identical.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from relkit.core.config import CommitType, RelkitConfig
from relkit.core.markdown_text import Mentions, safe_block, safe_inline
from relkit.core.model import Version
from relkit.core.records import record
from relkit.history.conventional import (
    ConventionalCommit,
    Person,
    cancel_reverts,
    is_bot,
    is_excluded,
)

if TYPE_CHECKING:
    from relkit.history.templating import TemplateRenderer

__all__ = [
    "INSERT_MARKER",
    "OTHER_SECTION",
    "ContributorFilter",
    "Links",
    "Release",
    "Section",
    "build_release",
    "changelog_renderer",
    "has_release",
    "insert_sections",
    "release_context",
    "release_of",
    "render_changelog",
    "render_notes",
    "render_sections",
    "section_order",
]

INSERT_MARKER = "<!-- relkit: insert -->"
OTHER_SECTION = "Other"
CHANGELOG_TEMPLATE = "changelog.md.j2"
SECTION_TEMPLATE = "_release.md.j2"
NOTES_TEMPLATE = "release_notes.md.j2"


@record
class Links:
    """Web links of a repository (GitHub-style URLs); `None` base: no links at all."""

    base: str | None

    def commit(self, sha: str) -> str | None:
        return f"{self.base}/commit/{sha}" if self.base else None

    def pull(self, number: int) -> str | None:
        return f"{self.base}/pull/{number}" if self.base else None

    def issue(self, number: int) -> str | None:
        return f"{self.base}/issues/{number}" if self.base else None

    def compare(self, previous_tag: str | None, tag: str) -> str | None:
        if not self.base:
            return None
        if previous_tag is None:
            return f"{self.base}/commits/{tag}"
        return f"{self.base}/compare/{previous_tag}...{tag}"


@record
class ContributorFilter:
    """Who the contributor lists leave out: bots unless `bots`, and anyone whose name or
    e-mail address one of `exclude` (`[changelog] exclude_contributors`) finds."""

    exclude: tuple[str, ...] = ()
    bots: bool = False
    # (name, e-mail) -> `shows`: asked once per release of each contributor (23,000 releases
    # of a handful of people on the corpus), answered once per person.
    _shown: dict[tuple[str, str], bool] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @classmethod
    def of(cls, config: RelkitConfig) -> ContributorFilter:
        changelog = config.changelog
        return cls(tuple(changelog.exclude_contributors), changelog.bot_contributors == "list")

    def shows(self, person: Person) -> bool:
        key = (person.name, person.email)
        shown = self._shown.get(key)
        if shown is None:
            shown = self._shown[key] = self._decide(person)
        return shown

    def _decide(self, person: Person) -> bool:
        if not self.bots and is_bot(person):
            return False
        return not (
            self.exclude
            and (is_excluded(person.name, self.exclude) or is_excluded(person.email, self.exclude))
        )


@record
class Section:
    title: str
    entries: tuple[ConventionalCommit, ...]


@record
class Release:
    """One version of the changelog. `version` is `None` for unreleased commits."""

    version: Version | None
    tag: str | None
    previous_tag: str | None
    date: date | None
    sections: tuple[Section, ...]
    breaking: tuple[ConventionalCommit, ...]
    contributors: tuple[Person, ...]
    commits: tuple[ConventionalCommit, ...]  # every entry, after reverts cancelled
    retags: str | None = None  # the lower release's tag on the same commit (no changes here)
    # Not `None`: the release owns no commit (all it reaches belongs to lower releases, e.g. a
    # tag on the merge of a maintenance line); the lower releases whose tagged commits its
    # merges bring in, highest first (maybe none).
    merges: tuple[str, ...] | None = None

    @property
    def title(self) -> str:
        return str(self.version) if self.version is not None else "Unreleased"


def section_order(commit_types: Mapping[str, CommitType]) -> tuple[str, ...]:
    """The section titles in the order a release lists them: `commit_types` order, then
    "Other"."""
    order = dict.fromkeys(t.section for t in commit_types.values() if t.section)
    order.setdefault(OTHER_SECTION)
    return tuple(order)


def build_release(
    commits: Sequence[ConventionalCommit],
    *,
    version: Version | None,
    tag: str | None,
    previous_tag: str | None,
    released_on: date | None,
    commit_types: Mapping[str, CommitType],
    other_commits: str = "list",
    retags: str | None = None,
    merges: Sequence[str] | None = None,
    squash_bullets: str = "title",
    contributors: ContributorFilter | None = None,
    order: Sequence[str] | None = None,
) -> Release:
    """Group one release's commits (newest first, as git lists them) into sections.

    Every entry counts for reverts; the sections list an entry as its `listing` and
    `squash_bullets` say, the breaking changes list every breaking description (a bullet's
    too: a breaking change is never hidden by how squashes are shown). `order` is
    `section_order(commit_types)`, given by a caller that builds many releases.
    """
    return release_of(
        commits,
        version,
        tag,
        previous_tag,
        released_on,
        commit_types,
        other_commits == "list",
        squash_bullets == "split",
        contributors or ContributorFilter(),
        retags,
        tuple(merges) if merges is not None else None,
        order,
    )


def release_of(
    commits: Sequence[ConventionalCommit],
    version: Version | None,
    tag: str | None,
    previous_tag: str | None,
    released_on: date | None,
    commit_types: Mapping[str, CommitType],
    list_other: bool,
    split: bool,
    contributors: ContributorFilter,
    retags: str | None,
    merges: tuple[str, ...] | None,
    order: Sequence[str] | None,
) -> Release:
    """`build_release` with its arguments positional and its settings read (`list_other`:
    `other_commits == "list"`, `split`: `squash_bullets == "split"`), for the changelog,
    which builds a release per tag (23,000 on the corpus; 12 keywords cost ~1 us a call)."""
    # One entry (most releases of a long history): nothing for a revert to cancel (it needs
    # its target beside it), one section at most, no order to look up.
    kept = cancel_reverts(commits) if len(commits) != 1 else commits
    by_title = _by_section(kept, commit_types, list_other, split)
    if len(by_title) == 1:
        ((title, entries),) = by_title.items()
        sections: tuple[Section, ...] = (Section(title, tuple(entries)),)
    elif by_title:
        titles = section_order(commit_types) if order is None else order
        sections = tuple(Section(t, tuple(by_title[t])) for t in titles if t in by_title)
    else:
        sections = ()
    # Positional, in field order: matching 10 keywords costs ~0.7 µs (once per release).
    return Release(
        version,
        tag,
        previous_tag,
        released_on,  # date
        sections,
        tuple([c for c in kept if c.breaking and c.breaking_descriptions]),  # breaking
        _contributors(kept, contributors),
        tuple(kept),  # commits
        retags,
        merges,
    )


def _by_section(
    kept: Sequence[ConventionalCommit],
    commit_types: Mapping[str, CommitType],
    list_other: bool,
    split: bool,
) -> dict[str, list[ConventionalCommit]]:
    """The entries each section lists (a title only when it lists something)."""
    by_title: dict[str, list[ConventionalCommit]] = {}
    for commit in kept:
        listing = commit.listing
        if listing != "entry" and (listing == "repeat" or not split):
            continue
        if commit.conventional:
            configured = commit_types.get(commit.type)
            title = configured.section if configured else None
        else:
            title = OTHER_SECTION if list_other else None
        if title:
            entries = by_title.get(title)
            if entries is None:
                by_title[title] = [commit]
            else:
                entries.append(commit)
    return by_title


def _contributors(
    kept: Sequence[ConventionalCommit], keep: ContributorFilter
) -> tuple[Person, ...]:
    """Authors and co-authors, each once (by e-mail, else name), sorted by name."""
    if len(kept) == 1 and not kept[0].co_authors:  # most releases of a long history
        author = kept[0].author
        return (author,) if keep.shows(author) else ()
    people: dict[str, Person] = {}
    for commit in kept:
        author = commit.author
        people.setdefault(author.key, author)
        for person in commit.co_authors:
            people.setdefault(person.key, person)
    shown = [person for person in people.values() if keep.shows(person)]
    if len(shown) < 2:
        return tuple(shown)
    return tuple(sorted(shown, key=lambda p: (p.name.lower(), p.email)))


def _entry_context(
    commit: ConventionalCommit, base: str | None, mentions: Mentions = "code"
) -> dict[str, Any]:
    # Called once per commit of the history (30,000 on the bench corpus): URLs are built
    # inline rather than through Links' methods.
    # Commit text is someone else's: it goes into the Markdown as text, never as a heading,
    # an HTML comment (relkit's markers) or, by default, a mention (issue 15).
    pr = commit.pr
    return {
        "sha": commit.sha,
        "short_sha": commit.sha[:7],
        "type": commit.type,
        "scope": safe_inline(commit.scope, mentions) if commit.scope else commit.scope,
        "subject": safe_inline(commit.subject, mentions),
        "body": safe_block(commit.body, mentions) if commit.body else commit.body,
        "header": safe_inline(commit.header, mentions),
        "breaking": commit.breaking,
        "breaking_descriptions": [safe_block(d, mentions) for d in commit.breaking_descriptions],
        "commit_url": f"{base}/commit/{commit.sha}" if base else None,
        "pr": pr,
        "pr_url": f"{base}/pull/{pr}" if base and pr is not None else None,
        "issues": [
            {"number": n, "url": f"{base}/issues/{n}" if base else None} for n in commit.issues
        ]
        if commit.issues
        else [],
        "author": {"name": safe_inline(commit.author.name, mentions), "email": commit.author.email},
    }


def release_context(release: Release, links: Links, mentions: Mentions = "code") -> dict[str, Any]:
    """The variables a release template sees (documented in the README, "Templates").

    Commit text in it (subjects, bodies, names) is already Markdown-safe (`markdown_text`)."""
    return {
        "version": str(release.version) if release.version is not None else None,
        "title": release.title,
        "tag": release.tag,
        "previous_tag": release.previous_tag,
        "date": release.date.isoformat() if release.date else None,
        "compare_url": links.compare(release.previous_tag, release.tag) if release.tag else None,
        "breaking": [_entry_context(c, links.base, mentions) for c in release.breaking],
        "sections": [
            {
                "title": s.title,
                "entries": [_entry_context(c, links.base, mentions) for c in s.entries],
            }
            for s in release.sections
        ],
        "contributors": [
            {"name": safe_inline(p.name, mentions), "email": p.email} for p in release.contributors
        ],
        "commit_count": len({c.sha for c in release.commits}),
        "repository_url": links.base,
        "retags": release.retags,
        "no_changes": release.merges is not None,
        "merges": list(release.merges or ()),
    }


def render_sections(
    releases: Iterable[Release],
    links: Links,
    renderer: TemplateRenderer,
    mentions: Mentions = "code",
) -> str:
    """The Markdown of some release sections, newest first, one blank line apart."""
    # Each section ends with exactly one newline whatever the template does, so inserted
    # text is always separated from what follows by exactly one blank line.
    return "\n".join(
        renderer.render(SECTION_TEMPLATE, {"release": release_context(r, links, mentions)}).strip(
            "\n"
        )
        + "\n"
        for r in releases
    )


def render_changelog(
    releases: Sequence[Release],
    links: Links,
    renderer: TemplateRenderer,
    mentions: Mentions = "code",
) -> str:
    """A whole changelog file (init mode and `--full`), rendered through the templates
    (`shipped_changelog.render_full_changelog` writes the same bytes faster when it can)."""
    return renderer.render(
        CHANGELOG_TEMPLATE,
        {
            "releases": [release_context(r, links, mentions) for r in releases],
            "insert_marker": INSERT_MARKER,
            "repository_url": links.base,
        },
    )


def render_notes(
    release: Release, links: Links, renderer: TemplateRenderer, mentions: Mentions = "code"
) -> str:
    """The release notes of one version (the GitHub Release body)."""
    context = {"release": release_context(release, links, mentions)}
    text = renderer.render(NOTES_TEMPLATE, context)
    return text.lstrip("\n")


_HEADING = re.compile(r"^#{1,6} .*$", re.MULTILINE)
_MARKER_LINE = re.compile(r"^" + re.escape(INSERT_MARKER) + r"[ \t]*\r?$", re.MULTILINE)
_LINK_TARGET = re.compile(r"\]\([^)]*\)")


def has_release(text: str, version: Version) -> bool:
    """Whether a changelog already has a heading for `version` (any heading level).

    Only the visible heading text counts: the compare link of 1.3.0's heading names v1.2.0.
    """
    wanted = re.compile(r"(?<![0-9A-Za-z.+-])v?" + re.escape(str(version)) + r"(?![0-9A-Za-z.+-])")
    return any(
        wanted.search(_LINK_TARGET.sub("]", heading.group(0)))
        for heading in _HEADING.finditer(text)
    )


def insert_sections(existing: str, sections: str) -> str:
    """`existing` with `sections` inserted; every other byte stays where it was."""
    if not sections:
        return existing
    block = sections if sections.endswith("\n") else sections + "\n"
    # The marker counts only as a line of its own: quoted inside a list item or a sentence
    # (commit text, which is escaped anyway) it is not relkit's.
    found = _MARKER_LINE.search(existing)
    marker = found.start() if found is not None else -1
    if marker >= 0:
        line_end = existing.find("\n", marker)
        if line_end < 0:
            return existing + "\n\n" + block
        return existing[: line_end + 1] + "\n" + block + existing[line_end + 1 :]
    heading = re.search(r"^## ", existing, re.MULTILINE)
    if heading is not None:
        return existing[: heading.start()] + block + "\n" + existing[heading.start() :]
    if not existing:
        return block
    separator = "" if existing.endswith("\n\n") else ("\n" if existing.endswith("\n") else "\n\n")
    return existing + separator + block


def changelog_renderer(config: RelkitConfig, root: Path | None = None) -> TemplateRenderer:
    """A renderer honouring `changelog.template_dir` (relative to the repository `root`)."""
    # Jinja2 is imported here, not at the top: `relkit version` renders nothing (issue 17).
    from relkit.history.templating import TemplateRenderer, override_dir

    return TemplateRenderer(override_dir(root or Path("."), config.changelog.template_dir))
