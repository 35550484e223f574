"""The assistant's conversation actions: POST /api/messages/conversations/{id}/hand-back-to-ai/ and
…/suggest-reply/ (the copilot, against FakeVendor's OpenAI-compatible routes on 127.0.0.1). Another organization's
conversation is a 404; nothing is sent by a suggestion."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import client_for
from switchboard.assistant.models import AssistantRun, AssistantSettings, RunOutcome
from switchboard.inbox.events import ContactProfile, InboundMessage
from switchboard.inbox.models import Conversation, Direction, Message
from switchboard.inbox.services.ingest import handle_events
from switchboard.listings.models import Listing
from switchboard.platforms.models import Platform, Provider
from switchboard.webhooks.testing import captured_broadcasts
from tests.fakes.llm import openai_base_url, openai_error, openai_text, openai_tool_call, script_openai

pytestmark = pytest.mark.django_db

KEY = "sk-proj-COPILOTSECRET0123456789"
NOT_FOUND = {"detail": "Not found.", "code": "not_found"}


def hand_back_url(conversation: Conversation) -> str:
    return f"/api/messages/conversations/{conversation.pk}/hand-back-to-ai/"


def suggest_url(conversation: Conversation) -> str:
    return f"/api/messages/conversations/{conversation.pk}/suggest-reply/"


@pytest.fixture
def conversation(org, make_account) -> Conversation:
    account = make_account(org, Platform.WHATSAPP, Provider.SANDBOX, credentials={}, settings={})
    handle_events(
        account,
        [
            InboundMessage(
                platform_message_id="wamid.copilot.1",
                contact=ContactProfile("34600111222", name="Lucía"),
                timestamp=timezone.now(),
                text="Hi! Do you have a two-bedroom flat to rent in Ruzafa under 1200?",
            )
        ],
    )
    return Conversation.objects.get(platform_account=account)


@pytest.fixture
def other_conversation(make_org, make_account) -> Conversation:
    account = make_account(make_org(), Platform.WHATSAPP, Provider.SANDBOX, credentials={}, settings={})
    handle_events(
        account,
        [
            InboundMessage(
                platform_message_id="wamid.other.1",
                contact=ContactProfile("34600999888", name="Someone else"),
                timestamp=timezone.now(),
                text="Hello",
            )
        ],
    )
    return Conversation.objects.get(platform_account=account)


# --- hand back ----------------------------------------------------------------------------------------------------
def test_hand_back_clears_the_handoff_and_switches_the_ai_on(
    agent_client, conversation, django_capture_on_commit_callbacks
):
    Conversation.objects.filter(pk=conversation.pk).update(
        needs_human=True,
        needs_human_reason="Wants to book a viewing",
        ai_paused_until=timezone.now() + timedelta(minutes=30),
        ai_enabled=False,
    )

    with captured_broadcasts() as sent, django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(hand_back_url(conversation))

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == conversation.pk
    assert (body["needs_human"], body["needs_human_reason"], body["ai_paused_until"], body["ai_enabled"]) == (
        False,
        "",
        None,
        True,
    )
    assert "contact" in body and "messaging_window" in body  # the conversation JSON of the inbox
    conversation.refresh_from_db()
    assert (conversation.needs_human, conversation.ai_paused_until, conversation.ai_enabled) == (False, None, True)
    assert [event for _, event, data in sent if data.get("id") == conversation.pk] == ["conversation.updated"]


def test_hand_back_of_another_organizations_conversation_is_a_404(owner_client, other_conversation):
    Conversation.objects.filter(pk=other_conversation.pk).update(needs_human=True, ai_enabled=False)

    response = owner_client.post(hand_back_url(other_conversation))

    assert (response.status_code, response.json()) == (404, NOT_FOUND)
    other_conversation.refresh_from_db()
    assert (other_conversation.needs_human, other_conversation.ai_enabled) == (True, False)


# --- suggest a reply ----------------------------------------------------------------------------------------------
@pytest.fixture
def assistant(org, vendor) -> AssistantSettings:
    return AssistantSettings.objects.create(
        organization=org, is_active=True, base_url=openai_base_url(vendor), api_key=KEY, model="gpt-4o-mini"
    )


def test_suggest_reply_drafts_and_sends_nothing(agent_client, conversation, assistant, vendor, caplog):
    caplog.set_level(logging.DEBUG)
    script_openai(vendor, openai_text("Hi Lucía! Let me check what we have in Ruzafa for you."))
    messages_before = Message.objects.filter(conversation=conversation).count()

    response = agent_client.post(suggest_url(conversation))

    assert response.status_code == 200, response.json()
    assert response.json() == {
        "text": "Hi Lucía! Let me check what we have in Ruzafa for you.",
        "listing_ids": [],
        "tools_used": [],
    }
    assert Message.objects.filter(conversation=conversation).count() == messages_before  # nothing sent
    (request,) = vendor.requests("POST", r"/v1/chat/completions")
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert any("Ruzafa" in str(turn.get("content")) for turn in request.json["messages"])
    assert AssistantRun.objects.get(conversation=conversation).outcome == RunOutcome.SUGGESTED
    assert KEY not in response.content.decode() and KEY not in caplog.text


def test_suggest_reply_names_the_listings_its_tools_found(owner_client, org, conversation, assistant, vendor):
    flat = Listing.objects.create(
        organization=org,
        title="Sunny flat in Ruzafa",
        price=1100,
        currency="EUR",
        location="Ruzafa, Valencia",
        bedrooms=2,
        status="active",
        data={"purpose": "rent", "property_type": "flat", "area": "Ruzafa"},
    )
    script_openai(
        vendor,
        openai_tool_call("search_listings", {"purpose": "rent", "bedrooms": 2, "budget_max": 1200, "area": "Ruzafa"}),
        openai_text("We have the Sunny flat in Ruzafa, two bedrooms, at 1,100 EUR a month. Shall I send it?"),
    )

    response = owner_client.post(suggest_url(conversation))

    assert response.status_code == 200, response.json()
    assert response.json() == {
        "text": "We have the Sunny flat in Ruzafa, two bedrooms, at 1,100 EUR a month. Shall I send it?",
        "listing_ids": [flat.pk],
        "tools_used": ["search_listings"],
    }
    assert not Message.objects.filter(conversation=conversation, direction=Direction.OUTBOUND).exists()


def test_suggest_reply_when_the_assistant_is_not_configured_is_a_409(agent_client, conversation):
    response = agent_client.post(suggest_url(conversation))

    assert response.status_code == 409
    assert response.json()["code"] == "assistant_not_configured"
    assert response.json()["detail"]


def test_suggest_reply_when_the_provider_refuses_the_key_is_a_409_without_the_key(
    agent_client, conversation, assistant, vendor, caplog
):
    caplog.set_level(logging.DEBUG)
    script_openai(vendor, openai_error(401, f"Incorrect API key provided: {KEY}.", code="invalid_api_key"))

    response = agent_client.post(suggest_url(conversation))

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "assistant_failed"
    assert body["detail"] == "The AI provider refused the API key: check it in the assistant settings."
    assert KEY not in response.content.decode() and KEY not in caplog.text
    assert AssistantRun.objects.get(conversation=conversation).error_code == "invalid_key"


def test_suggest_reply_for_another_organizations_conversation_is_a_404(
    owner_client, other_conversation, assistant, vendor
):
    response = owner_client.post(suggest_url(other_conversation))

    assert (response.status_code, response.json()) == (404, NOT_FOUND)
    assert vendor.requests() == []


def test_suggestions_are_limited_per_user(make_user, org, conversation, assistant, vendor):
    script_openai(vendor, openai_text("Hello!"))
    client = client_for(make_user(org))
    statuses = [client.post(suggest_url(conversation)).status_code for _ in range(21)]

    assert statuses == [200] * 20 + [429]
    assert len(vendor.requests("POST", r"/v1/chat/completions")) == 20
