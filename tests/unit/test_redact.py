"""Secrets are masked in every form a server or a log may show them in (issue 12 §1)."""

from __future__ import annotations

import base64
import string
from urllib.parse import quote

from hypothesis import given, settings
from hypothesis import strategies as st

from relkit.core.errors import RelkitError
from relkit.core.redact import (
    MASK,
    redact,
    register_credentials,
    register_env_secrets,
    scoped,
    secret_forms,
)

_TEXT = st.text(alphabet=string.ascii_letters + string.digits + "-_.~!@#$%^&*()+=:/", min_size=6)
_USER = st.text(alphabet=string.ascii_letters + string.digits + "-_.", min_size=1, max_size=20)


def _forms(user: str, password: str) -> list[str]:
    pair = f"{user}:{password}".encode()
    return [
        password,
        base64.b64encode(pair).decode(),
        base64.b64encode(pair).decode().rstrip("="),
        base64.urlsafe_b64encode(pair).decode(),
        base64.b64encode(password.encode()).decode(),
        quote(password, safe=""),
    ]


@settings(derandomize=True, max_examples=200, deadline=None)
@given(user=_USER, password=_TEXT, before=st.text(max_size=30), after=st.text(max_size=30))
def test_registered_credentials_never_survive_in_any_form(
    user: str, password: str, before: str, after: str
) -> None:
    with scoped():
        register_credentials(user, password)
        for form in _forms(user, password):
            masked = redact(f"{before}{form}{after}")
            assert form not in masked
            assert MASK in masked


def test_an_echoed_basic_header_is_masked_without_registration() -> None:
    header = "Basic " + base64.b64encode(b"someone:never-registered-pw").decode()
    assert redact(f"HTTP 500 (echo: Authorization: {header})").count(MASK) >= 1
    assert "bmV2ZXI" not in redact(header)
    assert redact(header) == f"Basic {MASK}"


def test_bearer_tokens_jwts_and_github_tokens_are_masked() -> None:
    jwt = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJyZWxraXQifQ.c2lnbmF0dXJl"
    assert redact(f"Bearer {jwt}") == f"Bearer {MASK}"
    assert redact(f"token={jwt}") == f"token={MASK}"
    assert redact(jwt) == MASK
    assert redact("ghp_" + "a1" * 18) == MASK
    assert redact('{"access_token": "opaque-value-1"}') == f'{{"access_token": "{MASK}"}}'


def test_ordinary_messages_are_left_alone() -> None:
    for text in (
        "registry r.example asks for unsupported authentication 'Basic authentication'",
        "Bearer authentication failed",
        "token service of registry ghcr.io returned no token",
        "manifest of ghcr.io/acme/web:1.0.0 is not JSON (an HTML page)",
        "sha256:" + "a" * 64,
        "grant the job 'permissions: id-token: write' in the workflow",
        "password: the key is encrypted",
    ):
        assert redact(text) == text


def test_environment_secrets_and_short_values() -> None:
    with scoped():
        register_env_secrets({"GITOPS": "gitops-token-value-42", "EMPTY": ""}, ["GITOPS", "EMPTY"])
        assert redact("push failed: gitops-token-value-42") == f"push failed: {MASK}"
    assert redact("gitops-token-value-42") == "gitops-token-value-42"  # forgotten again
    # A value shorter than 6 characters is never a token relkit holds: it is not masked,
    # so that "a" or "1234" cannot garble every message.
    assert secret_forms("abc") == set()


def test_relkit_errors_are_redacted_at_construction() -> None:
    basic = base64.b64encode(b"ci-bot:err-secret-pw-99").decode()
    with scoped():
        register_credentials("ci-bot", "err-secret-pw-99")
        error = RelkitError(f"server said {basic}", hint="err-secret-pw-99 was wrong")
    assert basic not in str(error)
    assert "err-secret-pw-99" not in str(error)
    assert error.message == f"server said {MASK}"
