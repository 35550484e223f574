"""The engine's pure rules: business hours in the agency's time zone, how the thread is shown to the model, and the
price check that keeps invented prices from being sent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from switchboard.assistant import context, engine, hours
from switchboard.assistant.tests.test_engine_support import open_world
from switchboard.assistant.tools import ToolRun
from switchboard.inbox.models import Direction, MessageKind
from switchboard.inbox.tests.conftest import create_attachment, create_message

WEEKDAYS = {"mon": [["09:00", "13:00"], ["15:00", "19:00"]], "sat": [["10:00", "24:00"]]}


@pytest.fixture
def world(org, owner, vendor, make_account, django_capture_on_commit_callbacks):
    yield from open_world(org, vendor, make_account, django_capture_on_commit_callbacks)


# --- business hours ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("utc", "zone", "open_"),
    [
        ("2026-11-02T08:30", "Europe/Madrid", True),  # Monday 09:30 in Madrid (UTC+1)
        ("2026-11-02T08:30", "UTC", False),  # Monday 08:30 in UTC
        ("2026-11-02T12:30", "Europe/Madrid", False),  # the lunch break, 13:30
        ("2026-11-02T14:00", "Europe/Madrid", True),  # 15:00, the second interval starts (inclusive)
        ("2026-11-02T18:00", "Europe/Madrid", False),  # 19:00, it ends (exclusive)
        ("2026-11-07T22:59", "Europe/Madrid", True),  # Saturday 23:59, open until 24:00
        ("2026-11-03T10:00", "Europe/Madrid", False),  # Tuesday: no key, closed
        ("2026-11-02T08:30", "Not/AZone", False),  # an unknown zone counts as UTC
    ],
)
def test_business_hours(utc, zone, open_):
    at = datetime.fromisoformat(utc).replace(tzinfo=UTC)
    assert hours.is_open(WEEKDAYS, zone, at) is open_


def test_malformed_business_hours_are_closed():
    at = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    assert hours.is_open({"mon": [["18:00", "09:00"], ["x", "y"], "09:00-18:00"]}, "UTC", at) is False
    assert hours.is_open(None, "UTC", at) is False


# --- the thread ---------------------------------------------------------------------------------------------------
def test_the_thread_describes_media_and_cards_and_leaves_out_deleted_and_notes(world):
    conversation = world.conversation
    create_message(conversation, "Hi, I saw your ad")
    photo = create_message(conversation, "Is this the kitchen?", kind=MessageKind.IMAGE)
    create_attachment(photo)
    document = create_message(conversation, "", kind=MessageKind.DOCUMENT)
    create_attachment(document, kind=MessageKind.DOCUMENT, filename="payslip.pdf")
    create_message(conversation, "", kind=MessageKind.AUDIO, payload={"voice": True, "transcript": "Call me later"})
    create_message(conversation, "gone", is_deleted=True)
    card = {"title": "Sunny flat", "price": "350000.00", "currency": "EUR", "location": "Chamberí", "bedrooms": 2}
    create_message(conversation, "🏠 Sunny flat", direction=Direction.OUTBOUND, kind=MessageKind.LISTING_CARD,
                   payload={"listing_id": 7, "card": card})  # fmt: skip
    create_message(conversation, "Photos received!", direction=Direction.OUTBOUND, payload={"internal": True})
    create_message(conversation, "I'm interested", kind=MessageKind.INTERACTIVE,
                   payload={"type": "button_reply", "id": "listing:7:interested"})  # fmt: skip
    create_message(conversation, "", kind=MessageKind.LOCATION, payload={"name": "Plaza Mayor", "address": "Madrid"})
    create_message(conversation, "Priya changed her phone number.", kind=MessageKind.SYSTEM)

    thread = context.thread_turns(conversation=conversation, size=20)

    assert [(t.role, t.content) for t in thread.turns] == [
        ("user", "Hi, I saw your ad"),
        ("user", "[photo] Is this the kitchen?"),
        ("user", "[document payslip.pdf]"),
        ("user", "[voice message] Call me later"),
        ("assistant", "[listing card] Sunny flat · 350000.00 EUR · Chamberí · 2 bedrooms (listing id 7)"),
        ("user", "[pressed 'I'm interested' on the card of listing 7]"),
        ("user", "[location] Plaza Mayor, Madrid"),
    ]


def test_the_thread_keeps_the_last_context_size_messages_and_starts_with_the_customer(world):
    conversation = world.conversation
    for n in range(6):
        create_message(conversation, f"question {n}")
        create_message(conversation, f"answer {n}", direction=Direction.OUTBOUND)
    thread = context.thread_turns(conversation=conversation, size=3)
    assert [t.content for t in thread.turns] == ["question 5", "answer 5"]  # "answer 4" would come first: dropped
    thread = context.thread_turns(conversation=conversation, size=4)
    assert [t.content for t in thread.turns] == ["question 4", "answer 4", "question 5", "answer 5"]


def test_the_thread_reaches_back_to_every_message_being_answered(world):
    conversation = world.conversation
    waiting = [create_message(conversation, f"part {n}") for n in range(5)]
    thread = context.thread_turns(conversation=conversation, size=2, include=[m.pk for m in waiting])
    assert [t.content for t in thread.turns] == [f"part {n}" for n in range(5)]


def test_the_system_prompt_names_the_date_in_the_agencys_zone_and_known_lead_fields(world):
    world.contact.attributes = {"purpose": "rent", "unrelated": "x"}
    prompt = context.system_prompt(
        settings=world.settings,
        conversation=world.conversation,
        contact=world.contact,
        now=datetime(2026, 11, 6, 23, 30, tzinfo=UTC),
    )
    assert "Today is Saturday 07 November 2026, 00:30 in the agency's time zone (Europe/Madrid)." in prompt
    assert "Known so far: purpose=rent." in prompt
    assert "unrelated" not in prompt
    assert "their name: Lucía" in prompt


# --- the price check ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("It costs €350,000.", [Decimal("350000")]),
        ("350.000 € only", [Decimal("350000")]),
        ("EUR 1.2m", [Decimal("1200000")]),
        ("just 350k!", [Decimal("350000")]),
        ("about 1,200 euros a month", [Decimal("1200")]),
        ("$1,250.50", [Decimal("1250.50")]),
        ("£900 pcm and USD 2 million", [Decimal("900"), Decimal("2000000")]),
        ("120m², 200m from the beach, 3 bedrooms, built in 2019", []),
        ("Call +34 600 123 456", []),
    ],
)
def test_prices_in(text, named):
    assert [value for _, value in engine.prices_in(text)] == named


def test_unsupported_prices_allow_what_tools_and_the_thread_said(world):
    run = ToolRun(organization_id=world.org.pk, conversation=world.conversation, settings=world.settings)
    run.listings[1] = {"id": 1, "price": 349500}
    run.results.append('{"entries":[{"question":"Deposit?","answer":"Two months, usually €2,400."}]}')
    said = create_message(world.conversation, "My budget is 400k")
    allowed = engine.allowed_amounts(run, [said])

    text = "The flat is €349,500 (~350k), the deposit €2,400, within your €400,000; the other one is €299,000."
    assert engine.unsupported_prices(text, allowed) == ["€299,000"]
    assert engine.unsupported_prices("No prices here, 2 bedrooms.", allowed) == []


def test_the_rate_limit_counts_the_last_hours_replies_not_notes(world):
    now = world.conversation.created_at + timedelta(minutes=1)
    for n in range(3):
        create_message(world.conversation, f"r{n}", direction=Direction.OUTBOUND, sent_by_assistant=True)
    create_message(world.conversation, "note", direction=Direction.OUTBOUND, sent_by_assistant=True,
                   payload={"internal": True})  # fmt: skip
    assert engine.assistant_replies_last_hour(world.conversation, now) == 3
