"""The assistant's tools, each scoped to the conversation's organization: what they return to the model, what they
refuse, and that another tenant's listings and FAQ never reach a tool result or a reply."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from switchboard.assistant.models import AssistantRun, FaqEntry
from switchboard.assistant.providers import ToolCall
from switchboard.assistant.tests.test_engine_support import make_listing, open_world, tool_results
from switchboard.assistant.tools import ToolRun, run_tool, specs_for
from switchboard.inbox.models import Message, MessageKind
from switchboard.listings.models import ListingStatus
from tests.fakes.llm import openai_text, openai_tool_call, script_openai
from tests.fakes.vendor import Reply, Request


@pytest.fixture
def world(org, owner, vendor, make_account, django_capture_on_commit_callbacks):
    yield from open_world(org, vendor, make_account, django_capture_on_commit_callbacks)


@pytest.fixture
def run(world) -> ToolRun:
    return ToolRun(organization_id=world.org.pk, conversation=world.conversation, settings=world.settings)


def call(run: ToolRun, name: str, **arguments) -> dict:
    return json.loads(run_tool(run, ToolCall(id="call_1", name=name, arguments=arguments)))


# --- search_listings -------------------------------------------------------------------------------------------------
def test_search_listings_returns_only_the_tenants_active_listings(world, run, make_org):
    mine = make_listing(world.org, title="Sunny flat in Chamberí", reference="A12")
    make_listing(world.org, title="Sold flat in Chamberí", status=ListingStatus.SOLD)
    make_listing(world.org, title="Draft flat in Chamberí", status=ListingStatus.DRAFT)
    make_listing(make_org("Rival Homes"), title="Sunny flat in Chamberí", reference="A12")

    result = call(run, "search_listings", text="sunny Chamberí")

    assert result == {
        "count": 1,
        "listings": [
            {
                "id": mine.pk,
                "reference": "A12",
                "title": "Sunny flat in Chamberí",
                "price": 350000,
                "currency": "EUR",
                "location": "Chamberí, Madrid",
                "bedrooms": 2,
                "purpose": "sale",
                "property_type": "apartment",
            }
        ],
    }
    assert run.calls == [{"name": "search_listings", "arguments": {"text": "sunny Chamberí"}, "ok": True}]


def test_search_listings_filters(world, run):
    cheap = make_listing(world.org, title="Studio", price=Decimal("150000"), bedrooms=0,
                         data={"purpose": "sale", "property_type": "studio"})  # fmt: skip
    family = make_listing(world.org, title="Family house", price=Decimal("600000"), bedrooms=4, location="Pozuelo",
                          data={"purpose": "sale", "property_type": "house", "area": "Pozuelo de Alarcón"})  # fmt: skip
    rental = make_listing(world.org, title="Flat to rent", price=Decimal("1400"), bedrooms=2,
                          data={"purpose": "rent", "property_type": "apartment"})  # fmt: skip

    def ids(**arguments):
        return [listing["id"] for listing in call(run, "search_listings", **arguments)["listings"]]

    assert ids(purpose="rent") == [rental.pk]
    assert ids(purpose="buy") == [family.pk, cheap.pk]  # a synonym of sale; newest first
    assert ids(property_type="House") == [family.pk]
    assert ids(budget_max=200000, purpose="sale") == [cheap.pk]
    assert ids(budget_min="500k") == [family.pk]
    assert ids(bedrooms=3) == [family.pk]
    assert ids(area="pozuelo") == [family.pk]
    assert ids(text="nothing like this") == []
    assert call(run, "search_listings", budget_max="lots") == {"ok": False, "error": "budget_max must be a number."}
    assert run.calls[-1]["ok"] is False


def test_search_listings_returns_at_most_five(world, run):
    for n in range(8):
        make_listing(world.org, title=f"Flat {n}")
    assert call(run, "search_listings")["count"] == 5


# --- send_listing_card -----------------------------------------------------------------------------------------------
def test_send_listing_card_queues_the_tenants_listing_and_refuses_others(world, run, make_org):
    mine = make_listing(world.org)
    theirs = make_listing(make_org("Rival Homes"))
    sold = make_listing(world.org, status=ListingStatus.SOLD)

    assert call(run, "send_listing_card", listing_id=mine.pk)["queued"] is True
    assert call(run, "send_listing_card", listing_id=theirs.pk) == {
        "ok": False,
        "error": f"The agency has no listing {theirs.pk}.",
    }
    assert call(run, "send_listing_card", listing_id=sold.pk) == {
        "ok": False,
        "error": f"Listing {sold.pk} is not available (sold).",
    }
    assert call(run, "send_listing_card") == {"ok": False, "error": "Give listing_id, the id search_listings returned."}
    assert run.cards == [mine.pk]


def test_another_tenants_listing_never_reaches_the_customer(world, make_org):
    """End to end: the rival's listing with the same words is in no tool result and no message; asking for its card
    by id is refused and nothing is sent for it."""
    mine = make_listing(world.org, title="Penthouse with terrace in Salamanca", price=Decimal("980000"))
    rival = make_listing(make_org("Rival Homes"), title="Penthouse with terrace in Salamanca", price=Decimal("750000"))

    def answer(request: Request) -> Reply:
        listings = [listing for result in tool_results(request) for listing in result.get("listings", [])]
        said = "; ".join(f"{listing['title']} at €{listing['price']:,}" for listing in listings)
        return openai_text(f"I found: {said}.")

    script_openai(
        world.vendor,
        openai_tool_call("search_listings", {"text": "penthouse terrace Salamanca"}, "call_1"),
        openai_tool_call("send_listing_card", {"listing_id": rival.pk}, "call_2"),
        answer,
    )
    world.customer_says("Any penthouse with a terrace in Salamanca?")
    world.run_tasks()

    requests = world.chat_requests()
    results = [result for request in requests for result in tool_results(request)]
    assert all(listing["id"] != rival.pk for result in results for listing in result.get("listings", []))
    assert tool_results(requests[2])[-1] == {"ok": False, "error": f"The agency has no listing {rival.pk}."}
    replies = world.replies()
    assert [m.kind for m in replies] == [MessageKind.TEXT]  # no card for the rival's listing
    assert replies[0].text == "I found: Penthouse with terrace in Salamanca at €980,000."
    assert not any("750" in m.text for m in Message.objects.all())
    (stored,) = AssistantRun.objects.all()
    assert [c["ok"] for c in stored.tool_calls] == [True, False]
    assert mine.pk in {listing["id"] for listing in tool_results(requests[1])[0]["listings"]}


# --- faq_lookup ------------------------------------------------------------------------------------------------------
def test_faq_lookup_returns_the_tenants_matching_entries(world, run, make_org):
    FaqEntry.objects.create(organization=world.org, question="What are your fees?", answer="3% of the sale price.")
    FaqEntry.objects.create(organization=world.org, question="Can I bring a pet?", answer="Most landlords accept cats.")
    FaqEntry.objects.create(organization=make_org(), question="What are your fees?", answer="Rival: 1%.")

    assert call(run, "faq_lookup", query="fees") == {
        "count": 1,
        "entries": [{"question": "What are your fees?", "answer": "3% of the sale price."}],
    }
    assert call(run, "faq_lookup", query="opening times") == {"count": 0, "entries": []}
    assert call(run, "faq_lookup") == {"ok": False, "error": "Give the question as query."}


# --- handoff_to_human ------------------------------------------------------------------------------------------------
def test_handoff_is_recorded_for_the_engine(run):
    assert call(run, "handoff_to_human", reason="wants a viewing on Sunday")["handed_off"] is True
    assert run.handoff_reason == "wants a viewing on Sunday"


# --- update_contact --------------------------------------------------------------------------------------------------
def test_update_contact_writes_only_configured_fields(world, run):
    world.settings.lead_fields = ["purpose", "budget"]
    world.settings.save()
    assert call(run, "update_contact", fields={"purpose": "rent", "budget": 1200, "secret": "x", "flag": True}) == {
        "ok": True,
        "saved": ["budget", "purpose"],
        "ignored": ["secret", "flag"],
    }
    world.refresh()
    assert world.contact.attributes == {"purpose": "rent", "budget": 1200}
    refused = call(run, "update_contact", fields={"budget": True, "purpose": {"nested": 1}})
    assert refused["ok"] is False
    world.refresh()
    assert world.contact.attributes == {"purpose": "rent", "budget": 1200}


def test_the_copilots_tools_are_read_only(world):
    run = ToolRun(
        organization_id=world.org.pk, conversation=world.conversation, settings=world.settings, read_only=True
    )
    assert [spec.name for spec in specs_for(world.settings, read_only=True)] == ["search_listings", "faq_lookup"]
    assert call(run, "handoff_to_human", reason="x") == {"ok": False, "error": "There is no tool 'handoff_to_human'."}
    assert call(run, "update_contact", fields={"purpose": "rent"})["ok"] is False
    world.refresh()
    assert world.contact.attributes == {} and run.handoff_reason is None


def test_without_lead_fields_update_contact_is_not_offered(world):
    world.settings.lead_fields = []
    assert [spec.name for spec in specs_for(world.settings)] == [
        "search_listings",
        "send_listing_card",
        "faq_lookup",
        "handoff_to_human",
    ]


def test_the_specs_are_json_schema_objects(world):
    for spec in specs_for(world.settings):
        assert spec.parameters["type"] == "object"
        assert spec.parameters["additionalProperties"] is False
        assert spec.description
