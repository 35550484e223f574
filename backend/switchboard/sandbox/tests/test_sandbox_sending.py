"""The sandbox provider end to end through the normal outbound path: the API stores the message `queued`, the send
task "sends" it through the sandbox adapter under the rate limit, and the simulated platform's statuses and replies
come back through MessageService as `message.updated` / `message.created` events (issue 9)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from switchboard.inbox.models import Attachment, Conversation, Direction, Message, MessageStatus
from switchboard.inbox.services import sending
from switchboard.inbox.tests.conftest import create_attachment, create_message
from switchboard.inbox.tests.outbound_support import IGSID, PSID, conversation_for, jpeg_bytes, send
from switchboard.listings.models import Listing
from switchboard.platforms.models import Platform
from switchboard.platforms.registry import adapter_for
from switchboard.sandbox import simulation
from switchboard.webhooks.testing import captured_broadcasts

pytestmark = pytest.mark.usefixtures("celery_eager")


def run_platform(capture, delayed) -> list[tuple[list[int], str, dict]]:
    """Let the simulated platform answer: every kept callback runs, in the order it is due, each with its own
    commit (so each event carries the state of its moment, as in production)."""
    with captured_broadcasts() as events:
        while True:
            with capture(execute=True):
                if not delayed.run_next():
                    break
    return events


def statuses(events, message_id: int) -> list[str]:
    return [data["status"] for _, name, data in events if name == "message.updated" and data["id"] == message_id]


def sent_message(sent) -> Message:
    assert sent.response.status_code == 201, sent.response.content
    assert sent.response.json()["status"] == "queued"
    return Message.objects.get(pk=sent.response.json()["id"])


@pytest.mark.parametrize(
    ("platform", "customer"),
    [(Platform.WHATSAPP, "+15551234567"), (Platform.MESSENGER, PSID), (Platform.INSTAGRAM, IGSID)],
)
def test_text_is_sent_then_delivered_then_read_in_order(
    platform, customer, make_sandbox_account, agent_client, django_capture_on_commit_callbacks, delayed
):
    account = make_sandbox_account(platform)
    conversation = conversation_for(account, external_id=customer)

    sent = send(agent_client, django_capture_on_commit_callbacks, conversation, {"text": "The flat is free on Monday"})

    message = sent_message(sent)
    assert message.status == MessageStatus.SENT and message.platform_message_id.startswith("sandbox.")
    assert sent.names[:2] == ["message.created", "conversation.updated"]
    assert statuses(sent.events, message.pk) == ["sent"]
    # The platform's callbacks are pending, not applied: they come later, as a vendor's webhooks do.
    assert delayed.pending_delayed() == [
        ("sandbox.status", (account.pk, message.pk, message.platform_message_id, "delivered"))
    ]

    events = run_platform(django_capture_on_commit_callbacks, delayed)

    assert statuses(events, message.pk) == ["delivered", "read"]
    message.refresh_from_db()
    assert message.status == MessageStatus.READ
    # Replies are off by default: nothing else arrives, nothing else is pending.
    assert Message.objects.filter(conversation=conversation).count() == 1
    assert delayed.pending_delayed() == []


def test_the_simulated_customer_answers_from_its_script_when_switched_on(
    make_sandbox_account, agent_client, django_capture_on_commit_callbacks, delayed
):
    account = make_sandbox_account(Platform.WHATSAPP, simulate_replies=True)
    conversation = conversation_for(account)
    first = sent_message(send(agent_client, django_capture_on_commit_callbacks, conversation, {"text": "Hello!"}))

    events = run_platform(django_capture_on_commit_callbacks, delayed)

    assert statuses(events, first.pk) == ["delivered", "read"]
    reply = Message.objects.get(conversation=conversation, direction=Direction.INBOUND)
    assert reply.text == "Thanks for getting back to me! Is it still available?"
    assert reply.payload == {
        "simulated": True,
        "simulation": "Simulated customer (sandbox account): a scripted reply, not a real person.",
        "in_reply_to": first.pk,
    }
    assert (reply.reply_to_id, reply.status, reply.platform_message_id[:11]) == (first.pk, "received", "sandbox.in.")
    created = [data for _, name, data in events if name == "message.created"]
    assert [data["id"] for data in created] == [reply.pk]
    conversation.refresh_from_db()
    assert conversation.unread_count == 1 and conversation.last_inbound_at == reply.timestamp

    # The next text gets the next line of the script.
    sent_message(send(agent_client, django_capture_on_commit_callbacks, conversation, {"text": "Sure"}))
    run_platform(django_capture_on_commit_callbacks, delayed)
    latest = Message.objects.filter(conversation=conversation, direction=Direction.INBOUND).order_by("-id").first()
    assert latest.text == "Could I come and see it this week?"


def test_media_is_sent_and_a_missing_file_fails_as_a_vendor_would(
    make_sandbox_account, agent_client, django_capture_on_commit_callbacks, delayed
):
    account = make_sandbox_account(Platform.WHATSAPP, simulate_replies=True)
    conversation = conversation_for(account)
    upload = SimpleUploadedFile("kitchen.jpg", jpeg_bytes(), content_type="image/jpeg")

    sent = send(agent_client, django_capture_on_commit_callbacks, conversation, {"file": upload, "text": "Kitchen"},
                format="multipart")  # fmt: skip

    message = sent_message(sent)
    assert (message.kind, message.status, message.text) == ("image", "sent", "Kitchen")
    events = run_platform(django_capture_on_commit_callbacks, delayed)
    assert statuses(events, message.pk) == ["delivered", "read"]
    assert Message.objects.get(direction=Direction.INBOUND).text == "Thanks for the photo!"

    # The same attachment again, but its file is gone from storage: the "platform" cannot fetch it.
    attachment = Attachment.objects.get(message=message)
    gone = sent_message(
        send(agent_client, django_capture_on_commit_callbacks, conversation, {"attachment_id": attachment.pk})
    )
    Attachment.objects.filter(message=gone).update(file="")
    Message.objects.filter(pk=gone.pk).update(status=MessageStatus.QUEUED, platform_message_id=None)
    delayed.reset()
    delivery = sending.message_deliver(message_id=gone.pk, attempt=1, may_retry=lambda countdown: False)
    gone.refresh_from_db()
    assert (delivery.status, gone.status, gone.error_code) == ("failed", "failed", "media_unavailable")
    assert gone.error_message == "The attached file is not stored."
    assert delayed.pending_delayed() == []  # a refused send gets no statuses


def test_listing_card_is_sent_and_answered(
    org, make_sandbox_account, agent_client, django_capture_on_commit_callbacks, delayed
):
    account = make_sandbox_account(Platform.MESSENGER, simulate_replies=True)
    conversation = conversation_for(account, external_id=PSID)
    listing = Listing.objects.create(organization=org, title="12 Oak Street", price=485000, currency="USD")

    message = sent_message(
        send(agent_client, django_capture_on_commit_callbacks, conversation, {"listing_id": listing.pk})
    )

    assert (message.kind, message.status, message.payload["listing_id"]) == ("listing_card", "sent", listing.pk)
    events = run_platform(django_capture_on_commit_callbacks, delayed)
    assert statuses(events, message.pk) == ["delivered", "read"]
    assert Message.objects.get(direction=Direction.INBOUND).text == "That one looks lovely. Can I visit it?"

    # The listing is deleted: the card snapshot stored at send time still renders; without it there is no card.
    listing_id = listing.pk
    listing.delete()
    assert adapter_for(account).send(message).ok
    Message.objects.filter(pk=message.pk).update(payload={"listing_id": listing_id})
    message.refresh_from_db()
    assert adapter_for(account).send(message).error_code == "listing_missing"


def test_sandbox_whatsapp_keeps_the_24_hour_window_and_takes_templates(
    make_sandbox_account, agent_client, django_capture_on_commit_callbacks, delayed
):
    account = make_sandbox_account(Platform.WHATSAPP, simulate_replies=True)
    conversation = conversation_for(account, last_inbound=timedelta(days=2))

    refused = send(agent_client, django_capture_on_commit_callbacks, conversation, {"text": "Still interested?"})
    assert refused.response.status_code == 409
    assert refused.response.json()["code"] == "outside_customer_service_window"

    template = {"name": "follow_up", "language": "en_US", "components": []}
    message = sent_message(send(agent_client, django_capture_on_commit_callbacks, conversation, {"template": template}))
    assert (message.status, message.text) == ("sent", "Template follow_up")
    run_platform(django_capture_on_commit_callbacks, delayed)
    assert Message.objects.get(direction=Direction.INBOUND).text == "Hi! Yes, I'm still interested."
    # The customer's answer reopens the window: free text is allowed again.
    again = send(agent_client, django_capture_on_commit_callbacks, Conversation.objects.get(pk=conversation.pk),
                 {"text": "Great!"})  # fmt: skip
    assert again.response.status_code == 201


def test_sends_share_the_accounts_rate_limit(
    make_sandbox_account, agent_client, django_capture_on_commit_callbacks, delayed, monkeypatch
):
    """Not around the outbound path: each sandbox send takes a slot of the account's budget."""
    from switchboard.common import ratelimit

    account = make_sandbox_account(Platform.WHATSAPP, settings={"rate_limit_per_second": 7})
    taken = []
    monkeypatch.setattr(ratelimit, "acquire", lambda key, limit, max_wait: taken.append((key, limit)))
    sent_message(send(agent_client, django_capture_on_commit_callbacks, conversation_for(account), {"text": "hi"}))
    assert taken == [(f"send:{account.pk}", 7)]


def test_a_status_that_comes_before_the_id_is_stored_waits_for_it(make_sandbox_account, delayed):
    account = make_sandbox_account(Platform.WHATSAPP)
    conversation = conversation_for(account)
    message = create_message(conversation, direction=Direction.OUTBOUND, status=MessageStatus.SENDING,
                           platform_message_id=None)  # fmt: skip

    outcome = simulation.status_deliver(account_id=account.pk, message_id=message.pk, platform_message_id="sandbox.x",
                                        status="delivered")  # fmt: skip

    assert outcome == "waiting"
    assert delayed.pending_delayed() == [("sandbox.status", (account.pk, message.pk, "sandbox.x", "delivered"))]
    Message.objects.filter(pk=message.pk).update(platform_message_id="sandbox.x", status=MessageStatus.SENT)
    delayed.run_delayed()
    message.refresh_from_db()
    assert message.status == MessageStatus.READ


def test_read_receipts_history_and_health(make_sandbox_account):
    from switchboard.inbox.services.sync import account_sync

    account = make_sandbox_account(Platform.INSTAGRAM, simulate_replies=True)
    inbound = create_message(conversation_for(account, external_id=IGSID), platform_message_id="sandbox.in.1")

    assert sending.read_receipt_send(message_id=inbound.pk) == "sent"
    run = account_sync(account_id=account.pk)
    assert (run.status, run.messages_seen) == ("succeeded", 0)
    assert run.details["health"] == {"ok": True, "sandbox": True, "simulate_replies": True}


def test_sandbox_media_ids_resolve_to_shipped_files_and_nothing_is_downloaded(make_sandbox_account, monkeypatch):
    from switchboard.inbox import media

    def no_network(*args, **kwargs):
        raise AssertionError("the sandbox must never fetch a URL")

    # Every place a fetch is looked up: the inbox's own fallback (attachments.fetch_source_url) and the package
    # re-export that late imports read (`from switchboard.inbox.media import media_fetch`, meta/graph.py).
    monkeypatch.setattr(media.attachments, "media_fetch", no_network)
    monkeypatch.setattr(media, "media_fetch", no_network)
    account = make_sandbox_account(Platform.MESSENGER)
    message = create_message(conversation_for(account, external_id=PSID))
    shipped = create_attachment(message, media_id="sandbox:floorplan.pdf", kind="document", mime_type="")
    foreign = create_attachment(message, source_url="https://scontent.xx.fbcdn.net/v/photo.jpg")

    stored = media.attachment_download(organization=account.organization_id, attachment=shipped)
    failed = media.attachment_download(organization=account.organization_id, attachment=foreign)

    assert (stored.status, stored.mime_type, stored.size) == ("stored", "application/pdf", 935)
    with stored.file.open("rb") as handle:
        assert handle.read(5) == b"%PDF-"
    assert failed.status == "failed" and "never downloads from a platform" in failed.error


def test_the_scripted_replies_cycle(make_sandbox_account):
    account = make_sandbox_account(Platform.WHATSAPP)
    message = create_message(conversation_for(account), direction=Direction.OUTBOUND)
    texts = [simulation.reply_text(message, n) for n in range(5)]
    assert texts == [*simulation.SCRIPT, simulation.SCRIPT[0]]
