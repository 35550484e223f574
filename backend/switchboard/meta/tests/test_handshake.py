"""The hub.challenge handshake, through Django's RequestFactory (settings, no database)."""

from __future__ import annotations

import json

from django.test import RequestFactory

from switchboard.meta.handshake import handshake_response

TOKEN = "verify-me-please"
rf = RequestFactory()


def handshake_get(**params: str):
    return rf.get("/api/webhooks/messenger/", {f"hub.{name}": value for name, value in params.items()})


def test_valid_handshake_answers_the_exact_challenge_as_plain_text():
    response = handshake_response(handshake_get(mode="subscribe", challenge="1158201444", verify_token=TOKEN), [TOKEN])
    assert response is not None
    assert response.status_code == 200
    assert response.content == b"1158201444"
    assert response["Content-Type"].startswith("text/plain")


def test_challenge_is_echoed_verbatim():
    challenge = "a1b2<c3>&d4"
    response = handshake_response(handshake_get(mode="subscribe", challenge=challenge, verify_token=TOKEN), [TOKEN])
    assert response.status_code == 200
    assert response.content.decode() == challenge


def test_any_of_several_tokens_is_accepted_and_tokens_may_be_any_iterable():
    request = handshake_get(mode="subscribe", challenge="42", verify_token="account-override")
    response = handshake_response(request, (t for t in ["global-token", "", "account-override"]))
    assert response.status_code == 200
    assert response.content == b"42"


def assert_refused(response, code: str) -> None:
    assert response is not None
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert set(body) == {"detail", "code"}
    assert body["code"] == code
    assert body["detail"]


def test_wrong_token_is_refused_with_403():
    response = handshake_response(handshake_get(mode="subscribe", challenge="42", verify_token="guess"), [TOKEN])
    assert_refused(response, "handshake_invalid_token")


def test_missing_token_is_refused_with_403():
    assert_refused(
        handshake_response(handshake_get(mode="subscribe", challenge="42"), [TOKEN]), "handshake_invalid_token"
    )


def test_empty_token_never_matches_an_unconfigured_token():
    response = handshake_response(handshake_get(mode="subscribe", challenge="42", verify_token=""), ["", ""])
    assert_refused(response, "handshake_invalid_token")


def test_no_configured_tokens_refuses_every_handshake():
    response = handshake_response(handshake_get(mode="subscribe", challenge="42", verify_token=TOKEN), [])
    assert_refused(response, "handshake_invalid_token")


def test_other_mode_is_refused():
    response = handshake_response(handshake_get(mode="unsubscribe", challenge="42", verify_token=TOKEN), [TOKEN])
    assert_refused(response, "handshake_invalid_mode")


def test_missing_challenge_is_refused():
    response = handshake_response(handshake_get(mode="subscribe", verify_token=TOKEN), [TOKEN])
    assert_refused(response, "handshake_missing_challenge")


def test_get_that_is_not_a_handshake_gives_none():
    assert handshake_response(rf.get("/api/webhooks/messenger/"), [TOKEN]) is None
    assert handshake_response(rf.get("/api/webhooks/messenger/", {"page": "2"}), [TOKEN]) is None


def test_post_is_never_a_handshake():
    request = rf.post("/api/webhooks/messenger/?hub.mode=subscribe&hub.challenge=42&hub.verify_token=" + TOKEN)
    assert handshake_response(request, [TOKEN]) is None
