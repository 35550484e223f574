"""The assistant's engine: decide whether to answer, ask the model (with tools), check the answer, send it.

    conversation_reply(organization_id=…, conversation_id=…, trigger_message_ids=[…], attempt=1) -> ReplyResult

is what the reply task (tasks.py) runs, `reply_delay_seconds` after a customer's message (subscribers.py). It:

1. **Batches.** The messages answered are every *pending* inbound message of the conversation — answerable by kind,
   not answered, not skipped, of the last 24 hours — since a person of the business last wrote (an agent, the
   phone; what the assistant answered is marked answered). When a pending message newer than the triggers exists,
   this run does nothing: that message's own task answers all.
2. **Re-checks the switches** (an agent may have replied, the window may have closed since the message came): the
   same rules as the subscriber (`skip_reason`), recorded on the pending messages as `llm_skip_reason`.
3. **Talks to the model**: the system prompt and the recent thread (context.py), the tools (tools.py); the tool
   calls are run and their results given back, at most `MAX_ROUNDS` calls of the model in all.
4. **Checks the answer** (`unsupported_prices`): a reply that names a price no tool returned in this run (and the
   customer or the thread did not mention) is not sent; the conversation is handed to a person instead, with the
   reason `GUARDRAIL_REASON`, and the customer gets the agency's holding sentence (`failure_message`, when enabled).
5. **Sends**: the listing cards the model asked for, in order, then its text — `message_send(by_assistant=True)`,
   the path and the checks of an agent's send (a window closed meanwhile → `outside_window`). A `handoff_to_human`
   call sets `needs_human` with its reason and leaves a note in the thread.
6. **Records** an `AssistantRun` (outcome, tool calls, reply ids, model, latency) and marks the answered messages
   `llm_processed`; every change of an inbox row is broadcast (realtime.publish_on_commit).

Failures of the provider: a retryable one (unreachable, timeout, 429, 5xx, a garbled answer) is tried again by the
task with backoff, at most AI_MAX_ATTEMPTS attempts (`ReplyResult.retry_in`); a final one — or the last attempt —
takes the failure path: the agency's failure sentence to the customer (at most once an hour per conversation, when
enabled), `needs_human` with "The AI assistant failed: <sentence for agents>", a note, an AssistantRun `failed` with
the error's code and sentence, and `llm_skip_reason="provider_error"` on the messages. The API key is never written
anywhere: the provider's sentences and details are scrubbed of it (providers/base.py), and the engine logs only them.

Lead triage runs with replies: the model records lead fields (`update_contact`) while it answers; a conversation
the assistant does not answer (switched off, a human handling it …) gets a triage of its own (triage.py).
"""

from __future__ import annotations

import enum
import logging
import re
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from switchboard.accounts.models import Organization
from switchboard.accounts.tenancy import ensure_owned
from switchboard.assistant import context, hours
from switchboard.assistant.models import AnswerWhen, AssistantRun, AssistantSettings, RunOutcome
from switchboard.assistant.providers import (
    ChatMessage,
    ChatReply,
    Provider,
    ProviderConfig,
    ProviderError,
    provider_for,
)
from switchboard.assistant.providers.guard import AddressGuard
from switchboard.assistant.tools import ToolRun, run_tool, specs_for
from switchboard.common.backoff import backoff_seconds
from switchboard.common.exceptions import Conflict
from switchboard.inbox import realtime
from switchboard.inbox.models import (
    Contact,
    Conversation,
    Direction,
    Message,
    MessageKind,
    MessageStatus,
)
from switchboard.inbox.sendable import Window, messaging_window
from switchboard.inbox.services.sending import TEXT_LIMITS, SendRefused, message_send

logger = logging.getLogger(__name__)

MAX_ROUNDS = 4  # calls of the model per answer (tool rounds included)
RETRY_MAX_COUNTDOWN = 300.0
BUSY_RETRY_SECONDS = 5.0  # another run holds the conversation: look again this much later
MESSAGE_MAX_AGE = timedelta(hours=24)  # older customer messages (a history sync) are never answered
FAILURE_MESSAGE_INTERVAL = timedelta(hours=1)
SUGGEST_REASON = "suggest_reply"
NOT_CONFIGURED = (
    "The AI assistant is not set up for this organization: an owner or admin turns it on and chooses its provider "
    "and model in the assistant settings."
)
NO_DRAFT = "The AI assistant had no suggestion for this conversation."
GUARDRAIL_REASON = "the reply named a price no tool returned"
NO_ANSWER_REASON = "the assistant could not put an answer together"
RATE_LIMIT_WINDOW = timedelta(hours=1)


class Skip(enum.StrEnum):
    """Why the assistant did not answer a customer's message (`Message.llm_skip_reason`)."""

    ASSISTANT_INACTIVE = "assistant_inactive"
    SWITCH_OFF = "switch_off"
    NOT_TRUSTED = "not_trusted"
    HUMAN_HANDLING = "human_handling"
    OUTSIDE_HOURS = "outside_hours"
    KIND_NOT_ANSWERABLE = "kind_not_answerable"
    OUTSIDE_WINDOW = "outside_window"
    RATE_LIMIT = "rate_limit"
    PROVIDER_ERROR = "provider_error"


class Status(enum.StrEnum):
    """What one run of `conversation_reply` did."""

    REPLIED = "replied"
    HANDED_OFF = "handed_off"
    FAILED = "failed"
    SKIPPED = "skipped"
    RETRY = "retry"  # a retryable provider error: the task tries again in `retry_in` seconds
    BUSY = "busy"  # another run is answering this conversation: the task looks again in `retry_in` seconds
    SUPERSEDED = "superseded"  # a newer message's task answers
    NOTHING = "nothing"  # nothing left to answer (answered already, conversation gone)


@dataclass(frozen=True)
class ReplyResult:
    status: Status
    retry_in: float | None = None
    run_id: int | None = None
    reply_message_ids: tuple[int, ...] = ()


# --- the rules ------------------------------------------------------------------------------------------------------
def assistant_settings(organization_id: int) -> AssistantSettings | None:
    return AssistantSettings.objects.filter(organization_id=organization_id).first()


def is_answerable(message: Message) -> bool:
    """Whether the model can answer this customer message by its kind: text, a caption of a photo / video /
    document, a button or list reply, a voice message with a transcript. Never reactions, story mentions,
    unsupported or deleted messages, nor anything the business sent."""
    if message.direction != Direction.INBOUND or message.is_deleted:
        return False
    payload = message.payload if isinstance(message.payload, dict) else {}
    story = payload.get("story")
    if isinstance(story, dict) and story.get("type") == "mention":
        return False
    text = (message.text or "").strip()
    if message.kind in (MessageKind.TEXT, MessageKind.INTERACTIVE):
        return bool(text)
    if message.kind in (MessageKind.IMAGE, MessageKind.VIDEO, MessageKind.DOCUMENT):
        return bool(text)
    if message.kind == MessageKind.AUDIO:
        transcript = payload.get("transcript")
        return isinstance(transcript, str) and bool(transcript.strip())
    return False


def assistant_replies_last_hour(conversation: Conversation, now: datetime) -> int:
    payloads = Message.objects.filter(
        conversation_id=conversation.pk,
        direction=Direction.OUTBOUND,
        sent_by_assistant=True,
        created_at__gte=now - RATE_LIMIT_WINDOW,
    ).values_list("payload", flat=True)
    return sum(1 for payload in payloads if not (isinstance(payload, dict) and payload.get("internal")))


def skip_reason(
    settings: AssistantSettings | None,
    conversation: Conversation,
    contact: Contact,
    *,
    now: datetime,
    message: Message | None = None,
) -> Skip | None:
    """Why the assistant must not answer now (None: it may), in the order of the contract: the assistant, the
    conversation's switch, the contact, a human, business hours, the message's kind, the reply window, the hourly
    cap. `message`: the customer's message being decided (its kind and age); None at run time, when the pending
    messages are answerable by construction."""
    reason = conversation_skip_reason(settings, conversation, contact, now=now)
    return reason if message is None else message_skip_reason(reason, message, now=now)


# The conversation's reasons that come before the message's kind in the contract's order.
_BEFORE_KIND = frozenset(
    {Skip.ASSISTANT_INACTIVE, Skip.SWITCH_OFF, Skip.NOT_TRUSTED, Skip.HUMAN_HANDLING, Skip.OUTSIDE_HOURS}
)


def conversation_skip_reason(
    settings: AssistantSettings | None, conversation: Conversation, contact: Contact, *, now: datetime
) -> Skip | None:
    """The first reason of the conversation itself (every message of a delivery shares it: decided once)."""
    if settings is None or not settings.is_active:
        return Skip.ASSISTANT_INACTIVE
    if not conversation.ai_enabled:
        return Skip.SWITCH_OFF
    if not contact.is_trusted:
        return Skip.NOT_TRUSTED
    if conversation.needs_human or (conversation.ai_paused_until is not None and conversation.ai_paused_until > now):
        return Skip.HUMAN_HANDLING
    if settings.answer_when == AnswerWhen.OUTSIDE_HOURS and hours.is_open(
        settings.business_hours, settings.time_zone, now
    ):
        return Skip.OUTSIDE_HOURS
    if messaging_window(conversation, now) != Window.OPEN:
        return Skip.OUTSIDE_WINDOW
    if assistant_replies_last_hour(conversation, now) >= django_settings.AI_MAX_REPLIES_PER_HOUR:
        return Skip.RATE_LIMIT
    return None


def message_skip_reason(conversation_reason: Skip | None, message: Message, *, now: datetime) -> Skip | None:
    """One message's reason, given its conversation's: the kind comes after the human and hours checks and before
    the window (a message older than MESSAGE_MAX_AGE, from a history sync, is outside it) and the hourly cap."""
    if conversation_reason in _BEFORE_KIND:
        return conversation_reason
    if not is_answerable(message):
        return Skip.KIND_NOT_ANSWERABLE
    if conversation_reason == Skip.OUTSIDE_WINDOW or message.timestamp < now - MESSAGE_MAX_AGE:
        return Skip.OUTSIDE_WINDOW
    return conversation_reason


def last_human_message_id(conversation_id: int) -> int:
    """The id of the last message a person of the business sent the customer (an agent's send, an echo from the
    phone), 0 if none; the assistant's own messages and internal notes do not count."""
    outbound = Message.objects.filter(
        conversation_id=conversation_id, direction=Direction.OUTBOUND, sent_by_assistant=False
    ).order_by("-id")
    for pk, payload in outbound.values_list("id", "payload")[:50]:
        if not (isinstance(payload, dict) and payload.get("internal")):
            return int(pk)
    return 0


def pending_messages(conversation_id: int, now: datetime | None = None) -> list[Message]:
    """The customer's messages waiting for an answer, oldest first: since a person of the business last wrote,
    from the last MESSAGE_MAX_AGE, answerable by kind, neither answered nor skipped. What the assistant answered is
    marked `llm_processed`, so its own replies need no boundary — and a message that came while it was answering
    (stored before its reply) is still answered by that message's own task."""
    now = now or timezone.now()
    candidates = Message.objects.filter(
        conversation_id=conversation_id,
        direction=Direction.INBOUND,
        id__gt=last_human_message_id(conversation_id),
        timestamp__gte=now - MESSAGE_MAX_AGE,
        llm_processed=False,
        llm_skip_reason="",
        is_deleted=False,
    ).order_by("id")
    return [message for message in candidates if is_answerable(message)]


# --- the reply ------------------------------------------------------------------------------------------------------
def conversation_reply(
    *, organization_id: int, conversation_id: int, trigger_message_ids: Iterable[int], attempt: int = 1
) -> ReplyResult:
    """Answer the conversation's pending messages (see the module docstring). `attempt` counts provider attempts."""
    triggers = [int(pk) for pk in trigger_message_ids]
    conversation = (
        Conversation.objects.for_organization(organization_id)
        .select_related("contact", "platform_account")
        .filter(pk=conversation_id)
        .first()
    )
    if conversation is None:
        return ReplyResult(Status.NOTHING)
    pending = pending_messages(conversation.pk)
    if not pending:
        return ReplyResult(Status.NOTHING)
    if triggers and pending[-1].pk > max(triggers):
        return ReplyResult(Status.SUPERSEDED)

    with conversation_lock(f"assistant:reply:{conversation.pk}", timeout=_lock_seconds()) as acquired:
        if not acquired:
            return ReplyResult(Status.BUSY, retry_in=BUSY_RETRY_SECONDS)
        return _reply(conversation, pending, attempt=attempt)


@contextmanager
def conversation_lock(key: str, *, timeout: int) -> Iterator[bool]:
    """A cache lock (whether it was taken); released on exit only while it is still this holder's."""
    token = uuid.uuid4().hex
    acquired = cache.add(key, token, timeout=timeout)
    try:
        yield acquired
    finally:
        if acquired and cache.get(key) == token:
            cache.delete(key)


def _lock_seconds() -> int:
    return int(MAX_ROUNDS * (django_settings.AI_REQUEST_TIMEOUT_SECONDS + 10) + 60)


def address_guard() -> AddressGuard | None:
    """The operator's limits on the addresses a provider may call (AI_ALLOW_PRIVATE_BASE_URL, AI_ALLOWED_HOSTS;
    providers/guard.py), or None when there are none (private addresses allowed, no host list)."""
    return AddressGuard.of(
        allow_private=bool(django_settings.AI_ALLOW_PRIVATE_BASE_URL),
        allowed_hosts=django_settings.AI_ALLOWED_HOSTS,
    )


def provider_of(settings: AssistantSettings) -> Provider:
    """The provider the organization's settings configure. Under an address guard its address is checked now —
    resolved again, whatever was checked when it was saved — and raises ProviderBadRequest `invalid_address` before
    any request; each connection it then opens is checked again (providers/guard.py)."""
    guard = address_guard()
    provider = provider_for(
        settings.provider,
        ProviderConfig(
            base_url=settings.base_url,
            api_key=settings.api_key or "",
            model=settings.model,
            temperature=settings.temperature,
            max_tokens=settings.max_tokens,
            timeout_seconds=float(django_settings.AI_REQUEST_TIMEOUT_SECONDS),
            session_factory=guard.session if guard is not None else None,
        ),
    )
    if guard is not None:
        guard.check_url(provider.base_url, secrets=(settings.api_key or "",))
    return provider


@dataclass
class Conversed:
    text: str
    model: str = ""
    rounds: int = 0
    usage: dict[str, int] = field(default_factory=dict)


def converse(provider: Provider, messages: list[ChatMessage], run: ToolRun) -> Conversed:
    """Call the model until it answers without tools (at most MAX_ROUNDS calls), running the tools it asks for.
    When the last call still asks for tools, they run and the answer has no text (the caller decides)."""
    specs = specs_for(run.settings, read_only=run.read_only)
    result = Conversed(text="")
    for round_number in range(1, MAX_ROUNDS + 1):
        reply: ChatReply = provider.chat(messages, specs)
        result.model, result.rounds = reply.model, round_number
        for key, value in reply.usage.items():
            result.usage[key] = result.usage.get(key, 0) + value
        if not reply.tool_calls:
            result.text = reply.text.strip()
            return result
        messages.append(ChatMessage("assistant", reply.text, tool_calls=list(reply.tool_calls)))
        for call in reply.tool_calls:
            messages.append(ChatMessage("tool", run_tool(run, call), tool_call_id=call.id, name=call.name))
    return result


def _reply(conversation: Conversation, pending: list[Message], *, attempt: int) -> ReplyResult:
    now = timezone.now()
    settings = assistant_settings(conversation.organization_id)
    contact = conversation.contact
    reason = skip_reason(settings, conversation, contact, now=now)
    if reason is not None or settings is None:
        return _skip(conversation, pending, reason or Skip.ASSISTANT_INACTIVE)

    run = ToolRun(organization_id=conversation.organization_id, conversation=conversation, settings=settings)
    thread = context.thread_turns(
        conversation=conversation, size=settings.context_size, include=[m.pk for m in pending]
    )
    prompt = context.system_prompt(settings=settings, conversation=conversation, contact=contact, now=now)
    messages = [ChatMessage("system", prompt), *thread.turns]
    started = time.monotonic()
    try:
        conversed = converse(provider_of(settings), messages, run)
    except ProviderError as error:
        latency = elapsed_ms(started)
        allowed = django_settings.AI_MAX_ATTEMPTS
        if error.max_retries is not None:
            allowed = min(allowed, 1 + error.max_retries)
        if error.retryable and attempt < allowed:
            countdown = backoff_seconds(
                attempt - 1,
                base=float(django_settings.AI_RETRY_BACKOFF_SECONDS),
                cap=RETRY_MAX_COUNTDOWN,
                retry_after=error.retry_after,
            )
            logger.warning(
                "assistant: conversation %s attempt %s of %s failed (%s), retrying in %ss",
                conversation.pk, attempt, allowed, error, countdown,
            )  # fmt: skip
            return ReplyResult(Status.RETRY, retry_in=countdown)
        logger.warning("assistant: conversation %s failed after %s attempt(s): %s", conversation.pk, attempt, error)
        return fail(
            conversation, settings, pending, code=error.code, sentence=error.message_for_agents, run=run,
            latency_ms=latency,
        )  # fmt: skip
    except Exception:
        logger.exception("assistant: answering conversation %s crashed", conversation.pk)
        return fail(
            conversation, settings, pending, code="internal_error",
            sentence="The AI assistant had an internal error.", run=run, latency_ms=elapsed_ms(started),
        )  # fmt: skip
    latency = elapsed_ms(started)

    invented = unsupported_prices(conversed.text, allowed_amounts(run, thread.messages))
    if invented:
        logger.warning(
            "assistant: conversation %s: reply not sent, it named prices no tool returned: %s",
            conversation.pk, ", ".join(invented),
        )  # fmt: skip
        return _hand_off(conversation, settings, pending, run, conversed, latency, GUARDRAIL_REASON, holding=True)

    if not conversed.text and not run.cards and run.handoff_reason is None:
        return _hand_off(conversation, settings, pending, run, conversed, latency, NO_ANSWER_REASON, holding=True)

    sent: list[int] = []
    try:
        for listing_id in run.cards:
            try:
                card = message_send(
                    organization=conversation.organization_id,
                    conversation=conversation,
                    by=None,
                    listing_id=listing_id,
                    by_assistant=True,
                )
            except ValidationError:
                logger.info("assistant: listing %s could not be sent as a card any more", listing_id)
                continue
            sent.append(card.pk)
        if conversed.text:
            reply = message_send(
                organization=conversation.organization_id,
                conversation=conversation,
                by=None,
                text=_fit(conversed.text, conversation.platform),
                by_assistant=True,
            )
            sent.append(reply.pk)
    except SendRefused as refusal:
        if not sent:
            logger.info("assistant: conversation %s: the send was refused (%s)", conversation.pk, refusal.code)
            return _skip(conversation, pending, Skip.OUTSIDE_WINDOW, run=run, latency_ms=latency, model=conversed.model)
        logger.warning("assistant: conversation %s: part of the answer was refused (%s)", conversation.pk, refusal.code)
    except Exception:
        logger.exception("assistant: sending the answer to conversation %s crashed", conversation.pk)
        return fail(
            conversation, settings, pending, code="send_failed",
            sentence="The AI assistant's answer could not be sent.", run=run, latency_ms=latency,
        )  # fmt: skip

    if run.handoff_reason is not None:
        return _hand_off(conversation, settings, pending, run, conversed, latency, run.handoff_reason, sent=sent)
    record = _finish(
        conversation, pending, run, outcome=RunOutcome.REPLIED, model=conversed.model, latency_ms=latency, sent=sent
    )
    logger.info("assistant: answered conversation %s with messages %s", conversation.pk, sent)
    return ReplyResult(Status.REPLIED, run_id=record.pk, reply_message_ids=tuple(sent))


def _fit(text: str, platform: str) -> str:
    limit = TEXT_LIMITS.get(platform, 4096)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


# --- the copilot ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Suggestion:
    text: str
    listing_ids: list[int]
    tools_used: list[str]


def suggest_reply(*, organization: Organization | int, conversation: Conversation) -> Suggestion:
    """A draft of the next reply, from the same context as the assistant's answers and the read-only tools
    (search_listings, faq_lookup). Sends nothing, hands nothing over; records an AssistantRun `suggested` (`failed`
    when the provider fails). `listing_ids`: the listings the tools returned that the draft names (by title or
    reference), else every listing they returned.

    Raises Conflict `assistant_not_configured` (no active settings, or no model) or `assistant_failed` (the
    provider failed: the sentence for agents as the detail; never the API key)."""
    organization_id = ensure_owned(organization, conversation)
    settings = assistant_settings(organization_id)
    if settings is None or not settings.is_active or not settings.model.strip():
        raise Conflict(NOT_CONFIGURED, code="assistant_not_configured")
    conversation = Conversation.objects.select_related("contact", "platform_account").filter(pk=conversation.pk).get()
    run = ToolRun(organization_id=organization_id, conversation=conversation, settings=settings, read_only=True)
    thread = context.thread_turns(conversation=conversation, size=settings.context_size)
    prompt = context.system_prompt(
        settings=settings, conversation=conversation, contact=conversation.contact, now=timezone.now(), suggest=True
    )
    messages = [ChatMessage("system", prompt), *thread.turns]
    if len(messages) == 1:
        messages.append(ChatMessage("user", "(The customer has not written yet.) Draft a friendly first message."))
    started = time.monotonic()
    try:
        conversed = converse(provider_of(settings), messages, run)
    except ProviderError as error:
        logger.warning("assistant: suggestion for conversation %s failed: %s", conversation.pk, error)
        record_run(
            conversation, run, outcome=RunOutcome.FAILED, reason=SUGGEST_REASON, error_code=error.code,
            error_message=error.message_for_agents, model=settings.model, latency_ms=elapsed_ms(started),
        )  # fmt: skip
        raise Conflict(error.message_for_agents, code="assistant_failed", provider_code=error.code) from None
    latency = elapsed_ms(started)
    if not conversed.text:
        raise Conflict(NO_DRAFT, code="assistant_failed")
    listing_ids = _named_listings(conversed.text, run)
    record_run(
        conversation, run, outcome=RunOutcome.SUGGESTED, reason=SUGGEST_REASON, model=conversed.model,
        latency_ms=latency,
    )  # fmt: skip
    return Suggestion(text=conversed.text, listing_ids=listing_ids, tools_used=run.tools_used)


def _named_listings(text: str, run: ToolRun) -> list[int]:
    lowered = text.lower()
    named = [
        listing_id
        for listing_id, summary in run.listings.items()
        if (summary.get("title") and str(summary["title"]).lower() in lowered)
        or (summary.get("reference") and f"property {summary['reference']}".lower() in lowered)
        or (_is_code(summary.get("reference")) and str(summary["reference"]).lower() in lowered)
    ]
    return named or list(run.listings)


def _is_code(reference: object) -> bool:
    """A reference worth looking for in a text ("A12"), not a bare id ("7") that any number would match."""
    return isinstance(reference, str) and len(reference) >= 2 and not reference.isdigit()


# --- outcomes -------------------------------------------------------------------------------------------------------
def _mark(pending: list[Message], **changes: Any) -> list[int]:
    ids = [message.pk for message in pending]
    if ids:
        Message.objects.filter(pk__in=ids).update(**changes, updated_at=timezone.now())
    return ids


def record_run(
    conversation: Conversation,
    run: ToolRun | None,
    *,
    trigger_ids: Iterable[int] = (),
    outcome: str,
    reason: str = "",
    error_code: str = "",
    error_message: str = "",
    model: str = "",
    latency_ms: int | None = None,
    sent: Iterable[int] = (),
) -> AssistantRun:
    return AssistantRun.objects.create(
        organization_id=conversation.organization_id,
        conversation=conversation,
        outcome=outcome,
        reason=reason[:255],
        error_code=error_code[:32],
        error_message=error_message,
        trigger_message_ids=list(trigger_ids),
        reply_message_ids=list(sent),
        tool_calls=run.calls if run is not None else [],
        model=model[:200],
        latency_ms=latency_ms,
    )


def _skip(
    conversation: Conversation,
    pending: list[Message],
    reason: Skip,
    *,
    run: ToolRun | None = None,
    latency_ms: int | None = None,
    model: str = "",
) -> ReplyResult:
    with transaction.atomic():
        ids = _mark(pending, llm_skip_reason=reason.value, llm_processed=False)
        record = record_run(
            conversation, run, trigger_ids=ids, outcome=RunOutcome.SKIPPED, reason=reason.value, model=model,
            latency_ms=latency_ms,
        )  # fmt: skip
        realtime.publish_on_commit(conversation.organization_id, messages_updated=ids)
    logger.info("assistant: conversation %s skipped (%s)", conversation.pk, reason.value)
    return ReplyResult(Status.SKIPPED, run_id=record.pk)


def _finish(
    conversation: Conversation,
    pending: list[Message],
    run: ToolRun,
    *,
    outcome: str,
    model: str,
    latency_ms: int,
    sent: list[int],
    reason: str = "",
) -> AssistantRun:
    with transaction.atomic():
        ids = _mark(pending, llm_processed=True, llm_skip_reason="")
        record = record_run(
            conversation,
            run,
            trigger_ids=ids,
            outcome=outcome,
            reason=reason,
            model=model,
            latency_ms=latency_ms,
            sent=sent,
        )
        realtime.publish_on_commit(conversation.organization_id, messages_updated=ids)
    return record


def _hand_off(
    conversation: Conversation,
    settings: AssistantSettings,
    pending: list[Message],
    run: ToolRun,
    conversed: Conversed,
    latency_ms: int,
    reason: str,
    *,
    sent: list[int] | None = None,
    holding: bool = False,
) -> ReplyResult:
    """A person takes over: needs_human with `reason`, a note in the thread. `holding`: the model's own text was
    not sent, so the customer gets the agency's holding sentence (failure_message, when enabled)."""
    sent = list(sent or [])
    if holding:
        holding_id = _send_failure_message(conversation, settings)
        if holding_id is not None:
            sent.append(holding_id)
    with transaction.atomic():
        needs_human_set(conversation, reason=reason, note=f"The AI assistant handed this conversation over: {reason}")
    record = _finish(
        conversation, pending, run, outcome=RunOutcome.HANDED_OFF, model=conversed.model, latency_ms=latency_ms,
        sent=sent, reason=reason,
    )  # fmt: skip
    logger.info("assistant: conversation %s handed over (%s)", conversation.pk, reason)
    return ReplyResult(Status.HANDED_OFF, run_id=record.pk, reply_message_ids=tuple(sent))


def fail(
    conversation: Conversation,
    settings: AssistantSettings,
    pending: list[Message],
    *,
    code: str,
    sentence: str,
    run: ToolRun | None = None,
    latency_ms: int | None = None,
) -> ReplyResult:
    """The failure path: the failure sentence once an hour at most, needs_human with the reason, a note for the
    agents, the run `failed`, the messages `provider_error`."""
    sent: list[int] = []
    failure_id = _send_failure_message(conversation, settings)
    if failure_id is not None:
        sent.append(failure_id)
    reason = f"The AI assistant failed: {sentence}"
    with transaction.atomic():
        needs_human_set(conversation, reason=reason, note=reason)
        ids = _mark(pending, llm_skip_reason=Skip.PROVIDER_ERROR.value, llm_processed=False)
        record = record_run(
            conversation, run, trigger_ids=ids, outcome=RunOutcome.FAILED, reason=reason, error_code=code,
            error_message=sentence, latency_ms=latency_ms, sent=sent, model=settings.model,
        )  # fmt: skip
        realtime.publish_on_commit(conversation.organization_id, messages_updated=ids)
    return ReplyResult(Status.FAILED, run_id=record.pk, reply_message_ids=tuple(sent))


def _send_failure_message(conversation: Conversation, settings: AssistantSettings) -> int | None:
    """The agency's failure / holding sentence to the customer, at most once an hour per conversation."""
    text = (settings.failure_message or "").strip()
    if not settings.failure_message_enabled or not text:
        return None
    recent = Message.objects.filter(
        conversation_id=conversation.pk,
        direction=Direction.OUTBOUND,
        sent_by_assistant=True,
        text=text,
        created_at__gte=timezone.now() - FAILURE_MESSAGE_INTERVAL,
    )
    if recent.exists():  # the conversation's lock (conversation_reply) keeps two runs from both sending it
        return None
    try:
        message = message_send(
            organization=conversation.organization_id, conversation=conversation, by=None, text=text, by_assistant=True
        )
    except (SendRefused, ValidationError) as refusal:
        logger.info("assistant: conversation %s: the failure sentence could not be sent (%s)", conversation.pk, refusal)
        return None
    return message.pk


def needs_human_set(conversation: Conversation, *, reason: str, note: str) -> Message:
    """needs_human with `reason`, and a note for the agents in the thread (broadcast on commit). Call inside a
    transaction."""
    Conversation.objects.filter(pk=conversation.pk).update(
        needs_human=True, needs_human_reason=reason[:255], updated_at=timezone.now()
    )
    conversation.needs_human, conversation.needs_human_reason = True, reason[:255]
    message = note_create(conversation, note, {"assistant": "handoff", "reason": reason})
    realtime.publish_on_commit(
        conversation.organization_id, messages_created=[message.pk], conversations_updated=[conversation.pk]
    )
    return message


def note_create(conversation: Conversation, text: str, extra: dict[str, Any] | None = None) -> Message:
    """An internal note of the assistant in the thread: outbound, `payload.internal`, never queued, so nothing sends
    it to the customer (the listings app's notes are made the same way)."""
    return Message.objects.create(
        organization_id=conversation.organization_id,
        conversation=conversation,
        platform_account_id=conversation.platform_account_id,
        direction=Direction.OUTBOUND,
        kind=MessageKind.TEXT,
        text=text,
        payload={"internal": True, **(extra or {})},
        status=MessageStatus.SENT,
        is_read=True,
        sent_by_assistant=True,
        timestamp=timezone.now(),
    )


# --- the price check ------------------------------------------------------------------------------------------------
_CURRENCY = r"(?:€|\$|£|(?<![A-Za-z])(?:EUR|USD|GBP)(?![A-Za-z]))"
_CURRENCY_WORDS = r"(?:euros?|dollars?|pounds?)\b"
# 350000, 350,000, 350.000, 350 000, 1.5, 1,25 — thousands groups first, so "350,000" is one amount.
_AMOUNT = r"\d{1,3}(?:[.,\u00a0\u202f ]\d{3})+(?:[.,]\d{1,2})?(?!\d)|\d+(?:[.,]\d+)?"
_SCALE_WORDS = r"(?:k|mn|m|millions?|thousand)\b"
_NOT_DISTANCE = r"(?!\s*(?:from|away|to|of|walk|long|wide|high|deep|square|sq)\b)"
_PRICE = re.compile(
    # €350,000 · EUR 350k · $1.2m
    rf"{_CURRENCY}\s?(?P<a>{_AMOUNT})(?P<sa>\s?{_SCALE_WORDS})?"
    # 350.000 € · 350k EUR · 1,200 euros
    rf"|(?P<b>{_AMOUNT})(?P<sb>\s?{_SCALE_WORDS})?\s?(?:{_CURRENCY}|{_CURRENCY_WORDS})"
    # 350k · 1.2m · 2 million (not 120m², 5m2 nor "200m from the beach")
    rf"|(?<![\w.,])(?P<c>{_AMOUNT})(?P<sc>[kK](?![\w²³])|\s?(?:mn|millions?)\b|[mM](?![\w²³]){_NOT_DISTANCE})",
    re.IGNORECASE,
)
_NUMBER = re.compile(rf"(?P<n>{_AMOUNT})(?P<s>\s?{_SCALE_WORDS})?", re.IGNORECASE)
_SCALES = {"k": 1000, "thousand": 1000, "m": 1000000, "mn": 1000000, "million": 1000000, "millions": 1000000}
PRICE_TOLERANCE = Decimal("0.01")  # "€350k" for a listing at 349,500 is the listing's price, rounded


def amount_value(number: str, scale: str | None = None) -> Decimal | None:
    """'350,000' / '350.000' / '350 000' / '1.2' / '1,5' (times 'k', 'm', 'million' …) as a Decimal."""
    text = re.sub(r"[\u00a0\u202f]", " ", number).strip()
    scale_key = (scale or "").strip().lower()
    factor = Decimal(_SCALES.get(scale_key, 1))
    try:
        if scale_key and len(re.findall(r"[., ]", text)) == 1:
            value = Decimal(text.replace(",", ".").replace(" ", ""))  # 1.2m, 1,5 million
        elif re.fullmatch(r"\d{1,3}(?:[., ]\d{3})+", text):
            value = Decimal(re.sub(r"[., ]", "", text))  # thousands groups
        elif grouped := re.fullmatch(r"(\d{1,3}(?:[., ]\d{3})+)[.,](\d{1,2})", text):
            value = Decimal(re.sub(r"[., ]", "", grouped.group(1)) + "." + grouped.group(2))
        else:
            value = Decimal(text.replace(",", ".").replace(" ", ""))
    except InvalidOperation:
        return None
    return value * factor


def prices_in(text: str) -> list[tuple[str, Decimal]]:
    """The prices a text names: an amount with a currency (€350,000, 350.000 EUR, $1.2m) or in the k / m form."""
    found: list[tuple[str, Decimal]] = []
    for match in _PRICE.finditer(text or ""):
        for number, scale in (("a", "sa"), ("b", "sb"), ("c", "sc")):
            if match.group(number):
                value = amount_value(match.group(number), match.group(scale))
                if value is not None:
                    found.append((match.group(0).strip(), value))
                break
    return found


def numbers_in(text: str) -> list[Decimal]:
    """Every amount a text holds, with or without a currency (what the customer or a tool said)."""
    values = []
    for match in _NUMBER.finditer(text or ""):
        value = amount_value(match.group("n"), match.group("s"))
        if value is not None:
            values.append(value)
    return values


def allowed_amounts(run: ToolRun, thread: Iterable[Message]) -> list[Decimal]:
    """What a reply may quote: the prices of every listing the tools returned in this run, any amount in a tool's
    result (an FAQ's fee), and the amounts of the thread the model was shown (the customer's budget, an agent's or
    a card's price)."""
    allowed: list[Decimal] = []
    for summary in run.listings.values():
        if summary.get("price") is not None:
            allowed.append(Decimal(str(summary["price"])))
    for result in run.results:
        allowed.extend(numbers_in(result))
    for message in thread:
        described = context.describe(message) or ""
        allowed.extend(numbers_in(described))
    return allowed


def unsupported_prices(text: str, allowed: Iterable[Decimal]) -> list[str]:
    """The prices `text` names that match none of `allowed` (within PRICE_TOLERANCE)."""
    known = [value for value in allowed if value > 0]
    invented = []
    for said, value in prices_in(text):
        if not any(abs(value - amount) <= amount * PRICE_TOLERANCE for amount in known):
            invented.append(said)
    return invented
