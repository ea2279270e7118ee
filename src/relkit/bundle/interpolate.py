"""Compose variable interpolation and `.env` parsing (pure).

Follows the Compose specification: `$VAR`, `${VAR}`, `${VAR:-default}` (unset or empty),
`${VAR-default}` (unset), `${VAR:?err}` / `${VAR?err}`, `${VAR:+alt}` / `${VAR+alt}`, `$$` for
a literal `$`; defaults may themselves hold variables. One deliberate difference: an unset
variable without default is an error, not an empty string, because an image reference with a
silently empty part would resolve to the wrong image (or none) at release time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from relkit.core.errors import UsageError

__all__ = ["interpolate", "parse_env_file"]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPERATORS = (":-", ":?", ":+", "-", "?", "+")
_ENV_LINE = re.compile(r"^\s*(?:export\s+)?(?P<key>[A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(?P<value>.*)$")


def parse_env_file(text: str, source: str) -> dict[str, str]:
    """Parse a `.env` file: `KEY=value`, `export KEY=value`, quotes, `#` comments.

    Values are taken literally (no interpolation between entries), which is what the
    `.env.example` of a bundle needs: defaults a self-hoster reads and copies.
    """
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _ENV_LINE.match(line)
        if match is None:
            raise UsageError(
                f"{source}:{number}: not a KEY=VALUE line", hint="fix or comment out the line"
            )
        values[match.group("key")] = _env_value(match.group("value"), f"{source}:{number}")
    return values


def _env_value(raw: str, where: str) -> str:
    raw = raw.strip()
    if raw[:1] in ("'", '"'):
        quote = raw[0]
        end = raw.find(quote, 1)
        while quote == '"' and end > 0 and raw[end - 1] == "\\":
            end = raw.find(quote, end + 1)
        if end < 0:
            raise UsageError(f"{where}: unterminated quoted value", hint=f"close the {quote}")
        inner = raw[1:end]
        if quote == '"':
            inner = inner.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
        return inner
    # Unquoted: an inline comment starts at " #" (as in Compose's dotenv parser).
    comment = re.search(r"\s#", raw)
    return (raw[: comment.start()] if comment else raw).strip()


def interpolate(value: str, env: Mapping[str, str], *, where: str) -> str:
    """Substitute variables in `value` from `env`; `where` names the value in errors."""
    out: list[str] = []
    i = 0
    while i < len(value):
        char = value[i]
        if char != "$":
            out.append(char)
            i += 1
            continue
        nxt = value[i + 1 : i + 2]
        if nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "{":
            end = _closing_brace(value, i + 2, where)
            out.append(_expand(value[i + 2 : end], env, where))
            i = end + 1
        else:
            match = _NAME.match(value, i + 1)
            if match is None:
                raise UsageError(
                    f"{where}: invalid interpolation format in {value!r}",
                    hint="write $$ for a literal $",
                )
            out.append(_lookup(match.group(0), env, where))
            i = match.end()
    return "".join(out)


def _closing_brace(value: str, start: int, where: str) -> int:
    depth = 1
    i = start
    while i < len(value):
        if value.startswith("${", i):
            depth += 1
            i += 2
            continue
        if value[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise UsageError(f"{where}: unclosed ${{ in {value!r}", hint="add the missing }")


def _expand(expression: str, env: Mapping[str, str], where: str) -> str:
    match = _NAME.match(expression)
    if match is None:
        raise UsageError(f"{where}: invalid variable name in ${{{expression}}}")
    name = match.group(0)
    rest = expression[match.end() :]
    if not rest:
        return _lookup(name, env, where)
    operator = next((op for op in _OPERATORS if rest.startswith(op)), None)
    if operator is None:
        raise UsageError(f"{where}: invalid interpolation format in ${{{expression}}}")
    word = rest[len(operator) :]
    current = env.get(name)
    present = current is not None and (current != "" or not operator.startswith(":"))
    if operator.endswith("-"):
        return current if present and current is not None else interpolate(word, env, where=where)
    if operator.endswith("+"):
        return interpolate(word, env, where=where) if present else ""
    # "?" forms: required variable with a custom message.
    if present and current is not None:
        return current
    message = interpolate(word, env, where=where) if word else "required variable is missing"
    raise UsageError(f"{where}: variable {name}: {message}")


def _lookup(name: str, env: Mapping[str, str], where: str) -> str:
    if name not in env:
        raise UsageError(
            f"{where}: variable {name} is not set and has no default",
            hint=f"set {name} in .env.example or write ${{{name}:-default}}",
        )
    return env[name]
