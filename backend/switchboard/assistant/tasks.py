"""The assistant's task: answer a conversation, `reply_delay_seconds` after a customer's message.

`assistant_reply_task(conversation_id, message_id, attempt=1)` runs `engine.conversation_reply` for the conversation
the message is in. The engine batches (a newer pending message's own task answers, so quick successive messages get
one reply), re-checks the switches and answers; when it asks for another try — a retryable provider error
(`attempt` + 1, backoff with the vendor's Retry-After, at most AI_MAX_ATTEMPTS in all) or another run holding the
conversation (the same attempt, a few seconds later) — the task schedules itself again with that countdown.

`assistant_triage_task(conversation_id, message_id)` runs `triage.conversation_triage`: the lead fields of a
conversation the assistant did not answer (triage.py), once, never retried.

Scheduling goes through `inbox/inprocess.run_task_later`, the inbox's own way: with a worker (REDIS_URL) a Celery
countdown; without one (the embedded default) a real wait on a timer, then one of the in-process threads, so the
delay and the backoff hold there too and no thread sleeps. Tests (INPROCESS_TASK_THREADS=0) keep the scheduled jobs
until `inprocess.run_delayed()` runs them, or call the task (or the engine) directly.
"""

from __future__ import annotations

import logging

from celery import shared_task

from switchboard.assistant import engine, triage
from switchboard.inbox import inprocess
from switchboard.inbox.models import Conversation

logger = logging.getLogger(__name__)

MAX_BUSY_RESCHEDULES = 30  # a conversation held this many times over gives up (its lock outlives a dead worker)


def _organization_of(conversation_id: int) -> int | None:
    """The tenant a queued task acts for (the task carries only ids); None once the conversation is gone."""
    return Conversation.objects.filter(pk=conversation_id).values_list("organization_id", flat=True).first()


@shared_task(name="assistant.reply", ignore_result=True, max_retries=None)
def assistant_reply_task(conversation_id: int, message_id: int, attempt: int = 1, busy: int = 0) -> str:
    organization_id = _organization_of(conversation_id)
    if organization_id is None:
        return engine.Status.NOTHING.value
    result = engine.conversation_reply(
        organization_id=organization_id,
        conversation_id=conversation_id,
        trigger_message_ids=[message_id],
        attempt=attempt,
    )
    if result.status == engine.Status.RETRY and result.retry_in is not None:
        inprocess.run_task_later(
            assistant_reply_task, result.retry_in, conversation_id, message_id, attempt=attempt + 1, busy=busy
        )
    elif result.status == engine.Status.BUSY and result.retry_in is not None:
        if busy >= MAX_BUSY_RESCHEDULES:
            logger.error("assistant: conversation %s stayed busy; message %s not answered", conversation_id, message_id)
        else:
            inprocess.run_task_later(
                assistant_reply_task, result.retry_in, conversation_id, message_id, attempt=attempt, busy=busy + 1
            )
    return result.status.value


@shared_task(name="assistant.triage", ignore_result=True)
def assistant_triage_task(conversation_id: int, message_id: int) -> str:
    organization_id = _organization_of(conversation_id)
    if organization_id is None:
        return engine.Status.NOTHING.value
    status = triage.conversation_triage(
        organization_id=organization_id, conversation_id=conversation_id, trigger_message_id=message_id
    )
    return status.value
