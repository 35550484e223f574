"""Real-time fan-out. Services call `publish_on_commit` for messages and conversations (and `send_event_on_commit`
for other events, e.g. listings' `card.update`); nothing is pushed for a rolled-back write.

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

# The module, not its names: inbox.payloads imports inbox.media, whose attachment writers import this module.
from switchboard.inbox import payloads

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


def publish_on_commit(
    organization: Organization | int,
    *,
    messages_created: Iterable[int] = (),
    messages_updated: Iterable[int] = (),
    conversations_updated: Iterable[int] = (),
    user_ids: Iterable[int] | None = None,
) -> None:
    """The one way services tell clients that messages and conversations changed: after the commit, the committed
    rows are read in one query per kind (inbox/payloads.py, the REST shape) and each is sent to every member of
    `organization` (or to `user_ids`) as `message.created`, `message.updated` and `conversation.updated`, in that
    order. A row gone by then is sent as `{"id": …}` so clients can refetch it; nothing is sent for a rollback."""
    created, updated, conversations = list(messages_created), list(messages_updated), list(conversations_updated)
    if not (created or updated or conversations):
        return
    recipients_given = list(user_ids) if user_ids is not None else None

    def _send() -> None:
        recipients = recipients_given if recipients_given is not None else member_user_ids(organization)
        messages = payloads.message_payloads(created + updated)
        for event, ids in ((MESSAGE_CREATED, created), (MESSAGE_UPDATED, updated)):
            for pk in dict.fromkeys(ids):
                broadcast(recipients, event, messages.get(pk) or {"id": pk})
        rows = payloads.conversation_payloads(conversations)
        for pk in dict.fromkeys(conversations):
            broadcast(recipients, CONVERSATION_UPDATED, rows.get(pk) or {"id": pk})

    transaction.on_commit(_send)
