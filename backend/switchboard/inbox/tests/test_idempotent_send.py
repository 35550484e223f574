"""Idempotent sends: `Idempotency-Key` (or `client_key`) on POST /api/messages/conversations/{id}/messages/.

A repeat answers 200 with the message the first request stored: never a second row, never a second send task, never
a second `message.created`. The same key in another conversation is a 409. Keys are unique per organization; two
racing requests store one row (the unique constraint decides, not a check before the insert)."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from conftest import client_for
from switchboard.accounts.models import Role
from switchboard.inbox.models import Attachment, Conversation, Message, MessageStatus
from switchboard.inbox.services import sending
from switchboard.inbox.tests.conftest import create_message
from switchboard.inbox.tests.outbound_support import conversation_for, jpeg_bytes
from switchboard.platforms.models import Platform, Provider
from switchboard.webhooks.testing import captured_broadcasts
from tests.fakes import cloud_sent

pytestmark = pytest.mark.usefixtures("celery_eager")

KEY = "6f1c2b9e-8a43-4d7e-9b1f-2c3d4e5f6a7b"
SENDS = r"/v21\.0/\d+/messages"


@pytest.fixture(autouse=True)
def vendor(fake_vendor, settings):
    settings.PUBLIC_BASE_URL = ""
    fake_vendor.on("POST", SENDS, cloud_sent("wamid.SENT1"))
    return fake_vendor


def post(client, capture, conversation, body=None, *, key=None, multipart=False):
    """POST a send, run what follows its commit (the send task, broadcasts); (response, broadcast events)."""
    url = f"/api/messages/conversations/{conversation.pk}/messages/"
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    with captured_broadcasts() as events, capture(execute=True):
        if multipart:
            response = client.post(url, body or {}, format="multipart", **headers)
        else:
            response = client.post(url, json.dumps(body or {}), content_type="application/json", **headers)
    return response, [name for _, name, _ in events], events


def test_a_repeat_returns_the_stored_message_without_a_second_row_or_send(
    agent_client, wa_cloud_account, vendor, django_capture_on_commit_callbacks
):
    conversation = conversation_for(wa_cloud_account)

    first, first_events, events = post(agent_client, django_capture_on_commit_callbacks, conversation,
                                       {"text": "Monday at 10?"}, key=KEY)  # fmt: skip
    assert first.status_code == 201, first.content
    assert first.json()["client_key"] == KEY
    assert first.json()["status"] == "queued"
    [created] = [data for _, name, data in events if name == "message.created"]
    assert created["client_key"] == KEY  # the WebSocket copy carries the key too
    assert len(vendor.requests("POST", SENDS)) == 1

    again, again_events, _ = post(agent_client, django_capture_on_commit_callbacks, conversation,
                                  {"text": "Monday at 10?"}, key=KEY)  # fmt: skip
    assert again.status_code == 200, again.content
    assert again.json()["id"] == first.json()["id"]
    # The message as it is now: the first request's send task has sent it meanwhile.
    assert again.json()["status"] == "sent"
    assert again.json()["platform_message_id"] == "wamid.SENT1"
    assert again.json()["client_key"] == KEY
    assert Message.objects.count() == 1
    assert len(vendor.requests("POST", SENDS)) == 1  # no second send task
    assert again_events == []  # nothing broadcast for a repeat
    assert "message.created" in first_events


def test_the_body_client_key_works_without_the_header(agent_client, wa_cloud_account, vendor,
                                                      django_capture_on_commit_callbacks):  # fmt: skip
    conversation = conversation_for(wa_cloud_account)
    body = {"text": "Hello", "client_key": KEY}
    first, _, _ = post(agent_client, django_capture_on_commit_callbacks, conversation, body)
    again, _, _ = post(agent_client, django_capture_on_commit_callbacks, conversation, body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["client_key"] == again.json()["client_key"] == KEY
    assert Message.objects.count() == 1
    assert len(vendor.requests("POST", SENDS)) == 1


def test_a_multipart_upload_repeated_stores_one_message_and_one_file(
    agent_client, wa_cloud_account, vendor, django_capture_on_commit_callbacks, settings
):
    vendor.on("POST", r"/v21\.0/\d+/media", cloud_sent("media.1"))
    conversation = conversation_for(wa_cloud_account)

    def upload():
        return {"file": SimpleUploadedFile("room.jpg", jpeg_bytes(), content_type="image/jpeg"), "client_key": KEY}

    def files() -> list:
        return sorted(path for path in settings.MEDIA_ROOT.rglob("*") if path.is_file())

    first, _, _ = post(agent_client, django_capture_on_commit_callbacks, conversation, upload(), key=KEY,
                       multipart=True)  # fmt: skip
    stored = files()
    again, _, _ = post(agent_client, django_capture_on_commit_callbacks, conversation, upload(), key=KEY,
                       multipart=True)  # fmt: skip
    assert (first.status_code, again.status_code) == (201, 200), again.content
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["kind"] == "image"
    assert Message.objects.count() == 1 and Attachment.objects.count() == 1
    assert stored and files() == stored  # the repeat stored no second file


def test_the_same_key_in_another_conversation_is_a_409(agent_client, wa_cloud_account,
                                                       django_capture_on_commit_callbacks):  # fmt: skip
    first = conversation_for(wa_cloud_account)
    second = conversation_for(wa_cloud_account, external_id="+15557654321")
    assert post(agent_client, django_capture_on_commit_callbacks, first, {"text": "a"}, key=KEY)[0].status_code == 201

    reused, events, _ = post(agent_client, django_capture_on_commit_callbacks, second, {"text": "b"}, key=KEY)

    assert reused.status_code == 409
    assert reused.json()["code"] == "idempotency_key_reused"
    assert list(Message.objects.values_list("conversation_id", "text")) == [(first.pk, "a")]
    assert events == []


def test_keys_are_per_organization_and_other_tenants_conversations_are_404(
    agent_client, wa_cloud_account, make_org, make_user, make_account, django_capture_on_commit_callbacks
):
    other_org = make_org()
    other_agent = make_user(other_org, Role.AGENT)
    other_account = make_account(other_org, Platform.WHATSAPP, Provider.META, external_id="222000111")
    theirs = conversation_for(other_account)
    ours = conversation_for(wa_cloud_account)

    mine, _, _ = post(agent_client, django_capture_on_commit_callbacks, ours, {"text": "ours"}, key=KEY)
    their_send, _, _ = post(client_for(other_agent), django_capture_on_commit_callbacks, theirs, {"text": "theirs"},
                            key=KEY)  # fmt: skip
    assert (mine.status_code, their_send.status_code) == (201, 201)
    assert their_send.json()["id"] != mine.json()["id"]

    # Their conversation through our login: 404 (the key changes nothing about tenancy).
    cross, _, _ = post(agent_client, django_capture_on_commit_callbacks, theirs, {"text": "x"}, key=KEY)
    assert cross.status_code == 404
    assert Message.objects.filter(organization=other_org).count() == 1


def test_a_repeat_after_the_window_closed_still_returns_the_stored_message(
    agent_client, wa_cloud_account, django_capture_on_commit_callbacks
):
    conversation = conversation_for(wa_cloud_account)
    first, _, _ = post(agent_client, django_capture_on_commit_callbacks, conversation, {"text": "hi"}, key=KEY)
    Conversation.objects.filter(pk=conversation.pk).update(last_inbound_at=timezone.now() - timedelta(hours=30))

    again, _, _ = post(agent_client, django_capture_on_commit_callbacks, conversation, {"text": "hi"}, key=KEY)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    # A new key is a new message, and now the window refuses it.
    fresh, _, _ = post(agent_client, django_capture_on_commit_callbacks, conversation, {"text": "hi"},
                       key="a-different-key-1")  # fmt: skip
    assert fresh.status_code == 409 and fresh.json()["code"] == "outside_customer_service_window"


def test_a_refused_send_stores_no_key_so_the_retry_can_succeed(agent_client, wa_cloud_account,
                                                               django_capture_on_commit_callbacks):  # fmt: skip
    conversation = conversation_for(wa_cloud_account, last_inbound=timedelta(hours=30))
    refused, _, _ = post(agent_client, django_capture_on_commit_callbacks, conversation, {"text": "hi"}, key=KEY)
    assert refused.status_code == 409
    Conversation.objects.filter(pk=conversation.pk).update(last_inbound_at=timezone.now())
    retried, _, _ = post(agent_client, django_capture_on_commit_callbacks, conversation, {"text": "hi"}, key=KEY)
    assert retried.status_code == 201 and retried.json()["client_key"] == KEY


@pytest.mark.parametrize(
    ("key", "body", "field"),
    [
        ("short", {"text": "x"}, "Idempotency-Key"),  # fewer than 8 characters
        ("with a space in it", {"text": "x"}, "Idempotency-Key"),
        ("k" * 129, {"text": "x"}, "Idempotency-Key"),
        (None, {"text": "x", "client_key": "short"}, "client_key"),
        (None, {"text": "x", "client_key": "ключ-ключ-ключ"}, "client_key"),  # not ASCII
        (KEY, {"text": "x", "client_key": "another-key-123"}, "client_key"),  # header and body disagree
    ],
)
def test_malformed_keys_are_a_400(agent_client, wa_cloud_account, django_capture_on_commit_callbacks, key, body,
                                  field):  # fmt: skip
    response, _, _ = post(agent_client, django_capture_on_commit_callbacks, conversation_for(wa_cloud_account), body,
                          key=key)  # fmt: skip
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert not Message.objects.exists()


def test_without_a_key_every_post_is_a_new_message(agent_client, wa_cloud_account, django_capture_on_commit_callbacks):
    conversation = conversation_for(wa_cloud_account)
    first, _, _ = post(agent_client, django_capture_on_commit_callbacks, conversation, {"text": "a"})
    second, _, _ = post(agent_client, django_capture_on_commit_callbacks, conversation, {"text": "a"})
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["client_key"] is None
    assert Message.objects.count() == 2


def test_losing_the_race_on_the_constraint_returns_the_winner(
    agent, wa_cloud_account, vendor, monkeypatch, django_capture_on_commit_callbacks
):
    """The check before the insert missed the other request's row (it committed in between): the unique
    constraint refuses our insert, our transaction rolls back (no row, no events, no task) and the winner is the
    answer."""
    conversation = conversation_for(wa_cloud_account)
    winner = create_message(conversation, "first", direction="outbound", client_key=KEY, platform_message_id=None,
                            status=MessageStatus.QUEUED)  # fmt: skip
    real = sending._message_of_key
    calls = []

    def missed_once(*args, **kwargs):
        calls.append(args)
        return None if len(calls) == 1 else real(*args, **kwargs)

    monkeypatch.setattr(sending, "_message_of_key", missed_once)
    with captured_broadcasts() as events, django_capture_on_commit_callbacks(execute=True):
        outcome = sending.message_send_outcome(organization=conversation.organization_id, conversation=conversation,
                                                by=agent, text="first", client_key=KEY)  # fmt: skip

    assert (outcome.created, outcome.message.pk) == (False, winner.pk)
    assert len(calls) == 2  # the check before, and the re-read after the constraint refused the insert
    assert Message.objects.count() == 1
    assert events == []
    assert not vendor.requests("POST", SENDS)


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_store_one_message(require_postgres, make_org, make_user, make_account,
                                                            vendor):  # fmt: skip
    """Real concurrency on PostgreSQL: eight threads send with the same key at once; one row, one send."""
    org = make_org()
    agent = make_user(org, Role.AGENT)
    account = make_account(org, Platform.WHATSAPP, Provider.META, external_id="333000111")
    conversation = conversation_for(account)
    barrier = threading.Barrier(8)
    outcomes, errors = [], []

    def send() -> None:
        try:
            barrier.wait()
            outcomes.append(sending.message_send_outcome(organization=org.pk, conversation=conversation, by=agent,
                                                          text="race", client_key=KEY))  # fmt: skip
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(outcome.created for outcome in outcomes) == [False] * 7 + [True]
    assert len({outcome.message.pk for outcome in outcomes}) == 1
    assert Message.objects.filter(client_key=KEY).count() == 1
    assert len(vendor.requests("POST", SENDS)) == 1
