"""Real-time fan-out. Services call `send_event_on_commit`; nothing is pushed for a rolled-back write.

Each member of a tenant listens on the group `messages_<user_id>`; an event is `{"type": <name>, "data": {...}}`
where `data` is the same serializer output the REST API returns.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from switchboard.accounts.models import Organization
from switchboard.accounts.tenancy import member_user_ids

logger = logging.getLogger(__name__)

MESSAGE_CREATED = "message.created"
MESSAGE_UPDATED = "message.updated"
CONVERSATION_UPDATED = "conversation.updated"
CARD_UPDATE = "card.update"


def user_group(user_id: int) -> str:
    return f"messages_{user_id}"


def broadcast(user_ids: Iterable[int], event: str, data: dict[str, Any]) -> None:
    """Send now, to every user's group in one hop onto the event loop (a hop per user costs more than the sends).
    A broken channel layer must never fail the write that already committed."""
    layer = get_channel_layer()
    recipients = list(user_ids)
    if layer is None or not recipients:
        return
    message = {"type": "inbox.event", "event": event, "data": data}

    async def send_all() -> list[Any]:
        return await asyncio.gather(
            *(layer.group_send(user_group(user_id), message) for user_id in recipients), return_exceptions=True
        )

    try:
        results = async_to_sync(send_all)()
    except Exception:
        logger.exception("broadcast of %s failed", event)
        return
    for user_id, result in zip(recipients, results, strict=True):
        if isinstance(result, BaseException):
            logger.error("broadcast of %s to user %s failed: %r", event, user_id, result)


def send_event_on_commit(
    organization: Organization | int,
    event: str,
    data: dict[str, Any] | Any,
    user_ids: Iterable[int] | None = None,
) -> None:
    """Broadcast `event` to every member of `organization` (or to `user_ids`) once the transaction commits.
    `data` may be a callable evaluated after commit, so the payload reflects the committed state."""

    def _send() -> None:
        recipients = list(user_ids) if user_ids is not None else member_user_ids(organization)
        payload = data() if callable(data) else data
        broadcast(recipients, event, payload)

    transaction.on_commit(_send)


def message_event_on_commit(organization_id: int, message_id: int, event: str = MESSAGE_UPDATED) -> None:
    """`event` (message.created / message.updated) with the committed message, in the REST shape."""

    def payload() -> dict[str, Any]:
        from switchboard.inbox.api.serializers import MessageSerializer
        from switchboard.inbox.selectors import message_queryset

        message = message_queryset().filter(pk=message_id).first()
        return MessageSerializer(message).data if message is not None else {"id": message_id}

    send_event_on_commit(organization_id, event, payload)


def conversation_event_on_commit(organization_id: int, conversation_id: int) -> None:
    """`conversation.updated` with the committed conversation, in the REST shape."""

    def payload() -> dict[str, Any]:
        from switchboard.inbox.api.serializers import ConversationSerializer
        from switchboard.inbox.selectors import conversation_queryset

        conversation = conversation_queryset().filter(pk=conversation_id).first()
        return ConversationSerializer(conversation).data if conversation is not None else {"id": conversation_id}

    send_event_on_commit(organization_id, CONVERSATION_UPDATED, payload)
