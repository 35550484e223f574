"""Lead triage when the assistant does not answer (triage.py): the lead fields are recorded from the thread with one
call of the model offering only update_contact; nothing is sent, nothing handed over, at most one triage per
conversation per AI_TRIAGE_MIN_INTERVAL_SECONDS."""

from __future__ import annotations

import pytest

from switchboard.assistant import stats
from switchboard.assistant.models import AssistantRun, RunOutcome
from switchboard.assistant.tests.test_engine_support import open_world
from switchboard.inbox.models import Contact, Conversation
from tests.fakes.llm import openai_error, openai_text, openai_tool_call, script_openai

RENT = "We want to rent a 2-bedroom in Koramangala, budget 2500"
FIELDS = {"purpose": "rent", "bedrooms": 2, "area": "Koramangala", "budget": 2500}


@pytest.fixture
def world(org, owner, vendor, make_account, django_capture_on_commit_callbacks):
    yield from open_world(org, vendor, make_account, django_capture_on_commit_callbacks)


@pytest.fixture
def untrusted(world):
    Contact.objects.filter(pk=world.contact.pk).update(is_trusted=False)
    world.refresh()
    return world


def test_an_untrusted_contacts_lead_fields_are_recorded_and_nothing_is_sent(untrusted):
    world = untrusted
    script_openai(world.vendor, openai_tool_call("update_contact", {"fields": FIELDS}), openai_text("never asked"))
    message = world.customer_says(RENT)
    before = len(world.events)

    world.run_tasks()

    world.refresh()
    assert world.contact.attributes == FIELDS
    (request,) = world.chat_requests()
    assert [tool["function"]["name"] for tool in request.json["tools"]] == ["update_contact"]
    assert RENT in request.json["messages"][-1]["content"]
    assert "do not answer" in request.json["messages"][0]["content"].lower()
    assert world.outbound() == []  # no reply, no note
    message.refresh_from_db()
    assert message.llm_skip_reason == "not_trusted" and message.llm_processed is False
    assert world.conversation.needs_human is False
    (run,) = AssistantRun.objects.filter(conversation=world.conversation)
    assert (run.outcome, run.reason, run.trigger_message_ids) == (RunOutcome.SKIPPED, "triage", [message.pk])
    assert run.tool_calls == [{"name": "update_contact", "arguments": {"fields": FIELDS}, "ok": True}]
    updated = [data for _, name, data in world.events[before:] if name == "conversation.updated"]
    assert [data["id"] for data in updated] == [world.conversation.pk]  # the contact's new attributes
    figures = stats.assistant_stats(organization=world.org)
    assert (figures["conversations_answered"], figures["handed_off"], figures["failures"]) == (0, 0, 0)


def test_a_burst_gets_one_triage_and_a_second_message_within_the_interval_none(untrusted):
    world = untrusted
    script_openai(world.vendor, openai_tool_call("update_contact", {"fields": {"purpose": "rent"}}))
    world.customer_says("Hi")
    world.customer_says("We want to rent")
    world.run_tasks()
    assert len(world.chat_requests()) == 1

    world.customer_says("2 bedrooms please")
    world.run_tasks()

    assert len(world.chat_requests()) == 1
    world.refresh()
    assert world.contact.attributes == {"purpose": "rent"}


def test_a_conversation_with_the_switch_off_is_triaged_too(world):
    Conversation.objects.filter(pk=world.conversation.pk).update(ai_enabled=False)
    script_openai(world.vendor, openai_tool_call("update_contact", {"fields": {"bedrooms": 3}}))
    world.customer_says("Do you have 3 bedrooms?")
    world.run_tasks()
    world.refresh()
    assert world.contact.attributes == {"bedrooms": 3}
    assert world.outbound() == []


def test_no_triage_when_the_assistant_is_inactive(untrusted):
    world = untrusted
    world.settings.is_active = False
    world.settings.save()
    script_openai(world.vendor, openai_tool_call("update_contact", {"fields": FIELDS}))
    world.customer_says(RENT)
    world.run_tasks()
    assert world.chat_requests() == []
    world.refresh()
    assert world.contact.attributes == {}


def test_no_triage_without_lead_fields(untrusted):
    world = untrusted
    world.settings.lead_fields = []
    world.settings.save()
    script_openai(world.vendor, openai_tool_call("update_contact", {"fields": FIELDS}))
    world.customer_says(RENT)
    world.run_tasks()
    assert world.chat_requests() == []


def test_no_triage_when_the_server_setting_is_off(untrusted, settings):
    settings.AI_TRIAGE_WITHOUT_REPLY = False
    world = untrusted
    script_openai(world.vendor, openai_tool_call("update_contact", {"fields": FIELDS}))
    world.customer_says(RENT)
    world.run_tasks()
    assert world.chat_requests() == []
    assert not AssistantRun.objects.exists()


def test_a_message_the_assistant_answers_is_not_triaged_apart(world):
    script_openai(world.vendor, openai_text("Hello! How can I help?"))
    world.customer_says("Hello")
    world.run_tasks()
    assert len(world.chat_requests()) == 1
    assert [tool["function"]["name"] for tool in world.chat_requests()[0].json["tools"]] != ["update_contact"]
    assert not AssistantRun.objects.filter(reason="triage").exists()


def test_a_refused_key_records_a_failed_run_and_tells_nobody(untrusted):
    world = untrusted
    script_openai(world.vendor, openai_error(401, "Incorrect API key provided.", code="invalid_api_key"))
    world.customer_says(RENT)
    world.run_tasks()

    assert len(world.chat_requests()) == 1  # not retried
    assert world.outbound() == []  # no failure sentence, no note
    world.refresh()
    assert world.conversation.needs_human is False
    assert world.contact.attributes == {}
    (run,) = AssistantRun.objects.filter(conversation=world.conversation)
    assert (run.outcome, run.reason) == (RunOutcome.FAILED, "triage")
    assert run.error_code
    assert stats.assistant_stats(organization=world.org)["handed_off"] == 0


def test_a_tool_other_than_update_contact_is_not_run(untrusted):
    world = untrusted
    script_openai(world.vendor, openai_tool_call("handoff_to_human", {"reason": "wants a visit"}))
    world.customer_says(RENT)
    world.run_tasks()
    world.refresh()
    assert world.conversation.needs_human is False
    assert world.outbound() == []
    (run,) = AssistantRun.objects.filter(conversation=world.conversation)
    assert run.tool_calls == [{"name": "handoff_to_human", "arguments": {"reason": "wants a visit"}, "ok": False}]
