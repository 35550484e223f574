"""The assistant's part of the demo agency (`manage.py seed_demo`, through the inbox's DEMO_SEED hook).

* Settings, left inactive: the OpenAI-compatible provider at a local Ollama (`http://127.0.0.1:11434/v1`, model
  llama3.1, no key), so turning it on in `make run` is one switch once Ollama runs (`ollama pull llama3.1`).
* Three FAQ entries of a property agency.
* What the assistant leaves on the inbox, on Priya Nair's WhatsApp conversation of the demo: her follow-up messages
  arrive through MessageService like real traffic (fixed ids `demo-wa-ai-1`…`4`), then the assistant's story is told
  on them — it answered her first message (`sent_by_assistant`, its lead fields recorded on the trusted contact's
  `attributes`), handed the conversation to a person when she asked to negotiate (`needs_human`, its reason, the
  handoff note in the thread) and skipped her next message (`llm_skip_reason` "human_handling"); one AssistantRun
  per step, so the stats count them.

The hook is asked before seed_demo stores its own conversations, so the first of these messages opens Priya's
conversation and the demo's own messages of hers (`demo-wa-10`…`14`) join it: `PRIYA` is the same profile.

Idempotent: the messages' ids are fixed, and the story is told only when they are stored for the first time; the
settings row and the FAQ questions are created only when missing — what an owner changed since stays.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from switchboard.accounts.models import Organization, User
from switchboard.assistant import engine, settings_services
from switchboard.assistant.models import AssistantRun, AssistantSettings, FaqEntry, Provider, RunOutcome
from switchboard.inbox.events import ContactProfile, InboundEvent, InboundMessage
from switchboard.inbox.hooks import DemoPart
from switchboard.inbox.models import Contact, Conversation, Message, MessageStatus
from switchboard.inbox.services.ingest import handle_events
from switchboard.platforms.models import Platform, PlatformAccount

MODEL = "llama3.1"
BASE_URL = "http://127.0.0.1:11434/v1"  # a local Ollama
LEAD_FIELDS = ["purpose", "property_type", "budget_max", "bedrooms", "area", "move_in_date"]

FAQ = (
    (
        "Do tenants pay an agency fee?",
        "No: the landlord pays our fee. Tenants pay the first month's rent and a deposit of two months' rent.",
    ),
    (
        "Can I book a viewing at the weekend?",
        "Yes: we show homes on Saturdays from 10:00 to 14:00. Tell us which property and a time that suits you.",
    ),
    (
        "Which documents do I need to rent?",
        "An ID or passport, your last three payslips (or an employment contract) and a reference from your last "
        "landlord, if you have one.",
    ),
)

# seed_demo's own profile of Priya Nair on the WhatsApp number (inbox/management/commands/seed_demo.py).
PRIYA = ContactProfile("919812345678", name="Priya Nair", phone_number="919812345678")
ASKED, REPLY, NEGOTIATE, SKIPPED = "demo-wa-ai-1", "demo-wa-ai-2", "demo-wa-ai-3", "demo-wa-ai-4"
REPLY_TEXT = "Happy to help, Priya! I found two 2-bedroom flats in Koramangala within your budget."
HANDOFF_REASON = "The customer wants to negotiate the rent: a person should decide."
SKIP_REASON = engine.Skip.HUMAN_HANDLING.value
ATTRIBUTES = {"purpose": "rent", "bedrooms": 2, "budget_max": 2500, "area": "Koramangala"}


def demo_assistant(*, organization: Organization, user: User, media_folder: Path) -> DemoPart:
    settings = _settings(organization)
    faq = _faq(organization, user)
    story = _story(organization)
    state = "active" if settings.is_active else "inactive"
    address = settings.base_url or "its public endpoint"
    report = f"  Assistant ({state}): {settings.provider}, model {settings.model} at {address}; {len(faq)} FAQ entries."
    if story is not None:
        report += f" Conversation {story['conversation']['id']} ({PRIYA.name}) was handed to a person."
    return DemoPart(
        name="assistant",
        ids={
            "settings": {
                "is_active": settings.is_active,
                "provider": settings.provider,
                "model": settings.model,
                "base_url": settings.base_url,
            },
            "faq": faq,
            **(story or {"conversation": None}),
        },
        report=report,
    )


def _settings(organization: Organization) -> AssistantSettings:
    # Written directly, not through settings_services: the demo's local address is kept whatever the server's address
    # policy says today (AI_ALLOW_PRIVATE_BASE_URL); it is checked when the assistant calls it, and it is off.
    row, _created = AssistantSettings.objects.get_or_create(
        organization=organization,
        defaults={
            "is_active": False,
            "provider": Provider.OPENAI,
            "base_url": BASE_URL,
            "model": MODEL,
            "lead_fields": LEAD_FIELDS,
        },
    )
    return row


def _faq(organization: Organization, user: User) -> list[int]:
    ids = []
    for question, answer in FAQ:
        entry = FaqEntry.objects.for_organization(organization).filter(question=question).order_by("id").first()
        if entry is None:
            entry = settings_services.faq_create(organization=organization, by=user, question=question, answer=answer)
        ids.append(entry.pk)
    return ids


def _story(organization: Organization) -> dict[str, Any] | None:
    account = (
        PlatformAccount.objects.for_organization(organization)
        .filter(platform=Platform.WHATSAPP, is_active=True)
        .order_by("id")
        .first()
    )
    if account is None:
        return None
    wanted = (ASKED, REPLY, NEGOTIATE, SKIPPED)
    stored = Message.objects.filter(platform_account=account, platform_message_id__in=wanted)
    if stored.count() < len(wanted):
        now = timezone.now()
        outcomes = handle_events(account, _events(now))
        if "created" in outcomes:
            # After the inbox hook's own subscribers (the assistant's marks every new message of an inactive
            # assistant "assistant_inactive"): on commit, in order — at once when no transaction is open.
            transaction.on_commit(lambda: _tell(account, now))
    messages = {m.platform_message_id: m for m in stored.select_related("conversation__contact")}
    if ASKED not in messages:
        return None
    conversation = messages[ASKED].conversation
    return {
        "conversation": {
            "id": conversation.pk,
            "contact": conversation.contact.name,
            "contact_id": conversation.contact_id,
            "contact_external_id": conversation.contact.external_id,
            "needs_human_reason": HANDOFF_REASON,
            "attributes": ATTRIBUTES,
        },
        "reply_message_id": messages[REPLY].pk if REPLY in messages else None,
        "skipped_message": {
            "id": messages[SKIPPED].pk if SKIPPED in messages else None,
            "llm_skip_reason": SKIP_REASON,
        },
    }


def _at(now: datetime, minutes: float) -> datetime:
    return now - timedelta(minutes=minutes)


def _events(now: datetime) -> list[InboundEvent]:
    """Priya's follow-up, after the demo's own messages of hers (50 to 60 minutes ago), and the assistant's answer
    (stored as an echo of the number, then marked as the assistant's)."""

    def message(pid: str, minutes: float, text: str, *, echo: bool = False) -> InboundMessage:
        return InboundMessage(
            platform_message_id=pid, contact=PRIYA, timestamp=_at(now, minutes), text=text, is_echo=echo
        )

    return [
        message(ASKED, 48, "Hi again! We'd like to rent a 2-bedroom flat in Koramangala, up to 2,500 a month."),
        message(REPLY, 47.5, REPLY_TEXT, echo=True),
        message(NEGOTIATE, 46, "They look great. Could the owner lower the rent a little if we sign for two years?"),
        message(SKIPPED, 45, "Also, are pets allowed? We have a small dog."),
    ]


def _tell(account: PlatformAccount, now: datetime) -> None:
    """What the assistant did on Priya's messages (the module docstring), as its engine would have left it."""
    messages = {
        m.platform_message_id: m
        for m in Message.objects.filter(
            platform_account=account, platform_message_id__in=(ASKED, REPLY, NEGOTIATE, SKIPPED)
        ).select_related("conversation")
    }
    conversation: Conversation = messages[ASKED].conversation
    changed = timezone.now()
    with transaction.atomic():
        Contact.objects.filter(pk=conversation.contact_id).update(
            is_trusted=True, attributes=ATTRIBUTES, updated_at=changed
        )
        Conversation.objects.filter(pk=conversation.pk).update(ai_enabled=True, updated_at=changed)
        Message.objects.filter(pk=messages[REPLY].pk).update(
            sent_by_assistant=True, status=MessageStatus.DELIVERED, payload={}, updated_at=changed
        )
        Message.objects.filter(pk__in=[messages[ASKED].pk, messages[NEGOTIATE].pk]).update(
            llm_processed=True, llm_skip_reason="", updated_at=changed
        )
        Message.objects.filter(pk=messages[SKIPPED].pk).update(
            llm_processed=False, llm_skip_reason=SKIP_REASON, updated_at=changed
        )
        note = engine.needs_human_set(
            conversation,
            reason=HANDOFF_REASON,
            note=f"The AI assistant handed this conversation over: {HANDOFF_REASON}",
        )
        Message.objects.filter(pk=note.pk).update(timestamp=_at(now, 45.9))  # in the thread where it happened
        search = {"purpose": "rent", "bedrooms": 2, "area": "Koramangala", "budget_max": 2500}
        _run(
            conversation,
            RunOutcome.REPLIED,
            messages[ASKED],
            replies=[messages[REPLY].pk],
            calls={"search_listings": search, "update_contact": {"fields": ATTRIBUTES}},
        )
        _run(
            conversation,
            RunOutcome.HANDED_OFF,
            messages[NEGOTIATE],
            reason=HANDOFF_REASON,
            calls={"handoff_to_human": {"reason": HANDOFF_REASON}},
        )
        _run(conversation, RunOutcome.SKIPPED, messages[SKIPPED], reason=SKIP_REASON)


def _run(
    conversation: Conversation,
    outcome: str,
    trigger: Message,
    *,
    reason: str = "",
    replies: list[int] | None = None,
    calls: dict[str, dict[str, Any]] | None = None,
) -> AssistantRun:
    return AssistantRun.objects.create(
        organization_id=conversation.organization_id,
        conversation=conversation,
        outcome=outcome,
        reason=reason,
        trigger_message_ids=[trigger.pk],
        reply_message_ids=replies or [],
        tool_calls=[{"name": name, "arguments": arguments, "ok": True} for name, arguments in (calls or {}).items()],
        model=MODEL if calls else "",
        latency_ms=2400 if calls else None,
    )
