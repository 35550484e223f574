"""The Graph API client (meta/graph.py): Meta's error envelope classified, the media lookup. Pure unit tests with
`responses` (no network, no database)."""

from __future__ import annotations

import json

import pytest
import requests
import responses

from switchboard.meta.graph import GraphClient, GraphError

BASE = "https://graph.test"


@pytest.fixture
def client(settings):
    settings.GRAPH_API_BASE = BASE
    settings.GRAPH_API_VERSION = "v21.0"
    return GraphClient("EAAG-token")


def envelope(code, *, subcode=None, type_="OAuthException", message="boom", **extra):
    error = {"message": message, "type": type_, "code": code, "fbtrace_id": "Ax1", **extra}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


@responses.activate
def test_media_lookup_sends_the_bearer_and_parses_the_object(client):
    responses.get(
        f"{BASE}/v21.0/1037543291543636",
        json={
            "messaging_product": "whatsapp",
            "url": "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1",
            "mime_type": "image/jpeg",
            "sha256": "81d3bd8a8db4868c9520ed47186e8b7c5789e61ff79f7f834be6950b808a90d3",
            "file_size": "303833",
            "id": "1037543291543636",
        },
    )
    media = client.media_get("1037543291543636", phone_number_id="106540352242922")
    assert media.url.startswith("https://lookaside.fbsbx.com/")
    assert (media.mime_type, media.file_size) == ("image/jpeg", 303833)
    call = responses.calls[0]
    assert call.request.headers["Authorization"] == "Bearer EAAG-token"
    assert "access_token" not in call.request.url  # never in the query string (it would reach access logs)
    assert "phone_number_id=106540352242922" in call.request.url


@pytest.mark.parametrize(
    ("status", "body", "transient", "reconnect"),
    [
        (400, envelope(190, subcode=463, message="Session has expired"), False, True),
        (401, envelope(190), False, True),
        (400, envelope(102), False, True),
        (400, envelope(4, type_="GraphMethodException", message="Application request limit reached"), True, False),
        (400, envelope(17), True, False),
        (400, envelope(613), True, False),
        (400, envelope(80007), True, False),
        (400, envelope(130429, message="Rate limit hit"), True, False),
        (500, envelope(131016, message="Service unavailable"), True, False),
        (400, envelope(2, message="Service temporarily unavailable"), True, False),
        (400, envelope(100, type_="GraphMethodException", message="Unsupported get request"), False, False),
        (400, envelope(131009, message="Parameter value is not valid"), False, False),
        (400, envelope(1, is_transient=True), True, False),
        (400, envelope(9999, is_transient=True), True, False),
        (500, {"error": {"message": "An unknown error occurred", "code": 1}}, True, False),
    ],
)
@responses.activate
def test_error_envelope_is_classified(client, status, body, transient, reconnect):
    responses.get(f"{BASE}/v21.0/777", json=body, status=status)
    with pytest.raises(GraphError) as raised:
        client.media_get("777")
    error = raised.value
    assert (error.transient, error.needs_reconnect) == (transient, reconnect)
    assert error.code == body["error"]["code"] and error.status == status
    assert error.message == body["error"]["message"]


@responses.activate
def test_error_fields_are_kept(client):
    responses.get(f"{BASE}/v21.0/1", json=envelope(190, subcode=460, message="Password changed"), status=400)
    with pytest.raises(GraphError) as raised:
        client.get("1")
    error = raised.value
    assert (error.code, error.subcode, error.type, error.fbtrace_id) == (190, 460, "OAuthException", "Ax1")
    assert str(error) == "Password changed · code 190/460 · HTTP 400 · fbtrace_id Ax1"


@pytest.mark.parametrize(("status", "transient"), [(502, True), (503, True), (429, True), (404, False), (403, False)])
@responses.activate
def test_a_body_that_is_not_the_envelope_classifies_by_status(client, status, transient):
    responses.get(f"{BASE}/v21.0/1", body="<html>Bad gateway</html>", status=status)
    with pytest.raises(GraphError) as raised:
        client.get("1")
    assert raised.value.transient is transient and raised.value.code is None


@responses.activate
def test_timeouts_and_connection_errors_are_transient(client):
    responses.get(f"{BASE}/v21.0/1", body=requests.ConnectTimeout("slow"))
    responses.get(f"{BASE}/v21.0/2", body=requests.ConnectionError("refused"))
    for path in ("1", "2"):
        with pytest.raises(GraphError) as raised:
            client.get(path)
        assert raised.value.transient


@responses.activate
def test_an_error_envelope_with_status_200_is_still_an_error(client):
    responses.get(f"{BASE}/v21.0/1", body=json.dumps(envelope(100)), status=200, content_type="application/json")
    with pytest.raises(GraphError):
        client.get("1")


@responses.activate
def test_a_media_object_without_url_is_an_error(client):
    responses.get(f"{BASE}/v21.0/5", json={"id": "5"})
    with pytest.raises(GraphError, match="no download URL"):
        client.media_get("5")


def test_media_ids_cannot_walk_the_graph(client):
    with pytest.raises(GraphError, match="Not a media id"):
        client.media_get("../me/accounts")


def test_a_missing_token_needs_reconnect(settings):
    with pytest.raises(GraphError) as raised:
        GraphClient("")
    assert raised.value.needs_reconnect and not raised.value.transient


@responses.activate
def test_redirects_are_not_followed(client):
    responses.get(f"{BASE}/v21.0/1", status=302, headers={"Location": "https://evil.test/"})
    with pytest.raises(GraphError):
        client.get("1")
    assert len(responses.calls) == 1
