"""Lead triage when the assistant does not answer: record the lead fields from the thread, send nothing.

The assistant records the `lead_fields` (purpose, budget, bedrooms …) with `update_contact` while it answers. When it
may not answer a customer's answerable message — the conversation's switch is off, the contact is not trusted, a
person has the conversation, it is office hours, or the hourly cap was reached (`TRIAGE_REASONS`) — the subscriber
queues `assistant_triage_task` instead (the reply delay later, for the newest such message, so a burst gets one
triage), and

    conversation_triage(organization_id=…, conversation_id=…, trigger_message_id=…) -> engine.Status

calls the model once with the recent thread, a short prompt ("extract the lead fields, do not answer") and only the
`update_contact` tool; the update_contact calls it returns run through the tool itself (scoped to the organization;
the contact's change is broadcast as conversation.updated). Nothing goes to the customer, nothing is handed over.
One AssistantRun is recorded: `skipped` with the reason `triage` (the stats count it neither as answered nor as a
handoff), or `failed` with the provider's error code (logged; no retry, no failure sentence, no needs_human).

At most one triage per conversation per AI_TRIAGE_MIN_INTERVAL_SECONDS (the last triage run, failed ones included);
none at all when AI_TRIAGE_WITHOUT_REPLY is false, the assistant is inactive or has no lead fields.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.conf import settings as django_settings
from django.utils import timezone

from switchboard.assistant import context, engine
from switchboard.assistant.engine import Skip, Status
from switchboard.assistant.models import AssistantRun, AssistantSettings, RunOutcome
from switchboard.assistant.providers import ChatMessage, ProviderError
from switchboard.assistant.tools import ToolRun, run_tool, update_contact_spec
from switchboard.inbox.models import Conversation, Direction, Message

logger = logging.getLogger(__name__)

TRIAGE_REASON = "triage"
TRIAGE_REASONS = frozenset(
    {Skip.SWITCH_OFF, Skip.NOT_TRUSTED, Skip.HUMAN_HANDLING, Skip.OUTSIDE_HOURS, Skip.RATE_LIMIT}
)
TRIAGE_PROMPT = (
    "You read a real-estate agency's conversation with a customer to extract the lead fields. Do not answer the "
    "customer: nobody will see your text. Call update_contact once with what the customer clearly said (only these "
    "keys: {fields}); numbers as numbers. Leave out what they did not say; when they said none of it, call nothing."
)


def triage_enabled(settings: AssistantSettings | None) -> bool:
    return (
        bool(django_settings.AI_TRIAGE_WITHOUT_REPLY)
        and settings is not None
        and settings.is_active
        and bool(context.lead_fields(settings))
    )


def wants_triage(settings: AssistantSettings | None, message: Message, reason: Skip | None) -> bool:
    """Whether a customer's message the assistant skips for `reason` gets a triage (the subscriber's question)."""
    return reason in TRIAGE_REASONS and triage_enabled(settings) and engine.is_answerable(message)


def _interval() -> timedelta:
    return timedelta(seconds=max(0, int(django_settings.AI_TRIAGE_MIN_INTERVAL_SECONDS)))


def conversation_triage(*, organization_id: int, conversation_id: int, trigger_message_id: int) -> Status:
    conversation = (
        Conversation.objects.for_organization(organization_id)
        .select_related("contact", "platform_account")
        .filter(pk=conversation_id)
        .first()
    )
    if conversation is None:
        return Status.NOTHING
    settings = engine.assistant_settings(organization_id)
    if settings is None or not triage_enabled(settings):
        return Status.NOTHING
    newer = Message.objects.filter(
        conversation_id=conversation.pk,
        direction=Direction.INBOUND,
        id__gt=trigger_message_id,
        llm_skip_reason__in=[reason.value for reason in TRIAGE_REASONS],
    )
    if any(engine.is_answerable(message) for message in newer):
        return Status.SUPERSEDED  # the newer message's own task triages the whole thread
    now = timezone.now()
    recent = AssistantRun.objects.filter(
        conversation_id=conversation.pk, reason=TRIAGE_REASON, created_at__gte=now - _interval()
    )
    if recent.exists():
        return Status.NOTHING
    timeout = int(django_settings.AI_REQUEST_TIMEOUT_SECONDS) + 60
    with engine.conversation_lock(f"assistant:triage:{conversation.pk}", timeout=timeout) as acquired:
        if not acquired:
            return Status.NOTHING  # another triage of this conversation is running
        return _triage(conversation, settings, trigger_message_id)


def _triage(conversation: Conversation, settings: AssistantSettings, trigger_message_id: int) -> Status:
    fields = context.lead_fields(settings)
    run = ToolRun(organization_id=conversation.organization_id, conversation=conversation, settings=settings)
    thread = context.thread_turns(conversation=conversation, size=settings.context_size, include=[trigger_message_id])
    if not thread.turns:
        return Status.NOTHING
    prompt = TRIAGE_PROMPT.format(fields=", ".join(fields))
    known = {key: value for key, value in (conversation.contact.attributes or {}).items() if key in fields}
    if known:
        prompt += " Known so far: " + "; ".join(f"{key}={value}" for key, value in known.items()) + "."
    messages = [ChatMessage("system", prompt), *thread.turns]
    started = time.monotonic()
    triggers = [trigger_message_id]
    try:
        reply = engine.provider_of(settings).chat(messages, [update_contact_spec(fields)])
    except ProviderError as error:
        logger.warning("assistant: triage of conversation %s failed: %s", conversation.pk, error)
        engine.record_run(
            conversation,
            None,
            reason=TRIAGE_REASON,
            trigger_ids=triggers,
            outcome=RunOutcome.FAILED,
            error_code=error.code,
            error_message=error.message_for_agents,
            model=settings.model,
            latency_ms=engine.elapsed_ms(started),
        )
        return Status.FAILED
    except Exception:
        logger.exception("assistant: triage of conversation %s crashed", conversation.pk)
        engine.record_run(
            conversation,
            None,
            reason=TRIAGE_REASON,
            trigger_ids=triggers,
            outcome=RunOutcome.FAILED,
            error_code="internal_error",
            error_message="The AI assistant had an internal error.",
            model=settings.model,
            latency_ms=engine.elapsed_ms(started),
        )
        return Status.FAILED
    latency = engine.elapsed_ms(started)
    for call in reply.tool_calls:
        if call.name == "update_contact":
            run_tool(run, call)  # broadcasts conversation.updated on commit when the attributes changed
        else:
            run.calls.append({"name": call.name, "arguments": call.arguments, "ok": False})
    engine.record_run(
        conversation,
        run,
        reason=TRIAGE_REASON,
        trigger_ids=triggers,
        outcome=RunOutcome.SKIPPED,
        model=reply.model or settings.model,
        latency_ms=latency,
    )
    logger.info("assistant: triaged conversation %s (%s)", conversation.pk, ", ".join(sorted(run.saved_fields)) or "-")
    return Status.SKIPPED
