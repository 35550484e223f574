"""`manage.py seed_bulk`: bulk rows for the demo organization only, counted as asked, with the counters the inbox
reads, through the API as any conversation — and a rerun creates nothing."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, F
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from switchboard.accounts.models import Organization, User
from switchboard.inbox.models import Contact, Conversation, Direction, Message
from switchboard.inbox.tests.conftest import create_conversation, create_message
from switchboard.platforms.models import Platform

CONVERSATIONS = 60
THREAD = 250


@pytest.fixture
def demo(db):
    call_command("seed_demo", stdout=io.StringIO())
    return Organization.objects.get(slug="demo-agency")


def demo_client() -> APIClient:
    client = APIClient()
    user = User.objects.get(email="demo@switchboard.local")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


def bulk(*args: str) -> dict:
    out = io.StringIO()
    call_command("seed_bulk", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_counts_and_every_row_belongs_to_the_demo_organization(demo, make_org, make_account):
    other = make_org()
    other_account = make_account(other, Platform.WHATSAPP)
    bystander = create_conversation(other_account)
    create_message(bystander, "not theirs")
    before = {
        "contacts": Contact.objects.for_organization(demo).count(),
        "conversations": Conversation.objects.for_organization(demo).count(),
        "messages": Message.objects.for_organization(demo).count(),
    }

    result = bulk("--conversations", str(CONVERSATIONS), "--thread-messages", str(THREAD))

    # One contact and one conversation per bulk conversation, plus the long thread's; one message each, plus the thread.
    assert result["created"] == {
        "contacts": CONVERSATIONS + 1,
        "conversations": CONVERSATIONS + 1,
        "messages": CONVERSATIONS + THREAD,
    }
    assert Contact.objects.for_organization(demo).count() == before["contacts"] + CONVERSATIONS + 1
    assert Conversation.objects.for_organization(demo).count() == before["conversations"] + CONVERSATIONS + 1
    assert Message.objects.for_organization(demo).count() == before["messages"] + CONVERSATIONS + THREAD
    assert result["totals"]["bulk_conversations"] == CONVERSATIONS + 1

    # Tenant-correct: nothing went to the other organization, and every new row is the demo's on the demo's accounts.
    assert Conversation.objects.for_organization(other).count() == 1
    assert Message.objects.for_organization(other).count() == 1
    bulk_messages = Message.objects.filter(platform_message_id__startswith="bulk-")
    assert bulk_messages.count() == CONVERSATIONS + THREAD
    for rows in (
        Contact.objects.filter(metadata__seed_bulk=True),
        Conversation.objects.filter(contact__metadata__seed_bulk=True),
        bulk_messages,
    ):
        assert set(rows.values_list("organization_id", flat=True)) == {demo.pk}
        assert set(rows.values_list("platform_account__organization_id", flat=True)) == {demo.pk}
    assert not bulk_messages.exclude(conversation__organization=demo).exists()
    assert not bulk_messages.exclude(platform_account_id=F("conversation__platform_account_id")).exists()
    # The three platforms in turn.
    platforms = dict(
        Conversation.objects.filter(contact__metadata__seed_bulk=True)
        .values_list("platform")
        .annotate(n=Count("id"))
        .values_list("platform", "n")
    )
    assert platforms == {Platform.WHATSAPP: CONVERSATIONS // 3 + 1, Platform.MESSENGER: 20, Platform.INSTAGRAM: 20}


def test_the_long_thread_and_the_counters_the_inbox_reads(demo):
    result = bulk("--conversations", "30", "--thread-messages", str(THREAD))

    thread = Conversation.objects.get(pk=result["long_thread"]["id"])
    assert thread.organization_id == demo.pk
    assert result["long_thread"]["messages"] == THREAD == thread.messages.count()
    newest = thread.messages.order_by("-timestamp", "-id").first()
    assert newest.text.startswith(f"#{THREAD} ")
    assert thread.last_message_at == newest.timestamp
    assert thread.last_message_preview == newest.text
    unread = thread.messages.filter(direction=Direction.INBOUND, is_read=False).count()
    assert thread.unread_count == unread > 0
    assert thread.last_inbound_at == thread.messages.filter(direction=Direction.INBOUND).latest("timestamp").timestamp
    # Timestamps are distinct (cursor pages never tie) and both sides speak.
    assert thread.messages.values("timestamp").distinct().count() == THREAD
    assert {Direction.INBOUND, Direction.OUTBOUND} == set(thread.messages.values_list("direction", flat=True))

    # Older than the demo's own conversations: the demo threads stay at the top of the inbox.
    demo_newest = Conversation.objects.for_organization(demo).exclude(contact__metadata__has_key="seed_bulk")
    assert thread.last_message_at < min(demo_newest.values_list("last_message_at", flat=True))

    # The API lists them as any conversation: the first pages hold the demo threads, then the long thread.
    client = demo_client()
    page = client.get("/api/messages/conversations/", {"page_size": 100}).json()
    ids = [c["id"] for c in page["results"]]
    assert len(ids) == demo_newest.count() + 1 + 30
    assert ids.index(thread.pk) == demo_newest.count()
    messages = client.get("/api/messages/messages/", {"conversation": thread.pk, "page_size": 50}).json()
    assert messages["results"][0]["id"] == newest.pk
    assert messages["next"]


def test_a_rerun_creates_nothing_and_a_larger_one_adds_only_what_is_missing(demo):
    bulk("--conversations", "30", "--thread-messages", "100")
    messages = Message.objects.for_organization(demo).count()

    again = bulk("--conversations", "30", "--thread-messages", "100")

    assert again["created"] == {"contacts": 0, "conversations": 0, "messages": 0}
    assert Message.objects.for_organization(demo).count() == messages

    more = bulk("--conversations", "45", "--thread-messages", "150")

    assert more["created"] == {"contacts": 15, "conversations": 15, "messages": 15 + 50}
    assert more["long_thread"]["messages"] == 150
    thread = Conversation.objects.get(pk=more["long_thread"]["id"])
    newest = thread.messages.order_by("-timestamp", "-id").first()
    assert thread.last_message_at == newest.timestamp  # recounted from what is stored
    assert thread.unread_count == thread.messages.filter(direction=Direction.INBOUND, is_read=False).count()
    # The added messages come after the ones stored before, in their order.
    texts = list(thread.messages.order_by("timestamp", "id").values_list("text", flat=True))
    assert [int(t.split()[0][1:]) for t in texts] == list(range(1, 151))


def test_it_needs_the_organization(db):
    with pytest.raises(CommandError, match="seed_demo"):
        call_command("seed_bulk", "--conversations", "1", stdout=io.StringIO())
