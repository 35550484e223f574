"""Sending to the id WhatsApp accepts for a contact, and Twilio's status callbacks finding their message however
trimmed — end to end against the fake Graph / Twilio server on 127.0.0.1 (tests/fakes/vendor.py)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from switchboard.inbox.models import Message
from switchboard.inbox.tests.outbound_support import conversation_for, send
from switchboard.webhooks.models import WebhookLog
from switchboard.webhooks.testing import TWILIO_ACCOUNT_SID, twilio_signature
from tests.fakes import cloud_sent, twilio_created

pytestmark = pytest.mark.usefixtures("celery_eager")

CLOUD_MESSAGES = r"/v21\.0/106540352242922/messages"
TWILIO_MESSAGES = r"/2010-04-01/Accounts/AC[a]+/Messages\.json"
SAM_ID = "US.13491208655302741918"  # a username user: WhatsApp gives no number
PUBLIC = "https://inbox.example.com"
WINDOW_CLOSED = (
    "More than 24 hours have passed since the customer last wrote, so WhatsApp only allows an approved template "
    "message."
)


@pytest.fixture(autouse=True)
def _no_public_url(settings):
    settings.SEND_RETRY_BACKOFF_SECONDS = 0.01
    settings.PUBLIC_BASE_URL = ""


def sent_message(sent) -> Message:
    assert sent.response.status_code == 201, sent.response.content
    return Message.objects.get(pk=sent.response.json()["id"])


def test_cloud_sends_to_a_business_scoped_user_by_recipient_without_to(
    fake_vendor, agent_client, wa_cloud_account, django_capture_on_commit_callbacks
):
    fake_vendor.on("POST", CLOUD_MESSAGES, cloud_sent("wamid.OUT1"))
    conversation = conversation_for(wa_cloud_account, external_id=SAM_ID)
    message = sent_message(send(agent_client, django_capture_on_commit_callbacks, conversation, {"text": "Yes!"}))
    assert (message.status, message.platform_message_id) == ("sent", "wamid.OUT1")
    [request] = fake_vendor.requests("POST", CLOUD_MESSAGES)
    assert request.json == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "recipient": SAM_ID,
        "type": "text",
        "text": {"body": "Yes!", "preview_url": False},
    }


def test_cloud_sends_to_the_number_once_a_business_scoped_contact_shared_it(
    fake_vendor, agent_client, wa_cloud_account, django_capture_on_commit_callbacks
):
    """Known first by the BSUID (its external id stays), later with the number: `to` is the number."""
    fake_vendor.on("POST", CLOUD_MESSAGES, cloud_sent("wamid.OUT2"))
    conversation = conversation_for(wa_cloud_account, external_id=SAM_ID)
    contact = conversation.contact
    contact.phone_number, contact.platform_ids = "+14155550177", {"user_id": SAM_ID, "phone": "+14155550177"}
    contact.save(update_fields=["phone_number", "platform_ids"])
    sent_message(send(agent_client, django_capture_on_commit_callbacks, conversation, {"text": "See you"}))
    [request] = fake_vendor.requests("POST", CLOUD_MESSAGES)
    assert request.json["to"] == "14155550177" and "recipient" not in request.json


def test_twilio_sends_to_a_business_scoped_user_by_their_id(
    fake_vendor, agent_client, twilio_account, django_capture_on_commit_callbacks
):
    fake_vendor.on("POST", TWILIO_MESSAGES, twilio_created("SM0001", to=f"whatsapp:{SAM_ID}"))
    conversation = conversation_for(twilio_account, external_id=SAM_ID)
    sent_message(send(agent_client, django_capture_on_commit_callbacks, conversation, {"text": "Hi Sam"}))
    [request] = fake_vendor.requests("POST", TWILIO_MESSAGES)
    assert request.field("To") == f"whatsapp:{SAM_ID}"
    assert request.field("StatusCallback") is None  # no PUBLIC_BASE_URL: no callback URL can be given


def test_twilio_status_callback_url_names_the_account_and_a_trimmed_failure_reaches_the_message(
    fake_vendor, agent_client, twilio_account, django_capture_on_commit_callbacks, poster, settings
):
    settings.PUBLIC_BASE_URL = PUBLIC
    fake_vendor.on("POST", TWILIO_MESSAGES, twilio_created("SM0002"))
    conversation = conversation_for(twilio_account)
    message = sent_message(send(agent_client, django_capture_on_commit_callbacks, conversation, {"text": "Hello"}))
    [request] = fake_vendor.requests("POST", TWILIO_MESSAGES)
    callback = f"{PUBLIC}/api/webhooks/twilio/{twilio_account.pk}/status/"
    assert request.field("StatusCallback") == callback

    # Twilio's callback, trimmed by a forwarder to the four fields: no From, no To. Signed over the full URL.
    body = urlencode(
        {"MessageSid": "SM0002", "MessageStatus": "undelivered", "AccountSid": TWILIO_ACCOUNT_SID, "ErrorCode": "63016"}
    ).encode()
    path = callback.removeprefix(PUBLIC)
    forged = poster.post(
        "twilio",
        body,
        "application/x-www-form-urlencoded",
        path=path,
        X_Twilio_Signature=twilio_signature(PUBLIC + "/api/webhooks/twilio/", body),
    )
    assert forged.response.status_code == 403  # a signature over another URL proves nothing
    message.refresh_from_db()
    assert message.status == "sent"

    delivery = poster.post(
        "twilio",
        body,
        "application/x-www-form-urlencoded",
        path=path,
        X_Twilio_Signature=twilio_signature(callback, body),
    )
    assert delivery.response.status_code == 200 and delivery.response["Content-Type"].startswith("text/xml")
    message.refresh_from_db()
    assert (message.status, message.error_code, message.error_message) == ("failed", "63016", WINDOW_CLOSED)
    assert "message.updated" in delivery.event_names
    log = WebhookLog.objects.get(pk=delivery.log.pk)
    assert (log.platform, log.status, log.account_id, log.path) == ("twilio", "processed", twilio_account.pk, path)


def test_a_status_callback_url_of_another_account_cannot_move_this_accounts_message(
    fake_vendor, agent_client, twilio_account, make_account, org, django_capture_on_commit_callbacks, poster, settings
):
    """The URL names one account; its signature is checked with that account's auth token, and only that
    account's messages are looked up."""
    from switchboard.platforms.models import Platform, Provider

    other = make_account(
        org,
        Platform.WHATSAPP,
        Provider.TWILIO,
        external_id="+14155230000",
        credentials={"account_sid": "AC" + "b" * 32, "auth_token": "other-token"},
    )
    settings.PUBLIC_BASE_URL = PUBLIC
    fake_vendor.on("POST", TWILIO_MESSAGES, twilio_created("SM0003"))
    message = sent_message(
        send(agent_client, django_capture_on_commit_callbacks, conversation_for(twilio_account), {"text": "Hi"})
    )
    body = urlencode({"MessageSid": "SM0003", "MessageStatus": "read", "AccountSid": "AC" + "b" * 32}).encode()
    url = f"{PUBLIC}/api/webhooks/twilio/{other.pk}/status/"
    delivery = poster.post(
        "twilio",
        body,
        "application/x-www-form-urlencoded",
        path=url.removeprefix(PUBLIC),
        X_Twilio_Signature=twilio_signature(url, body, "other-token"),
    )
    assert delivery.response.status_code == 200 and delivery.log.status == "ignored"
    message.refresh_from_db()
    assert message.status == "sent"


@pytest.mark.parametrize("account_id", ["0", "99999999", "9223372036854775808", "123456789012345678901234567890"])
def test_a_status_callback_url_naming_no_account_is_acknowledged_and_ignored(poster, twilio_account, account_id):
    body = urlencode({"MessageSid": "SM0009", "MessageStatus": "delivered", "AccountSid": TWILIO_ACCOUNT_SID}).encode()
    path = f"/api/webhooks/twilio/{account_id}/status/"
    delivery = poster.post(
        "twilio",
        body,
        "application/x-www-form-urlencoded",
        path=path,
        X_Twilio_Signature=twilio_signature("http://testserver" + path, body),
    )
    assert delivery.response.status_code == 200 and delivery.log.status == "ignored"
