"""What the model is told: the system prompt, and the recent thread as user / assistant turns.

* `system_prompt(...)` — the agency's prompt (`AssistantSettings.system_prompt`), its extra rules (`guardrails`), the
  date and time in the agency's time zone, who the customer is, the lead fields to record with `update_contact` (and
  what is known already), and the rules every reply keeps: never invent listings, prices or addresses — use the
  tools; hand over to a person when the tools cannot answer.
* `thread_turns(...)` — the last `context_size` messages of the conversation, oldest first: the customer's as `user`,
  the business's (agents, the assistant, the phone) as `assistant`. Media are described by kind and caption
  ("[photo] Is this the balcony?"), listing cards by title, price and location; deleted messages, internal notes
  and system lines are left out. The turns start with the customer (Anthropic's API wants a user turn first).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from switchboard.assistant import hours
from switchboard.assistant.models import AssistantSettings
from switchboard.assistant.providers import ChatMessage
from switchboard.inbox.models import Contact, Conversation, Direction, Message, MessageKind

# Beyond the configured context, messages the window may have to skip (notes, deleted, system lines).
_LOOKBACK_SLACK = 30

_MEDIA_LABELS: dict[str, str] = {
    MessageKind.IMAGE: "photo",
    MessageKind.VIDEO: "video",
    MessageKind.DOCUMENT: "document",
    MessageKind.AUDIO: "audio",
    MessageKind.STICKER: "sticker",
}

BASE_RULES = (
    "Rules for every reply:\n"
    "- Never invent listings, prices, addresses or availability: use the tools. Quote a price only as a tool "
    "returned it.\n"
    "- To show a listing, call send_listing_card with its id; the card is sent before your text.\n"
    "- For the agency's policies, fees and opening hours, call faq_lookup.\n"
    "- When the tools cannot answer, or the customer asks for a person, call handoff_to_human with a short reason "
    "and tell the customer a colleague will follow up.\n"
    "- Answer in the customer's language, briefly, in plain text (no Markdown)."
)
SUGGEST_RULES = (
    "You are drafting the next reply for an agent of the agency, who will read and edit it before sending. Write "
    "only the reply to the customer."
)


def is_internal(message: Message) -> bool:
    payload = message.payload if isinstance(message.payload, dict) else {}
    return bool(payload.get("internal"))


def system_prompt(
    *, settings: AssistantSettings, conversation: Conversation, contact: Contact, now: datetime, suggest: bool = False
) -> str:
    local = hours.local_time(settings.time_zone, now)
    parts = [settings.system_prompt.strip()]
    if settings.guardrails.strip():
        parts.append("The agency's own rules:\n" + settings.guardrails.strip())
    parts.append(
        f"Today is {local:%A %d %B %Y}, {local:%H:%M} in the agency's time zone ({settings.time_zone or 'UTC'})."
    )
    who = contact.name or contact.username or "not known"
    parts.append(f"The customer writes on {conversation.get_platform_display()}; their name: {who}.")
    fields = lead_fields(settings)
    if fields and not suggest:
        known = {key: value for key, value in (contact.attributes or {}).items() if key in fields}
        line = (
            "Lead details: when the customer tells you any of these, record them with update_contact (only these "
            f"keys): {', '.join(fields)}."
        )
        if known:
            line += " Known so far: " + "; ".join(f"{key}={value}" for key, value in known.items()) + "."
        parts.append(line)
    parts.append(BASE_RULES)
    if suggest:
        parts.append(SUGGEST_RULES)
    return "\n\n".join(part for part in parts if part)


def lead_fields(settings: AssistantSettings) -> list[str]:
    fields = settings.lead_fields if isinstance(settings.lead_fields, list) else []
    return [field for field in fields if isinstance(field, str) and field]


@dataclass(frozen=True)
class Thread:
    turns: list[ChatMessage]
    messages: list[Message]  # the messages the turns were made of, oldest first


def thread_turns(*, conversation: Conversation, size: int, include: Iterable[int] = ()) -> Thread:
    """The last `size` messages (at least back to every id of `include`, the messages being answered) as turns."""
    wanted = set(include)
    size = max(1, size)
    recent = list(
        Message.objects.filter(conversation_id=conversation.pk)
        .prefetch_related("attachments")
        .order_by("-timestamp", "-id")[: size + len(wanted) + _LOOKBACK_SLACK]
    )
    kept: list[tuple[Message, str]] = []
    for message in recent:
        missing = wanted - {m.pk for m, _ in kept}
        if len(kept) >= size and not missing:
            break
        content = describe(message)
        if content is not None:
            kept.append((message, content))
    kept.reverse()
    while kept and kept[0][0].direction != Direction.INBOUND:
        kept.pop(0)
    turns = [
        ChatMessage("user" if message.direction == Direction.INBOUND else "assistant", content)
        for message, content in kept
    ]
    return Thread(turns=turns, messages=[message for message, _ in kept])


def describe(message: Message) -> str | None:
    """The message as the model reads it; None for what the model is not shown."""
    if message.is_deleted or is_internal(message) or message.kind == MessageKind.SYSTEM:
        return None
    payload: dict[str, Any] = message.payload if isinstance(message.payload, dict) else {}
    text = (message.text or "").strip()
    kind = message.kind
    if kind == MessageKind.LISTING_CARD:
        return listing_card_text(payload, text)
    if kind in _MEDIA_LABELS:
        label = _MEDIA_LABELS[kind]
        transcript = payload.get("transcript")
        if kind == MessageKind.AUDIO:
            label = "voice message" if payload.get("voice") else "audio"
            if isinstance(transcript, str) and transcript.strip():
                return f"[{label}] {transcript.strip()}"
        if kind == MessageKind.DOCUMENT:
            filename = next((a.filename for a in message.attachments.all() if a.filename), "")
            label = f"document {filename}" if filename else label
        return f"[{label}] {text}".strip()
    if kind == MessageKind.LOCATION:
        where = ", ".join(str(payload[key]) for key in ("name", "address") if payload.get(key))
        return f"[location] {where}".strip()
    if kind == MessageKind.CONTACTS:
        return "[contact card]"
    if kind == MessageKind.INTERACTIVE:
        pressed = text or str(payload.get("title") or "")
        reply_id = str(payload.get("id") or payload.get("payload") or "")
        if reply_id.startswith("listing:"):
            listing = reply_id.split(":")[1]
            return f"[pressed '{pressed}' on the card of listing {listing}]"
        return f"[pressed '{pressed}']" if pressed else "[an interactive reply]"
    if kind == MessageKind.UNSUPPORTED:
        return text or "[a message of a kind that cannot be shown]"
    if kind == MessageKind.REACTION:
        return None
    return text or None


def listing_card_text(payload: dict[str, Any], text: str = "") -> str:
    card = payload.get("card") if isinstance(payload.get("card"), dict) else None
    if not card:
        return f"[listing card] {text}".strip()
    parts = [str(card.get("title") or card.get("label") or "")]
    if card.get("price") not in (None, ""):
        parts.append(f"{card['price']} {card.get('currency') or ''}".strip())
    if card.get("location"):
        parts.append(str(card["location"]))
    if card.get("bedrooms") is not None:
        parts.append(f"{card['bedrooms']} bedrooms")
    listing_id = payload.get("listing_id") or card.get("id")
    described = " · ".join(part for part in parts if part)
    return f"[listing card] {described} (listing id {listing_id})"
