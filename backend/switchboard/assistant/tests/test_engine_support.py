"""Support for the assistant's engine, tools and subscriber suites (no tests here; the other modules import it).

A world: an agency (`org`, its owner receives the broadcasts) with a sandbox WhatsApp number (the outbound path runs
for real, the sandbox "platform" accepts every send on 127.0.0.1-free ground), assistant settings pointing at a
FakeVendor on 127.0.0.1 playing OpenAI or Anthropic, and a trusted customer whose conversation has the AI on.

* `World.customer_says(text)` delivers a customer's message through MessageService (`ingest.handle_events`, the
  webhook's path), with every on-commit callback run: the broadcast, the inbox hook, the assistant's subscriber.
* `World.run_tasks()` runs what was scheduled for later (`inprocess.run_delayed()`: the reply task after its delay,
  retries after their backoff, the sandbox's simulated statuses), on-commit callbacks included, until nothing is
  left — the suite's in-process mode keeps delayed jobs until asked (INPROCESS_TASK_THREADS=0).
* Broadcasts are recorded for the whole world (`World.events`).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from switchboard.accounts.models import Organization
from switchboard.assistant.models import AssistantSettings
from switchboard.inbox import inprocess
from switchboard.inbox.events import AttachmentRef, ContactProfile, InboundMessage
from switchboard.inbox.models import Contact, Conversation, Direction, Message
from switchboard.inbox.services.ingest import handle_events
from switchboard.inbox.tests.conftest import create_contact, create_conversation
from switchboard.listings.models import Listing, ListingStatus
from switchboard.platforms.models import Platform, PlatformAccount, Provider
from switchboard.webhooks.testing import captured_broadcasts
from tests.fakes.llm import openai_base_url
from tests.fakes.vendor import FakeVendor, Request

API_KEY = "sk-test-S3CR3T-assistant-key-0123456789abcdef"
CUSTOMER = "+34600111222"
_ids = itertools.count(1)


@dataclass
class World:
    org: Organization
    account: PlatformAccount
    settings: AssistantSettings
    contact: Contact
    conversation: Conversation
    vendor: FakeVendor
    capture: Any  # django_capture_on_commit_callbacks
    events: list[tuple[list[int], str, dict]] = field(default_factory=list)

    # --- the customer and the tasks -----------------------------------------------------------------------------------
    def deliver(self, *events: InboundMessage) -> list[Message]:
        before = set(Message.objects.filter(conversation__platform_account=self.account).values_list("id", flat=True))
        with self.capture(execute=True):
            handle_events(self.account, list(events))
        self.refresh()
        return list(
            Message.objects.filter(conversation__platform_account=self.account).exclude(id__in=before).order_by("id")
        )

    def customer_says(self, text: str = "", *, at: datetime | None = None, **fields: Any) -> Message:
        event = inbound(text, at=at, external_id=self.contact.external_id, **fields)
        (message,) = self.deliver(event)
        return message

    def run_tasks(self, max_rounds: int = 50) -> int:
        """Run every job kept for later (and what they schedule), on-commit callbacks included."""
        ran = 0
        for _ in range(max_rounds):
            if not inprocess.pending_delayed():
                return ran
            with self.capture(execute=True):
                ran += inprocess.run_delayed()
        raise AssertionError("jobs keep scheduling jobs")

    def assistant_jobs(self) -> list[tuple]:
        return [args for name, args in inprocess.pending_delayed() if name == "assistant.reply"]

    def refresh(self) -> None:
        self.conversation.refresh_from_db()
        self.contact.refresh_from_db()
        if AssistantSettings.objects.filter(pk=self.settings.pk).exists():
            self.settings.refresh_from_db()

    # --- what happened --------------------------------------------------------------------------------------------
    def chat_requests(self) -> list[Request]:
        return self.vendor.requests("POST", r"/(chat/completions|v1/messages)$")

    def replies(self) -> list[Message]:
        """What the assistant sent the customer (not its notes), oldest first."""
        return [
            m
            for m in Message.objects.filter(
                conversation=self.conversation, direction=Direction.OUTBOUND, sent_by_assistant=True
            ).order_by("id")
            if not (m.payload or {}).get("internal")
        ]

    def notes(self) -> list[Message]:
        return [
            m
            for m in Message.objects.filter(conversation=self.conversation, direction=Direction.OUTBOUND).order_by("id")
            if (m.payload or {}).get("internal")
        ]

    def outbound(self) -> list[Message]:
        return list(Message.objects.filter(conversation=self.conversation, direction=Direction.OUTBOUND).order_by("id"))

    def events_named(self, name: str) -> list[dict]:
        return [data for _, event, data in self.events if event == name]

    def listing(self, organization: Organization | None = None, **fields: Any) -> Listing:
        return make_listing(organization or self.org, **fields)


def inbound(
    text: str = "",
    *,
    external_id: str = CUSTOMER,
    at: datetime | None = None,
    name: str = "Lucía",
    **fields: Any,
) -> InboundMessage:
    fields.setdefault("platform_message_id", f"wamid.assistant.{next(_ids)}")
    return InboundMessage(
        contact=ContactProfile(external_id=external_id, name=name, phone_number=external_id),
        timestamp=at or timezone.now(),
        text=text,
        **fields,
    )


def photo(caption: str = "", **fields: Any) -> dict[str, Any]:
    """InboundMessage fields of a photo (with `caption` as its text, as the parsers store it)."""
    return {
        "kind": "image",
        "attachments": (AttachmentRef(kind="image", media_id="media.1", mime_type="image/jpeg", caption=caption),),
        **fields,
    }


def make_listing(organization: Organization, **fields: Any) -> Listing:
    data = fields.pop("data", {"purpose": "sale", "property_type": "apartment"})
    fields.setdefault("title", "Sunny flat in Chamberí")
    fields.setdefault("price", Decimal("350000"))
    fields.setdefault("currency", "EUR")
    fields.setdefault("location", "Chamberí, Madrid")
    fields.setdefault("bedrooms", 2)
    fields.setdefault("status", ListingStatus.ACTIVE)
    return Listing.objects.create(organization=organization, data=data, **fields)


def tool_results(request: Request) -> list[Any]:
    """The tool results an OpenAI or Anthropic request carries, decoded, in order."""
    body = request.json
    found: list[Any] = []
    for message in body["messages"]:
        if message.get("role") == "tool":
            found.append(json.loads(message["content"]))
        elif isinstance(message.get("content"), list):
            for block in message["content"]:
                if isinstance(block, dict) and block.get("type") == "tool_result":
                    found.append(json.loads(block["content"]))
    return found


def user_texts(request: Request) -> list[str]:
    """The text of the user turns of an OpenAI request, in order."""
    return [m["content"] for m in request.json["messages"] if m["role"] == "user"]


def system_text(request: Request) -> str:
    body = request.json
    if "system" in body:
        return body["system"]
    return "\n".join(m["content"] for m in body["messages"] if m["role"] == "system")


def make_world(
    *,
    org: Organization,
    vendor: FakeVendor,
    capture: Any,
    make_account: Callable[..., PlatformAccount],
    trusted: bool = True,
    ai_enabled: bool = True,
    **settings_fields: Any,
) -> World:
    account = make_account(org, Platform.WHATSAPP, Provider.SANDBOX, credentials={}, settings={})
    defaults: dict[str, Any] = {
        "is_active": True,
        "provider": "openai",
        "base_url": openai_base_url(vendor),
        "api_key": API_KEY,
        "model": "gpt-4o-mini",
        "reply_delay_seconds": 0,
        "time_zone": "Europe/Madrid",
        "guardrails": "Never discuss commissions.",
        "system_prompt": "You are the assistant of Acme Realty.",
    }
    defaults.update(settings_fields)
    settings = AssistantSettings.objects.create(organization=org, **defaults)
    contact = create_contact(account, external_id=CUSTOMER, name="Lucía", is_trusted=trusted)
    conversation = create_conversation(account, contact, ai_enabled=ai_enabled)
    return World(org, account, settings, contact, conversation, vendor, capture)


def open_world(org, vendor, make_account, capture) -> Iterator[World]:
    """The body of each suite's `world` fixture: `yield from open_world(...)` (broadcasts recorded, kept jobs
    cleared before and after)."""
    inprocess.reset()
    with ExitStack() as stack:
        events = stack.enter_context(captured_broadcasts())
        built = make_world(org=org, vendor=vendor, capture=capture, make_account=make_account)
        built.events = events
        yield built
    inprocess.reset()


def minutes_ago(minutes: float) -> datetime:
    return timezone.now() - timedelta(minutes=minutes)
