"""What agents do to conversations and messages: archive, unarchive, mark read or unread, toggle the AI assistant.
Reading also sends the customer a read receipt, asynchronously (sending.read_receipt_on_commit).

Every function takes the caller's organization (a row of another one is not found: `ensure_owned`, or the queryset
is scoped to it), writes inside `transaction.atomic()` and registers its WebSocket events with
`realtime.publish_on_commit`; the payload is built after the commit, from the committed row, in the REST shape.

Unread counts stay exact under concurrency (webhooks arriving while an agent reads):
* lock order is always conversation row first, then its messages, so mark-read and mark-all-read never deadlock;
* `message_mark_read` flips `is_read` with a conditional UPDATE and decrements the counter (F-expression, never
  below 0) only when that UPDATE changed a row — two agents reading the same message count it once;
* `conversation_mark_all_read` sets the counter from a recount taken after the lock, in the same transaction: a
  message committed before the lock is marked read, one still being ingested is not marked and its `+1` lands after
  us (ingest increments with an F-expression and waits for our lock), so it is never lost from the count.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from switchboard.accounts.models import Organization, User
from switchboard.accounts.tenancy import ensure_owned, organization_id_of
from switchboard.common.exceptions import Conflict
from switchboard.inbox import realtime, selectors
from switchboard.inbox.models import Contact, Conversation, Direction, Message
from switchboard.inbox.services import sending

logger = logging.getLogger(__name__)

_BULK_CHUNK = 1000


def _lock_conversation(conversation_id: int) -> int | None:
    """Take the conversation's row lock (no-op on SQLite, whose writers are serialized anyway); its unread_count."""
    return (
        Conversation.objects.select_for_update()
        .filter(pk=conversation_id)
        .values_list("unread_count", flat=True)
        .first()
    )


# --- archive ----------------------------------------------------------------------------------------------------------
def _archive_changes(*, archived: bool, by: User | None, at: datetime) -> dict[str, Any]:
    if archived:
        return {"is_archived": True, "archived_at": at, "archived_by": by}
    return {"is_archived": False, "archived_at": None, "archived_by": None}


def _set_archived(
    *, organization: Organization | int, conversations: QuerySet[Conversation], by: User | None, archived: bool
) -> list[int]:
    """Archive (or bring back) the conversations of `conversations` that belong to `organization` and are not in
    that state yet, in chunks of row locks taken in id order; one `conversation.updated` per changed conversation.
    The ids that changed."""
    organization_id = organization_id_of(organization)
    now = timezone.now()
    # The tenancy helper scopes; `conversations` only says which (a caller's queryset, e.g. the admin's selection).
    candidates = (
        Conversation.objects.for_organization(organization_id)
        .filter(pk__in=conversations.values("pk"), is_archived=not archived)
        .order_by("pk")
    )
    changed: list[int] = []
    with transaction.atomic():
        ids = list(candidates.values_list("pk", flat=True))
        for start in range(0, len(ids), _BULK_CHUNK):
            locked = list(
                Conversation.objects.select_for_update()
                .filter(pk__in=ids[start : start + _BULK_CHUNK], is_archived=not archived)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            Conversation.objects.filter(pk__in=locked).update(
                **_archive_changes(archived=archived, by=by, at=now), updated_at=now
            )
            changed.extend(locked)
        realtime.publish_on_commit(organization_id, conversations_updated=changed)
    return changed


def conversation_archive(
    *, organization: Organization | int, conversation: Conversation, by: User | None
) -> Conversation:
    """Hide a conversation from the inbox, recording who and when. A new inbound message brings it back."""
    organization_id = ensure_owned(organization, conversation)
    _set_archived(
        organization=organization_id,
        conversations=Conversation.objects.filter(pk=conversation.pk),
        by=by,
        archived=True,
    )
    return selectors.conversation_get(organization=organization_id, pk=conversation.pk)


def conversation_unarchive(
    *, organization: Organization | int, conversation: Conversation, by: User | None
) -> Conversation:
    organization_id = ensure_owned(organization, conversation)
    _set_archived(
        organization=organization_id,
        conversations=Conversation.objects.filter(pk=conversation.pk),
        by=by,
        archived=False,
    )
    return selectors.conversation_get(organization=organization_id, pk=conversation.pk)


def conversation_archive_many(
    *, organization: Organization | int, conversations: QuerySet[Conversation], by: User | None
) -> int:
    """Archive every un-archived conversation of `conversations` that belongs to `organization` (others are left
    alone, as if they did not exist); returns how many changed."""
    changed = _set_archived(organization=organization, conversations=conversations, by=by, archived=True)
    logger.info("archived %d conversation(s) by %s", len(changed), by)
    return len(changed)


def conversation_unarchive_many(
    *, organization: Organization | int, conversations: QuerySet[Conversation], by: User | None
) -> int:
    changed = _set_archived(organization=organization, conversations=conversations, by=by, archived=False)
    logger.info("unarchived %d conversation(s) by %s", len(changed), by)
    return len(changed)


# --- reading ----------------------------------------------------------------------------------------------------------
def conversation_mark_all_read(
    *, organization: Organization | int, conversation: Conversation, by: User | None
) -> Conversation:
    """Mark every unread inbound message read and set unread_count from a recount (see the module docstring)."""
    organization_id = ensure_owned(organization, conversation)
    now = timezone.now()
    with transaction.atomic():
        counted = _lock_conversation(conversation.pk)
        marked = Message.objects.filter(
            conversation_id=conversation.pk, direction=Direction.INBOUND, is_read=False
        ).update(is_read=True, read_at=now, updated_at=now)
        unread = selectors.conversation_unread_recount(conversation_id=conversation.pk)
        if marked or unread != counted:
            Conversation.objects.filter(pk=conversation.pk).update(unread_count=unread, updated_at=now)
            realtime.publish_on_commit(organization_id, conversations_updated=[conversation.pk])
        if marked:
            # The customer sees it was read (WhatsApp blue ticks, Messenger "seen"), sent after the commit.
            sending.read_receipt_on_commit(conversation=conversation)
    return selectors.conversation_get(organization=organization_id, pk=conversation.pk)


class NothingToMarkUnread(Conflict):
    """The conversation has no message from the customer to mark unread (the API answers 409)."""

    default_code = "nothing_to_mark_unread"
    default_detail = "The customer has not written in this conversation yet: there is no message to mark unread."


def conversation_mark_unread(
    *, organization: Organization | int, conversation: Conversation, by: User | None
) -> Conversation:
    """Mark the customer's newest message unread, so the conversation counts as unread for everyone (unread_count
    >= 1, set from a recount under the conversation's lock, as mark-all-read does). Nothing is sent to the customer:
    a read receipt cannot be taken back. Idempotent: when that message is already unread nothing changes and
    nothing is broadcast. Raises NothingToMarkUnread when the customer never wrote."""
    organization_id = ensure_owned(organization, conversation)
    now = timezone.now()
    with transaction.atomic():
        counted = _lock_conversation(conversation.pk)
        newest = selectors.conversation_newest_inbound(conversation_id=conversation.pk)
        if newest is None:
            raise NothingToMarkUnread()
        marked = Message.objects.filter(pk=newest.pk, is_read=True).update(is_read=False, read_at=None, updated_at=now)
        unread = selectors.conversation_unread_recount(conversation_id=conversation.pk)
        if marked or unread != counted:
            Conversation.objects.filter(pk=conversation.pk).update(unread_count=unread, updated_at=now)
            realtime.publish_on_commit(organization_id, conversations_updated=[conversation.pk])
        if marked:
            realtime.publish_on_commit(organization_id, messages_updated=[newest.pk])
    logger.info("conversation %s marked unread by %s", conversation.pk, by)
    return selectors.conversation_get(organization=organization_id, pk=conversation.pk)


def message_mark_read(*, organization: Organization | int, message: Message, by: User | None) -> Message:
    """Mark one message read. Idempotent: only the call that flips `is_read` decrements the counter."""
    organization_id = ensure_owned(organization, message)
    now = timezone.now()
    with transaction.atomic():
        _lock_conversation(message.conversation_id)
        changed = Message.objects.filter(pk=message.pk, is_read=False).update(is_read=True, read_at=now, updated_at=now)
        if changed:
            if message.direction == Direction.INBOUND:
                Conversation.objects.filter(pk=message.conversation_id, unread_count__gt=0).update(
                    unread_count=F("unread_count") - 1, updated_at=now
                )
                sending.read_receipt_on_commit(conversation=message.conversation, message_id=message.pk)
            realtime.publish_on_commit(
                organization_id, messages_updated=[message.pk], conversations_updated=[message.conversation_id]
            )
    return selectors.message_get(organization=organization_id, pk=message.pk)


# --- AI assistant -----------------------------------------------------------------------------------------------------
def conversation_set_ai_enabled(
    *, organization: Organization | int, conversation: Conversation, by: User | None, enabled: bool
) -> Conversation:
    """Switch the AI assistant on or off for one conversation."""
    organization_id = ensure_owned(organization, conversation)
    with transaction.atomic():
        changed = (
            Conversation.objects.filter(pk=conversation.pk)
            .exclude(ai_enabled=enabled)
            .update(ai_enabled=enabled, updated_at=timezone.now())
        )
        if changed:
            realtime.publish_on_commit(organization_id, conversations_updated=[conversation.pk])
    return selectors.conversation_get(organization=organization_id, pk=conversation.pk)


def contact_set_trusted(
    *, organization: Organization | int, conversation: Conversation, by: User | None, trusted: bool
) -> Conversation:
    """Mark the conversation's contact trusted (whitelisted for the AI assistant) or not; the conversation as it is
    now."""
    organization_id = ensure_owned(organization, conversation)
    contact_trust(organization=organization_id, contact=conversation.contact, by=by, trusted=trusted)
    return selectors.conversation_get(organization=organization_id, pk=conversation.pk)


def contact_trust(*, organization: Organization | int, contact: Contact, by: User | None, trusted: bool) -> bool:
    """Trust the contact or stop trusting them; whether it changed. Every conversation of the contact changes for
    clients (`conversation.updated` carries the contact)."""
    organization_id = ensure_owned(organization, contact)
    with transaction.atomic():
        changed = (
            Contact.objects.for_organization(organization_id)
            .filter(pk=contact.pk)
            .exclude(is_trusted=trusted)
            .update(is_trusted=trusted, updated_at=timezone.now())
        )
        if changed:
            of_contact = list(Conversation.objects.filter(contact_id=contact.pk).values_list("pk", flat=True))
            Conversation.objects.filter(pk__in=of_contact).update(updated_at=timezone.now())
            realtime.publish_on_commit(organization_id, conversations_updated=of_contact)
    logger.info("contact %s trusted=%s by %s", contact.pk, trusted, by)
    return bool(changed)
