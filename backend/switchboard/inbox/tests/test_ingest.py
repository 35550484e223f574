"""MessageService: one front door, exactly-once storage, statuses that only move forward."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import close_old_connections, transaction

from switchboard.inbox.events import (
    AttachmentRef,
    ContactProfile,
    InboundMessage,
    MessageDeleted,
    Reaction,
    ReadReceipt,
    StatusUpdate,
)
from switchboard.inbox.models import Contact, Conversation, Direction, Message, MessageKind, MessageStatus
from switchboard.inbox.services.ingest import MessageService, Outcome, handle_events, status_may_advance
from switchboard.platforms.models import Platform
from switchboard.webhooks.testing import captured_broadcasts

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
MARIA = ContactProfile("14155550101", name="Maria", phone_number="14155550101")


def text(pid: str, body: str = "hello", at: datetime = T0, who: ContactProfile = MARIA, **kw) -> InboundMessage:
    return InboundMessage(platform_message_id=pid, contact=who, timestamp=at, text=body, **kw)


@pytest.fixture
def account(make_account, org, owner):
    return make_account(org, Platform.WHATSAPP)


def test_first_message_creates_contact_conversation_and_counts_unread(account):
    assert handle_events(account, [text("wamid.1", "Is the flat available?")]) == [Outcome.CREATED]
    conversation = Conversation.objects.get()
    assert conversation.organization_id == account.organization_id
    assert conversation.contact.external_id == "+14155550101"
    assert conversation.contact.phone_number == "+14155550101"
    assert conversation.unread_count == 1
    assert conversation.last_message_preview == "Is the flat available?"
    assert conversation.last_message_at == T0 and conversation.last_inbound_at == T0
    message = Message.objects.get()
    assert (message.direction, message.status, message.is_read) == (Direction.INBOUND, MessageStatus.RECEIVED, False)


def test_a_repeated_message_is_stored_once(account):
    handle_events(account, [text("wamid.1")])
    assert handle_events(account, [text("wamid.1"), text("wamid.1")]) == [Outcome.DUPLICATE, Outcome.DUPLICATE]
    assert Message.objects.count() == 1
    assert Conversation.objects.get().unread_count == 1


@pytest.mark.parametrize("written", ["+1 (415) 555-0101", "14155550101", "whatsapp:+14155550101", "+14155550101"])
def test_one_person_is_one_contact_however_the_number_is_written(account, written):
    handle_events(account, [text("wamid.1")])
    other = ContactProfile(written, phone_number=written)
    handle_events(account, [text("wamid.2", who=other)])
    assert Contact.objects.count() == 1
    assert Conversation.objects.get().unread_count == 2


def test_business_scoped_user_without_phone_is_a_contact_of_its_own(account):
    handle_events(account, [text("wamid.1", who=ContactProfile("US.13491208655302741918", username="maria.g"))])
    contact = Contact.objects.get()
    assert (contact.external_id, contact.phone_number, contact.username) == ("US.13491208655302741918", "", "maria.g")


def test_album_of_ten_photos_makes_one_conversation_with_ten_messages(account):
    photos = [
        InboundMessage(
            platform_message_id=f"wamid.p{i}",
            contact=MARIA,
            timestamp=T0 + timedelta(seconds=i),
            kind=MessageKind.IMAGE,
            attachments=(AttachmentRef(kind=MessageKind.IMAGE, media_id=f"media-{i}", mime_type="image/jpeg"),),
        )
        for i in range(10)
    ]
    handle_events(account, photos)
    conversation = Conversation.objects.get()
    assert conversation.unread_count == 10
    assert conversation.last_message_preview == "📷 Photo"
    assert conversation.messages.count() == 10
    assert {a.media_id for m in conversation.messages.all() for a in m.attachments.all()} == {
        f"media-{i}" for i in range(10)
    }


def test_a_late_older_message_does_not_replace_the_newer_preview(account):
    handle_events(account, [text("wamid.new", "newest", at=T0)])
    handle_events(account, [text("wamid.old", "older", at=T0 - timedelta(minutes=5))])
    conversation = Conversation.objects.get()
    assert (conversation.last_message_preview, conversation.last_message_at) == ("newest", T0)
    assert list(conversation.messages.values_list("text", flat=True)) == ["older", "newest"]


def test_a_new_inbound_message_unarchives(account, owner):
    handle_events(account, [text("wamid.1")])
    Conversation.objects.update(is_archived=True, archived_by=owner, archived_at=T0)
    handle_events(account, [text("wamid.2", at=T0 + timedelta(minutes=1))])
    conversation = Conversation.objects.get()
    assert (conversation.is_archived, conversation.archived_by, conversation.archived_at) == (False, None, None)


def test_echo_from_the_native_app_is_outbound_and_not_unread(account):
    handle_events(account, [text("wamid.1"), text("wamid.echo", "We'll call you", is_echo=True)])
    echo = Message.objects.get(platform_message_id="wamid.echo")
    assert (echo.direction, echo.status, echo.is_read) == (Direction.OUTBOUND, MessageStatus.SENT, True)
    assert Conversation.objects.get().unread_count == 1


def test_echo_of_our_own_send_confirms_it_instead_of_copying(account, owner):
    handle_events(account, [text("wamid.1")])
    conversation = Conversation.objects.get()
    ours = Message.objects.create(
        organization=account.organization,
        conversation=conversation,
        platform_account=account,
        direction=Direction.OUTBOUND,
        text="On my way",
        status=MessageStatus.SENDING,
        sent_by=owner,
        timestamp=T0,
    )
    assert handle_events(account, [text("mid.echo", "On my way", is_echo=True)]) == [Outcome.UPDATED]
    ours.refresh_from_db()
    assert (ours.platform_message_id, ours.status) == ("mid.echo", MessageStatus.SENT)
    assert Message.objects.filter(direction=Direction.OUTBOUND).count() == 1
    # and the echo arriving again later is a duplicate, not a copy
    assert handle_events(account, [text("mid.echo", "On my way", is_echo=True)]) == [Outcome.DUPLICATE]


def _outbound(account, pid: str, status: str = MessageStatus.SENT, at: datetime = T0) -> Message:
    handle_events(account, [text("wamid.in")])
    return Message.objects.create(
        organization=account.organization,
        conversation=Conversation.objects.get(),
        platform_account=account,
        direction=Direction.OUTBOUND,
        text="reply",
        platform_message_id=pid,
        status=status,
        timestamp=at,
    )


def status(pid: str, value: str, **kw) -> StatusUpdate:
    return StatusUpdate(platform_message_id=pid, status=value, timestamp=T0, **kw)


def test_statuses_move_forward_only_even_out_of_order(account):
    message = _outbound(account, "wamid.out")
    outcomes = handle_events(
        account,
        [
            status("wamid.out", MessageStatus.READ),
            status("wamid.out", MessageStatus.DELIVERED),
            status("wamid.out", MessageStatus.FAILED, error_code="131047"),
            status("wamid.out", MessageStatus.READ),
        ],
    )
    message.refresh_from_db()
    assert message.status == MessageStatus.READ and message.error_code == ""
    assert outcomes == [Outcome.UPDATED, Outcome.DUPLICATE, Outcome.DUPLICATE, Outcome.DUPLICATE]


def test_failed_status_records_the_vendor_code(account):
    message = _outbound(account, "wamid.out")
    handle_events(account, [status("wamid.out", MessageStatus.FAILED, error_code="131047", error_message="Re-engage")])
    message.refresh_from_db()
    assert (message.status, message.error_code, message.error_message) == ("failed", "131047", "Re-engage")
    handle_events(account, [status("wamid.out", MessageStatus.DELIVERED)])
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED


def test_status_for_a_message_we_never_sent_is_ignored(account):
    assert handle_events(account, [status("wamid.unknown", MessageStatus.DELIVERED)]) == [Outcome.IGNORED]


@pytest.mark.parametrize(
    ("current", "new", "allowed"),
    [
        ("queued", "sent", True),
        ("sent", "delivered", True),
        ("delivered", "sent", False),
        ("read", "delivered", False),
        ("sent", "failed", True),
        ("delivered", "failed", False),
        ("failed", "read", False),
        ("received", "read", False),
    ],
)
def test_status_order(current, new, allowed):
    assert status_may_advance(current, new) is allowed


def test_reactions_sit_on_the_target_message_and_can_be_removed(account):
    message = _outbound(account, "wamid.out")
    react = Reaction(target_platform_message_id="wamid.out", contact=MARIA, emoji="👍", timestamp=T0)
    handle_events(account, [react])
    message.refresh_from_db()
    assert [(r["emoji"], r["by"]) for r in message.reactions] == [("👍", "contact")]
    handle_events(account, [Reaction(target_platform_message_id="wamid.out", contact=MARIA, emoji="❤️", timestamp=T0)])
    message.refresh_from_db()
    assert [r["emoji"] for r in message.reactions] == ["❤️"]
    handle_events(account, [Reaction(target_platform_message_id="wamid.out", contact=MARIA, emoji="", timestamp=T0)])
    message.refresh_from_db()
    assert message.reactions == []
    assert Message.objects.count() == 2  # no reaction bubbles


def test_deleted_message_keeps_its_place_but_loses_its_content(account):
    handle_events(account, [text("mid.1", "my number is 555")])
    handle_events(account, [MessageDeleted(platform_message_id="mid.1", contact=MARIA, timestamp=T0)])
    message = Message.objects.get()
    assert (message.is_deleted, message.text) == (True, "")


def test_read_watermark_marks_our_earlier_messages_read(account):
    early = _outbound(account, "mid.a", at=T0)
    late = Message.objects.create(
        organization=account.organization,
        conversation=early.conversation,
        platform_account=account,
        direction=Direction.OUTBOUND,
        text="later",
        platform_message_id="mid.b",
        status=MessageStatus.SENT,
        timestamp=T0 + timedelta(hours=1),
    )
    handle_events(account, [ReadReceipt(contact=MARIA, watermark=T0 + timedelta(minutes=1), timestamp=T0)])
    early.refresh_from_db()
    late.refresh_from_db()
    assert (early.status, late.status) == (MessageStatus.READ, MessageStatus.SENT)


def test_events_are_broadcast_to_every_member_after_commit(
    account, owner, agent, make_user, make_org, django_capture_on_commit_callbacks
):
    outsider = make_user(make_org())
    with captured_broadcasts() as sent, django_capture_on_commit_callbacks(execute=True):
        handle_events(account, [text("wamid.1", "hi")])
    names = [name for _, name, _ in sent]
    assert names == ["message.created", "conversation.updated"]
    assert all(sorted(users) == sorted([owner.pk, agent.pk]) for users, _, _ in sent)
    assert outsider.pk not in sent[0][0]
    assert sent[0][2]["text"] == "hi" and sent[1][2]["unread_count"] == 1


def test_nothing_is_broadcast_for_a_rolled_back_delivery(account, django_capture_on_commit_callbacks):
    with captured_broadcasts() as sent, django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                service = MessageService(account)
                service.handle(text("wamid.1"))
                service.flush()
                raise RuntimeError("boom")
        except RuntimeError:
            pass
    assert sent == [] and Message.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_burst_from_a_new_contact_makes_one_contact_and_conversation(
    require_postgres, make_org, make_account
):
    account = make_account(make_org(), Platform.WHATSAPP)
    barrier = threading.Barrier(10)
    errors: list[BaseException] = []

    def deliver(i: int) -> None:
        try:
            barrier.wait()
            handle_events(account, [text(f"wamid.burst{i}", at=T0 + timedelta(seconds=i))])
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Contact.objects.count() == 1 and Conversation.objects.count() == 1
    assert Message.objects.count() == 10
    assert Conversation.objects.get().unread_count == 10
