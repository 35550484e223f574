"""What agents do to conversations and messages: archive, unarchive, mark read or unread, toggle the AI assistant.
Reading also sends the customer a read receipt, asynchronously (sending.read_receipt_on_commit).

Every function writes inside `transaction.atomic()` and registers its WebSocket events with
`realtime.send_event_on_commit`; the payload is serialized after the commit, from the committed row, with the same
serializers the REST API answers with.

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
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from switchboard.accounts.models import Organization, User
from switchboard.accounts.tenancy import ensure_owned, member_user_ids
from switchboard.inbox import realtime, selectors
from switchboard.inbox.models import Conversation, Direction, Message
from switchboard.inbox.services import sending

logger = logging.getLogger(__name__)

_BULK_CHUNK = 1000


# --- events ---------------------------------------------------------------------------------------------------------
class _ConversationPayloads:
    """Serializes a batch of conversations in one query, the first time any of their events is sent."""

    def __init__(self, ids: list[int]) -> None:
        self.ids = ids
        self._data: dict[int, dict[str, Any]] | None = None

    def get(self, pk: int) -> dict[str, Any]:
        from switchboard.inbox.api.serializers import ConversationSerializer

        if self._data is None:
            rows = selectors.conversation_queryset().filter(pk__in=self.ids)
            self._data = {row.pk: ConversationSerializer(row).data for row in rows}
        # A row deleted between the commit and the broadcast: tell clients its id rather than fail the commit.
        return self._data.get(pk) or {"id": pk}


def _conversations_updated_on_commit(rows: Iterable[tuple[int, int]], *, user_ids: list[int] | None = None) -> None:
    """`rows` are (conversation id, organization id); one `conversation.updated` per conversation."""
    by_organization: dict[int, list[int]] = defaultdict(list)
    for pk, organization_id in rows:
        by_organization[organization_id].append(pk)
    for organization_id, ids in by_organization.items():
        payloads = _ConversationPayloads(ids)
        recipients = user_ids if user_ids is not None else (member_user_ids(organization_id) if len(ids) > 1 else None)
        for pk in ids:
            realtime.send_event_on_commit(
                organization_id,
                realtime.CONVERSATION_UPDATED,
                lambda pk=pk, payloads=payloads: payloads.get(pk),
                user_ids=recipients,
            )


def _lock_conversation(conversation_id: int) -> int | None:
    """Take the conversation's row lock (no-op on SQLite, whose writers are serialized anyway); its unread_count."""
    return (
        Conversation.objects.select_for_update()
        .filter(pk=conversation_id)
        .values_list("unread_count", flat=True)
        .first()
    )


# --- archive ----------------------------------------------------------------------------------------------------------
def conversation_archive(
    *, organization: Organization | int, conversation: Conversation, by: User | None
) -> Conversation:
    """Hide a conversation from the inbox, recording who and when. A new inbound message brings it back."""
    organization_id = ensure_owned(organization, conversation)
    now = timezone.now()
    with transaction.atomic():
        changed = Conversation.objects.filter(pk=conversation.pk, is_archived=False).update(
            is_archived=True, archived_at=now, archived_by=by, updated_at=now
        )
        if changed:
            _conversations_updated_on_commit([(conversation.pk, organization_id)])
    return selectors.conversation_get(organization=organization_id, pk=conversation.pk)


def conversation_unarchive(
    *, organization: Organization | int, conversation: Conversation, by: User | None
) -> Conversation:
    organization_id = ensure_owned(organization, conversation)
    now = timezone.now()
    with transaction.atomic():
        changed = Conversation.objects.filter(pk=conversation.pk, is_archived=True).update(
            is_archived=False, archived_at=None, archived_by=None, updated_at=now
        )
        if changed:
            _conversations_updated_on_commit([(conversation.pk, organization_id)])
    return selectors.conversation_get(organization=organization_id, pk=conversation.pk)


def _set_archived_many(
    *, conversations: QuerySet[Conversation], by: User | None, archived: bool, organization: Organization | int | None
) -> int:
    if organization is not None:
        conversations = conversations.for_organization(organization)
    now = timezone.now()
    changes: dict[str, Any] = (
        {"is_archived": True, "archived_at": now, "archived_by": by}
        if archived
        else {"is_archived": False, "archived_at": None, "archived_by": None}
    )
    with transaction.atomic():
        rows = list(conversations.filter(is_archived=not archived).order_by().values_list("pk", "organization_id"))
        changed: list[tuple[int, int]] = []
        for start in range(0, len(rows), _BULK_CHUNK):
            chunk = rows[start : start + _BULK_CHUNK]
            organization_of = dict(chunk)
            ids = list(
                Conversation.objects.select_for_update()
                .filter(pk__in=organization_of, is_archived=not archived)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            Conversation.objects.filter(pk__in=ids).update(**changes, updated_at=now)
            changed.extend((pk, organization_of[pk]) for pk in ids)
        _conversations_updated_on_commit(changed)
    logger.info("%s %d conversation(s) by %s", "archived" if archived else "unarchived", len(changed), by)
    return len(changed)


def conversation_archive_many(
    *, conversations: QuerySet[Conversation], by: User | None, organization: Organization | int | None = None
) -> int:
    """Archive every un-archived conversation of `conversations` (restricted to `organization` when given);
    returns how many changed. One `conversation.updated` per changed conversation, to its own organization."""
    return _set_archived_many(conversations=conversations, by=by, archived=True, organization=organization)


def conversation_unarchive_many(
    *, conversations: QuerySet[Conversation], by: User | None, organization: Organization | int | None = None
) -> int:
    return _set_archived_many(conversations=conversations, by=by, archived=False, organization=organization)


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
            _conversations_updated_on_commit([(conversation.pk, organization_id)])
        if marked:
            # The customer sees it was read (WhatsApp blue ticks, Messenger "seen"), sent after the commit.
            sending.read_receipt_on_commit(conversation=conversation)
    return selectors.conversation_get(organization=organization_id, pk=conversation.pk)


class NothingToMarkUnread(Exception):
    """The conversation has no message from the customer to mark unread (the API answers 409)."""

    code = "nothing_to_mark_unread"
    detail = "The customer has not written in this conversation yet: there is no message to mark unread."


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
            raise NothingToMarkUnread(NothingToMarkUnread.detail)
        marked = Message.objects.filter(pk=newest.pk, is_read=True).update(is_read=False, read_at=None, updated_at=now)
        unread = selectors.conversation_unread_recount(conversation_id=conversation.pk)
        if marked or unread != counted:
            Conversation.objects.filter(pk=conversation.pk).update(unread_count=unread, updated_at=now)
            _conversations_updated_on_commit([(conversation.pk, organization_id)])
        if marked:
            realtime.message_event_on_commit(organization_id, newest.pk)
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
            realtime.message_event_on_commit(organization_id, message.pk)
            _conversations_updated_on_commit([(message.conversation_id, organization_id)])
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
            _conversations_updated_on_commit([(conversation.pk, organization_id)])
    return selectors.conversation_get(organization=organization_id, pk=conversation.pk)
