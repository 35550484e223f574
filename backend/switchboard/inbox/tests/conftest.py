"""Inbox row factories for tests: `make_contact`, `make_conversation`, `make_message`, `make_attachment`.

They write with the ORM directly (fast, no events) but keep a conversation's counters as MessageService would:
an unread inbound message adds one to `unread_count`, and the newest message sets `last_message_at` / the preview.
Use them in any suite under switchboard/inbox/tests; elsewhere, import the plain functions from here:
`from switchboard.inbox.tests.conftest import create_conversation, create_message`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db.models import F

from switchboard.inbox.models import (
    Attachment,
    AttachmentStatus,
    Contact,
    Conversation,
    Direction,
    Message,
    MessageKind,
    MessageStatus,
)
from switchboard.platforms.models import PlatformAccount

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
_sequence = itertools.count(1)


def create_contact(account: PlatformAccount, **fields: Any) -> Contact:
    n = next(_sequence)
    fields.setdefault("external_id", f"+1415555{n:04d}")
    fields.setdefault("phone_number", fields["external_id"] if fields["external_id"].startswith("+") else "")
    fields.setdefault("name", f"Contact {n}")
    return Contact.objects.create(
        organization_id=account.organization_id, platform_account=account, platform=account.platform, **fields
    )


def create_conversation(account: PlatformAccount, contact: Contact | None = None, **fields: Any) -> Conversation:
    """A conversation with no messages yet (last_message_at defaults to T0 plus a step, so later ones sort first)."""
    fields.setdefault("last_message_at", T0 + timedelta(seconds=next(_sequence)))
    return Conversation.objects.create(
        organization_id=account.organization_id,
        platform_account=account,
        contact=contact or create_contact(account),
        platform=account.platform,
        **fields,
    )


def create_message(
    conversation: Conversation,
    text: str = "hello",
    *,
    direction: str = Direction.INBOUND,
    timestamp: datetime | None = None,
    is_read: bool | None = None,
    **fields: Any,
) -> Message:
    """A message; inbound ones are unread unless `is_read=True`. Updates the conversation's counters and preview."""
    n = next(_sequence)
    inbound = direction == Direction.INBOUND
    is_read = (not inbound) if is_read is None else is_read
    timestamp = timestamp or T0 + timedelta(seconds=n)
    fields.setdefault("platform_message_id", f"mid.{n}")
    fields.setdefault("status", MessageStatus.RECEIVED if inbound else MessageStatus.SENT)
    message = Message.objects.create(
        organization_id=conversation.organization_id,
        conversation=conversation,
        platform_account_id=conversation.platform_account_id,
        direction=direction,
        text=text,
        is_read=is_read,
        timestamp=timestamp,
        **fields,
    )
    conversations = Conversation.objects.filter(pk=conversation.pk)
    if inbound and not is_read:
        conversations.update(unread_count=F("unread_count") + 1)
    conversations.filter(last_message_at__lte=timestamp).update(
        last_message_at=timestamp, last_message_preview=text[:255]
    )
    conversation.refresh_from_db()
    return message


def create_attachment(message: Message, **fields: Any) -> Attachment:
    fields.setdefault("kind", MessageKind.IMAGE)
    fields.setdefault("mime_type", "image/jpeg")
    fields.setdefault("status", AttachmentStatus.PENDING)
    return Attachment.objects.create(organization_id=message.organization_id, message=message, **fields)


@pytest.fixture
def make_contact(db) -> Callable[..., Contact]:
    return create_contact


@pytest.fixture
def make_conversation(db) -> Callable[..., Conversation]:
    return create_conversation


@pytest.fixture
def make_message(db) -> Callable[..., Message]:
    return create_message


@pytest.fixture
def make_attachment(db) -> Callable[..., Attachment]:
    return create_attachment
