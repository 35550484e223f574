"""/api/messages/messages/: the message list, one message, and marking it read."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from switchboard.accounts.models import Role
from switchboard.inbox.models import Conversation, Direction, Message, MessageKind
from switchboard.inbox.payloads import ConversationSerializer, MessageSerializer
from switchboard.inbox.tests.conftest import T0
from switchboard.platforms.models import Platform
from switchboard.webhooks.testing import captured_broadcasts

URL = "/api/messages/messages/"

MESSAGE_KEYS = {
    "id",
    "conversation",
    "direction",
    "kind",
    "text",
    "payload",
    "reply_to",
    "reply_to_platform_id",
    "platform_message_id",
    "status",
    "error_code",
    "error_message",
    "error_detail",
    "reactions",
    "is_deleted",
    "is_read",
    "read_at",
    "sent_by",
    "sent_by_assistant",
    "llm_processed",
    "llm_skip_reason",
    "client_key",
    "timestamp",
    "created_at",
    "attachments",
}
ATTACHMENT_KEYS = {
    "id", "kind", "mime_type", "filename", "caption", "status", "error", "size", "width", "height", "url",
    "thumbnail_url", "media_id", "source_kind",
}  # fmt: skip


def detail(pk: int, action: str = "") -> str:
    return f"{URL}{pk}/" + (f"{action}/" if action else "")


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]


@pytest.fixture
def wa(make_account, org):
    return make_account(org, Platform.WHATSAPP)


@pytest.fixture
def conversation(wa, make_conversation):
    return make_conversation(wa)


def test_message_shape(agent_client, owner, conversation, make_message, make_attachment):
    question = make_message(conversation, "Which one?")
    answer = make_message(
        conversation,
        "This one",
        direction=Direction.OUTBOUND,
        kind=MessageKind.IMAGE,
        reply_to=question,
        sent_by=owner,
        reactions=[{"emoji": "👍", "by": "contact", "at": "2026-11-01T12:00:00+00:00"}],
    )
    photo = make_attachment(answer, filename="flat.jpg", caption="Living room", size=2048, width=800, height=600)

    data = agent_client.get(detail(answer.pk)).json()

    assert set(data) == MESSAGE_KEYS
    assert data["conversation"] == conversation.pk
    assert (data["direction"], data["kind"], data["text"]) == ("outbound", "image", "This one")
    assert data["reply_to"] == question.pk
    assert data["sent_by"] == {"id": owner.pk, "full_name": owner.full_name, "email": owner.email}
    assert data["reactions"] == [{"emoji": "👍", "by": "contact", "at": "2026-11-01T12:00:00+00:00"}]
    [attachment] = data["attachments"]
    assert set(attachment) == ATTACHMENT_KEYS
    assert attachment["id"] == photo.pk
    assert attachment["url"] is None
    assert (attachment["filename"], attachment["caption"], attachment["size"]) == ("flat.jpg", "Living room", 2048)


def test_serializers_need_no_request(conversation, make_message, make_attachment):
    """The WebSocket payloads are `MessageSerializer(message).data` / `ConversationSerializer(conversation).data`."""
    message = make_message(conversation, "hi")
    make_attachment(message)
    message.reactions = {"legacy": "shape"}  # never fails a broadcast
    assert MessageSerializer(message).data["reactions"] == []
    assert MessageSerializer(message).data["attachments"][0]["url"] is None
    assert ConversationSerializer(Conversation.objects.get(pk=conversation.pk)).data["unread_count"] == 1


def test_list_newest_first_with_filters(agent_client, org, wa, make_account, make_conversation, make_message):
    first, second = make_conversation(wa), make_conversation(make_account(org, Platform.MESSENGER))
    old = make_message(first, timestamp=T0)
    read = make_message(first, timestamp=T0 + timedelta(minutes=1), is_read=True)
    other = make_message(second, timestamp=T0 + timedelta(minutes=2))

    assert ids(agent_client.get(URL)) == [other.pk, read.pk, old.pk]
    assert ids(agent_client.get(URL, {"conversation": first.pk})) == [read.pk, old.pk]
    assert ids(agent_client.get(URL, {"platform": "messenger"})) == [other.pk]
    assert ids(agent_client.get(URL, {"is_read": "true"})) == [read.pk]
    assert ids(agent_client.get(URL, {"is_read": "false", "platform": "whatsapp"})) == [old.pk]
    assert agent_client.get(URL, {"conversation": "1.5"}).status_code == 400


def test_same_timestamp_pages_without_loss(agent_client, conversation, make_message):
    messages = [make_message(conversation, f"photo {i}", timestamp=T0) for i in range(7)]

    seen: list[int] = []
    page = agent_client.get(URL, {"page_size": 3}).json()
    while True:
        seen += [item["id"] for item in page["results"]]
        if not page["next"]:
            break
        page = agent_client.get(page["next"]).json()

    assert seen == [m.pk for m in reversed(messages)]


def test_page_size_is_capped_at_100(agent_client, wa, conversation):
    Message.objects.bulk_create(
        Message(
            organization=wa.organization,
            conversation=conversation,
            platform_account=wa,
            direction=Direction.INBOUND,
            timestamp=T0 + timedelta(seconds=i),
        )
        for i in range(120)
    )
    assert len(ids(agent_client.get(URL))) == 50
    assert len(ids(agent_client.get(URL, {"page_size": 101}))) == 100


def test_list_runs_a_constant_number_of_queries(agent_client, owner, conversation, make_message, make_attachment):
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert agent_client.get(URL).status_code == 200
        return len(queries)

    make_attachment(make_message(conversation, direction=Direction.OUTBOUND, sent_by=owner))
    few = count_queries()
    for _ in range(10):
        message = make_message(conversation, direction=Direction.OUTBOUND, sent_by=owner)
        make_attachment(message)
        make_attachment(message)
    assert count_queries() == few


def test_mark_read_counts_once(agent_client, conversation, make_message, django_capture_on_commit_callbacks):
    first, second = make_message(conversation), make_message(conversation)
    assert Conversation.objects.get(pk=conversation.pk).unread_count == 2

    with captured_broadcasts() as sent, django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(detail(first.pk, "mark-read"))

    assert response.status_code == 200
    assert response.json()["is_read"] is True and response.json()["read_at"]
    assert Conversation.objects.get(pk=conversation.pk).unread_count == 1
    assert [event for _, event, _ in sent] == ["message.updated", "conversation.updated"]
    assert sent[0][2]["id"] == first.pk and sent[1][2]["unread_count"] == 1

    with captured_broadcasts() as sent, django_capture_on_commit_callbacks(execute=True):
        assert agent_client.post(detail(first.pk, "mark-read")).status_code == 200  # again: nothing changes
    assert sent == []
    assert Conversation.objects.get(pk=conversation.pk).unread_count == 1

    agent_client.post(detail(second.pk, "mark-read"))
    assert Conversation.objects.get(pk=conversation.pk).unread_count == 0


@pytest.mark.parametrize(("method", "action"), [("get", ""), ("post", "mark-read")])
def test_another_tenants_message_is_404(
    make_org, make_user, make_account, make_conversation, make_message, agent_client, method, action
):
    other_org = make_org()
    make_user(other_org, Role.OWNER)
    message = make_message(make_conversation(make_account(other_org)))

    response = getattr(agent_client, method)(detail(message.pk, action))

    assert response.status_code == 404
    assert Message.objects.get(pk=message.pk).is_read is False
    assert Conversation.objects.get(pk=message.conversation_id).unread_count == 1


def test_filtering_by_another_tenants_conversation_finds_nothing(
    make_org, make_account, make_conversation, make_message, agent_client
):
    message = make_message(make_conversation(make_account(make_org())))
    assert ids(agent_client.get(URL, {"conversation": message.conversation_id})) == []


def test_unknown_ids_are_404(agent_client):
    assert agent_client.get(detail(999999)).status_code == 404
    assert agent_client.get(f"{URL}abc/").status_code == 404


def test_messages_are_not_created_or_deleted_here(agent_client, conversation):
    """Sending is POST /api/messages/conversations/<id>/messages/ (test_outbound_api.py), never this list."""
    assert agent_client.post(URL, {"text": "hi"}, format="json").status_code == 405
    assert agent_client.delete(detail(1)).status_code == 405
