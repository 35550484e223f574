"""WhatsApp endpoints — Cloud API, Twilio, bridges — beyond each fixture's own expectation (test_webhooks_cloud.py,
test_webhooks_twilio.py, test_webhooks_bridge.py): malformed bodies, signatures, ordering, routing."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlencode

import pytest

from switchboard.inbox.models import Contact, Direction, Message, MessageStatus
from switchboard.webhooks.models import WebhookLog, WebhookStatus
from switchboard.webhooks.testing import fixture_bytes, fixture_names

CLOUD_MALFORMED = fixture_names("whatsapp", prefix="cloud__malformed__")
BRIDGE_MALFORMED = fixture_names("whatsapp", prefix="bridge__malformed__")


@pytest.mark.parametrize("name", CLOUD_MALFORMED)
def test_authentic_but_malformed_cloud_deliveries_are_acknowledged_and_kept_failed(poster, wa_cloud_account, name):
    """Meta retries a non-2xx answer for days: a signed body we cannot parse is answered 200, kept `failed` with the
    reason, and stays replayable once the parser is fixed."""
    delivery = poster.meta("whatsapp", fixture_bytes("whatsapp", name))
    assert delivery.response.status_code == 200, delivery.response.content
    assert delivery.log.status == WebhookStatus.FAILED and delivery.log.error
    assert Message.objects.count() == 0


@pytest.mark.parametrize("name", BRIDGE_MALFORMED)
def test_malformed_bridge_deliveries_are_400_and_logged(poster, bridge_account, name):
    delivery = poster.bridge(fixture_bytes("whatsapp", name))
    assert delivery.response.status_code == 400, delivery.response.content
    assert delivery.log.status == WebhookStatus.REJECTED and delivery.log.error
    assert Message.objects.count() == 0


def test_malformed_twilio_delivery_is_400(poster, twilio_account):
    delivery = poster.twilio(fixture_bytes("whatsapp", "twilio__malformed__no_message_sid.txt").strip())
    assert delivery.response.status_code == 400 and Message.objects.count() == 0


def test_cloud_batch_stores_every_message_and_status(poster, wa_cloud_account):
    body = fixture_bytes("whatsapp", "cloud__batch__two_entries_messages_and_statuses.json")
    delivery = poster.meta("whatsapp", body)
    # Three messages and three statuses (for messages we never sent: nothing to move, nothing stored).
    assert delivery.log.event_count == 6
    assert Message.objects.count() == 3


def test_cloud_wrong_signature_stores_nothing_but_the_rejection(poster, wa_cloud_account):
    delivery = poster.meta("whatsapp", fixture_bytes("whatsapp", "cloud__text__basic.json"), secret="nope")
    assert delivery.response.status_code == 403
    assert Message.objects.count() == 0 and Contact.objects.count() == 0
    assert list(WebhookLog.objects.values_list("status", flat=True)) == ["rejected"]


def test_cloud_handshake(db, client, webhook_settings):
    response = client.get(
        "/api/webhooks/whatsapp/",
        {"hub.mode": "subscribe", "hub.challenge": "CHALLENGE_ACCEPTED", "hub.verify_token": "test-verify-token"},
    )
    assert response.status_code == 200 and response.content == b"CHALLENGE_ACCEPTED"


def test_cloud_status_moves_our_message_and_never_back(poster, wa_cloud_account):
    body = json.loads(fixture_bytes("whatsapp", "cloud__status__read.json"))
    status = body["entry"][0]["changes"][0]["value"]["statuses"][0]
    poster.meta("whatsapp", fixture_bytes("whatsapp", "cloud__text__basic.json"))
    conversation = Message.objects.get().conversation
    ours = Message.objects.create(
        organization=wa_cloud_account.organization,
        conversation=conversation,
        platform_account=wa_cloud_account,
        direction=Direction.OUTBOUND,
        text="Sure!",
        platform_message_id=status["id"],
        status=MessageStatus.SENT,
        timestamp=conversation.last_message_at,
    )
    delivery = poster.meta("whatsapp", json.dumps(body).encode())
    ours.refresh_from_db()
    assert ours.status == MessageStatus.READ and "message.updated" in delivery.event_names
    status["status"] = "delivered"
    poster.meta("whatsapp", json.dumps(body).encode())
    ours.refresh_from_db()
    assert ours.status == MessageStatus.READ


def test_twilio_wrong_signature_is_403(poster, twilio_account):
    body = fixture_bytes("whatsapp", "twilio__text__basic.txt").strip()
    delivery = poster.twilio(body, auth_token="someone-elses-token")
    assert delivery.response.status_code == 403 and Message.objects.count() == 0


def test_twilio_signature_survives_a_proxy_when_forwarded_headers_are_trusted(poster, twilio_account, settings):
    from switchboard.webhooks.testing import twilio_signature

    settings.TRUST_FORWARDED_HEADERS = True
    body = fixture_bytes("whatsapp", "twilio__text__basic.txt").strip()
    public = "https://inbox.example.com/api/webhooks/twilio/"
    delivery = poster.post(
        "twilio",
        body,
        "application/x-www-form-urlencoded",
        X_Twilio_Signature=twilio_signature(public, body),
        X_Forwarded_Proto="https",
        X_Forwarded_Host="inbox.example.com",
    )
    assert delivery.response.status_code == 200 and Message.objects.count() == 1


def test_twilio_forwarded_headers_are_ignored_unless_trusted(poster, twilio_account):
    from switchboard.webhooks.testing import twilio_signature

    body = fixture_bytes("whatsapp", "twilio__text__basic.txt").strip()
    delivery = poster.post(
        "twilio",
        body,
        "application/x-www-form-urlencoded",
        X_Twilio_Signature=twilio_signature("https://inbox.example.com/api/webhooks/twilio/", body),
        X_Forwarded_Proto="https",
        X_Forwarded_Host="inbox.example.com",
    )
    assert delivery.response.status_code == 403


def test_twilio_signature_counts_empty_and_unknown_parameters(poster, twilio_account):
    params = dict(parse_qsl(fixture_bytes("whatsapp", "twilio__text__basic.txt").strip().decode(), True))
    params.update(Body="", SomeNewTwilioParameter="x")
    params["NumMedia"] = "0"
    delivery = poster.twilio(urlencode(params).encode())
    assert delivery.response.status_code == 200


def test_twilio_three_media_become_three_attachments(poster, twilio_account):
    poster.twilio(fixture_bytes("whatsapp", "twilio__media__three_images.txt").strip())
    message = Message.objects.get()
    assert message.attachments.count() == 3
    assert all(a.source_url.startswith("https://") for a in message.attachments.all())


def test_twilio_number_on_another_twilio_account_is_ignored(poster, twilio_account):
    twilio_account.credentials = {**twilio_account.credentials, "account_sid": "ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}
    twilio_account.save()
    delivery = poster.twilio(fixture_bytes("whatsapp", "twilio__text__basic.txt").strip())
    assert delivery.log.status == WebhookStatus.IGNORED and Message.objects.count() == 0


def test_one_phone_is_one_contact_across_cloud_spellings(poster, wa_cloud_account):
    poster.meta("whatsapp", fixture_bytes("whatsapp", "cloud__text__basic.json"))
    contact = Contact.objects.get()
    assert contact.external_id.startswith("+") and contact.phone_number == contact.external_id


def test_bridge_wrong_secret_is_403(poster, bridge_account):
    delivery = poster.bridge(fixture_bytes("whatsapp", "bridge__waha__message.json"), secret="wrong")
    assert delivery.response.status_code == 403 and Message.objects.count() == 0


def test_bridge_waha_hmac_is_accepted(poster, bridge_account):
    import hashlib
    import hmac as hmac_lib

    body = fixture_bytes("whatsapp", "bridge__waha__message.json")
    mac = hmac_lib.new(b"test-bridge-secret", body, hashlib.sha512).hexdigest()
    delivery = poster.post("bridge", body, "application/json", X_Webhook_Hmac=mac, X_Webhook_Hmac_Algorithm="sha512")
    assert delivery.response.status_code == 200 and Message.objects.count() == 1


def test_bridge_secret_in_query_is_redacted_in_the_log(poster, bridge_account):
    body = fixture_bytes("whatsapp", "bridge__waha__message.json")
    delivery = poster.post("bridge", body, "application/json", path="/api/whatsapp/callback?secret=test-bridge-secret")
    assert delivery.response.status_code == 200
    assert "test-bridge-secret" not in delivery.log.query_string


def test_bridge_unknown_session_is_refused(poster):
    delivery = poster.bridge(fixture_bytes("whatsapp", "bridge__waha__message.json"))
    assert delivery.response.status_code == 403


def test_bridge_own_message_is_outbound(poster, bridge_account):
    poster.bridge(fixture_bytes("whatsapp", "bridge__waha__message_any_from_me.json"))
    message = Message.objects.get()
    assert message.direction == Direction.OUTBOUND and message.conversation.unread_count == 0
