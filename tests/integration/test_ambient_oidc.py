"""The preflight check of the GitHub Actions OIDC token service (issue 12 §3), against a
real HTTP endpoint on loopback."""

from __future__ import annotations

import pytest

from relkit.core.errors import RelkitError
from relkit.core.redact import redact, scoped
from relkit.signing.ambient import check_github_actions_oidc
from tests.fixtures.registry import Answer, HostileServer, SeenRequest, json_answer

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJzaWdzdG9yZSJ9.c2lnbmF0dXJlLXZhbHVl"
BEARER = "request-token-" + "3" * 16


def test_a_service_that_hands_out_a_token_passes_and_the_token_is_masked() -> None:
    def answer(request: SeenRequest) -> Answer:
        return json_answer(200, {"count": 1, "value": JWT})

    with scoped(), HostileServer(answer) as service:
        env = {
            "ACTIONS_ID_TOKEN_REQUEST_URL": f"{service.url}/token?api-version=2.0",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": BEARER,
        }
        check_github_actions_oidc(env)
        assert redact(f"x {JWT} {BEARER} y") == "x *** *** y"
    assert [r.path for r in service.seen] == ["/token?api-version=2.0&audience=sigstore"]
    assert service.authorizations() == [f"bearer {BEARER}"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {},
            "keyless signing needs the GitHub Actions OIDC token, but"
            " ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set",
        ),
        (
            {"ACTIONS_ID_TOKEN_REQUEST_TOKEN": BEARER},
            "GitHub Actions OIDC token service is only half configured",
        ),
    ],
    ids=["absent", "half"],
)
def test_a_missing_service_is_one_line_with_the_permission_hint(
    env: dict[str, str], message: str
) -> None:
    with pytest.raises(RelkitError) as caught:
        check_github_actions_oidc(env)
    assert caught.value.message == message
    assert "id-token: write" in str(caught.value.hint)
    assert BEARER not in str(caught.value)


def test_a_service_answering_html_is_one_line() -> None:
    def answer(request: SeenRequest) -> Answer:
        return Answer(200, {"Content-Type": "text/html"}, b"<html>sign in</html>")

    with HostileServer(answer) as service:
        env = {
            "ACTIONS_ID_TOKEN_REQUEST_URL": f"{service.url}/token",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": BEARER,
        }
        with pytest.raises(RelkitError) as caught:
            check_github_actions_oidc(env)
    assert caught.value.message == "GitHub Actions OIDC token service sent no token"
