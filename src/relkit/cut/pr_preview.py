"""`relkit check --comment`: what merging a PR will release, as ONE comment on the PR.

The comment is found again by a hidden marker at its start and edited in place, so a PR has
one preview however often it is pushed to. Its text from commits (and from the PR's
config: tags, check messages) is untrusted: each piece is escaped once, as the changelog's
fields are (`core/markdown_text`: no HTML comment, so no forged marker; no heading;
mentions per `changelog.mentions`), so the preview shows the notes as the release will.
Long parts fold into
`<details>` beyond a screenful, and the whole stays under GitHub's 65,536-character limit.

Where the token cannot write (a fork's PR on `pull_request`: GITHUB_TOKEN is read-only),
nothing is sent to the API: the preview goes to the step summary with the reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from relkit.adapters.github import GitHubClient
from relkit.core.markdown_text import Mentions, safe_block, safe_inline
from relkit.core.records import record
from relkit.history.conventional import ConventionalCommit

__all__ = [
    "MARKER",
    "MAX_COMMENT",
    "PrContext",
    "Preview",
    "pr_context",
    "render_preview",
    "upsert_comment",
]

MARKER = "<!-- relkit:pr-preview -->"
MAX_COMMENT = 65536  # GitHub refuses a longer comment body (422)
_SCREENFUL = 20  # lines shown before a part folds into <details>
_ROOM = 2000  # kept free for the fixed text around the parts


@record
class Preview:
    next_version: str | None  # tag, e.g. "v1.2.0"; None: no release
    reason: str
    pr_commits: Sequence[ConventionalCommit]  # this PR's commits
    shown_types: Mapping[str, str]  # commit type -> changelog section
    publishes: Sequence[str]  # Markdown list items (from the config)
    failures: Sequence[tuple[str, str]]  # (check name, message) of failing checks
    # Monorepo components this PR touches: (component, next tag or None, why).
    components: Sequence[tuple[str, str | None, str]] = ()
    mentions: Mentions = "code"  # `changelog.mentions`, as in the notes themselves


def _part(title: str, lines: list[str], budget: int) -> list[str]:
    text = "\n".join(lines)
    if len(text) > budget:
        cut = text[: max(budget - 40, 0)].rsplit("\n", 1)[0]
        text = cut + "\n- … (cut to fit GitHub's comment size limit)"
        lines = text.split("\n")
    if len(lines) <= _SCREENFUL:
        return [f"**{title}**", "", *lines, ""]
    return [
        "<details>",
        f"<summary><b>{title}</b> ({len(lines)} lines)</summary>",
        "",
        *lines,
        "",
        "</details>",
        "",
    ]


def render_preview(preview: Preview) -> str:
    mentions = preview.mentions

    def text(value: str) -> str:
        return safe_inline(value, mentions)

    if preview.next_version:
        headline = f"Merging this PR, the next release is **{text(preview.next_version)}**."
    else:
        headline = "The next release: **none** yet."
    notes = []
    for commit in preview.pr_commits:
        section = preview.shown_types.get(commit.type)
        if section is not None or commit.breaking:
            label = "BREAKING" if commit.breaking else section
            notes.append(f"- {label}: {text(commit.header)} ({commit.short_sha})")
    if not notes:
        notes = ["- nothing: no commit of this PR goes into the release notes"]
    # A check's message may hold a line break (an error quoting git): a block field.
    failures = [f"- ❌ {text(name)}: {safe_block(msg, mentions)}" for name, msg in preview.failures]
    budget = (MAX_COMMENT - _ROOM) // 3
    lines = [
        MARKER,
        "### relkit preview",
        "",
        headline,
        f"Why: {text(preview.reason)}.",
        "",
        *_components(preview.components, text),
        *_part("Release notes this PR adds", notes, budget),
        *_part("What the next tag publishes", list(preview.publishes) or ["- a tag only"], budget),
        *(
            _part(f"Failing checks ({len(failures)})", failures, budget)
            if failures
            else ["**Checks:** all passed.", ""]
        ),
        "<sub>Updated by `relkit check --comment` on every push; edits here are overwritten.</sub>",
    ]
    body = "\n".join(lines) + "\n"
    if len(body) > MAX_COMMENT:  # unreachable by the budgets above; never send a 422
        body = body[: MAX_COMMENT - 20] + "\n…(cut)\n"
    return body


def _components(
    components: Sequence[tuple[str, str | None, str]], text: Callable[[str], str]
) -> list[str]:
    if not components:
        return []
    lines = ["**Components this PR touches**", ""]
    for name, tag, why in components:
        next_release = f"next **{text(tag)}**" if tag else "no release yet"
        # A component's name is a plain file name (the config refuses anything else): in a
        # code span as it is, where an escape would show.
        lines.append(f"- `{name}`: {next_release} ({text(why)})")
    return [*lines, ""]


@record
class PrContext:
    number: int | None
    can_write: bool
    why_not: str  # when not can_write


def pr_context(env: Mapping[str, str], explicit_number: int | None) -> PrContext:
    """The PR number and whether this run's token may write to it.

    GitHub gives a `pull_request` run from a fork a read-only GITHUB_TOKEN and no secrets
    (docs: "Automatic token authentication", permissions for forked repositories); we know it
    from the event payload, so we never try a write that must fail.
    """
    event: dict[str, object] = {}
    path = env.get("GITHUB_EVENT_PATH")
    if path:
        try:
            loaded = json.loads(Path(path).read_text(encoding="utf-8"))
            event = loaded if isinstance(loaded, dict) else {}
        except (OSError, ValueError):
            event = {}
    number = explicit_number
    pull = event.get("pull_request")
    pull = pull if isinstance(pull, dict) else {}
    if number is None and isinstance(pull.get("number"), int):
        number = int(pull["number"])
    if number is None:
        match = re.fullmatch(r"refs/pull/(\d+)/(?:merge|head)", env.get("GITHUB_REF", ""))
        number = int(match.group(1)) if match else None
    if number is None:
        return PrContext(None, False, "no pull request number (pass --pr-number N)")
    head_repo = _full_name(pull.get("head"))
    base_repo = _full_name(pull.get("base"))
    fork = head_repo is not None and base_repo is not None and head_repo != base_repo
    if env.get("GITHUB_EVENT_NAME") == "pull_request" and fork:
        return PrContext(
            number, False, f"#{number} comes from the fork {head_repo}: its token is read-only"
        )
    if not (env.get("GITHUB_TOKEN") or env.get("GH_TOKEN")):
        return PrContext(number, False, "no GITHUB_TOKEN to comment with")
    return PrContext(number, True, "")


def _full_name(side: object) -> str | None:
    repo = side.get("repo") if isinstance(side, dict) else None
    name = repo.get("full_name") if isinstance(repo, dict) else None
    return name.lower() if isinstance(name, str) else None


def upsert_comment(client: GitHubClient, github_repo: str, number: int, body: str) -> str:
    """Create the preview comment or edit the existing one; returns what was done."""
    for comment in client.list_comments(github_repo, number):
        if comment.body.startswith(MARKER):
            if comment.body == body:
                return f"preview on #{number} unchanged"
            client.update_comment(github_repo, comment.id, body)
            return f"preview on #{number} updated"
    client.create_comment(github_repo, number, body)
    return f"preview on #{number} created"
