"""Value templates of promotion edits, filled from the release plan (pure).

A value such as `{digest:web}` or `v{version}` names what the GitOps repository should hold.
Placeholders are parsed here, not with `str.format`: `:` is part of our syntax and a
repository's config must not reach attributes of Python objects. An unknown placeholder is a
configuration error, so a typo never lands in a cluster's values file.
"""

from __future__ import annotations

import re

from relkit.core.errors import ConfigError
from relkit.core.model import ImagePin, ReleasePlan, Version
from relkit.core.records import record

__all__ = [
    "PLACEHOLDERS",
    "ValueContext",
    "render_value",
    "template_placeholders",
    "version_from_value",
]

# name -> whether it takes an image argument (`{digest:web}`)
PLACEHOLDERS: dict[str, bool] = {
    "version": False,
    "tag": False,
    "chart_version": False,
    "digest": False,  # bare form: the only release image; `{digest:NAME}` picks one
    "image": True,
    "repository": True,
}

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


@record
class ValueContext:
    """What value templates can refer to."""

    plan: ReleasePlan
    chart_version: str | None = None
    where: str = "promote.edits"  # names the config key in errors


def _parts(template: str, where: str) -> list[tuple[str, str | None] | str]:
    """Split a template into literal strings and (name, argument) placeholders."""
    parts: list[tuple[str, str | None] | str] = []
    position = 0
    for match in _TOKEN.finditer(template):
        if match.start() > position:
            parts.append(template[position : match.start()])
        position = match.end()
        token = match.group(0)
        if token in ("{{", "}}"):
            parts.append(token[0])  # doubled braces are literal braces
            continue
        if match.group(1) is None:
            raise ConfigError(
                f"{where}: unbalanced brace in value {template!r}",
                hint="write {{ or }} for a brace",
            )
        name, _, argument = match.group(1).partition(":")
        name = name.strip()
        if name not in PLACEHOLDERS:
            known = ", ".join(
                "{" + n + (":IMAGE" if PLACEHOLDERS[n] else "") + "}" for n in PLACEHOLDERS
            )
            raise ConfigError(
                f"{where}: unknown placeholder {{{match.group(1)}}}", hint=f"known: {known}"
            )
        argument = argument.strip()
        if PLACEHOLDERS[name] and not argument:
            raise ConfigError(f"{where}: {{{name}}} needs an image name, e.g. {{{name}:web}}")
        if argument and name not in ("digest", "image", "repository"):
            raise ConfigError(f"{where}: {{{name}}} takes no argument (got {{{match.group(1)}}})")
        parts.append((name, argument or None))
    if position < len(template):
        parts.append(template[position:])
    return parts


def template_placeholders(template: str, where: str = "promote.edits") -> list[str]:
    """The placeholder names a template uses, in order (validates the template)."""
    return [p[0] for p in _parts(template, where) if isinstance(p, tuple)]


def _image(context: ValueContext, name: str | None) -> ImagePin:
    images = context.plan.images
    if name is None:
        if len(images) == 1:
            return images[0]
        if not images:
            raise ConfigError(
                f"{context.where}: {{digest}} needs a release image, but the release has none",
                hint="list the images in [[bundles]] images, or set a literal value",
            )
        names = ", ".join(pin.repository.rsplit("/", 1)[-1] for pin in images)
        raise ConfigError(
            f"{context.where}: {{digest}} is ambiguous: the release has {len(images)} images "
            f"({names})",
            hint="name one, e.g. {digest:" + images[0].repository.rsplit("/", 1)[-1] + "}",
        )
    try:
        return context.plan.image(name)
    except KeyError:
        names = ", ".join(pin.repository for pin in images) or "none"
        raise ConfigError(
            f"{context.where}: no release image named {name!r} (images: {names})"
        ) from None


def _resolve(context: ValueContext, name: str, argument: str | None) -> str:
    plan = context.plan
    if name == "version":
        return str(plan.version)
    if name == "tag":
        return plan.tag
    if name == "chart_version":
        if context.chart_version is None:
            raise ConfigError(
                f"{context.where}: {{chart_version}} is used but this release has no chart",
                hint="configure a [[charts]] entry or use {version}",
            )
        return context.chart_version
    pin = _image(context, argument)
    if name == "digest":
        return pin.digest
    if name == "image":
        return pin.pinned
    return pin.repository


def render_value(template: str, context: ValueContext) -> str:
    """Fill a value template; every placeholder must be known and resolvable."""
    rendered = []
    for part in _parts(template, context.where):
        rendered.append(part if isinstance(part, str) else _resolve(context, *part))
    return "".join(rendered)


def version_from_value(template: str, value: str) -> Version | None:
    """The release version a value was rendered from, when its template carries one.

    Only templates made of literal text and exactly one of {version}, {tag} or
    {chart_version} can be read back (`v{version}` matches `v1.2.0`); for anything else, or a
    value that does not match, the answer is None.
    """
    try:
        parts = _parts(template, "promote.edits")
    except ConfigError:
        return None
    placeholders = [p for p in parts if isinstance(p, tuple)]
    if len(placeholders) != 1 or placeholders[0][0] not in ("version", "tag", "chart_version"):
        return None
    pattern = "".join(re.escape(p) if isinstance(p, str) else r"(?P<version>\S+)" for p in parts)
    match = re.fullmatch(pattern, value)
    if match is None:
        return None
    candidate = match.group("version")
    # A tag format such as "app-v{version}" leaves the version after the last "v" or "-".
    for start in range(len(candidate)):
        if Version.is_valid(candidate[start:]):
            return Version.parse(candidate[start:])
    return None
