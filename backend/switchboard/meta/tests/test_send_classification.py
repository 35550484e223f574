"""How a vendor's answer to a send is classified: transient (retried with backoff), permanent (failed with a sentence
an agent understands), or needing reconnection. Pure unit tests with `responses`; the end-to-end behaviour runs
against real fake servers in switchboard/inbox/tests/test_outbound_delivery.py."""

from __future__ import annotations

import pytest
import requests
import responses

from switchboard.meta import messages
from switchboard.meta.graph import GraphClient, GraphError
from switchboard.platforms.models import PlatformAccount
from switchboard.whatsapp import twilio_api

GRAPH = "https://graph.example.test"
TWILIO = "https://twilio.example.test"


@pytest.fixture
def graph(settings) -> GraphClient:
    settings.GRAPH_API_BASE = GRAPH
    settings.GRAPH_API_VERSION = "v21.0"
    return GraphClient("token-abc")


def envelope(code: int, subcode: int | None = None, message: str = "boom") -> dict:
    error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "Ab1"}
    if subcode:
        error["error_subcode"] = subcode
    return {"error": error}


@responses.activate
@pytest.mark.parametrize(
    ("status", "body", "code", "transient", "reconnect", "says"),
    [
        (429, {"error": {"message": "Too many", "code": 130429}}, "130429", True, False, "busy"),
        (400, envelope(80007), "80007", True, False, "busy"),
        (400, envelope(4), "4", True, False, "busy"),
        (500, envelope(2), "2", True, False, "busy"),
        (503, "<html>Service Unavailable</html>", "http_503", True, False, "busy"),
        (429, "", "http_429", True, False, "busy"),
        (400, envelope(131047), "131047", False, False, "24 hours"),
        (400, envelope(131026), "131026", False, False, "could not deliver"),
        (400, envelope(100), "100", False, False, "invalid"),
        (401, envelope(190, 463), "190", False, True, "reconnect"),
        (400, envelope(10, 2018278), "10", False, False, "window"),
        (400, envelope(132001), "132001", False, False, "No approved template"),
        # Meta's own wording goes to error_detail (below), never into the agent's sentence.
        (
            400,
            envelope(999999, message="Weird new thing"),
            "999999",
            False,
            False,
            "refused this message (error 999999)",
        ),
    ],
)
def test_graph_errors(graph, status, body, code, transient, reconnect, says):
    kwargs = {"json": body} if isinstance(body, dict) else {"body": body}
    responses.post(f"{GRAPH}/v21.0/123/messages", status=status, **kwargs)
    result = messages.graph_post(graph, "123/messages", {"x": 1})
    assert not result.ok
    assert (result.error_code, result.transient, result.needs_reconnect) == (code, transient, reconnect)
    assert says.lower() in result.error_message.lower()
    assert result.error_detail.startswith("Graph API: ") and f"HTTP {status}" in result.error_detail
    if isinstance(body, dict):
        assert body["error"]["message"] in result.error_detail and body["error"]["message"] not in result.error_message


@responses.activate
def test_graph_timeout_is_transient(graph):
    responses.post(f"{GRAPH}/v21.0/123/messages", body=requests.Timeout("read timed out"))
    result = messages.graph_post(graph, "123/messages", {})
    assert (result.ok, result.transient, result.error_code) == (False, True, "network")
    assert result.error_message == "The platform could not be reached (a network problem or a timeout)."
    assert "read timed out" in result.error_detail


@responses.activate
def test_graph_success_ids(graph):
    responses.post(f"{GRAPH}/v21.0/1/messages", json={"recipient_id": "P", "message_id": "m_1"})
    responses.post(f"{GRAPH}/v21.0/2/messages", json={"messaging_product": "whatsapp", "messages": [{"id": "wamid.X"}]})
    assert messages.graph_post(graph, "1/messages", {}).platform_message_id == "m_1"
    assert messages.graph_post(graph, "2/messages", {}).platform_message_id == "wamid.X"
    # Bearer in the header, never in the URL
    assert responses.calls[0].request.headers["Authorization"] == "Bearer token-abc"
    assert "token-abc" not in responses.calls[0].request.url


def test_missing_token_needs_reconnect():
    with pytest.raises(GraphError) as raised:
        GraphClient("")
    result = messages.classify(raised.value)
    assert result.needs_reconnect and not result.transient and "reconnect" in result.error_message


# --- Twilio -----------------------------------------------------------------------------------------------------------
@pytest.fixture
def twilio_account(settings) -> PlatformAccount:
    settings.TWILIO_API_BASE = TWILIO
    settings.PUBLIC_BASE_URL = ""
    return PlatformAccount(
        platform="whatsapp",
        provider="twilio",
        external_id="+14155238886",
        phone_number="+14155238886",
        credentials={"account_sid": "AC123", "auth_token": "tok"},
    )


URL = f"{TWILIO}/2010-04-01/Accounts/AC123/Messages.json"


@responses.activate
@pytest.mark.parametrize(
    ("status", "code", "transient", "reconnect", "says"),
    [
        (429, 20429, True, False, "busy"),
        (503, None, True, False, "busy"),
        (400, 21211, False, False, "not a valid phone number"),
        (400, 21408, False, False, "country"),
        (400, 21610, False, False, "opted out"),
        (400, 21612, False, False, "cannot deliver"),
        (400, 21614, False, False, "cannot receive"),
        (400, 63016, False, False, "24 hours"),
        (401, 20003, False, True, "reconnect"),
    ],
)
def test_twilio_errors(twilio_account, status, code, transient, reconnect, says):
    body = {"code": code, "message": "Twilio says no", "status": status} if code else {"message": "down"}
    responses.post(URL, status=status, json=body)
    result = twilio_api.twilio_send(twilio_account, {"To": "whatsapp:+15551234567", "Body": "hi"})
    assert not result.ok
    assert (result.transient, result.needs_reconnect) == (transient, reconnect)
    assert result.error_code == str(code or f"http_{status}")
    assert says in result.error_message


@responses.activate
def test_twilio_network_error_is_transient(twilio_account):
    responses.post(URL, body=requests.ConnectionError("refused"))
    result = twilio_api.twilio_send(twilio_account, {"To": "whatsapp:+1555", "Body": "x"})
    assert (result.transient, result.error_code) == (True, "network")
    assert result.error_message == "Twilio could not be reached (a network problem or a timeout)."
    assert result.error_detail == "Twilio request failed: ConnectionError: refused"


@responses.activate
def test_twilio_success_and_request(twilio_account):
    responses.post(URL, status=201, json={"sid": "SM1", "status": "queued"})
    result = twilio_api.twilio_send(twilio_account, {"To": "whatsapp:+15551234567", "Body": "hi"})
    assert result.platform_message_id == "SM1"
    sent = responses.calls[0].request
    assert "From=whatsapp%3A%2B14155238886" in sent.body and "Body=hi" in sent.body
    assert sent.headers["Authorization"].startswith("Basic ")


@responses.activate
def test_twilio_retry_after_is_kept(twilio_account):
    responses.post(URL, status=429, json={"code": 20429, "message": "Too many"}, headers={"Retry-After": "7"})
    assert twilio_api.twilio_send(twilio_account, {"To": "whatsapp:+1", "Body": "x"}).retry_after == 7.0
