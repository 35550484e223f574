"""Inbox reads. Querysets here carry the joins the serializers need, so lists stay at a constant number of queries.

`*_queryset()` are unscoped bases for `TenantScopedViewMixin.scoped_queryset()` (the mixin adds the tenant filter);
`*_get` take the organization and are what services use to re-read a row after writing it. (Lists are the API's:
`scoped_queryset()` plus the filters and the cursor pagination's ordering.)
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from switchboard.accounts.models import Organization
from switchboard.accounts.tenancy import TenantQuerySet
from switchboard.inbox.models import Attachment, Conversation, Direction, Message
from switchboard.platforms.models import PlatformAccount

MESSAGES_LIMIT_DEFAULT = 50
MESSAGES_LIMIT_MAX = 200


def conversation_queryset() -> TenantQuerySet[Conversation]:
    """Everything `ConversationSerializer` reads, in one query. The account's encrypted secrets are not loaded: no
    list or event needs them, and decrypting them per row would make a wrong FIELD_ENCRYPTION_KEY fail the whole
    inbox. (A caller that does need them — a send — reads the account itself; a deferred field still loads on use.)"""
    return Conversation.objects.select_related("contact", "platform_account", "archived_by").defer(
        *PlatformAccount.secret_fields("platform_account")
    )


def message_queryset() -> TenantQuerySet[Message]:
    """Everything `MessageSerializer` reads: the sender joined, attachments in one extra query per page."""
    return Message.objects.select_related("sent_by").prefetch_related(
        Prefetch("attachments", queryset=Attachment.objects.order_by("id"))
    )


def conversation_get(*, organization: Organization | int, pk: int) -> Conversation:
    """Raises Conversation.DoesNotExist for a missing or another tenant's conversation."""
    return conversation_queryset().for_organization(organization).get(pk=pk)


def message_get(*, organization: Organization | int, pk: int) -> Message:
    """Raises Message.DoesNotExist for a missing or another tenant's message."""
    return message_queryset().for_organization(organization).get(pk=pk)


def conversation_recent_messages(*, conversation: Conversation, limit: int = MESSAGES_LIMIT_DEFAULT) -> list[Message]:
    """The newest `limit` messages of a thread, returned oldest first (the order a thread is read in).
    Walks the (conversation, timestamp, id) index backwards, so the cost does not grow with the thread."""
    limit = max(1, min(limit, MESSAGES_LIMIT_MAX))
    newest = list(message_queryset().filter(conversation_id=conversation.pk).order_by("-timestamp", "-id")[:limit])
    newest.reverse()
    return newest


def conversation_search(queryset: QuerySet[Conversation], term: str) -> QuerySet[Conversation]:
    """Contact name / username / phone number / external id, or the text of any message of the thread.
    EXISTS (not a join) so a thread matching in many messages is listed once."""
    term = term.strip()
    if not term:
        return queryset
    in_messages = Message.objects.filter(conversation_id=OuterRef("pk"), text__icontains=term, is_deleted=False)
    return queryset.filter(
        Q(contact__name__icontains=term)
        | Q(contact__username__icontains=term)
        | Q(contact__phone_number__icontains=term)
        | Q(contact__external_id__icontains=term)
        | Exists(in_messages)
    )


def conversation_with_contact_attribute(
    queryset: QuerySet[Conversation], *, key: str, value: str
) -> QuerySet[Conversation]:
    """Conversations whose contact's lead field `key` equals `value`, ignoring case (`purpose` = `rent`). `key` is
    checked by the caller (letters, digits, underscores): it becomes part of a JSON path."""
    return queryset.filter(**{f"contact__attributes__{key}__iexact": value})


def conversation_unread_total(*, organization: Organization | int) -> int:
    """How many conversations of the organization's inbox (not archived) have unread messages: one COUNT over the
    `conversation_inbox_list` index's (organization, is_archived) prefix."""
    return Conversation.objects.for_organization(organization).filter(is_archived=False, unread_count__gt=0).count()


def conversation_newest_inbound(*, conversation_id: int) -> Message | None:
    """The customer's newest message in the thread (by the thread's own order), or None."""
    return (
        Message.objects.filter(conversation_id=conversation_id, direction=Direction.INBOUND)
        .order_by("-timestamp", "-id")
        .first()
    )


def conversation_unread_recount(*, conversation_id: int) -> int:
    """The exact number of unread inbound messages (the partial index `message_unread` answers it)."""
    return Message.objects.filter(conversation_id=conversation_id, direction=Direction.INBOUND, is_read=False).count()
