"""The ambient OIDC identity token of a GitHub Actions job.

A job with `permissions: id-token: write` gets two variables: a URL and a bearer token for
GitHub's token service; asking that URL with `audience=sigstore` returns a JWT Fulcio
accepts. We read them from the `env` mapping we are given (not `os.environ` directly) so
the pipeline and the tests decide what the environment is.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from relkit.adapters.tls import shared_ssl_context
from relkit.core.errors import RelkitError
from relkit.core.redact import register_secret
from relkit.core.structured import DocumentError, load_json

__all__ = ["check_github_actions_oidc", "github_actions_token"]

_URL_VAR = "ACTIONS_ID_TOKEN_REQUEST_URL"
_TOKEN_VAR = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
_PERMISSION_HINT = "grant the job 'permissions: id-token: write' in the workflow"


def _with_audience(url: str, audience: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "audience"]
    query.append(("audience", audience))
    return urlunsplit(parts._replace(query=urlencode(query)))


def github_actions_token(
    env: Mapping[str, str], audience: str = "sigstore", *, timeout: float = 30.0
) -> str | None:
    """The job's OIDC token for `audience`, or None outside GitHub Actions.

    Inside Actions without the id-token permission, only one of the variables is missing
    or the service refuses: that is an error with the permission hint, not a silent None.
    """
    url, bearer = env.get(_URL_VAR), env.get(_TOKEN_VAR)
    register_secret(bearer)
    if not url and not bearer:
        return None
    if not url or not bearer:
        raise RelkitError(
            "GitHub Actions OIDC token service is only half configured", hint=_PERMISSION_HINT
        )
    try:
        response = httpx.get(
            _with_audience(url, audience),
            headers={"Authorization": f"bearer {bearer}", "Accept": "application/json"},
            timeout=timeout,
            verify=shared_ssl_context(),
        )
    except httpx.HTTPError as exc:
        raise RelkitError(
            f"cannot reach the GitHub Actions OIDC token service: {type(exc).__name__}"
        ) from None
    if response.status_code != 200:
        raise RelkitError(
            f"GitHub Actions OIDC token service answered HTTP {response.status_code}",
            hint=_PERMISSION_HINT,
        )
    try:
        value = load_json(response.content, source="OIDC token response")["value"]
    except (ValueError, KeyError, TypeError, DocumentError):
        raise RelkitError("GitHub Actions OIDC token service sent no token") from None
    if not isinstance(value, str) or not value:
        raise RelkitError("GitHub Actions OIDC token service sent no token")
    register_secret(value)
    return value


def check_github_actions_oidc(
    env: Mapping[str, str], audience: str = "sigstore", *, timeout: float = 30.0
) -> None:
    """Fail now, before anything is published, when keyless signing will have no token:
    the OIDC request variables are missing (no `id-token: write`) or the service does not
    answer with a token. The token asked for here is discarded; signing asks again."""
    if github_actions_token(env, audience, timeout=timeout) is None:
        raise RelkitError(
            f"keyless signing needs the GitHub Actions OIDC token, but {_URL_VAR} and"
            f" {_TOKEN_VAR} are not set",
            hint=_PERMISSION_HINT + ", or use signing.mode = 'key' outside GitHub Actions",
        )
