"""Sending end to end against real HTTP servers on 127.0.0.1 that answer like the Graph API and Twilio
(tests/fakes/vendor.py): what each platform is sent, statuses, retries with backoff, failures an agent can read,
expired tokens, the reply windows, retry from the API, rate limits, echoes racing the send, read receipts."""

from __future__ import annotations

import itertools
import json
import time
from collections import Counter
from datetime import timedelta
from unittest import mock

import pytest
from celery.exceptions import Retry

from switchboard.inbox.models import Attachment, Direction, Message, MessageKind
from switchboard.inbox.payloads import MessageSerializer
from switchboard.inbox.services import sending
from switchboard.inbox.tasks.sending import send_message_task
from switchboard.inbox.tests.conftest import create_message
from switchboard.inbox.tests.outbound_support import (
    IGSID,
    PSID,
    WA_CUSTOMER,
    conversation_for,
    jpeg_bytes,
    post_and_run,
    record_granted_windows,
    send,
)
from switchboard.messenger.adapter import MessengerAdapter
from switchboard.platforms.models import PlatformAccount
from switchboard.webhooks.testing import meta_signature
from tests.fakes import Reply, cloud_sent, graph_error, graph_sent, twilio_created, twilio_error

pytestmark = pytest.mark.usefixtures("celery_eager")

CLOUD_MESSAGES = r"/v21\.0/106540352242922/messages"
MESSENGER_MESSAGES = r"/v21\.0/109876543210987/messages"
TWILIO_MESSAGES = r"/2010-04-01/Accounts/AC[a]+/Messages\.json"


@pytest.fixture(autouse=True)
def _fast_backoff(settings):
    settings.SEND_RETRY_BACKOFF_SECONDS = 0.01
    settings.PUBLIC_BASE_URL = ""


def message_of(sent) -> Message:
    assert sent.response.status_code == 201, sent.response.content
    return Message.objects.get(pk=sent.response.json()["id"])


# --- WhatsApp Cloud ---------------------------------------------------------------------------------------------------
def test_cloud_text_is_sent_then_delivered_and_read_by_status_webhooks(
    fake_vendor, agent, agent_client, wa_cloud_account, django_capture_on_commit_callbacks, poster
):
    fake_vendor.on("POST", CLOUD_MESSAGES, cloud_sent("wamid.OUT1"))
    conversation = conversation_for(wa_cloud_account)

    sent = send(agent_client, django_capture_on_commit_callbacks, conversation, {"text": "The flat is free on Monday"})

    message = message_of(sent)
    assert sent.response.json()["status"] == "queued" and sent.response.json()["sent_by"]["id"] == agent.pk
    assert (message.status, message.platform_message_id, message.direction) == ("sent", "wamid.OUT1", "outbound")
    assert sent.names[:2] == ["message.created", "conversation.updated"]
    assert sent.of("message.created")[0]["status"] == "queued"
    assert sent.of("message.updated")[-1] == MessageSerializer(message).data
    [request] = fake_vendor.requests("POST", CLOUD_MESSAGES)
    assert request.headers["authorization"] == f"Bearer {wa_cloud_account.credential('access_token')}"
    assert request.json == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": WA_CUSTOMER.lstrip("+"),
        "type": "text",
        "text": {"body": "The flat is free on Monday", "preview_url": False},
    }

    # The vendor's status callbacks move the same row forward; nothing new is stored.
    for status in ("delivered", "read"):
        body = {
            "object": "whatsapp_business_account",
            "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
                "statuses": [{"id": "wamid.OUT1", "status": status, "timestamp": "1767225600",
                              "recipient_id": WA_CUSTOMER.lstrip("+")}],
            }}]}],
        }  # fmt: skip
        delivery = poster.meta("whatsapp", json.dumps(body).encode())
        assert delivery.response.status_code == 200
        message.refresh_from_db()
        assert message.status == status
        assert "message.updated" in delivery.event_names
    assert Message.objects.filter(conversation=conversation).count() == 1


def test_cloud_429_then_success_is_retried_with_backoff(
    fake_vendor, agent_client, wa_cloud_account, django_capture_on_commit_callbacks, settings, caplog
):
    caplog.set_level("INFO", logger="switchboard.inbox.services.sending")
    settings.SEND_RETRY_BACKOFF_SECONDS = 0.2
    fake_vendor.on("POST", CLOUD_MESSAGES, graph_error(130429, "Rate limit hit", status=429), cloud_sent("wamid.2"))
    sent = send(agent_client, django_capture_on_commit_callbacks, conversation_for(wa_cloud_account), {"text": "hi"})
    message = message_of(sent)
    assert (message.status, message.platform_message_id, message.error_code) == ("sent", "wamid.2", "")
    first, second = fake_vendor.requests("POST", CLOUD_MESSAGES)
    assert second.at - first.at >= 0.2  # waited the backoff
    # One message.updated per change: back to queued with the reason, then sent. (Payloads are serialized after
    # each commit in production; in this test every commit's callbacks run at the end, so both show the last state.)
    assert len(sent.of("message.updated")) == 2
    assert "attempt 1 failed (130429), retrying in 0.2s" in caplog.text


def test_transient_errors_give_up_after_the_maximum_attempts(
    fake_vendor, agent_client, wa_cloud_account, django_capture_on_commit_callbacks, settings
):
    settings.SEND_EAGER_RETRY_MAX_WAIT_SECONDS = 10
    fake_vendor.on("POST", CLOUD_MESSAGES, graph_error(2, "Service temporarily unavailable", status=503))
    message = message_of(
        send(agent_client, django_capture_on_commit_callbacks, conversation_for(wa_cloud_account), {"text": "hi"})
    )
    requests = fake_vendor.requests("POST", CLOUD_MESSAGES)
    assert len(requests) == settings.SEND_MAX_ATTEMPTS == 5
    gaps = [b.at - a.at for a, b in itertools.pairwise(requests)]
    # Exponential: each wait at least its scheduled 0.01 s * 2**n (a loaded machine can only make waits longer, so
    # lower bounds are the robust check; a constant backoff would fail the later ones).
    assert all(gap >= 0.01 * 2**n for n, gap in enumerate(gaps)), gaps
    assert (message.status, message.error_code) == ("failed", "2")
    assert "busy or unreachable" in message.error_message and "Gave up after 5 attempts" in message.error_message


def test_in_process_retries_never_hold_the_request_long(
    fake_vendor, agent_client, wa_cloud_account, django_capture_on_commit_callbacks, settings
):
    """Embedded default (no worker): retries only while their waits fit SEND_EAGER_RETRY_MAX_WAIT_SECONDS."""
    settings.SEND_RETRY_BACKOFF_SECONDS = 0.1
    settings.SEND_EAGER_RETRY_MAX_WAIT_SECONDS = 0.3
    fake_vendor.on("POST", CLOUD_MESSAGES, graph_error(2, status=503))
    started = time.monotonic()
    message = message_of(
        send(agent_client, django_capture_on_commit_callbacks, conversation_for(wa_cloud_account), {"text": "hi"})
    )
    assert time.monotonic() - started < 2
    assert len(fake_vendor.requests("POST", CLOUD_MESSAGES)) == 3  # waits 0.1 + 0.2; a third wait (0.4) would not fit
    assert message.status == "failed" and "Gave up after 3 attempts" in message.error_message


def test_worker_retries_count_down_1_2_4_8_seconds(fake_vendor, wa_cloud_account, settings, agent):
    """As a worker runs it (not eager): each transient failure schedules the next attempt with self.retry."""
    settings.SEND_RETRY_BACKOFF_SECONDS = 1
    fake_vendor.on("POST", CLOUD_MESSAGES, graph_error(80007, "Rate limit", status=400))
    conversation = conversation_for(wa_cloud_account)
    message = sending.message_send(organization=conversation.organization_id, conversation=conversation, by=agent,
                                    text="hi")  # fmt: skip
    countdowns = []
    for attempt in range(1, 5):
        with mock.patch.object(send_message_task, "retry", side_effect=Retry()) as retry, pytest.raises(Retry):
            send_message_task.run(message.pk, attempt=attempt)
        countdowns.append(retry.call_args.kwargs["countdown"])
        assert retry.call_args.kwargs["kwargs"] == {"attempt": attempt + 1}
        assert Message.objects.get(pk=message.pk).status == "queued"
    assert countdowns == [1, 2, 4, 8]
    assert send_message_task.run(message.pk, attempt=5) == "failed"
    message.refresh_from_db()
    assert message.error_code == "80007" and "Gave up after 5 attempts" in message.error_message


def test_131047_fails_at_once_with_a_sentence(
    fake_vendor, agent_client, wa_cloud_account, django_capture_on_commit_callbacks
):
    fake_vendor.on(
        "POST",
        CLOUD_MESSAGES,
        graph_error(131047, "(#131047) Re-engagement message", subcode=2494010, error_type="OAuthException"),
    )
    sent = send(agent_client, django_capture_on_commit_callbacks, conversation_for(wa_cloud_account), {"text": "hi"})
    message = message_of(sent)
    assert len(fake_vendor.requests("POST", CLOUD_MESSAGES)) == 1  # permanent: never retried
    assert (message.status, message.error_code) == ("failed", "131047")
    assert message.error_message.startswith("More than 24 hours have passed")
    assert sent.of("message.updated")[-1]["status"] == "failed"
    assert sent.of("message.updated")[-1]["error_code"] == "131047"


def test_expired_token_fails_and_marks_the_account_for_reconnection(
    fake_vendor, agent_client, wa_cloud_account, django_capture_on_commit_callbacks
):
    fake_vendor.on("POST", CLOUD_MESSAGES, graph_error(190, "Error validating access token: Session has expired",
                                                       status=401, subcode=463))  # fmt: skip
    conversation = conversation_for(wa_cloud_account)
    message = message_of(send(agent_client, django_capture_on_commit_callbacks, conversation, {"text": "hi"}))
    assert (message.status, message.error_code) == ("failed", "190")
    assert "reconnect" in message.error_message
    wa_cloud_account.refresh_from_db()
    assert wa_cloud_account.needs_reconnect and "reconnect" in wa_cloud_account.last_error
    # Known before sending now: nothing is queued for an account whose token is gone.
    again = send(agent_client, django_capture_on_commit_callbacks, conversation, {"text": "still there?"})
    assert again.response.status_code == 409 and again.response.json()["code"] == "account_needs_reconnect"
    assert len(fake_vendor.requests("POST", CLOUD_MESSAGES)) == 1


def test_outside_24_hours_whatsapp_refuses_free_form_and_sends_a_template(
    fake_vendor, agent_client, wa_cloud_account, django_capture_on_commit_callbacks
):
    fake_vendor.on("POST", CLOUD_MESSAGES, cloud_sent("wamid.T1"))
    conversation = conversation_for(wa_cloud_account, last_inbound=timedelta(hours=25))
    refused = send(agent_client, django_capture_on_commit_callbacks, conversation, {"text": "hello again"})
    assert refused.response.status_code == 409
    body = refused.response.json()
    assert set(body) == {"detail", "code", "templates_required"}
    assert body["code"] == "outside_customer_service_window" and body["templates_required"] is True
    assert "24 hours" in body["detail"] and "template" in body["detail"]
    assert not Message.objects.filter(conversation=conversation).exists() and not fake_vendor.requests("POST")

    template = {
        "name": "viewing_follow_up",
        "language": "en_US",
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "Maya"}]}],
    }
    message = message_of(send(agent_client, django_capture_on_commit_callbacks, conversation, {"template": template}))
    assert message.status == "sent" and message.text == "Template viewing_follow_up: Maya"
    [request] = fake_vendor.requests("POST", CLOUD_MESSAGES)
    assert request.json["type"] == "template"
    assert request.json["template"] == {
        "name": "viewing_follow_up",
        "language": {"code": "en_US"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "Maya"}]}],
    }


def test_cloud_media_upload_is_uploaded_then_sent_by_id(
    fake_vendor, agent_client, wa_cloud_account, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake_vendor.on("POST", r"/v21\.0/106540352242922/media", Reply(200, {"id": "MEDIA-77"}))
    fake_vendor.on("POST", CLOUD_MESSAGES, cloud_sent("wamid.IMG"))
    upload = SimpleUploadedFile("flat.jpg", jpeg_bytes(), content_type="image/jpeg")
    sent = send(agent_client, django_capture_on_commit_callbacks, conversation_for(wa_cloud_account),
                {"file": upload, "text": "Living room"}, format="multipart")  # fmt: skip
    message = message_of(sent)
    assert (message.kind, message.status, message.text) == (MessageKind.IMAGE, "sent", "Living room")
    attachment = Attachment.objects.get(message=message)
    assert attachment.status == "stored" and attachment.mime_type == "image/jpeg" and attachment.filename == "flat.jpg"
    [uploaded] = fake_vendor.requests("POST", r"/media$")
    assert b'name="messaging_product"' in uploaded.body and jpeg_bytes()[:16] in uploaded.body
    [request] = fake_vendor.requests("POST", CLOUD_MESSAGES)
    assert request.json["image"] == {"id": "MEDIA-77", "caption": "Living room"}


# --- Messenger / Instagram --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (timedelta(hours=2), {"messaging_type": "RESPONSE"}),
        (timedelta(days=3), {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}),
    ],
)
def test_messenger_reply_inside_24_hours_and_as_human_agent_up_to_7_days(
    fake_vendor, agent_client, messenger_account, django_capture_on_commit_callbacks, age, expected
):
    fake_vendor.on("POST", MESSENGER_MESSAGES, graph_sent("m_OUT1", PSID))
    conversation = conversation_for(messenger_account, external_id=PSID, last_inbound=age)
    message = message_of(send(agent_client, django_capture_on_commit_callbacks, conversation, {"text": "Hi Maya"}))
    assert (message.status, message.platform_message_id) == ("sent", "m_OUT1")
    [request] = fake_vendor.requests("POST", MESSENGER_MESSAGES)
    assert request.json == {
        "recipient": {"id": PSID},
        "message": {"text": "Hi Maya", "metadata": f"switchboard:msg:{message.pk}"},
        **expected,
    }


def test_messenger_after_7_days_is_refused_before_sending(
    fake_vendor, agent_client, messenger_account, django_capture_on_commit_callbacks
):
    conversation = conversation_for(messenger_account, external_id=PSID, last_inbound=timedelta(days=8))
    refused = send(agent_client, django_capture_on_commit_callbacks, conversation, {"text": "Hi"})
    assert refused.response.status_code == 409
    assert refused.response.json()["code"] == "outside_messaging_window"
    assert refused.response.json()["templates_required"] is False
    assert not fake_vendor.requests()


def test_instagram_sends_from_the_linked_page(
    fake_vendor, agent_client, instagram_account, django_capture_on_commit_callbacks
):
    fake_vendor.on("POST", r"/v21\.0/me/messages", graph_sent("aWdfOUT1", IGSID))
    conversation = conversation_for(instagram_account, external_id=IGSID)
    message = message_of(send(agent_client, django_capture_on_commit_callbacks, conversation, {"text": "Hello!"}))
    assert message.platform_message_id == "aWdfOUT1"
    assert fake_vendor.requests("POST", r"/me/messages")[0].json["recipient"] == {"id": IGSID}


def test_listing_card_goes_as_a_generic_template(
    fake_vendor, agent_client, org, messenger_account, django_capture_on_commit_callbacks
):
    from switchboard.listings.models import Listing

    listing = Listing.objects.create(organization=org, reference="39", title="Sea view flat", location="Cádiz")
    fake_vendor.on("POST", MESSENGER_MESSAGES, graph_sent("m_CARD"))
    conversation = conversation_for(messenger_account, external_id=PSID)
    message = message_of(
        send(agent_client, django_capture_on_commit_callbacks, conversation, {"listing_id": listing.pk})
    )
    assert (message.kind, message.status) == (MessageKind.LISTING_CARD, "sent")
    assert message.payload["listing_id"] == listing.pk and "Sea view flat" in message.text
    sent_message = fake_vendor.requests("POST", MESSENGER_MESSAGES)[0].json["message"]
    element = sent_message["attachment"]["payload"]["elements"][0]
    assert sent_message["attachment"]["payload"]["template_type"] == "generic"
    assert element["title"] == "Sea view flat"


# --- echoes racing the send -------------------------------------------------------------------------------------------
def _echo(mid: str, text: str, metadata: str | None) -> bytes:
    message = {"is_echo": True, "app_id": 1517776481860111, "mid": mid, "text": text}
    if metadata:
        message["metadata"] = metadata
    return json.dumps({
        "object": "page",
        "entry": [{"id": "109876543210987", "time": 1767225600000, "messaging": [{
            "sender": {"id": "109876543210987"}, "recipient": {"id": PSID}, "timestamp": 1767225600000,
            "message": message,
        }]}],
    }).encode()  # fmt: skip


@pytest.mark.parametrize("with_metadata", [True, False])
def test_echo_arriving_before_the_send_stored_its_id_is_the_same_message(
    fake_vendor, client, agent_client, messenger_account, django_capture_on_commit_callbacks, webhook_settings,
    with_metadata,
):  # fmt: skip
    """The platform accepted the send and its echo webhook is processed before the task stores the `mid`."""
    fake_vendor.on("POST", MESSENGER_MESSAGES, graph_sent("m_RACE1", PSID))
    conversation = conversation_for(messenger_account, external_id=PSID)
    original = MessengerAdapter.send
    echoes = []

    def send_then_echo(self, message):
        result = original(self, message)
        body = _echo(
            result.platform_message_id, message.text, f"switchboard:msg:{message.pk}" if with_metadata else None
        )
        echoes.append(client.generic("POST", "/api/webhooks/messenger/", body, content_type="application/json",
                                     headers={"X-Hub-Signature-256": meta_signature(body)}))  # fmt: skip
        return result

    with mock.patch.object(MessengerAdapter, "send", send_then_echo):
        message = message_of(
            send(agent_client, django_capture_on_commit_callbacks, conversation, {"text": "On my way"})
        )

    assert echoes[0].status_code == 200
    assert Message.objects.filter(conversation=conversation).count() == 1
    assert (message.status, message.platform_message_id, message.direction) == ("sent", "m_RACE1", "outbound")
    assert message.sent_by is not None
    # A late duplicate echo changes nothing either.
    body = _echo("m_RACE1", "On my way", None)
    late = client.generic("POST", "/api/webhooks/messenger/", body, content_type="application/json",
                          headers={"X-Hub-Signature-256": meta_signature(body)})  # fmt: skip
    assert late.status_code == 200 and Message.objects.filter(conversation=conversation).count() == 1


def test_an_echo_stored_as_its_own_copy_is_folded_into_our_message(fake_vendor, messenger_account, agent):
    """Belt and braces: if an echo was stored before it could be matched (no metadata, other text), the send that
    comes back with the same id keeps our row and drops the copy."""
    fake_vendor.on("POST", MESSENGER_MESSAGES, graph_sent("m_TWIN"))
    conversation = conversation_for(messenger_account, external_id=PSID)
    ours = sending.message_send(organization=conversation.organization_id, conversation=conversation, by=agent,
                                 text="Card")  # fmt: skip
    twin = create_message(conversation, "something else", direction=Direction.OUTBOUND, platform_message_id="m_TWIN",
                          payload={"echo": True})  # fmt: skip
    assert send_message_task.apply(args=(ours.pk,)).get() == "sent"
    assert not Message.objects.filter(pk=twin.pk).exists()
    ours.refresh_from_db()
    assert (ours.platform_message_id, ours.status) == ("m_TWIN", "sent")


# --- Twilio -----------------------------------------------------------------------------------------------------------
def test_twilio_text_then_status_callback(
    fake_vendor, agent_client, twilio_account, django_capture_on_commit_callbacks, poster
):
    fake_vendor.on("POST", TWILIO_MESSAGES, twilio_created("SM0001"))
    conversation = conversation_for(twilio_account)
    message = message_of(send(agent_client, django_capture_on_commit_callbacks, conversation, {"text": "Hi there"}))
    assert (message.status, message.platform_message_id) == ("sent", "SM0001")
    [request] = fake_vendor.requests("POST", TWILIO_MESSAGES)
    assert request.headers["authorization"].startswith("Basic ")
    assert (request.field("To"), request.field("From"), request.field("Body")) == (
        f"whatsapp:{WA_CUSTOMER}",
        "whatsapp:+14155238886",
        "Hi there",
    )
    form = (
        f"MessageSid=SM0001&MessageStatus=delivered&AccountSid={twilio_account.credential('account_sid')}"
        f"&From=whatsapp%3A%2B14155238886&To=whatsapp%3A%2B15551234567"
    ).encode()
    assert poster.twilio(form).response.status_code == 200
    message.refresh_from_db()
    assert message.status == "delivered"
    assert Message.objects.filter(conversation=conversation).count() == 1


@pytest.mark.parametrize(
    ("code", "says"),
    [(21211, "not a valid phone number"), (21610, "opted out"), (63016, "24 hours"), (21408, "country")],
)
def test_twilio_permanent_errors(
    fake_vendor, agent_client, twilio_account, django_capture_on_commit_callbacks, code, says
):
    fake_vendor.on("POST", TWILIO_MESSAGES, twilio_error(code))
    message = message_of(send(agent_client, django_capture_on_commit_callbacks, conversation_for(twilio_account),
                              {"text": "hi"}))  # fmt: skip
    assert (message.status, message.error_code) == ("failed", str(code)) and says in message.error_message
    assert len(fake_vendor.requests("POST", TWILIO_MESSAGES)) == 1


def test_twilio_20429_then_success_and_templates(
    fake_vendor, agent_client, twilio_account, django_capture_on_commit_callbacks
):
    fake_vendor.on("POST", TWILIO_MESSAGES, twilio_error(20429, "Too Many Requests", status=429), twilio_created("SM2"))
    conversation = conversation_for(twilio_account, last_inbound=timedelta(days=2))
    parameters = [{"type": "text", "text": "Maya"}, {"type": "text", "text": "Monday"}]
    template = {
        "name": "HXb5b62575e6e4ff6129ad7c8efe1f983e",
        "components": [{"type": "body", "parameters": parameters}],
    }
    message = message_of(send(agent_client, django_capture_on_commit_callbacks, conversation, {"template": template}))
    assert (message.status, message.platform_message_id) == ("sent", "SM2")
    _, second = fake_vendor.requests("POST", TWILIO_MESSAGES)
    assert second.field("ContentSid") == template["name"]
    assert json.loads(second.field("ContentVariables")) == {"1": "Maya", "2": "Monday"}
    assert second.field("Body") is None


def test_twilio_template_name_must_be_a_content_sid(agent_client, twilio_account, django_capture_on_commit_callbacks):
    conversation = conversation_for(twilio_account)
    refused = send(agent_client, django_capture_on_commit_callbacks, conversation,
                   {"template": {"name": "hello_world", "language": "en"}})  # fmt: skip
    assert refused.response.status_code == 400 and "HX" in refused.response.json()["errors"]["template"][0]


# --- bridges ----------------------------------------------------------------------------------------------------------
def test_bridge_sends_through_its_http_api(
    fake_vendor, agent_client, bridge_account, django_capture_on_commit_callbacks
):
    bridge_account.credentials = {**bridge_account.credentials, "base_url": fake_vendor.url}
    bridge_account.save()
    fake_vendor.on("POST", "/api/sendText", Reply(201, {"id": "true_15551234567@c.us_3EB0AA", "fromMe": True}))
    # No Business API window on a phone's own session: a week-old conversation is fine.
    conversation = conversation_for(bridge_account, last_inbound=timedelta(days=7))
    message = message_of(send(agent_client, django_capture_on_commit_callbacks, conversation, {"text": "Hola"}))
    assert (message.status, message.platform_message_id) == ("sent", "true_15551234567@c.us_3EB0AA")
    [request] = fake_vendor.requests("POST", "/api/sendText")
    assert request.json == {"session": "agency-main", "chatId": "15551234567@c.us", "text": "Hola"}
    assert request.headers["x-api-key"] == "bridge-key"


# --- retry from the API -----------------------------------------------------------------------------------------------
def test_a_failed_message_is_retried_and_the_same_row_goes_queued_then_sent(
    fake_vendor, agent_client, wa_cloud_account, django_capture_on_commit_callbacks
):
    route = fake_vendor.on("POST", CLOUD_MESSAGES, graph_error(131026, "Message undeliverable"))
    conversation = conversation_for(wa_cloud_account)
    message = message_of(send(agent_client, django_capture_on_commit_callbacks, conversation, {"text": "hi"}))
    assert message.status == "failed"

    route.replies[:] = [cloud_sent("wamid.RETRIED")]
    retried = post_and_run(
        agent_client, django_capture_on_commit_callbacks, f"/api/messages/messages/{message.pk}/retry/"
    )
    assert retried.response.status_code == 200 and retried.response.json()["id"] == message.pk
    assert len(retried.of("message.updated")) == 2  # queued, then sent
    message.refresh_from_db()
    assert (message.status, message.platform_message_id, message.error_code) == ("sent", "wamid.RETRIED", "")
    assert Message.objects.filter(conversation=conversation).count() == 1
    assert len(fake_vendor.requests("POST", CLOUD_MESSAGES)) == 2

    again = post_and_run(
        agent_client, django_capture_on_commit_callbacks, f"/api/messages/messages/{message.pk}/retry/"
    )
    assert again.response.status_code == 409 and again.response.json()["code"] == "not_retryable"


# --- rate limit -------------------------------------------------------------------------------------------------------
def test_the_account_rate_limit_makes_sends_wait_their_turn(
    fake_vendor, agent_client, wa_cloud_account, django_capture_on_commit_callbacks, monkeypatch
):
    wa_cloud_account.settings = {"rate_limit_per_second": 2}
    wa_cloud_account.save()
    granted = record_granted_windows(monkeypatch)
    counter = iter(range(100))
    fake_vendor.on("POST", CLOUD_MESSAGES, lambda request: cloud_sent(f"wamid.R{next(counter)}"))
    conversation = conversation_for(wa_cloud_account)
    messages = [
        message_of(send(agent_client, django_capture_on_commit_callbacks, conversation, {"text": f"m{n}"}))
        for n in range(5)
    ]
    assert {m.status for m in messages} == {"sent"}  # waited, never failed
    requests = fake_vendor.requests("POST", CLOUD_MESSAGES)
    assert max(Counter(granted).values()) <= 2 and len(granted) == len(requests) == 5
    assert requests[-1].wall - requests[0].wall >= 0.9  # five sends at 2/s span three windows: at least ~1 s


def test_account_rate_limit_setting_and_default(settings):
    settings.SEND_RATE_LIMIT_PER_SECOND = 80
    assert sending.account_rate_limit(PlatformAccount(settings={})) == 80
    assert sending.account_rate_limit(PlatformAccount(settings={"rate_limit_per_second": 5})) == 5
    assert sending.account_rate_limit(PlatformAccount(settings={"rate_limit_per_second": True})) == 80


# --- read receipts ----------------------------------------------------------------------------------------------------
def test_reading_a_whatsapp_conversation_sends_read_for_the_last_inbound_message(
    fake_vendor, agent_client, wa_cloud_account, django_capture_on_commit_callbacks
):
    fake_vendor.on("POST", CLOUD_MESSAGES, Reply(200, {"success": True}))
    conversation = conversation_for(wa_cloud_account)
    create_message(conversation, "first", platform_message_id="wamid.IN1")
    create_message(conversation, "second", platform_message_id="wamid.IN2")
    create_message(conversation, "ours", direction=Direction.OUTBOUND, platform_message_id="wamid.OUT9")
    read = post_and_run(agent_client, django_capture_on_commit_callbacks,
                        f"/api/messages/conversations/{conversation.pk}/mark-all-read/")  # fmt: skip
    assert read.response.status_code == 200
    [request] = fake_vendor.requests("POST", CLOUD_MESSAGES)
    assert request.json == {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN2"}


def test_reading_a_messenger_conversation_sends_mark_seen_unless_switched_off(
    fake_vendor, agent_client, messenger_account, django_capture_on_commit_callbacks
):
    fake_vendor.on("POST", MESSENGER_MESSAGES, Reply(200, {"recipient_id": PSID}))
    conversation = conversation_for(messenger_account, external_id=PSID)
    message = create_message(conversation, "hello", platform_message_id="m_IN1")
    post_and_run(agent_client, django_capture_on_commit_callbacks, f"/api/messages/messages/{message.pk}/mark-read/")
    [request] = fake_vendor.requests("POST", MESSENGER_MESSAGES)
    assert request.json == {"recipient": {"id": PSID}, "sender_action": "mark_seen"}

    messenger_account.settings = {"send_read_receipts": False}
    messenger_account.save()
    create_message(conversation, "again", platform_message_id="m_IN2")
    post_and_run(agent_client, django_capture_on_commit_callbacks,
                 f"/api/messages/conversations/{conversation.pk}/mark-all-read/")  # fmt: skip
    assert len(fake_vendor.requests("POST", MESSENGER_MESSAGES)) == 1


def test_a_failing_read_receipt_never_fails_the_agent(
    fake_vendor, agent_client, wa_cloud_account, django_capture_on_commit_callbacks
):
    fake_vendor.on("POST", CLOUD_MESSAGES, graph_error(1, "Unknown error", status=500))
    conversation = conversation_for(wa_cloud_account)
    create_message(conversation, "hi", platform_message_id="wamid.IN1")
    read = post_and_run(agent_client, django_capture_on_commit_callbacks,
                        f"/api/messages/conversations/{conversation.pk}/mark-all-read/")  # fmt: skip
    assert read.response.status_code == 200 and read.response.json()["unread_count"] == 0
    assert len(fake_vendor.requests("POST", CLOUD_MESSAGES)) == 1  # tried once; a courtesy is not retried
