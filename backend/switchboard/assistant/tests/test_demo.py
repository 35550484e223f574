"""The assistant's part of the demo (assistant/demo.py, through seed_demo's DEMO_SEED hook): inactive settings at a
local Ollama, a FAQ, and on Priya Nair's demo conversation what the assistant leaves — a reply of its own, her lead
fields on the trusted contact, the handoff with its reason and note, a skipped message. Seeding twice creates
nothing twice, and what an owner changed since stays. Nothing leaves the machine (test_seed_demo's `offline`)."""

from __future__ import annotations

import io
import ipaddress
import json

import pytest
from django.core.management import call_command

from switchboard.assistant import demo
from switchboard.assistant.models import AssistantRun, AssistantSettings, FaqEntry, RunOutcome
from switchboard.inbox.models import Contact, Conversation, Direction, Message, MessageStatus


def _is_loopback(host: object) -> bool:
    try:
        return host in (None, "localhost") or ipaddress.ip_address(str(host)).is_loopback
    except ValueError:
        return False


@pytest.fixture
def seed(db, settings, celery_eager, django_capture_on_commit_callbacks, monkeypatch):
    """`seed(*args)` runs seed_demo as `make run` does, on-commit callbacks included; any lookup or connection of
    anything but loopback fails the test."""
    import socket

    attempts: list[str] = []
    getaddrinfo = socket.getaddrinfo

    def guarded_getaddrinfo(host, *args, **kwargs):
        if not _is_loopback(host):
            attempts.append(str(host))
            raise socket.gaierror(f"test: name lookup of {host} refused")
        return getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)

    def run(*args: str) -> str:
        out = io.StringIO()
        with django_capture_on_commit_callbacks(execute=True):
            call_command("seed_demo", *args, stdout=out)
        return out.getvalue()

    yield run
    assert attempts == []


def _counts() -> dict[str, int]:
    return {
        "settings": AssistantSettings.objects.count(),
        "faq": FaqEntry.objects.count(),
        "runs": AssistantRun.objects.count(),
        "conversations": Conversation.objects.count(),
        "messages": Message.objects.count(),
        "notes": Message.objects.filter(payload__internal=True).count(),
        "contacts": Contact.objects.count(),
    }


def test_seeding_twice_creates_nothing_twice(seed):
    first = seed()
    after_first = _counts()
    again = seed()

    assert _counts() == after_first
    assert after_first == {
        "settings": 1,
        "faq": 3,
        "runs": 3,
        "conversations": 7,  # the demo's own: Priya's follow-up joined her conversation
        "messages": 22 + 4 + 1,  # the demo's, Priya's follow-up with the assistant's reply, the handoff note
        "notes": 1,
        "contacts": 7,
    }
    assert "22 new messages" in first and "0 new messages" in again
    assert "Assistant (inactive): openai, model llama3.1 at http://127.0.0.1:11434/v1; 3 FAQ entries." in again


def test_the_demo_shows_what_the_assistant_does(seed):
    seed()
    ids = json.loads(seed("--json"))["assistant"]

    settings = AssistantSettings.objects.get(organization__slug="demo-agency")
    assert (settings.is_active, settings.provider, settings.model, settings.base_url, settings.api_key) == (
        False, "openai", "llama3.1", "http://127.0.0.1:11434/v1", "",
    )  # fmt: skip
    assert ids["settings"] == {
        "is_active": False,
        "provider": "openai",
        "model": "llama3.1",
        "base_url": "http://127.0.0.1:11434/v1",
    }
    assert "budget_max" in settings.lead_fields
    assert [entry.pk for entry in FaqEntry.objects.filter(pk__in=ids["faq"]).order_by("id")] == ids["faq"]
    assert {entry.question for entry in FaqEntry.objects.all()} == {question for question, _ in demo.FAQ}

    conversation = Conversation.objects.select_related("contact").get(pk=ids["conversation"]["id"])
    contact = conversation.contact
    assert (contact.name, contact.is_trusted, contact.attributes) == ("Priya Nair", True, demo.ATTRIBUTES)
    assert ids["conversation"] == {
        "id": conversation.pk,
        "contact": "Priya Nair",
        "contact_id": contact.pk,
        "contact_external_id": "+919812345678",
        "needs_human_reason": demo.HANDOFF_REASON,
        "attributes": demo.ATTRIBUTES,
    }
    assert (conversation.needs_human, conversation.needs_human_reason, conversation.ai_enabled) == (
        True, demo.HANDOFF_REASON, True,
    )  # fmt: skip
    # The demo's own messages of Priya are in the same conversation, before her follow-up.
    pids = list(conversation.messages.order_by("timestamp", "id").values_list("platform_message_id", flat=True))
    assert pids[:5] == ["demo-wa-10", "demo-wa-11", "demo-wa-12", "demo-wa-13", "demo-wa-14"]
    assert pids[5:] == ["demo-wa-ai-1", "demo-wa-ai-2", "demo-wa-ai-3", None, "demo-wa-ai-4"]  # None: the note

    reply = Message.objects.get(pk=ids["reply_message_id"])
    assert (reply.direction, reply.sent_by_assistant, reply.status, reply.text, reply.payload) == (
        Direction.OUTBOUND, True, MessageStatus.DELIVERED, demo.REPLY_TEXT, {},
    )  # fmt: skip
    (note,) = conversation.messages.filter(payload__internal=True)
    assert note.payload == {"internal": True, "assistant": "handoff", "reason": demo.HANDOFF_REASON}
    assert note.text == f"The AI assistant handed this conversation over: {demo.HANDOFF_REASON}"
    skipped = Message.objects.get(pk=ids["skipped_message"]["id"])
    assert (skipped.direction, skipped.llm_skip_reason, skipped.llm_processed) == (
        Direction.INBOUND, "human_handling", False,
    )  # fmt: skip
    assert ids["skipped_message"]["llm_skip_reason"] == "human_handling"
    answered = Message.objects.filter(platform_message_id__in=["demo-wa-ai-1", "demo-wa-ai-3"])
    assert set(answered.values_list("llm_processed", "llm_skip_reason")) == {(True, "")}

    runs = AssistantRun.objects.filter(conversation=conversation)
    assert sorted(runs.values_list("outcome", flat=True)) == sorted(
        [RunOutcome.REPLIED, RunOutcome.HANDED_OFF, RunOutcome.SKIPPED]
    )
    assert runs.get(outcome=RunOutcome.REPLIED).reply_message_ids == [reply.pk]
    # Only Priya's conversation waits for a person; no other contact is trusted.
    assert list(Conversation.objects.filter(needs_human=True)) == [conversation]
    assert list(Contact.objects.filter(is_trusted=True)) == [contact]


def test_what_an_owner_changed_stays_when_seeding_again(seed, settings):
    seed()
    row = AssistantSettings.objects.get(organization__slug="demo-agency")
    row.model, row.is_active = "qwen2.5", True
    row.save()
    conversation = Conversation.objects.get(contact__name="Priya Nair")
    Conversation.objects.filter(pk=conversation.pk).update(needs_human=False, needs_human_reason="")
    FaqEntry.objects.filter(question=demo.FAQ[0][0]).update(answer="Changed by the agency.")

    seed()

    row.refresh_from_db()
    assert (row.model, row.is_active) == ("qwen2.5", True)
    conversation.refresh_from_db()
    assert (conversation.needs_human, conversation.needs_human_reason) == (False, "")
    assert FaqEntry.objects.get(question=demo.FAQ[0][0]).answer == "Changed by the agency."
    assert FaqEntry.objects.count() == 3


def test_the_demo_keeps_its_local_address_under_a_strict_address_policy(seed, settings):
    """Production settings (AI_ALLOW_PRIVATE_BASE_URL false) do not stop the seed: the address is checked when the
    assistant calls it, and the demo's assistant is off."""
    settings.AI_ALLOW_PRIVATE_BASE_URL = False

    seed()

    assert AssistantSettings.objects.get(organization__slug="demo-agency").base_url == demo.BASE_URL
