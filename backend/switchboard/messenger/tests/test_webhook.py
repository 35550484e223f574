"""Every Messenger fixture through the real endpoint, signed as Meta signs it."""

from __future__ import annotations

import json

import pytest

from switchboard.inbox.models import Direction, Message, MessageStatus
from switchboard.messenger import parser
from switchboard.webhooks.models import WebhookLog
from switchboard.webhooks.testing import META_VERIFY_TOKEN, assert_stored_as_parsed, fixture_bytes, fixture_names

FIXTURES = fixture_names("messenger")


@pytest.mark.parametrize("name", FIXTURES)
def test_every_fixture_is_stored_as_parsed(poster, messenger_account, name):
    body = fixture_bytes("messenger", name)
    events = [event for _, event in parser.parse(json.loads(body))]
    delivery = poster.meta("messenger", body)
    assert_stored_as_parsed(delivery, messenger_account, events)


def test_batch_delivery_stores_every_event(poster, messenger_account):
    body = fixture_bytes("messenger", "batch__two_entries_several_events.json")
    delivery = poster.meta("messenger", body)
    parsed = [e for _, e in parser.parse(json.loads(body))]
    assert delivery.log.event_count == len(parsed) > 2


def test_echo_is_outbound_and_never_unread(poster, messenger_account):
    delivery = poster.meta("messenger", fixture_bytes("messenger", "message_echoes__text.json"))
    message = Message.objects.get()
    assert (message.direction, message.status, message.is_read) == (Direction.OUTBOUND, MessageStatus.SENT, True)
    assert message.conversation.unread_count == 0
    assert delivery.log.status == "processed"


def test_reaction_lands_on_the_target_message(poster, messenger_account):
    poster.meta("messenger", fixture_bytes("messenger", "messages__text.json"))
    target = Message.objects.get()
    react = json.loads(fixture_bytes("messenger", "message_reactions__react.json"))
    react["entry"][0]["messaging"][0]["reaction"]["mid"] = target.platform_message_id
    react["entry"][0]["messaging"][0]["sender"]["id"] = target.conversation.contact.external_id
    poster.meta("messenger", json.dumps(react).encode())
    target.refresh_from_db()
    assert len(target.reactions) == 1 and Message.objects.count() == 1


def test_wrong_signature_is_refused_and_only_the_rejection_is_logged(poster, messenger_account):
    delivery = poster.meta("messenger", fixture_bytes("messenger", "messages__text.json"), secret="not-the-secret")
    assert delivery.response.status_code == 403
    assert delivery.response.json()["code"] == "invalid_signature"
    assert Message.objects.count() == 0
    assert list(WebhookLog.objects.values_list("status", flat=True)) == ["rejected"]


def test_handshake(db, client, webhook_settings):
    ok = client.get(
        "/api/webhooks/messenger/",
        {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": META_VERIFY_TOKEN},
    )
    assert ok.status_code == 200 and ok.content == b"1158201444" and ok["Content-Type"].startswith("text/plain")
    bad = client.get(
        "/api/webhooks/messenger/", {"hub.mode": "subscribe", "hub.challenge": "1", "hub.verify_token": "nope"}
    )
    assert bad.status_code == 403


def test_per_account_verify_token_override(client, webhook_settings, messenger_account):
    messenger_account.verify_token = "agency-own-token"
    messenger_account.save()
    ok = client.get(
        "/api/webhooks/messenger/",
        {"hub.mode": "subscribe", "hub.challenge": "42", "hub.verify_token": "agency-own-token"},
    )
    assert ok.content == b"42"
