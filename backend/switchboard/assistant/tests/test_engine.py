"""The assistant answering customers end to end: a message arrives through MessageService, the subscriber queues the
reply task, the task asks the model (a FakeVendor on 127.0.0.1 speaking OpenAI or Anthropic) with tools, and the
answer goes out through the outbound path of a sandbox number."""

from __future__ import annotations

from decimal import Decimal

import pytest

from switchboard.assistant import engine, services
from switchboard.assistant.models import AssistantRun
from switchboard.assistant.tests.test_engine_support import (
    CUSTOMER,
    make_listing,
    open_world,
    system_text,
    tool_results,
    user_texts,
)
from switchboard.inbox.models import Direction, Message, MessageKind
from switchboard.inbox.services.sending import message_send
from tests.fakes.llm import (
    anthropic_text,
    anthropic_tool_use,
    openai_text,
    openai_tool_call,
    script_anthropic,
    script_openai,
)
from tests.fakes.vendor import Reply, Request


@pytest.fixture
def world(org, owner, vendor, make_account, django_capture_on_commit_callbacks):
    yield from open_world(org, vendor, make_account, django_capture_on_commit_callbacks)


def test_three_quick_messages_get_one_reply_built_from_the_thread(world, owner):
    script_openai(world.vendor, openai_text("Hola Lucía! Yes, we have flats in Chamberí."))
    first = world.customer_says("Hola!")
    second = world.customer_says("I am looking for a flat to buy")
    third = world.customer_says("in Chamberí, 2 bedrooms")
    assert len(world.assistant_jobs()) == 3  # one per delivery; the older two find a newer message and stand down

    world.run_tasks()

    requests = world.chat_requests()
    assert len(requests) == 1
    assert user_texts(requests[0]) == ["Hola!", "I am looking for a flat to buy", "in Chamberí, 2 bedrooms"]
    prompt = system_text(requests[0])
    assert prompt.startswith("You are the assistant of Acme Realty.")
    assert "Never discuss commissions." in prompt  # the agency's guardrails
    assert "in the agency's time zone (Europe/Madrid)" in prompt
    assert "purpose, property_type, budget, bedrooms, area, move_in_date" in prompt  # the lead fields
    assert "Never invent listings, prices, addresses or availability: use the tools." in prompt
    assert [t["function"]["name"] for t in requests[0].json["tools"]] == [
        "search_listings",
        "send_listing_card",
        "faq_lookup",
        "handoff_to_human",
        "update_contact",
    ]

    (reply,) = world.replies()
    assert reply.text == "Hola Lucía! Yes, we have flats in Chamberí."
    assert reply.sent_by_assistant is True and reply.sent_by_id is None
    assert reply.platform_message_id.startswith("sandbox.")  # through the outbound path: the sandbox accepted it
    created = [m for m in world.events_named("message.created") if m["id"] == reply.pk]
    assert len(created) == 1 and created[0]["sent_by_assistant"] is True
    assert all(recipients == [owner.pk] for recipients, _, _ in world.events)

    for message in (first, second, third):
        message.refresh_from_db()
        assert (message.llm_processed, message.llm_skip_reason) == (True, "")
    updated = {m["id"]: m for m in world.events_named("message.updated")}
    assert updated[third.pk]["llm_processed"] is True
    (run,) = AssistantRun.objects.all()
    assert run.outcome == "replied" and run.organization_id == world.org.pk
    assert run.trigger_message_ids == [first.pk, second.pk, third.pk]
    assert run.reply_message_ids == [reply.pk]
    assert run.model == "gpt-4o-mini-2024-07-18"  # as the vendor named it
    assert run.latency_ms is not None and run.latency_ms >= 0


def test_the_thread_is_given_as_user_and_assistant_turns(world):
    script_openai(world.vendor, openai_text("You're welcome!"))
    world.customer_says("Do you have a photo of the terrace?")
    message_send(organization=world.org, conversation=world.conversation, by=None, text="Here it is", by_assistant=True)
    world.customer_says("Is this the terrace?", **_photo_fields())
    world.customer_says("Thanks")

    with world.capture(execute=True):
        engine.conversation_reply(
            organization_id=world.org.pk,
            conversation_id=world.conversation.pk,
            trigger_message_ids=[world.conversation.messages.order_by("-id").first().pk],
        )

    (request,) = world.chat_requests()
    turns = [(m["role"], m["content"]) for m in request.json["messages"] if m["role"] != "system"]
    assert turns == [
        ("user", "Do you have a photo of the terrace?"),
        ("assistant", "Here it is"),
        ("user", "[photo] Is this the terrace?"),
        ("user", "Thanks"),
    ]


def _photo_fields():
    from switchboard.assistant.tests.test_engine_support import photo

    return photo("Is this the terrace?")


def test_a_reply_with_listing_cards_sends_the_cards_first_in_order(world):
    near = make_listing(world.org, title="Flat near Retiro", price=Decimal("420000"), location="Retiro, Madrid")
    far = make_listing(world.org, title="Loft in Chamberí", price=Decimal("390000"))
    script_openai(
        world.vendor,
        openai_tool_call("search_listings", {"area": "Madrid"}, "call_1"),
        openai_tool_call("send_listing_card", {"listing_id": far.pk}, "call_2"),
        openai_tool_call("send_listing_card", {"listing_id": near.pk}, "call_3"),
        openai_text("Here are two flats: the loft at €390,000 and the Retiro flat at 420k."),
    )
    world.customer_says("What do you have in Madrid?")
    world.run_tasks()

    replies = world.replies()
    assert [(m.kind, (m.payload or {}).get("listing_id")) for m in replies] == [
        (MessageKind.LISTING_CARD, far.pk),
        (MessageKind.LISTING_CARD, near.pk),
        (MessageKind.TEXT, None),
    ]
    assert replies[2].text == "Here are two flats: the loft at €390,000 and the Retiro flat at 420k."
    (run,) = AssistantRun.objects.all()
    assert [call["name"] for call in run.tool_calls] == ["search_listings", "send_listing_card", "send_listing_card"]
    assert all(call["ok"] for call in run.tool_calls)
    assert run.reply_message_ids == [m.pk for m in replies]


def test_handoff_to_human_sets_needs_human_with_a_note_and_hand_back_clears_it(world, owner):
    script_openai(
        world.vendor,
        openai_tool_call("handoff_to_human", {"reason": "wants to negotiate the price"}),
        openai_text("I'll ask a colleague to call you today."),
    )
    world.customer_says("Can we talk about a lower price?")
    world.run_tasks()

    world.refresh()
    assert world.conversation.needs_human is True
    assert world.conversation.needs_human_reason == "wants to negotiate the price"
    (note,) = world.notes()
    assert note.text == "The AI assistant handed this conversation over: wants to negotiate the price"
    assert note.payload["internal"] is True and note.status == "sent" and note.platform_message_id is None
    assert [m.text for m in world.replies()] == ["I'll ask a colleague to call you today."]
    conversation_events = [c for c in world.events_named("conversation.updated") if c["id"] == world.conversation.pk]
    assert conversation_events[-1]["needs_human"] is True
    assert conversation_events[-1]["needs_human_reason"] == "wants to negotiate the price"
    (run,) = AssistantRun.objects.all()
    assert (run.outcome, run.reason) == ("handed_off", "wants to negotiate the price")

    # While a human handles it, the assistant stays quiet.
    later = world.customer_says("Hello?")
    assert later.llm_skip_reason == "human_handling"
    assert world.assistant_jobs() == []

    world.events.clear()
    with world.capture(execute=True):
        handed = services.conversation_hand_back(organization=world.org, conversation=world.conversation, by=owner)
    assert (handed.needs_human, handed.needs_human_reason, handed.ai_paused_until, handed.ai_enabled) == (
        False,
        "",
        None,
        True,
    )
    (event,) = world.events_named("conversation.updated")
    assert event["needs_human"] is False and event["ai_enabled"] is True


def test_an_agent_replying_meanwhile_stops_the_queued_answer(world, agent):
    script_openai(world.vendor, openai_text("Hi!"))
    message = world.customer_says("Hi, is anyone there?")
    assert len(world.assistant_jobs()) == 1
    with world.capture(execute=True):
        message_send(organization=world.org, conversation=world.conversation, by=agent, text="Hi, Ana here!")
    world.refresh()
    assert world.conversation.ai_paused_until is not None

    world.run_tasks()

    assert world.chat_requests() == []
    assert world.replies() == []
    message.refresh_from_db()
    assert message.llm_processed is False  # answered by the agent, whose message came after it


def test_the_runtime_check_records_a_skip_when_the_switch_went_off(world):
    script_openai(world.vendor, openai_text("Hi!"))
    message = world.customer_says("Hi")
    world.conversation.ai_enabled = False
    world.conversation.save(update_fields=["ai_enabled"])

    world.run_tasks()

    assert world.chat_requests() == []
    message.refresh_from_db()
    assert message.llm_skip_reason == "switch_off"
    (run,) = AssistantRun.objects.all()
    assert (run.outcome, run.reason) == ("skipped", "switch_off")


def test_a_window_closed_meanwhile_is_an_outside_window_skip(world, monkeypatch):
    script_openai(world.vendor, openai_text("Hi!"))
    message = world.customer_says("Hi")
    from switchboard.inbox.services import sending

    def refuse(*args, **kwargs):
        raise sending.SendRefused("closed", code="outside_customer_service_window")

    monkeypatch.setattr(engine, "message_send", refuse)
    world.run_tasks()

    message.refresh_from_db()
    assert (message.llm_processed, message.llm_skip_reason) == (False, "outside_window")
    (run,) = AssistantRun.objects.all()
    assert (run.outcome, run.reason) == ("skipped", "outside_window")


# --- the price check -----------------------------------------------------------------------------------------------
def test_a_reply_naming_a_price_no_tool_returned_is_not_sent(world):
    make_listing(world.org, title="Sunny flat in Chamberí", price=Decimal("350000"))
    script_openai(
        world.vendor,
        openai_tool_call("search_listings", {"area": "Chamberí"}),
        # The model "remembers" a price of its own: no tool returned 295,000.
        openai_text("Great news: the Chamberí flat is now €295,000, and a second one costs 310k."),
    )
    message = world.customer_says("How much is the flat in Chamberí?")
    world.run_tasks()

    sent = [m.text for m in world.outbound() if not (m.payload or {}).get("internal")]
    assert sent == ["Thanks for your message! A member of our team will get back to you shortly."]
    assert not any("295" in m.text or "310" in m.text for m in Message.objects.all())
    world.refresh()
    assert world.conversation.needs_human is True
    assert world.conversation.needs_human_reason == "the reply named a price no tool returned"
    (note,) = world.notes()
    assert note.text == "The AI assistant handed this conversation over: the reply named a price no tool returned"
    (run,) = AssistantRun.objects.all()
    assert (run.outcome, run.reason) == ("handed_off", "the reply named a price no tool returned")
    message.refresh_from_db()
    assert message.llm_processed is True


def test_a_price_a_tool_returned_or_the_customer_named_may_be_quoted(world):
    make_listing(world.org, title="Sunny flat in Chamberí", price=Decimal("349500"))
    script_openai(
        world.vendor,
        openai_tool_call("search_listings", {"area": "Chamberí"}),
        openai_text("The Chamberí flat is €349,500 (about 350k), within your €400,000 budget."),
    )
    world.customer_says("My budget is 400000, what is there in Chamberí?")
    world.run_tasks()

    assert [m.text for m in world.replies()] == [
        "The Chamberí flat is €349,500 (about 350k), within your €400,000 budget."
    ]
    world.refresh()
    assert world.conversation.needs_human is False


# --- both providers ----------------------------------------------------------------------------------------------
def test_openai_tool_calls_round_trip(world):
    listing = make_listing(world.org, title="Sunny flat in Chamberí", price=Decimal("350000"))
    script_openai(
        world.vendor,
        openai_tool_call("search_listings", {"purpose": "sale", "area": "Chamberí"}, "call_abc"),
        openai_text("There is the Sunny flat in Chamberí at €350,000."),
    )
    world.customer_says("Anything for sale in Chamberí?")
    world.run_tasks()

    _, second = world.chat_requests()
    assistant_turn = second.json["messages"][-2]
    assert assistant_turn["role"] == "assistant"
    assert assistant_turn["tool_calls"][0]["id"] == "call_abc"
    assert assistant_turn["tool_calls"][0]["function"]["name"] == "search_listings"
    tool_turn = second.json["messages"][-1]
    assert tool_turn["role"] == "tool" and tool_turn["tool_call_id"] == "call_abc"
    assert tool_results(second) == [
        {
            "count": 1,
            "listings": [
                {
                    "id": listing.pk,
                    "reference": str(listing.pk),
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
    ]
    assert [m.text for m in world.replies()] == ["There is the Sunny flat in Chamberí at €350,000."]


def test_anthropic_tool_use_round_trip(world):
    world.settings.provider = "anthropic"
    world.settings.base_url = world.vendor.url
    world.settings.model = "claude-sonnet-4-20250514"
    world.settings.save()
    listing = make_listing(world.org, title="Sunny flat in Chamberí", price=Decimal("350000"))
    script_anthropic(
        world.vendor,
        anthropic_tool_use("search_listings", {"area": "Chamberí"}, "toolu_42", text="Let me check."),
        anthropic_tool_use("send_listing_card", {"listing_id": listing.pk}, "toolu_43"),
        anthropic_text("Here it is: €350,000."),
    )
    world.customer_says("Show me what you have in Chamberí")
    world.run_tasks()

    requests = world.chat_requests()
    assert len(requests) == 3
    assert requests[0].headers["x-api-key"] == "sk-test-S3CR3T-assistant-key-0123456789abcdef"
    assert requests[0].json["system"].startswith("You are the assistant of Acme Realty.")
    second = requests[1].json["messages"]
    assert second[-2]["role"] == "assistant"
    assert second[-2]["content"][-1] == {
        "type": "tool_use",
        "id": "toolu_42",
        "name": "search_listings",
        "input": {"area": "Chamberí"},
    }
    assert second[-1]["role"] == "user" and second[-1]["content"][0]["tool_use_id"] == "toolu_42"
    assert tool_results(requests[1])[0]["listings"][0]["id"] == listing.pk
    replies = world.replies()
    assert [(m.kind, m.text if m.kind == "text" else m.payload["listing_id"]) for m in replies] == [
        ("listing_card", listing.pk),
        ("text", "Here it is: €350,000."),
    ]
    (run,) = AssistantRun.objects.all()
    assert run.model == "claude-sonnet-4-20250514"


# --- lead fields ---------------------------------------------------------------------------------------------------
def test_lead_fields_land_in_the_contact_attributes(world):
    script_openai(
        world.vendor,
        openai_tool_call(
            "update_contact",
            {"fields": {"purpose": "rent", "bedrooms": 2, "budget": 1500.5, "pets": "a dog", "area": "x" * 300}},
        ),
        openai_text("Noted! Renting, 2 bedrooms."),
    )
    world.contact.attributes = {"move_in_date": "March"}
    world.contact.save(update_fields=["attributes"])
    world.customer_says("I want to rent a 2-bedroom, up to 1500.5 a month, I have a dog")
    world.run_tasks()

    world.refresh()
    assert world.contact.attributes == {
        "move_in_date": "March",
        "purpose": "rent",
        "bedrooms": 2,
        "budget": 1500.5,
        "area": "x" * 200,
    }
    (second,) = world.chat_requests()[1:]
    assert tool_results(second) == [
        {"ok": True, "saved": ["area", "bedrooms", "budget", "purpose"], "ignored": ["pets"]}
    ]
    updates = [c for c in world.events_named("conversation.updated") if c["id"] == world.conversation.pk]
    assert any(c["contact"]["attributes"].get("purpose") == "rent" for c in updates)


# --- the copilot ---------------------------------------------------------------------------------------------------
def test_suggest_reply_drafts_and_sends_nothing(world):
    listing = make_listing(world.org, title="Sunny flat in Chamberí", price=Decimal("350000"))
    make_listing(world.org, title="Villa in Pozuelo", price=Decimal("900000"), location="Pozuelo")
    world.customer_says("Is there something in Madrid?")
    world.conversation.ai_enabled = False  # the copilot works whether or not the assistant answers by itself
    world.conversation.save(update_fields=["ai_enabled"])
    script_openai(
        world.vendor,
        openai_tool_call("search_listings", {"text": "Madrid"}),
        openai_text("We have the Sunny flat in Chamberí at €350,000. Would you like to visit?"),
    )
    outbound_before = len(world.outbound())

    suggestion = services.suggest_reply(organization=world.org, conversation=world.conversation)

    assert suggestion.text == "We have the Sunny flat in Chamberí at €350,000. Would you like to visit?"
    assert suggestion.listing_ids == [listing.pk]
    assert suggestion.tools_used == ["search_listings"]
    assert len(world.outbound()) == outbound_before
    first = world.chat_requests()[0]
    assert [t["function"]["name"] for t in first.json["tools"]] == ["search_listings", "faq_lookup"]
    assert "drafting the next reply for an agent" in system_text(first)
    (run,) = AssistantRun.objects.all()
    assert (run.outcome, run.reply_message_ids) == ("suggested", [])


def test_suggest_reply_refuses_when_not_configured_or_failing(world):
    from switchboard.common.exceptions import Conflict
    from tests.fakes.llm import openai_error

    world.settings.is_active = False
    world.settings.save()
    with pytest.raises(Conflict) as refused:
        services.suggest_reply(organization=world.org, conversation=world.conversation)
    assert refused.value.code == "assistant_not_configured"

    world.settings.is_active = True
    world.settings.save()
    script_openai(
        world.vendor, openai_error(401, "Incorrect API key provided: sk-test-S3****cdef", code="invalid_api_key")
    )
    with pytest.raises(Conflict) as failed:
        services.suggest_reply(organization=world.org, conversation=world.conversation)
    assert failed.value.code == "assistant_failed"
    assert failed.value.detail == "The AI provider refused the API key: check it in the assistant settings."
    (run,) = AssistantRun.objects.all()
    assert (run.outcome, run.error_code) == ("failed", "invalid_key")


def test_suggest_reply_refuses_another_tenants_conversation(world, make_org):
    with pytest.raises(world.conversation.DoesNotExist):
        services.suggest_reply(organization=make_org(), conversation=world.conversation)


# --- conversations of the customer's contact ---------------------------------------------------------------------
def test_a_new_conversation_of_a_trusted_contact_starts_with_the_ai_on(world):
    from switchboard.assistant.tests.test_engine_support import inbound
    from switchboard.inbox.models import Conversation
    from switchboard.inbox.tests.conftest import create_contact

    world.settings.ai_on_for_trusted = True
    world.settings.save()
    create_contact(world.account, external_id="+34600999888", name="Marta", is_trusted=True)
    script_openai(world.vendor, openai_text("Hola Marta!"))

    (message,) = world.deliver(inbound("Hola", external_id="+34600999888", name="Marta"))

    conversation = Conversation.objects.get(pk=message.conversation_id)
    assert conversation.ai_enabled is True
    assert len(world.assistant_jobs()) == 1
    world.run_tasks()
    reply = Message.objects.get(conversation=conversation, direction=Direction.OUTBOUND)
    assert (reply.text, reply.sent_by_assistant) == ("Hola Marta!", True)


def test_a_new_conversation_of_an_unknown_contact_stays_off(world):
    from switchboard.assistant.tests.test_engine_support import inbound

    world.settings.ai_on_for_trusted = True
    world.settings.save()
    (message,) = world.deliver(inbound("Hola", external_id="+34600777666"))
    assert message.conversation.ai_enabled is False
    assert message.llm_skip_reason == "switch_off"


def test_the_reply_answers_the_customers_request_body_as_a_function(world):
    """A fake model that builds its answer from the tool result it was given (what it saw is all it can say)."""

    def answer_from_tool(request: Request) -> Reply:
        (result,) = tool_results(request)
        titles = ", ".join(listing["title"] for listing in result["listings"]) or "nothing"
        return openai_text(f"I found: {titles}.")

    make_listing(world.org, title="Loft in Malasaña", location="Malasaña, Madrid")
    script_openai(world.vendor, openai_tool_call("search_listings", {"text": "Malasaña loft"}), answer_from_tool)
    world.customer_says("Any loft in Malasaña?")
    world.run_tasks()
    assert [m.text for m in world.replies()] == ["I found: Loft in Malasaña."]
    assert world.contact.external_id == CUSTOMER


def test_a_message_that_comes_while_the_assistant_answers_gets_its_own_answer(world, monkeypatch):
    script_openai(world.vendor, openai_text("Yes, it is."), openai_text("Viewings are on weekdays."))
    first = world.customer_says("Is the flat free?")
    original = engine.converse
    arrived: list[Message] = []

    def customer_writes_meanwhile(*args, **kwargs):
        if not arrived:
            arrived.append(world.customer_says("And when can I visit?"))  # stored before the first reply
        return original(*args, **kwargs)

    monkeypatch.setattr(engine, "converse", customer_writes_meanwhile)
    world.run_tasks()

    assert [m.text for m in world.replies()] == ["Yes, it is.", "Viewings are on weekdays."]
    second_request = world.chat_requests()[1]
    assert user_texts(second_request) == ["Is the flat free?", "And when can I visit?"]
    runs = list(AssistantRun.objects.order_by("id").values_list("trigger_message_ids", flat=True))
    assert runs == [[first.pk], [arrived[0].pk]]
