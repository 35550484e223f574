"""History sync against fake vendors on 127.0.0.1: the Graph Conversations API paged to the end (or to the last
sync), Twilio's Messages list, WhatsApp Cloud's health check; one path into the inbox (MessageService), so messages
already received by webhook are stored once; SyncRun statistics; locks; one failing account never stops the rest."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from io import StringIO
from unittest import mock

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone

from switchboard.inbox.models import Conversation, Direction, Message, MessageStatus, SyncRun, SyncStatus, SyncTrigger
from switchboard.inbox.services import sync
from switchboard.inbox.tasks.sync import sync_account_task, sync_all_platforms_task
from switchboard.inbox.tests.conftest import create_message
from switchboard.inbox.tests.outbound_support import PSID, conversation_for
from switchboard.platforms.models import Platform, Provider
from tests.fakes import Reply, graph_error, twilio_error
from tests.fakes.graph import FakeConversations

pytestmark = pytest.mark.usefixtures("celery_eager")

PAGE_ID = "109876543210987"
START = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
CUSTOMERS = {"t_c1": "7000000000000001", "t_c2": "7000000000000002", "t_c3": "7000000000000003"}


def messenger_inbox(count: int = 120) -> FakeConversations:
    inbox = FakeConversations(node=PAGE_ID, business_id=PAGE_ID, platform="messenger", conversations_page_size=2,
                              messages_page_size=25)  # fmt: skip
    for index, (conversation_id, psid) in enumerate(CUSTOMERS.items()):
        inbox.add_conversation(
            conversation_id,
            customer_id=psid,
            name=f"Customer {index + 1}",
            count=count,
            start=START + timedelta(seconds=index * 7),
            step=timedelta(minutes=1),
            business_every=5,  # every 5th message is the Page's reply
        )
    return inbox


def webhook_for(message: dict) -> bytes:
    """The `messaging[]` webhook Meta sent for a Conversations API message (same mid, same second)."""
    from_page = message["from"]["id"] == PAGE_ID
    customer = message["to"]["data"][0]["id"] if from_page else message["from"]["id"]
    at_ms = int(datetime.fromisoformat(message["created_time"]).timestamp() * 1000)
    content = {"mid": message["id"], "text": message["message"], **({"is_echo": True} if from_page else {})}
    event = {
        "sender": {"id": PAGE_ID if from_page else customer},
        "recipient": {"id": customer if from_page else PAGE_ID},
        "timestamp": at_ms,
        "message": content,
    }
    return json.dumps({"object": "page", "entry": [{"id": PAGE_ID, "time": at_ms, "messaging": [event]}]}).encode()


def test_three_conversations_of_120_messages_some_seen_by_webhook_end_up_once_and_in_order(
    fake_vendor, messenger_account, poster
):
    inbox = messenger_inbox()
    inbox.install(fake_vendor)
    # Some of them already arrived by webhook (through the signed endpoint, like production).
    by_conversation = {c.id: list(reversed(c.messages)) for c in inbox.conversations}  # oldest first
    early = by_conversation["t_c1"][:10] + by_conversation["t_c3"][50:55] + [by_conversation["t_c2"][-1]]
    for message in early:
        assert poster.meta("messenger", webhook_for(message)).response.status_code == 200
    assert Message.objects.count() == len(early)

    run = sync.account_sync(account_id=messenger_account.pk, trigger=SyncTrigger.COMMAND)

    assert run.status == SyncStatus.SUCCEEDED, run.error
    assert Message.objects.count() == 360
    counts = Counter(Message.objects.values_list("platform_message_id", flat=True))
    assert set(counts.values()) == {1}, "a message is stored once"
    for conversation_id, expected in by_conversation.items():
        conversation = Conversation.objects.get(contact__external_id=CUSTOMERS[conversation_id])
        stored = list(conversation.messages.order_by("timestamp", "id").values_list("platform_message_id", flat=True))
        assert stored == [m["id"] for m in expected], f"{conversation_id} is out of order"
        assert conversation.contact.name.startswith("Customer")
        assert conversation.last_message_preview == expected[-1]["message"]
        page_replies = conversation.messages.filter(direction=Direction.OUTBOUND)
        assert page_replies.count() == 24 and not page_replies.filter(is_read=False).exists()
    assert (run.conversations_synced, run.messages_seen, run.messages_new, run.errors) == (3, 360, 360 - 16, 0)
    assert run.duration_ms is not None and run.since is not None and run.trigger == SyncTrigger.COMMAND

    # Every page was read: 2 pages of conversations, 4 more pages of 25 messages for each conversation.
    conversation_pages = fake_vendor.requests("GET", rf"/{PAGE_ID}/conversations$")
    assert len(conversation_pages) == 2
    assert conversation_pages[0].param("platform") == "messenger" and "messages" in conversation_pages[0].param(
        "fields"
    )
    assert len(fake_vendor.requests("GET", r"/t_c\d/messages$")) == 3 * 4
    assert all(r.headers["authorization"].startswith("Bearer ") for r in fake_vendor.requests())
    messenger_account.refresh_from_db()
    assert messenger_account.last_sync_at is not None and messenger_account.last_error == ""


def test_the_next_sync_stops_at_the_last_sync(fake_vendor, messenger_account):
    inbox = messenger_inbox(count=60)
    inbox.install(fake_vendor)
    assert sync.account_sync(account_id=messenger_account.pk).messages_new == 180
    fake_vendor.reset()
    # Two new messages in one conversation since then; the others did not change.
    newer = FakeConversations(node=PAGE_ID, business_id=PAGE_ID, platform="messenger", conversations_page_size=2)
    newer.conversations = inbox.conversations
    fresh = newer.add_conversation("t_c9", customer_id="7000000000000009", count=2, start=timezone.now())
    newer.install(fake_vendor)

    run = sync.account_sync(account_id=messenger_account.pk)

    assert (run.status, run.messages_new, run.messages_seen) == (SyncStatus.SUCCEEDED, 2, 2)
    assert Message.objects.filter(platform_message_id__startswith="m_t_c9_").count() == len(fresh.messages)
    # It stopped at the first conversation older than the last sync: no older page, no older messages.
    assert len(fake_vendor.requests("GET", r"/conversations$")) == 1
    assert not fake_vendor.requests("GET", r"/t_c\d/messages$")


def test_instagram_lists_conversations_of_the_linked_page(fake_vendor, instagram_account):
    ig_id = instagram_account.external_id
    inbox = FakeConversations(node="me", business_id=ig_id, platform="instagram")
    inbox.add_conversation("aWdfConv1", customer_id="17841400000000999", username="maya.home", count=30,
                           start=START, business_every=3)  # fmt: skip
    inbox.install(fake_vendor)
    run = sync.account_sync(account_id=instagram_account.pk)
    assert (run.status, run.messages_new) == (SyncStatus.SUCCEEDED, 30)
    assert fake_vendor.requests("GET", r"/me/conversations$")[0].param("platform") == "instagram"
    conversation = Conversation.objects.get(platform_account=instagram_account)
    assert conversation.contact.username == "maya.home"
    assert conversation.messages.filter(direction=Direction.OUTBOUND).count() == 10


def test_an_expired_token_fails_the_run_and_marks_the_account(fake_vendor, messenger_account):
    fake_vendor.on("GET", rf"/v21\.0/{PAGE_ID}/conversations", graph_error(190, "Session has expired", status=401))
    run = sync.account_sync(account_id=messenger_account.pk)
    assert (run.status, run.errors, run.details["error_code"]) == (SyncStatus.FAILED, 1, "190")
    assert "reconnect" in run.error
    messenger_account.refresh_from_db()
    assert messenger_account.needs_reconnect and messenger_account.last_sync_at is None
    assert messenger_account.pk not in [a.pk for a in sync.syncable_accounts()]


# --- Twilio -----------------------------------------------------------------------------------------------------------
def twilio_message(sid: str, *, direction: str, at: datetime, body: str, status: str = "received", media: int = 0):
    ours, customer = "whatsapp:+14155238886", "whatsapp:+15551234567"
    inbound = direction == "inbound"
    return {
        "sid": sid,
        "account_sid": "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "from": customer if inbound else ours,
        "to": ours if inbound else customer,
        "body": body,
        "status": status,
        "direction": direction,
        "num_media": str(media),
        "error_code": None,
        "date_sent": at.strftime("%a, %d %b %Y %H:%M:%S +0000"),
        "subresource_uris": {
            "media": f"/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Messages/{sid}/Media.json"
        },
    }


def test_twilio_history_pages_through_the_messages_list(fake_vendor, twilio_account):
    base = "/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Messages.json"
    now = timezone.now().replace(microsecond=0)
    conversation = conversation_for(twilio_account)
    ours = create_message(conversation, "We sent this", direction=Direction.OUTBOUND, platform_message_id="SMout1",
                          status=MessageStatus.SENT, timestamp=now - timedelta(minutes=30))  # fmt: skip
    inbound = [twilio_message(f"SMin{n}", direction="inbound", at=now - timedelta(minutes=20 - n), body=f"in {n}",
                              media=1 if n == 3 else 0) for n in range(1, 5)]  # fmt: skip
    outbound = [twilio_message("SMout1", direction="outbound-api", at=now - timedelta(minutes=30), body="We sent this",
                               status="read")]  # fmt: skip

    def listing(request):
        if request.param("To") == "whatsapp:+14155238886":  # inbound, newest first, two per page
            newest_first = list(reversed(inbound))
            page = int(request.param("Page") or 0)
            chunk = newest_first[page * 2 : page * 2 + 2]
            more = (page + 1) * 2 < len(newest_first)
            next_uri = f"{base}?To=whatsapp%3A%2B14155238886&PageSize=2&Page={page + 1}" if more else None
            return Reply(200, {"messages": chunk, "next_page_uri": next_uri, "page": page})
        assert request.param("From") == "whatsapp:+14155238886"
        return Reply(200, {"messages": outbound, "next_page_uri": None, "page": 0})

    fake_vendor.on("GET", base, listing)
    media = {"sid": "ME1", "content_type": "image/jpeg", "uri": base.replace(".json", "/SMin3/Media/ME1.json")}
    fake_vendor.on("GET", r".*/Messages/SMin3/Media\.json", Reply(200, {"media_list": [media]}))

    run = sync.account_sync(account_id=twilio_account.pk)

    assert run.status == SyncStatus.SUCCEEDED, run.error
    assert (run.messages_seen, run.messages_new, run.conversations_synced) == (5, 4, 1)
    stored = list(conversation.messages.order_by("timestamp", "id").values_list("platform_message_id", flat=True))
    assert stored == ["SMout1", "SMin1", "SMin2", "SMin3", "SMin4"]
    ours.refresh_from_db()
    assert ours.status == MessageStatus.READ  # a status no webhook delivered catches up
    with_media = Message.objects.get(platform_message_id="SMin3")
    assert with_media.attachments.get().source_url.endswith("/Messages/SMin3/Media/ME1")
    first = fake_vendor.requests("GET", r"/Messages\.json$")[0]
    assert first.param("DateSent>") and first.headers["authorization"].startswith("Basic ")
    assert len(fake_vendor.requests("GET", r"/Messages\.json$")) == 3  # two inbound pages, one outbound


def test_twilio_bad_credentials_mark_the_account(fake_vendor, twilio_account):
    fake_vendor.on("GET", r".*/Messages\.json", twilio_error(20003, "Authenticate", status=401))
    run = sync.account_sync(account_id=twilio_account.pk)
    assert run.status == SyncStatus.FAILED
    twilio_account.refresh_from_db()
    assert twilio_account.needs_reconnect


# --- WhatsApp Cloud ---------------------------------------------------------------------------------------------------
def test_cloud_sync_checks_the_number_and_refreshes_last_sync(fake_vendor, wa_cloud_account):
    fake_vendor.on("GET", r"/v21\.0/106540352242922", Reply(200, {
        "id": "106540352242922", "display_phone_number": "+1 555-078-3881", "verified_name": "Acme Realty",
        "quality_rating": "GREEN"}))  # fmt: skip
    run = sync.account_sync(account_id=wa_cloud_account.pk)
    assert (run.status, run.messages_seen) == (SyncStatus.SUCCEEDED, 0)
    assert run.details["health"] == {"ok": True, "display_phone_number": "+1 555-078-3881",
                                     "verified_name": "Acme Realty", "quality_rating": "GREEN"}  # fmt: skip
    wa_cloud_account.refresh_from_db()
    assert wa_cloud_account.last_sync_at is not None


def test_cloud_sync_with_an_expired_token(fake_vendor, wa_cloud_account):
    fake_vendor.on("GET", r"/v21\.0/106540352242922", graph_error(190, "expired", status=401))
    run = sync.account_sync(account_id=wa_cloud_account.pk)
    assert run.status == SyncStatus.FAILED
    wa_cloud_account.refresh_from_db()
    assert wa_cloud_account.needs_reconnect and wa_cloud_account.last_sync_at is None


def test_bridge_sync_checks_the_session(fake_vendor, bridge_account):
    bridge_account.credentials = {**bridge_account.credentials, "base_url": fake_vendor.url}
    bridge_account.save()
    fake_vendor.on(
        "GET", "/api/sessions/agency-main", Reply(200, {"name": "agency-main", "status": "WORKING"}), Reply(500)
    )
    run = sync.account_sync(account_id=bridge_account.pk)
    assert (run.status, run.details["health"]) == (SyncStatus.SUCCEEDED, {"ok": True, "status": "WORKING"})
    assert fake_vendor.requests("GET")[0].headers["x-api-key"] == "bridge-key"
    again = sync.account_sync(account_id=bridge_account.pk)
    assert again.status == SyncStatus.PARTIAL and "health check failed: HTTP 500" in again.error


# --- fan-out, failures, locks -----------------------------------------------------------------------------------------
def test_sync_all_fans_out_and_one_failing_account_never_stops_the_others(
    fake_vendor, org, make_account, messenger_account, wa_cloud_account
):
    broken = make_account(org, Platform.MESSENGER, Provider.META, external_id="555000111")
    make_account(org, Platform.MESSENGER, Provider.META, external_id="555000222", is_active=False)
    make_account(org, Platform.MESSENGER, Provider.META, external_id="555000333", needs_reconnect=True)
    fake_vendor.on("GET", r"/v21\.0/555000111/conversations", graph_error(1, "An unknown error occurred", status=500))
    messenger_inbox(count=5).install(fake_vendor)
    fake_vendor.on("GET", r"/v21\.0/106540352242922", Reply(200, {"id": "106540352242922"}))

    assert sync_all_platforms_task.apply().get() == 3

    runs = {run.account_id: run for run in SyncRun.objects.all()}
    assert set(runs) == {broken.pk, messenger_account.pk, wa_cloud_account.pk}
    assert runs[broken.pk].status == SyncStatus.FAILED and "busy or unreachable" in runs[broken.pk].error
    assert runs[messenger_account.pk].status == SyncStatus.SUCCEEDED and runs[messenger_account.pk].messages_new == 15
    assert runs[wa_cloud_account.pk].status == SyncStatus.SUCCEEDED
    assert {run.trigger for run in runs.values()} == {SyncTrigger.SCHEDULE}
    broken.refresh_from_db()
    assert not broken.needs_reconnect and broken.last_error  # a 500 is not a credentials problem


def test_each_account_task_expires_after_one_interval(settings, messenger_account, wa_cloud_account):
    settings.SYNC_INTERVAL_MINUTES = 5
    with mock.patch.object(sync_account_task, "apply_async") as apply_async:
        assert sync.sync_all() == 2
    assert [call.kwargs["expires"] for call in apply_async.call_args_list] == [300, 300]
    assert {call.kwargs["kwargs"]["account_id"] for call in apply_async.call_args_list} == {
        messenger_account.pk,
        wa_cloud_account.pk,
    }


def test_an_account_never_syncs_twice_at_once(fake_vendor, messenger_account):
    cache.add(sync.lock_key(messenger_account.pk), "another-worker", 60)
    run = sync.account_sync(account_id=messenger_account.pk)
    assert run.status == SyncStatus.SKIPPED and "running" in run.error
    assert not fake_vendor.requests()
    assert cache.get(sync.lock_key(messenger_account.pk)) == "another-worker"  # not ours to release


def test_the_lock_is_released_after_a_crash(fake_vendor, messenger_account):
    with mock.patch("switchboard.inbox.services.sync.adapter_for", side_effect=RuntimeError("boom")):
        run = sync.account_sync(account_id=messenger_account.pk)
    assert run.status == SyncStatus.FAILED and "boom" in run.error
    assert not sync.sync_is_running(account_id=messenger_account.pk)


def test_one_bad_event_costs_only_itself(fake_vendor, messenger_account):
    messenger_inbox(count=10).install(fake_vendor)
    real = sync.handle_events

    def flaky(account, events):
        if any(getattr(e, "platform_message_id", "") == "m_t_c2_4" for e in events):
            raise ValueError("cannot store m_t_c2_4")
        return real(account, events)

    with mock.patch("switchboard.inbox.services.sync.handle_events", side_effect=flaky):
        run = sync.account_sync(account_id=messenger_account.pk)
    assert (run.status, run.errors, run.messages_new) == (SyncStatus.PARTIAL, 1, 29)
    assert "cannot store m_t_c2_4" in run.error


def test_old_runs_are_pruned(messenger_account):
    old = SyncRun.objects.create(organization=messenger_account.organization, account=messenger_account)
    SyncRun.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=30))
    with mock.patch.object(sync_account_task, "apply_async"):
        sync.sync_all()
    assert not SyncRun.objects.filter(pk=old.pk).exists()


def test_the_management_command(fake_vendor, messenger_account, wa_cloud_account):
    messenger_inbox(count=4).install(fake_vendor)
    out = StringIO()
    call_command("sync_platforms", "--account", str(messenger_account.pk), stdout=out)
    assert f"account {messenger_account.pk}: succeeded — 3 conversations, 12 messages seen, 12 new" in out.getvalue()
    assert SyncRun.objects.get().trigger == SyncTrigger.COMMAND
    with pytest.raises(Exception, match="No platform account with id 999999"):
        call_command("sync_platforms", "--account", "999999")
    # Without --account: every syncable account; the Cloud number fails its health check, the rest still runs.
    fake_vendor.on("GET", r"/v21\.0/106540352242922", graph_error(1, "down", status=500))
    err = StringIO()
    call_command("sync_platforms", stdout=StringIO(), stderr=err)
    assert f"account {wa_cloud_account.pk}: failed" in err.getvalue()
    assert SyncRun.objects.filter(account=messenger_account).count() == 2
    assert PSID  # the support module's constants stay importable here
