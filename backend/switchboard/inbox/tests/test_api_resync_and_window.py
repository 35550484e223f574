"""What the web app reads from conversations beyond the inbox list itself: `updated_since` (resync after a
reconnect), the reply-window state (`messaging_window`, `window_expires_at`, `last_inbound_at`, `sendable`,
`message_tag`), the envelope's
`unread_conversations`, and `mark-unread/`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import client_for
from switchboard.accounts.models import Role
from switchboard.inbox.models import Conversation, Direction, Message
from switchboard.inbox.tests.conftest import create_conversation, create_message
from switchboard.platforms.models import Platform, Provider
from switchboard.webhooks.testing import captured_broadcasts

URL = "/api/messages/conversations/"
MESSAGES = "/api/messages/messages/"
SINCE = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def parsed(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]


def touched(conversation: Conversation, at: datetime) -> Conversation:
    Conversation.objects.filter(pk=conversation.pk).update(updated_at=at)
    return conversation


@pytest.fixture
def wa(make_account, org):
    return make_account(org, Platform.WHATSAPP, Provider.META)


# --- updated_since ----------------------------------------------------------------------------------------------------
def test_updated_since_lists_what_changed_newest_change_first_archived_included(agent_client, agent, wa):
    before = touched(create_conversation(wa), SINCE - timedelta(seconds=1))
    at_since = touched(create_conversation(wa), SINCE)
    later = touched(create_conversation(wa), SINCE + timedelta(minutes=5))
    archived = touched(create_conversation(wa, is_archived=True, archived_by=agent), SINCE + timedelta(minutes=1))

    assert ids(agent_client.get(URL, {"updated_since": iso(SINCE)})) == [later.pk, archived.pk, at_since.pk]
    # is_archived, when given, still narrows it; without updated_since the archive stays hidden.
    assert ids(agent_client.get(URL, {"updated_since": iso(SINCE), "is_archived": "true"})) == [archived.pk]
    assert ids(agent_client.get(URL, {"updated_since": iso(SINCE), "is_archived": "false"})) == [later.pk, at_since.pk]
    assert archived.pk not in ids(agent_client.get(URL))
    assert before.pk in ids(agent_client.get(URL))


def test_updated_since_pages_walk_every_changed_conversation_once(agent_client, wa):
    expected = []
    for minute in range(5):
        expected.append(touched(create_conversation(wa), SINCE + timedelta(minutes=minute)).pk)
    tie = touched(create_conversation(wa), SINCE + timedelta(minutes=4))  # same instant: id breaks the tie
    expected = [tie.pk, *reversed(expected)]

    seen, response = [], agent_client.get(URL, {"updated_since": iso(SINCE), "page_size": 2})
    while True:
        seen += ids(response)
        if not response.json()["next"]:
            break
        response = agent_client.get(response.json()["next"])
    assert seen == expected


def test_an_archive_by_a_colleague_shows_up_in_the_resync(agent_client, owner, wa):
    conversation = touched(create_conversation(wa), SINCE - timedelta(hours=1))
    disconnected_at = timezone.now()
    assert client_for(owner).post(f"{URL}{conversation.pk}/archive/").status_code == 200

    [item] = agent_client.get(URL, {"updated_since": iso(disconnected_at)}).json()["results"]
    assert (item["id"], item["is_archived"]) == (conversation.pk, True)
    assert parsed(item["updated_at"]) >= disconnected_at


@pytest.mark.parametrize(
    "value",
    ["yesterday", "2026-13-01T00:00:00Z", "9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00", "1"],
)
def test_an_updated_since_that_is_not_a_comparable_time_is_a_400(agent_client, wa, value):
    response = agent_client.get(URL, {"updated_since": value})
    assert response.status_code == 400, response.content
    assert "updated_since" in response.json()["errors"]
    assert agent_client.get(MESSAGES, {"updated_since": value}).status_code == 400


def test_other_tenants_conversations_never_appear_in_a_resync(agent_client, make_org, make_account, wa):
    other = make_account(make_org(), Platform.WHATSAPP)
    theirs = touched(create_conversation(other), SINCE + timedelta(minutes=1))
    ours = touched(create_conversation(wa), SINCE + timedelta(minutes=1))
    assert ids(agent_client.get(URL, {"updated_since": iso(SINCE)})) == [ours.pk]
    assert agent_client.get(f"{URL}{theirs.pk}/").status_code == 404


def test_messages_updated_since_lists_changed_messages_newest_change_first(agent_client, wa):
    conversation = create_conversation(wa)
    old = create_message(conversation, "old")
    status_changed = create_message(conversation, "delivered later")
    new = create_message(conversation, "new")
    Message.objects.filter(pk=old.pk).update(updated_at=SINCE - timedelta(minutes=1))
    Message.objects.filter(pk=status_changed.pk).update(updated_at=SINCE + timedelta(minutes=2))
    Message.objects.filter(pk=new.pk).update(updated_at=SINCE + timedelta(minutes=1))

    response = agent_client.get(MESSAGES, {"conversation": conversation.pk, "updated_since": iso(SINCE)})
    assert ids(response) == [status_changed.pk, new.pk]


# --- reply-window state -----------------------------------------------------------------------------------------------
ALL = ["text", "media", "listing_card", "template"]
FREE_FORM = ["text", "media", "listing_card"]


@pytest.mark.parametrize(
    ("platform", "provider", "wrote_ago", "window", "expires_after", "sendable", "tag"),
    [
        (Platform.WHATSAPP, Provider.META, timedelta(hours=1), "open", timedelta(hours=24), ALL, None),
        (Platform.WHATSAPP, Provider.TWILIO, timedelta(hours=25), "templates_only", None, ["template"], None),
        (Platform.WHATSAPP, Provider.SANDBOX, timedelta(hours=23), "open", timedelta(hours=24), ALL, None),
        (Platform.WHATSAPP, Provider.META, None, "templates_only", None, ["template"], None),
        (Platform.WHATSAPP, Provider.BRIDGE, timedelta(days=30), "open", None, FREE_FORM, None),
        (Platform.MESSENGER, Provider.META, timedelta(hours=2), "open", timedelta(hours=24), FREE_FORM, None),
        (Platform.MESSENGER, Provider.META, timedelta(hours=30), "human_agent", timedelta(days=7), FREE_FORM,
         "HUMAN_AGENT"),
        (Platform.INSTAGRAM, Provider.META, timedelta(days=3), "human_agent", timedelta(days=7), FREE_FORM,
         "HUMAN_AGENT"),
        (Platform.INSTAGRAM, Provider.META, timedelta(days=8), "closed", None, [], None),
        (Platform.INSTAGRAM, Provider.META, None, "closed", None, [], None),
    ],
)  # fmt: skip
def test_the_conversation_says_its_reply_window_and_when_it_changes(
    agent_client, org, make_account, platform, provider, wrote_ago, window, expires_after, sendable, tag
):
    account = make_account(org, platform, provider)
    last_inbound = (timezone.now() - wrote_ago).replace(microsecond=0) if wrote_ago is not None else None
    conversation = create_conversation(account, last_inbound_at=last_inbound)

    [listed] = agent_client.get(URL).json()["results"]
    detail = agent_client.get(f"{URL}{conversation.pk}/").json()

    for item in (listed, detail):
        assert item["messaging_window"] == window
        assert parsed(item["last_inbound_at"]) == last_inbound
        expected = last_inbound + expires_after if expires_after is not None else None
        assert parsed(item["window_expires_at"]) == expected
        assert (item["sendable"], item["message_tag"]) == (sendable, tag)


def test_the_window_fields_ride_on_conversation_updated(agent_client, wa, django_capture_on_commit_callbacks):
    wrote = timezone.now().replace(microsecond=0) - timedelta(hours=3)
    conversation = create_conversation(wa, last_inbound_at=wrote)
    create_message(conversation, "hi", is_read=True)
    with captured_broadcasts() as events, django_capture_on_commit_callbacks(execute=True):
        assert agent_client.post(f"{URL}{conversation.pk}/mark-unread/").status_code == 200
    [data] = [data for _, name, data in events if name == "conversation.updated"]
    assert data["messaging_window"] == "open"
    assert parsed(data["window_expires_at"]) == wrote + timedelta(hours=24)
    assert parsed(data["last_inbound_at"]) == wrote
    assert (data["sendable"], data["message_tag"]) == (["text", "media", "listing_card", "template"], None)


# --- unread_conversations ---------------------------------------------------------------------------------------------
def test_the_envelope_counts_the_inboxs_unread_conversations_in_one_count(agent_client, org, make_account, make_org):
    wa = make_account(org, Platform.WHATSAPP)
    ig = make_account(org, Platform.INSTAGRAM)
    create_message(create_conversation(wa), "unread 1")
    create_message(create_conversation(ig), "unread 2")
    create_message(create_conversation(wa), "read", is_read=True)
    archived = create_conversation(wa, is_archived=True)
    create_message(archived, "unread but archived")
    create_message(create_conversation(make_account(make_org(), Platform.WHATSAPP)), "another tenant's")

    with CaptureQueriesContext(connection) as queries:
        page = agent_client.get(URL, {"page_size": 1}).json()
    assert page["unread_conversations"] == 2
    assert len([q for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]) == 1
    # The inbox total, whatever the list's filters.
    assert agent_client.get(URL, {"platform": "instagram", "unread": "false"}).json()["unread_conversations"] == 2
    assert agent_client.get(URL, {"updated_since": iso(SINCE)}).json()["unread_conversations"] == 2


# --- mark-unread ------------------------------------------------------------------------------------------------------
def test_mark_unread_marks_the_newest_inbound_message_and_broadcasts(agent_client, wa,
                                                                     django_capture_on_commit_callbacks):  # fmt: skip
    conversation = create_conversation(wa)
    older = create_message(conversation, "older", is_read=True)
    newest = create_message(conversation, "newest", is_read=True)
    create_message(conversation, "our reply", direction=Direction.OUTBOUND)

    with captured_broadcasts() as events, django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(f"{URL}{conversation.pk}/mark-unread/")

    assert response.status_code == 200, response.content
    assert response.json()["unread_count"] == 1
    assert list(Message.objects.filter(is_read=False).values_list("pk", flat=True)) == [newest.pk]
    assert Message.objects.get(pk=older.pk).is_read
    names = [name for _, name, _ in events]
    assert sorted(names) == ["conversation.updated", "message.updated"]
    [conversation_event] = [data for _, name, data in events if name == "conversation.updated"]
    assert (conversation_event["id"], conversation_event["unread_count"]) == (conversation.pk, 1)
    [message_event] = [data for _, name, data in events if name == "message.updated"]
    assert (message_event["id"], message_event["is_read"], message_event["read_at"]) == (newest.pk, False, None)

    # Idempotent: again changes nothing and broadcasts nothing; mark-all-read undoes it.
    with captured_broadcasts() as again, django_capture_on_commit_callbacks(execute=True):
        assert agent_client.post(f"{URL}{conversation.pk}/mark-unread/").json()["unread_count"] == 1
    assert again == []
    assert agent_client.post(f"{URL}{conversation.pk}/mark-all-read/").json()["unread_count"] == 0


def test_mark_unread_without_a_customer_message_is_a_409(agent_client, wa):
    conversation = create_conversation(wa)
    create_message(conversation, "we wrote first", direction=Direction.OUTBOUND)
    response = agent_client.post(f"{URL}{conversation.pk}/mark-unread/")
    assert response.status_code == 409
    assert response.json()["code"] == "nothing_to_mark_unread"
    assert Conversation.objects.get(pk=conversation.pk).unread_count == 0


def test_mark_unread_of_another_tenants_conversation_is_a_404(agent_client, make_org, make_user, make_account):
    other_org = make_org()
    theirs = create_conversation(make_account(other_org, Platform.WHATSAPP))
    create_message(theirs, "theirs", is_read=True)
    assert agent_client.post(f"{URL}{theirs.pk}/mark-unread/").status_code == 404
    assert Conversation.objects.get(pk=theirs.pk).unread_count == 0
    # Their own members may.
    assert client_for(make_user(other_org, Role.AGENT)).post(f"{URL}{theirs.pk}/mark-unread/").status_code == 200
