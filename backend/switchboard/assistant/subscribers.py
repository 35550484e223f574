"""What the assistant does on the inbox's hooks (inbox/hooks.py), subscribed in `AssistantConfig.ready()`.

MESSAGES_CREATED → `messages_created`, after the delivery (or the send) has committed, in the thread that committed it
(a webhook's answer): quick, a few queries, nothing slow.

* The business wrote — an agent's send (`sent_by` set) or an echo of a message sent from the phone (outbound, no
  `sent_by`, not the assistant's, not an internal note): the assistant steps back, `ai_paused_until = now +
  AI_HANDOFF_MINUTES` (conversation.updated). The assistant's own sends change nothing.
* A customer wrote: the first message of a new conversation of a trusted contact turns the conversation's AI on when
  the agency chose so (`ai_on_for_trusted`). Then each new message is decided by the rules that need no model
  (engine.skip_reason: assistant_inactive, switch_off, not_trusted, human_handling, outside_hours,
  kind_not_answerable, outside_window, rate_limit): a skipped message gets its `llm_skip_reason` (message.updated;
  not broadcast for `assistant_inactive`, which an agency without the assistant has on every message). For the
  rest one reply task per conversation is queued, `reply_delay_seconds` later, for its newest message: the task
  answers every message that came meanwhile at once (engine.py, batching). A conversation none of whose new
  answerable messages is answered — for switch_off, not_trusted, human_handling, outside_hours or rate_limit — gets
  a lead triage task instead, as delayed, for the newest of them (triage.py: the lead fields, nothing sent).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings as django_settings
from django.db import transaction
from django.utils import timezone

from switchboard.assistant import context, demo, engine, triage
from switchboard.assistant.engine import Skip
from switchboard.assistant.models import AssistantSettings
from switchboard.assistant.tasks import assistant_reply_task, assistant_triage_task
from switchboard.inbox import hooks, inprocess, realtime
from switchboard.inbox.models import Conversation, Direction, Message

logger = logging.getLogger(__name__)


def messages_created(*, organization_id: int, message_ids: list[int]) -> None:
    messages = list(
        Message.objects.for_organization(organization_id)
        .filter(pk__in=message_ids)
        .select_related("conversation__contact", "conversation__platform_account")
        .order_by("id")
    )
    if not messages:
        return
    settings = engine.assistant_settings(organization_id)
    human_replied: set[int] = set()
    inbound: dict[int, list[Message]] = defaultdict(list)
    for message in messages:
        if message.direction == Direction.INBOUND:
            inbound[message.conversation_id].append(message)
        elif is_human_reply(message):
            human_replied.add(message.conversation_id)
    now = timezone.now()
    if human_replied and settings is not None and settings.is_active:
        pause(organization_id, human_replied, now)
    skipped: dict[Skip, list[int]] = defaultdict(list)
    jobs: list[_Job] = []
    for conversation_messages in inbound.values():
        conversation_skipped, job = _decide(organization_id, settings, conversation_messages, set(message_ids), now)
        for reason, ids in conversation_skipped.items():
            skipped[reason].extend(ids)
        if job is not None:
            jobs.append(job)
    # One write (and one broadcast) per reason for the whole delivery, however many conversations it touches.
    for reason, ids in skipped.items():
        Message.objects.filter(pk__in=ids).update(llm_skip_reason=reason.value, updated_at=now)
        if reason != Skip.ASSISTANT_INACTIVE:
            realtime.publish_on_commit(organization_id, messages_updated=ids)
    for job in jobs:
        _enqueue_on_commit(*job)


def is_human_reply(message: Message) -> bool:
    """An agent's message, or one sent from the business's phone (its echo); not the assistant's, not a note."""
    return (
        message.direction == Direction.OUTBOUND and not message.sent_by_assistant and not context.is_internal(message)
    )


def pause(organization_id: int, conversation_ids: set[int], now: datetime) -> None:
    until = now + timedelta(minutes=django_settings.AI_HANDOFF_MINUTES)
    ids = sorted(conversation_ids)
    Conversation.objects.for_organization(organization_id).filter(pk__in=ids).update(
        ai_paused_until=until, updated_at=now
    )
    realtime.publish_on_commit(organization_id, conversations_updated=ids)
    logger.info("assistant: paused on conversations %s until %s (a person replied)", ids, until.isoformat())


# A task to queue on commit: (task, conversation id, message id, delay in seconds).
_Job = tuple[Any, int, int, float]


def _decide(
    organization_id: int,
    settings: AssistantSettings | None,
    messages: list[Message],
    batch: set[int],
    now: datetime,
) -> tuple[dict[Skip, list[int]], _Job | None]:
    """Turn the AI on for a trusted contact's new conversation; the skipped messages' ids by reason and the reply
    or triage task to queue (both left to the caller, which writes every conversation's skips at once)."""
    conversation = messages[0].conversation
    contact = conversation.contact
    if (
        settings is not None
        and settings.is_active
        and settings.ai_on_for_trusted
        and contact.is_trusted
        and not conversation.ai_enabled
        and _is_new(conversation, batch)
    ):
        Conversation.objects.filter(pk=conversation.pk).update(ai_enabled=True, updated_at=now)
        conversation.ai_enabled = True
        realtime.publish_on_commit(organization_id, conversations_updated=[conversation.pk])

    skipped: dict[Skip, list[int]] = defaultdict(list)
    answer: Message | None = None
    to_triage: Message | None = None
    conversation_reason = engine.conversation_skip_reason(settings, conversation, contact, now=now)
    for message in messages:
        reason = engine.message_skip_reason(conversation_reason, message, now=now)
        if reason is None:
            answer = message
        else:
            skipped[reason].append(message.pk)
            if triage.wants_triage(settings, message, reason):
                to_triage = message
    job: _Job | None = None
    if answer is not None and settings is not None:
        job = (assistant_reply_task, conversation.pk, answer.pk, settings.reply_delay_seconds)
    elif to_triage is not None and settings is not None:
        job = (assistant_triage_task, conversation.pk, to_triage.pk, settings.reply_delay_seconds)
    return skipped, job


def _is_new(conversation: Conversation, batch: set[int]) -> bool:
    """The conversation holds only messages of this delivery: it was just created."""
    return not Message.objects.filter(conversation_id=conversation.pk).exclude(pk__in=batch).exists()


def _enqueue_on_commit(task: Any, conversation_id: int, message_id: int, delay: float) -> None:
    def enqueue() -> None:
        try:
            # A worker's countdown, or a real wait on a timer without one (inbox/inprocess.py): never this thread.
            inprocess.run_task_later(task, delay, conversation_id, message_id)
        except Exception:  # a broker hiccup must never fail the delivery that already committed
            logger.exception("assistant: could not queue %s for message %s", task.name, message_id)

    transaction.on_commit(enqueue)


def subscribe() -> None:
    hooks.subscribe(hooks.MESSAGES_CREATED, messages_created)
    hooks.subscribe(hooks.DEMO_SEED, demo.demo_assistant)  # manage.py seed_demo: the assistant's part (demo.py)
