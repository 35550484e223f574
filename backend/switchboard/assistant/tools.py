"""The assistant's tools: what the model may look up or do, each scoped to the conversation's organization.

    search_listings(purpose, property_type, budget_min, budget_max, bedrooms, area, text)
                               at most 5 of the tenant's ACTIVE listings that fit
    send_listing_card(listing_id)
                               queue the card of one of the tenant's active listings (sent before the reply text)
    faq_lookup(query)          the agency's FAQ entries that match
    handoff_to_human(reason)   a person should take over (needs_human + a note in the thread, after the run)
    update_contact(fields)     record lead fields (only the configured `lead_fields`) on the contact

Every tool answers the model with a compact JSON string; a refusal is `{"ok": false, "error": "…"}` so the model can
correct itself, never an exception. Each call is logged on the run (`ToolRun.calls`: name, arguments, ok), which the
engine stores on its AssistantRun. Side effects wait for the engine where they must follow the reply: cards and the
handoff are collected on the `ToolRun` and carried out once the final text has passed the price check
(engine.py); lead fields are written at once (they are facts the customer gave, whatever the reply).

The copilot (`services.suggest_reply`) gets only the read-only tools (`READ_ONLY_TOOLS`).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Q

from switchboard.assistant import context
from switchboard.assistant.models import AssistantSettings, FaqEntry
from switchboard.assistant.providers import ToolCall, ToolSpec
from switchboard.inbox import realtime
from switchboard.inbox.models import Contact, Conversation
from switchboard.listings.models import Listing, ListingStatus
from switchboard.listings.selectors import listing_queryset

logger = logging.getLogger(__name__)

SEARCH_LIMIT = 5
FAQ_LIMIT = 3
ATTRIBUTE_MAX_CHARS = 200
_CANDIDATES = 200  # listings scored in Python for a free-text search, after the structured filters

PURPOSES = {
    "sale": ("sale", "buy", "purchase", "sell", "for sale", "buying"),
    "rent": ("rent", "rental", "let", "lease", "to let", "renting"),
}
_WORD = re.compile(r"[^\W_]{2,}", re.UNICODE)
_STOPWORDS_TEXT = (
    "the and for with near from that this are you your have has any some in on at to of an a is it or me my we our do "
    "does what which how much many flat apartment house home property"
)
_STOPWORDS = frozenset(_STOPWORDS_TEXT.split())


# --- the specs ---------------------------------------------------------------------------------------------------
SEARCH_LISTINGS = ToolSpec(
    name="search_listings",
    description=(
        "Search the agency's available listings. Give only what the customer asked for; every field is optional. "
        "Returns at most 5 listings: id, reference, title, price, currency, location, bedrooms, purpose, "
        "property_type. Quote only these facts."
    ),
    parameters={
        "type": "object",
        "properties": {
            "purpose": {"type": "string", "enum": ["sale", "rent"], "description": "Buy (sale) or rent."},
            "property_type": {"type": "string", "description": "e.g. apartment, house, studio, office."},
            "budget_min": {"type": "number", "description": "Lowest price, in the listing's currency."},
            "budget_max": {"type": "number", "description": "Highest price, in the listing's currency."},
            "bedrooms": {"type": "integer", "minimum": 0, "description": "At least this many bedrooms."},
            "area": {"type": "string", "description": "Neighbourhood, district or town."},
            "text": {"type": "string", "description": "Other words to look for: balcony, sea view, a street …"},
        },
        "additionalProperties": False,
    },
)
SEND_LISTING_CARD = ToolSpec(
    name="send_listing_card",
    description=(
        "Send the customer the card (photos, price, location) of one listing that search_listings returned. "
        "Cards go out before your text, in the order you ask for them."
    ),
    parameters={
        "type": "object",
        "properties": {"listing_id": {"type": "integer", "description": "The id search_listings returned."}},
        "required": ["listing_id"],
        "additionalProperties": False,
    },
)
FAQ_LOOKUP = ToolSpec(
    name="faq_lookup",
    description="Look up the agency's own answers to common questions (fees, viewings, documents, opening hours).",
    parameters={
        "type": "object",
        "properties": {"query": {"type": "string", "description": "The question, in a few words."}},
        "required": ["query"],
        "additionalProperties": False,
    },
)
HANDOFF_TO_HUMAN = ToolSpec(
    name="handoff_to_human",
    description=(
        "Hand the conversation to a person of the agency: when the customer asks for one, wants to book or "
        "negotiate, or asks something the tools cannot answer. Then tell the customer a colleague will follow up."
    ),
    parameters={
        "type": "object",
        "properties": {"reason": {"type": "string", "description": "Why, in a few words, for the agent."}},
        "required": ["reason"],
        "additionalProperties": False,
    },
)


def update_contact_spec(lead_fields: list[str]) -> ToolSpec:
    return ToolSpec(
        name="update_contact",
        description=(
            'Record what the customer told you about their search, e.g. {"purpose": "rent", "bedrooms": 2}. '
            f"Only these keys: {', '.join(lead_fields)}. Values are short texts or numbers."
        ),
        parameters={
            "type": "object",
            "properties": {
                "fields": {
                    "type": "object",
                    "properties": {key: {"type": ["string", "number"]} for key in lead_fields},
                    "additionalProperties": False,
                }
            },
            "required": ["fields"],
            "additionalProperties": False,
        },
    )


READ_ONLY_TOOLS = ("search_listings", "faq_lookup")


def specs_for(settings: AssistantSettings, *, read_only: bool = False) -> list[ToolSpec]:
    """The tools offered to the model: all five when answering, the read-only ones for a suggestion."""
    if read_only:
        return [SEARCH_LISTINGS, FAQ_LOOKUP]
    specs = [SEARCH_LISTINGS, SEND_LISTING_CARD, FAQ_LOOKUP, HANDOFF_TO_HUMAN]
    fields = context.lead_fields(settings)
    if fields:
        specs.append(update_contact_spec(fields))
    return specs


# --- one run's state ----------------------------------------------------------------------------------------------
@dataclass
class ToolRun:
    """What the tools did during one answer: the calls (for the AssistantRun), the listings they returned (the
    price check), and what the engine must do after the final text (cards, a handoff)."""

    organization_id: int
    conversation: Conversation
    settings: AssistantSettings
    read_only: bool = False
    calls: list[dict[str, Any]] = field(default_factory=list)
    listings: dict[int, dict[str, Any]] = field(default_factory=dict)  # every listing a tool returned, by id
    results: list[str] = field(default_factory=list)  # every result given back to the model
    cards: list[int] = field(default_factory=list)  # listing ids to send, in order
    handoff_reason: str | None = None
    saved_fields: dict[str, Any] = field(default_factory=dict)

    @property
    def tools_used(self) -> list[str]:
        return list(dict.fromkeys(call["name"] for call in self.calls))


class ToolRefused(Exception):
    """The call cannot be carried out as asked; the sentence goes back to the model."""


def run_tool(run: ToolRun, call: ToolCall) -> str:
    """Carry out one tool call and answer the model (a JSON string); the call is logged on `run`."""
    implementations = _READ_ONLY if run.read_only else _ALL
    implementation = implementations.get(call.name)
    ok = True
    try:
        if implementation is None:
            raise ToolRefused(f"There is no tool {call.name!r}.")
        result = implementation(run, call.arguments)
    except ToolRefused as refusal:
        ok = False
        result = {"ok": False, "error": str(refusal)}
    except Exception:
        # A bug in a tool must not end the conversation: the model hears it failed and can answer without it.
        logger.exception("assistant tool %s failed on conversation %s", call.name, run.conversation.pk)
        ok = False
        result = {"ok": False, "error": "The tool failed; answer without it or hand over to a person."}
    run.calls.append({"name": call.name, "arguments": call.arguments, "ok": ok})
    encoded = compact_json(result)
    run.results.append(encoded)
    return encoded


def compact_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


# --- search_listings --------------------------------------------------------------------------------------------------
def listing_summary(listing: Listing) -> dict[str, Any]:
    data = listing.data if isinstance(listing.data, dict) else {}
    return {
        "id": listing.pk,
        "reference": listing.code,
        "title": listing.title,
        "price": _plain_number(listing.price),
        "currency": listing.currency,
        "location": listing.location,
        "bedrooms": listing.bedrooms,
        "purpose": data.get("purpose"),
        "property_type": data.get("property_type"),
    }


def search_listings(run: ToolRun, arguments: dict[str, Any]) -> dict[str, Any]:
    listings = (
        listing_queryset()
        .for_organization(run.organization_id)
        .filter(status=ListingStatus.ACTIVE)
        .order_by("-updated_at", "-id")
    )
    purpose = _text_argument(arguments, "purpose")
    if purpose:
        synonyms = next((words for words in PURPOSES.values() if purpose.lower() in words), (purpose,))
        match = Q()
        for word in synonyms:
            match |= Q(data__purpose__iexact=word)
        listings = listings.filter(match)
    property_type = _text_argument(arguments, "property_type")
    if property_type:
        listings = listings.filter(data__property_type__iexact=property_type)
    budget_min, budget_max = _number_argument(arguments, "budget_min"), _number_argument(arguments, "budget_max")
    if budget_min is not None:
        listings = listings.filter(price__gte=budget_min)
    if budget_max is not None:
        listings = listings.filter(price__lte=budget_max)
    bedrooms = _number_argument(arguments, "bedrooms")
    if bedrooms is not None:
        listings = listings.filter(bedrooms__gte=int(bedrooms))
    area = _text_argument(arguments, "area")
    if area:
        listings = listings.filter(Q(location__icontains=area) | Q(data__area__icontains=area))
    words = _words(_text_argument(arguments, "text"))
    if words:
        scored = [(score, listing) for listing in listings[:_CANDIDATES] if (score := _score(listing, words))]
        scored.sort(key=lambda pair: -pair[0])  # stable: equal scores keep the newest first
        found = [listing for _, listing in scored[:SEARCH_LIMIT]]
    else:
        found = list(listings[:SEARCH_LIMIT])
    summaries = [listing_summary(listing) for listing in found]
    for summary in summaries:
        run.listings[summary["id"]] = summary
    return {"count": len(summaries), "listings": summaries}


def _score(listing: Listing, words: list[str]) -> int:
    data = listing.data if isinstance(listing.data, dict) else {}
    haystack = " ".join(
        str(part)
        for part in (listing.title, listing.description, listing.location, listing.code, *data.values())
        if part not in (None, "")
    ).lower()
    return sum(1 for word in words if word in haystack)


# --- send_listing_card ------------------------------------------------------------------------------------------------
def send_listing_card(run: ToolRun, arguments: dict[str, Any]) -> dict[str, Any]:
    listing_id = _number_argument(arguments, "listing_id")
    if listing_id is None or listing_id != int(listing_id):
        raise ToolRefused("Give listing_id, the id search_listings returned.")
    listing = listing_queryset().for_organization(run.organization_id).filter(pk=int(listing_id)).first()
    if listing is None:
        raise ToolRefused(f"The agency has no listing {int(listing_id)}.")
    if listing.status != ListingStatus.ACTIVE:
        raise ToolRefused(f"Listing {listing.pk} is not available ({listing.get_status_display().lower()}).")
    if listing.pk not in run.cards:
        run.cards.append(listing.pk)
    summary = listing_summary(listing)
    run.listings[listing.pk] = summary
    return {"ok": True, "queued": True, "listing": summary}


# --- faq_lookup -------------------------------------------------------------------------------------------------------
def faq_lookup(run: ToolRun, arguments: dict[str, Any]) -> dict[str, Any]:
    query = _text_argument(arguments, "query")
    if not query:
        raise ToolRefused("Give the question as query.")
    words = _words(query)
    entries = FaqEntry.objects.for_organization(run.organization_id).order_by("question", "id")
    scored: list[tuple[int, FaqEntry]] = []
    for entry in entries[:500]:
        question, answer = entry.question.lower(), entry.answer.lower()
        score = sum(2 if word in question else 1 if word in answer else 0 for word in words)
        if score:
            scored.append((score, entry))
    scored.sort(key=lambda pair: -pair[0])
    found = [{"question": entry.question, "answer": entry.answer} for _, entry in scored[:FAQ_LIMIT]]
    return {"count": len(found), "entries": found}


# --- handoff_to_human -------------------------------------------------------------------------------------------------
def handoff_to_human(run: ToolRun, arguments: dict[str, Any]) -> dict[str, Any]:
    reason = _text_argument(arguments, "reason") or "The customer needs a person."
    run.handoff_reason = reason[:255]
    return {"ok": True, "handed_off": True, "note": "Tell the customer a colleague will follow up."}


# --- update_contact ---------------------------------------------------------------------------------------------------
def update_contact(run: ToolRun, arguments: dict[str, Any]) -> dict[str, Any]:
    fields = arguments.get("fields")
    if not isinstance(fields, dict):
        # Some models put the keys at the top level instead of under "fields".
        fields = {key: value for key, value in arguments.items() if key != "fields"}
    allowed = set(context.lead_fields(run.settings))
    saved: dict[str, Any] = {}
    ignored: list[str] = []
    for key, value in fields.items():
        clean = _attribute_value(value)
        if key not in allowed or clean is None:
            ignored.append(str(key))
        else:
            saved[key] = clean
    if not saved:
        raise ToolRefused(f"Nothing recorded: use only these keys, with a text or a number: {', '.join(allowed)}.")
    with transaction.atomic():
        contact = (
            Contact.objects.for_organization(run.organization_id)
            .select_for_update()
            .get(pk=run.conversation.contact_id)
        )
        attributes = dict(contact.attributes) if isinstance(contact.attributes, dict) else {}
        if any(attributes.get(key) != value for key, value in saved.items()):
            attributes.update(saved)
            Contact.objects.filter(pk=contact.pk).update(attributes=attributes)
            realtime.publish_on_commit(run.organization_id, conversations_updated=[run.conversation.pk])
    run.saved_fields.update(saved)
    answer: dict[str, Any] = {"ok": True, "saved": sorted(saved)}
    if ignored:
        answer["ignored"] = ignored
    return answer


def _attribute_value(value: Any) -> str | int | float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str) and value.strip():
        return value.strip()[:ATTRIBUTE_MAX_CHARS]
    return None


_ALL: dict[str, Callable[[ToolRun, dict[str, Any]], dict[str, Any]]] = {
    "search_listings": search_listings,
    "send_listing_card": send_listing_card,
    "faq_lookup": faq_lookup,
    "handoff_to_human": handoff_to_human,
    "update_contact": update_contact,
}
_READ_ONLY = {name: _ALL[name] for name in READ_ONLY_TOOLS}


# --- arguments --------------------------------------------------------------------------------------------------------
def _text_argument(arguments: dict[str, Any], name: str) -> str:
    value = arguments.get(name)
    return value.strip() if isinstance(value, str) else ""


def _number_argument(arguments: dict[str, Any], name: str) -> Decimal | None:
    """A number the model gave as a number or as text ("300000", "300,000", "300k")."""
    value = arguments.get(name)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return Decimal(str(value))
    if isinstance(value, str):
        text = value.strip().lower().replace(",", "").replace(" ", "")
        factor = Decimal(1)
        if text.endswith("k"):
            text, factor = text[:-1], Decimal(1000)
        elif text.endswith("m"):
            text, factor = text[:-1], Decimal(1000000)
        try:
            return Decimal(text) * factor
        except InvalidOperation:
            raise ToolRefused(f"{name} must be a number.") from None
    raise ToolRefused(f"{name} must be a number.")


def _words(text: str) -> list[str]:
    return [word for word in dict.fromkeys(_WORD.findall(text.lower())) if word not in _STOPWORDS]


def _plain_number(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)
