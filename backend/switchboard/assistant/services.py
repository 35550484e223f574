"""The assistant's services for the API (assistant/api/): hand a conversation back to the AI, and draft a reply for
an agent (the copilot; it lives with the engine, whose context and tools it shares, and is re-exported here).

    conversation_hand_back(organization=org, conversation=conversation, by=user) -> Conversation
    suggest_reply(organization=org, conversation=conversation) -> Suggestion(text, listing_ids, tools_used)

Both take a conversation the caller scoped to `organization` (`ensure_owned` refuses another tenant's, as a 404).
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from switchboard.accounts.models import Organization, User
from switchboard.accounts.tenancy import ensure_owned
from switchboard.assistant.engine import Suggestion, suggest_reply
from switchboard.inbox import realtime, selectors
from switchboard.inbox.models import Conversation

logger = logging.getLogger(__name__)

__all__ = ["Suggestion", "conversation_hand_back", "suggest_reply"]


def conversation_hand_back(
    *, organization: Organization | int, conversation: Conversation, by: User | None
) -> Conversation:
    """The assistant answers this conversation again: needs_human cleared (and its reason), the pause after a human
    reply lifted, the conversation's AI switched on. Broadcast as conversation.updated; the conversation as stored."""
    organization_id = ensure_owned(organization, conversation)
    with transaction.atomic():
        Conversation.objects.for_organization(organization_id).filter(pk=conversation.pk).update(
            needs_human=False, needs_human_reason="", ai_paused_until=None, ai_enabled=True, updated_at=timezone.now()
        )
        realtime.publish_on_commit(organization_id, conversations_updated=[conversation.pk])
    logger.info("assistant: conversation %s handed back to the AI by %s", conversation.pk, by)
    return selectors.conversation_get(organization=organization_id, pk=conversation.pk)
