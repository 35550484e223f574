"""When the AI provider fails: what is retried (with backoff, Retry-After honoured, at most AI_MAX_ATTEMPTS), what
is not, and the failure path — the customer hears the agency's sentence once, agents see needs_human and the error,
the run is recorded `failed` — and the API key never shows anywhere."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from switchboard.assistant import tasks
from switchboard.assistant.models import AssistantRun
from switchboard.assistant.services import conversation_hand_back
from switchboard.assistant.tests.test_engine_support import API_KEY, open_world
from switchboard.inbox import inprocess
from switchboard.inbox.models import Message
from tests.fakes.llm import delayed, openai_error, openai_text, script_openai
from tests.fakes.vendor import Reply

FAILURE_SENTENCE = "Thanks for your message! A member of our team will get back to you shortly."
INVALID_KEY = "The AI provider refused the API key: check it in the assistant settings."


@pytest.fixture
def world(org, owner, vendor, make_account, django_capture_on_commit_callbacks):
    yield from open_world(org, vendor, make_account, django_capture_on_commit_callbacks)


@pytest.fixture
def countdowns(monkeypatch):
    """The countdowns the reply task schedules itself with (the job still runs, when the test runs the jobs)."""
    seen: list[float] = []
    original = inprocess.run_task_later

    def record(task, countdown, *args, **kwargs):
        if task.name == "assistant.reply":
            seen.append(countdown)
        return original(task, countdown, *args, **kwargs)

    monkeypatch.setattr(tasks.inprocess, "run_task_later", record)
    return seen


def test_a_refused_key_is_not_retried_and_takes_the_failure_path(world, countdowns, caplog):
    caplog.set_level(logging.DEBUG)
    # Vendors do echo keys back: OpenAI half-masked, some proxies in full.
    script_openai(world.vendor, openai_error(401, f"Incorrect API key provided: {API_KEY}.", code="invalid_api_key"))
    message = world.customer_says("Hello, is the flat free?")

    world.run_tasks()

    assert len(world.chat_requests()) == 1  # not retried
    assert countdowns == [0]  # only the reply delay, no retry
    assert [m.text for m in world.replies()] == [FAILURE_SENTENCE]
    world.refresh()
    assert world.conversation.needs_human is True
    assert world.conversation.needs_human_reason == f"The AI assistant failed: {INVALID_KEY}"
    (note,) = world.notes()
    assert note.text == f"The AI assistant failed: {INVALID_KEY}"
    (run,) = AssistantRun.objects.all()
    assert (run.outcome, run.error_code, run.error_message) == ("failed", "invalid_key", INVALID_KEY)
    assert run.trigger_message_ids == [message.pk]
    message.refresh_from_db()
    assert (message.llm_processed, message.llm_skip_reason) == (False, "provider_error")
    updated = [m for m in world.events_named("message.updated") if m["id"] == message.pk]
    assert updated[-1]["llm_skip_reason"] == "provider_error"
    conversation = [c for c in world.events_named("conversation.updated") if c["id"] == world.conversation.pk]
    assert conversation[-1]["needs_human"] is True

    # The key is nowhere: no message, no run, no log record, no broadcast.
    for stored in Message.objects.all():
        assert API_KEY not in stored.text and API_KEY not in json.dumps(stored.payload)
        assert API_KEY not in stored.error_message and API_KEY not in stored.error_detail
    for field in ("reason", "error_code", "error_message", "model"):
        assert API_KEY not in str(getattr(run, field))
    assert API_KEY not in json.dumps(run.tool_calls)
    assert API_KEY not in json.dumps([data for _, _, data in world.events], default=str)
    logged = "\n".join(record.getMessage() + (record.exc_text or "") for record in caplog.records)
    assert "invalid_key" in logged  # the failure was logged …
    assert API_KEY not in logged  # … without the key
    assert "S3CR3T" not in logged


def test_the_failure_sentence_goes_once_an_hour_at_most(world, owner):
    script_openai(world.vendor, openai_error(401, "Incorrect API key provided: sk-te****cdef", code="invalid_api_key"))
    world.customer_says("Hello")
    world.run_tasks()
    with world.capture(execute=True):
        conversation_hand_back(organization=world.org, conversation=world.conversation, by=owner)
    world.customer_says("Hello again")
    world.run_tasks()

    assert len(world.chat_requests()) == 2
    assert [m.text for m in world.replies()] == [FAILURE_SENTENCE]  # not twice within the hour
    assert AssistantRun.objects.filter(outcome="failed").count() == 2

    Message.objects.filter(text=FAILURE_SENTENCE).update(created_at=timezone.now() - timedelta(minutes=61))
    with world.capture(execute=True):
        conversation_hand_back(organization=world.org, conversation=world.conversation, by=owner)
    world.customer_says("Anyone?")
    world.run_tasks()
    assert [m.text for m in world.replies()] == [FAILURE_SENTENCE, FAILURE_SENTENCE]


def test_the_failure_sentence_can_be_turned_off(world):
    world.settings.failure_message_enabled = False
    world.settings.save()
    script_openai(world.vendor, openai_error(401, "bad key", code="invalid_api_key"))
    world.customer_says("Hello")
    world.run_tasks()
    assert world.replies() == []
    world.refresh()
    assert world.conversation.needs_human is True


def test_a_rate_limit_is_retried_after_retry_after_then_answers(world, countdowns):
    script_openai(
        world.vendor,
        openai_error(
            429, "Rate limit reached", type="requests", code="rate_limit_exceeded", headers={"retry-after": "7"}
        ),
        openai_text("Hello! Yes, it is free."),
    )
    message = world.customer_says("Is the flat free?")
    world.run_tasks()

    assert len(world.chat_requests()) == 2
    assert countdowns == [0, 7]  # the delay, then the retry no sooner than Retry-After
    assert [m.text for m in world.replies()] == ["Hello! Yes, it is free."]
    message.refresh_from_db()
    assert message.llm_processed is True
    assert list(AssistantRun.objects.values_list("outcome", flat=True)) == ["replied"]  # a retry is no failure
    world.refresh()
    assert world.conversation.needs_human is False


def test_server_errors_are_retried_with_backoff(world, countdowns, settings):
    settings.AI_RETRY_BACKOFF_SECONDS = 2
    script_openai(
        world.vendor,
        openai_error(500, "The server had an error", type="server_error"),
        openai_error(503, "Overloaded", type="server_error"),
        openai_text("Here I am."),
    )
    world.customer_says("Hi")
    world.run_tasks()
    assert len(world.chat_requests()) == 3
    assert countdowns == [0, 2, 4]
    assert [m.text for m in world.replies()] == ["Here I am."]


def test_retries_stop_after_ai_max_attempts(world, settings):
    settings.AI_MAX_ATTEMPTS = 3
    script_openai(world.vendor, openai_error(500, "The server had an error", type="server_error"))
    world.customer_says("Hi")
    world.run_tasks()
    assert len(world.chat_requests()) == 3
    (run,) = AssistantRun.objects.all()
    assert (run.outcome, run.error_code) == ("failed", "server_error")
    assert [m.text for m in world.replies()] == [FAILURE_SENTENCE]


def test_a_timeout_is_retried(world, settings):
    settings.AI_REQUEST_TIMEOUT_SECONDS = 0.3
    script_openai(world.vendor, delayed(openai_text("too late"), 1.5), openai_text("On time."))
    world.customer_says("Hi")
    world.run_tasks()
    assert len(world.chat_requests()) == 2
    assert [m.text for m in world.replies()] == ["On time."]


def test_a_malformed_answer_is_tried_once_more_then_fails(world):
    script_openai(world.vendor, Reply(200, "<html>Bad gateway</html>"))
    message = world.customer_says("Hi")
    world.run_tasks()
    assert len(world.chat_requests()) == 2  # ProviderMalformedAnswer.max_retries = 1
    (run,) = AssistantRun.objects.all()
    assert (run.outcome, run.error_code) == ("failed", "malformed_answer")
    message.refresh_from_db()
    assert message.llm_skip_reason == "provider_error"


def test_a_malformed_answer_then_a_good_one_answers(world):
    script_openai(world.vendor, Reply(200, {"choices": []}), openai_text("All good."))
    world.customer_says("Hi")
    world.run_tasks()
    assert [m.text for m in world.replies()] == ["All good."]


def test_an_unknown_model_fails_at_once_with_its_sentence(world):
    script_openai(world.vendor, openai_error(404, "The model `gpt-nope` does not exist", code="model_not_found"))
    world.settings.model = "gpt-nope"
    world.settings.save()
    world.customer_says("Hi")
    world.run_tasks()
    assert len(world.chat_requests()) == 1
    (run,) = AssistantRun.objects.all()
    assert run.error_code == "model_not_found"
    world.refresh()
    assert world.conversation.needs_human_reason == (
        "The AI assistant failed: The AI provider does not offer the model 'gpt-nope': check the model name in the "
        "assistant settings."
    )


def test_an_unreachable_provider_is_retried_then_fails(world, dead_url):
    world.settings.base_url = dead_url
    world.settings.save()
    world.customer_says("Hi")
    world.run_tasks()
    (run,) = AssistantRun.objects.all()
    assert (run.outcome, run.error_code) == ("failed", "unreachable")
