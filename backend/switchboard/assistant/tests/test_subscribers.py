"""The assistant's subscriber on the inbox's MESSAGES_CREATED hook: which customer messages it answers (and why not),
and how a person's reply — an agent's send, or the echo of a message sent from the business's phone — pauses it."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from switchboard.assistant.models import AssistantRun, AssistantSettings
from switchboard.assistant.tests.test_engine_support import inbound, make_world, open_world, photo
from switchboard.inbox import inprocess
from switchboard.inbox.events import AttachmentRef
from switchboard.inbox.models import Direction, Message, MessageKind
from switchboard.inbox.services.sending import message_send
from switchboard.inbox.tests.conftest import create_contact, create_conversation, create_message
from switchboard.platforms.models import Platform, Provider
from switchboard.webhooks.testing import captured_broadcasts
from tests.fakes.llm import openai_text, script_openai

PSID = "7281946350172634"
PAGE_ID = "109876543210987"


@pytest.fixture
def world(org, owner, vendor, make_account, django_capture_on_commit_callbacks):
    yield from open_world(org, vendor, make_account, django_capture_on_commit_callbacks)


def _all_day() -> dict[str, list[list[str]]]:
    return {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def test_an_answerable_message_queues_one_reply_task_after_the_delay(world):
    world.settings.reply_delay_seconds = 8
    world.settings.save()
    message = world.customer_says("Hello")
    assert world.assistant_jobs() == [(world.conversation.pk, message.pk)]
    message.refresh_from_db()
    assert (message.llm_processed, message.llm_skip_reason) == (False, "")


def test_the_reply_task_waits_for_the_delay_in_process(world, settings, monkeypatch):
    """Without a worker the countdown is a real timer (inprocess.run_task_later), never a sleep in the webhook."""
    calls = []
    monkeypatch.setattr(
        inprocess, "run_task_later", lambda task, countdown, *a, **k: calls.append((task.name, countdown, a))
    )
    world.settings.reply_delay_seconds = 12
    world.settings.save()
    message = world.customer_says("Hello")
    assert calls == [("assistant.reply", 12, (world.conversation.pk, message.pk))]


# --- each skip rule ------------------------------------------------------------------------------------------------
SKIPS = {
    "assistant_inactive": lambda w: _settings(w, is_active=False),
    "switch_off": lambda w: _conversation(w, ai_enabled=False),
    "not_trusted": lambda w: _contact(w, is_trusted=False),
    "human_handling": lambda w: _conversation(w, ai_paused_until=timezone.now() + timedelta(minutes=10)),
    "outside_hours": lambda w: _settings(w, answer_when="outside_hours", business_hours=_all_day()),
    "rate_limit": lambda w: _assistant_replied(w, 20),
}


def _settings(world, **fields):
    AssistantSettings.objects.filter(pk=world.settings.pk).update(**fields)


def _conversation(world, **fields):
    type(world.conversation).objects.filter(pk=world.conversation.pk).update(**fields)


def _contact(world, **fields):
    type(world.contact).objects.filter(pk=world.contact.pk).update(**fields)


def _assistant_replied(world, count):
    for n in range(count):
        create_message(
            world.conversation, f"reply {n}", direction=Direction.OUTBOUND, sent_by_assistant=True,
            timestamp=timezone.now() - timedelta(minutes=30),
        )  # fmt: skip


@pytest.mark.parametrize("reason", list(SKIPS))
def test_each_skip_rule_is_recorded_on_the_message(world, reason):
    SKIPS[reason](world)
    world.events.clear()
    message = world.customer_says("Is the flat still available?")

    message.refresh_from_db()
    assert (message.llm_skip_reason, message.llm_processed) == (reason, False)
    assert world.assistant_jobs() == []
    updated = [m for m in world.events_named("message.updated") if m["id"] == message.pk]
    if reason == "assistant_inactive":
        assert updated == []  # an agency without the assistant gets no extra broadcast per message
    else:
        assert updated[-1]["llm_skip_reason"] == reason
    replies_before = len(world.replies())
    world.run_tasks()
    assert len(world.replies()) == replies_before  # nothing answered
    if reason == "assistant_inactive":
        assert world.chat_requests() == []
        assert AssistantRun.objects.count() == 0
    else:  # the lead triage (test_triage.py): one call offering only update_contact, no reply
        (request,) = world.chat_requests()
        assert [tool["function"]["name"] for tool in request.json["tools"]] == ["update_contact"]
        assert list(AssistantRun.objects.values_list("reason", flat=True)) == ["triage"]


def test_needs_human_is_human_handling(world):
    _conversation(world, needs_human=True, needs_human_reason="asked for a person")
    assert world.customer_says("Hello?").llm_skip_reason == "human_handling"


def test_a_pause_that_has_ended_lets_the_assistant_answer(world):
    _conversation(world, ai_paused_until=timezone.now() - timedelta(minutes=1))
    message = world.customer_says("Hello?")
    assert message.llm_skip_reason == ""
    assert world.assistant_jobs() == [(world.conversation.pk, message.pk)]


def test_outside_hours_answers_when_the_agency_is_closed(world):
    _settings(world, answer_when="outside_hours", business_hours={})  # never open
    message = world.customer_says("Hello?")
    assert message.llm_skip_reason == ""
    assert len(world.assistant_jobs()) == 1


def test_no_settings_at_all_is_assistant_inactive(world):
    AssistantSettings.objects.all().delete()
    assert world.customer_says("Hello").llm_skip_reason == "assistant_inactive"


@pytest.mark.parametrize(
    ("text", "fields", "answerable"),
    [
        ("Is this the one?", photo("Is this the one?"), True),
        ("", photo(), False),
        ("", {"kind": "sticker", "attachments": (AttachmentRef(kind="sticker", media_id="s.1"),)}, False),
        ("", {"kind": "audio", "attachments": (AttachmentRef(kind="audio", media_id="a.1"),)}, False),
        ("", {"kind": "audio", "payload": {"transcript": "Do you have flats to rent?"}}, True),
        ("I'm interested", {"kind": "interactive", "payload": {"type": "button_reply", "id": "listing:1:x"}}, True),
        ("", {"kind": "location", "payload": {"latitude": 40.4, "longitude": -3.7}}, False),
        ("", {"kind": "unsupported", "payload": {"type": "poll"}}, False),
        ("", {"kind": "text", "payload": {"story": {"type": "mention", "id": "s1", "url": ""}}}, False),
    ],
    ids=[
        "caption",
        "photo-only",
        "sticker",
        "voice-no-transcript",
        "voice-transcript",
        "button",
        "location",
        "unsupported",
        "story-mention",
    ],
)
def test_kind_not_answerable(world, text, fields, answerable):
    message = world.customer_says(text, **fields)
    assert message.llm_skip_reason == ("" if answerable else "kind_not_answerable")
    assert len(world.assistant_jobs()) == (1 if answerable else 0)


def test_an_old_message_from_a_history_sync_is_outside_the_window(world):
    message = world.customer_says("Hello from last week", at=timezone.now() - timedelta(days=3))
    assert message.llm_skip_reason == "outside_window"


def test_a_closed_messenger_window_is_outside_window(world, make_account):
    messenger = make_account(world.org, Platform.MESSENGER, Provider.SANDBOX, credentials={}, settings={})
    contact = create_contact(messenger, external_id=PSID, is_trusted=True)
    create_conversation(messenger, contact, ai_enabled=True)
    # The message itself is two days old (a late delivery): the 24-hour window it would open has passed.
    world.account = messenger
    message = world.deliver(inbound("hello", external_id=PSID, at=timezone.now() - timedelta(days=2)))[0]
    assert message.llm_skip_reason == "outside_window"


def test_skipped_messages_do_not_hold_back_the_answer_to_an_earlier_one(world):
    script_openai(world.vendor, openai_text("Sure!"))
    question = world.customer_says("Can I visit tomorrow?")
    sticker = world.customer_says("", kind="sticker", attachments=(AttachmentRef(kind="sticker", media_id="s.9"),))
    assert sticker.llm_skip_reason == "kind_not_answerable"
    world.run_tasks()
    assert [m.text for m in world.replies()] == ["Sure!"]
    question.refresh_from_db()
    assert question.llm_processed is True


# --- a person replies: the assistant pauses ----------------------------------------------------------------------
def test_an_agents_message_pauses_the_assistant(world, agent, settings):
    settings.AI_HANDOFF_MINUTES = 45
    world.customer_says("Hello, anyone?")
    world.events.clear()
    before = timezone.now()
    with world.capture(execute=True):
        message_send(organization=world.org, conversation=world.conversation, by=agent, text="Ana here, hello!")
    world.refresh()
    paused = world.conversation.ai_paused_until
    assert before + timedelta(minutes=45) <= paused <= timezone.now() + timedelta(minutes=45)
    updates = [c for c in world.events_named("conversation.updated") if c["id"] == world.conversation.pk]
    assert updates[-1]["ai_paused_until"] is not None
    assert world.customer_says("Thanks Ana").llm_skip_reason == "human_handling"


def test_the_assistants_own_messages_and_notes_do_not_pause_it(world):
    world.customer_says("Hello")
    with world.capture(execute=True):
        message_send(organization=world.org, conversation=world.conversation, by=None, text="Hi!", by_assistant=True)
    world.refresh()
    assert world.conversation.ai_paused_until is None


def test_the_echo_of_a_message_sent_from_the_phone_pauses_the_assistant(world):
    """Through MessageService, as a bridge or Messenger delivers an echo of what the business sent elsewhere."""
    echo = inbound("I'll call you in 5 minutes", is_echo=True)
    (stored,) = world.deliver(echo)
    assert (stored.direction, stored.sent_by_id, stored.sent_by_assistant) == (Direction.OUTBOUND, None, False)
    world.refresh()
    assert world.conversation.ai_paused_until is not None
    assert world.conversation.ai_paused_until > timezone.now() + timedelta(minutes=29)
    assert world.customer_says("ok!").llm_skip_reason == "human_handling"


def test_a_messenger_echo_through_the_webhook_pauses_the_assistant(
    poster, messenger_account, org, vendor, make_account, django_capture_on_commit_callbacks
):
    world = make_world(org=org, vendor=vendor, capture=django_capture_on_commit_callbacks, make_account=make_account)
    contact = create_contact(messenger_account, external_id=PSID, is_trusted=True)
    conversation = create_conversation(messenger_account, contact, ai_enabled=True)
    now_ms = int(timezone.now().timestamp() * 1000)
    body = {
        "object": "page",
        "entry": [
            {
                "id": PAGE_ID,
                "time": now_ms,
                "messaging": [
                    {
                        "sender": {"id": PAGE_ID},
                        "recipient": {"id": PSID},
                        "timestamp": now_ms,
                        "message": {"is_echo": True, "app_id": 1, "mid": "m_PhoneEcho1", "text": "Call you soon"},
                    }
                ],
            }
        ],
    }
    delivery = poster.meta("messenger", json.dumps(body).encode())
    assert delivery.response.status_code == 200
    conversation.refresh_from_db()
    assert conversation.ai_paused_until is not None and conversation.ai_paused_until > timezone.now()
    assert any(
        name == "conversation.updated" and data["id"] == conversation.pk and data["ai_paused_until"]
        for _, name, data in delivery.events
    )
    assert world.settings.is_active


def test_a_cloud_webhook_message_is_answered_end_to_end(
    poster, wa_cloud_account, org, owner, vendor, fake_vendor, make_account, django_capture_on_commit_callbacks
):
    """A real WhatsApp Cloud delivery: signed, posted, stored, the reply task run, the answer sent to the Graph API."""
    from tests.fakes import cloud_sent

    world = make_world(org=org, vendor=vendor, capture=django_capture_on_commit_callbacks, make_account=make_account)
    contact = create_contact(wa_cloud_account, external_id="+14155550101", is_trusted=True)
    conversation = create_conversation(wa_cloud_account, contact, ai_enabled=True)
    script_openai(vendor, openai_text("Hola María! Yes, it is available."))
    fake_vendor.on("POST", r"/v\d+\.\d+/106540352242922/messages", cloud_sent("wamid.assistant.reply"))
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
                            "contacts": [{"profile": {"name": "María"}, "wa_id": "14155550101"}],
                            "messages": [
                                {
                                    "from": "14155550101",
                                    "id": "wamid.customer.1",
                                    "timestamp": str(int(timezone.now().timestamp())),
                                    "type": "text",
                                    "text": {"body": "Hola! Is the flat on Calle Mayor still available?"},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    inprocess.reset()
    delivery = poster.meta("whatsapp", json.dumps(body).encode())
    assert delivery.response.status_code == 200
    with captured_broadcasts() as events:
        world.run_tasks()

    reply = Message.objects.get(conversation=conversation, direction=Direction.OUTBOUND)
    assert (reply.text, reply.sent_by_assistant, reply.platform_message_id) == (
        "Hola María! Yes, it is available.",
        True,
        "wamid.assistant.reply",
    )
    (sent,) = fake_vendor.requests("POST", r"/messages$")
    assert sent.json["text"]["body"] == "Hola María! Yes, it is available."
    assert any(name == "message.created" and data["id"] == reply.pk for _, name, data in events)
    question = Message.objects.get(platform_message_id="wamid.customer.1")
    assert question.llm_processed is True
    assert reply.kind == MessageKind.TEXT
    inprocess.reset()


# --- how the reply task is scheduled --------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_without_a_worker_the_delay_is_a_real_wait_off_the_delivering_thread(
    celery_eager, settings, org, owner, vendor, make_account, django_capture_on_commit_callbacks
):
    import threading
    import time

    from switchboard.inbox.services.ingest import handle_events

    settings.INPROCESS_TASK_THREADS = 2
    world = make_world(org=org, vendor=vendor, capture=django_capture_on_commit_callbacks, make_account=make_account)
    world.settings.reply_delay_seconds = 1
    world.settings.save()
    answered_in: list[str] = []

    def answer(request):
        answered_in.append(threading.current_thread().name)
        return openai_text("Hello from a thread")

    script_openai(vendor, answer)
    began = time.monotonic()
    handle_events(world.account, [inbound("Hi there")])  # commits: the subscriber runs, the timer starts
    assert time.monotonic() - began < 0.9  # the delivery did not wait for the delay
    assert Message.objects.filter(direction=Direction.OUTBOUND).count() == 0
    assert inprocess.wait_idle(15)

    reply = Message.objects.get(direction=Direction.OUTBOUND, sent_by_assistant=True)
    assert reply.text == "Hello from a thread"
    assert (reply.created_at - Message.objects.get(direction=Direction.INBOUND).created_at).total_seconds() >= 0.99
    assert len(answered_in) == 1


def test_with_a_worker_the_reply_task_goes_to_the_broker_with_its_countdown(world, celery_eager):
    from unittest import mock

    from switchboard.assistant.tasks import assistant_reply_task

    world.settings.reply_delay_seconds = 8
    world.settings.save()
    celery_eager.conf.task_always_eager = False
    with mock.patch.object(assistant_reply_task, "apply_async") as apply_async:
        message = world.customer_says("Hello")
    apply_async.assert_called_once_with(args=(world.conversation.pk, message.pk), kwargs={}, countdown=8.0)


def test_one_delivery_across_conversations_decides_each_and_broadcasts_every_skip(world):
    world.events.clear()
    messages = world.deliver(
        inbound("Is the flat still available?", external_id=world.contact.external_id),
        inbound("Hello, do you rent studios?", external_id="+34600333444", name="Marta"),
        inbound("Any houses in Gràcia?", external_id="+34600555666", name="Jordi"),
    )

    answered, *strangers = messages
    assert {m.conversation_id for m in strangers}.isdisjoint({world.conversation.pk})
    assert len({m.conversation_id for m in strangers}) == 2
    for message in messages:
        message.refresh_from_db()
    assert answered.llm_skip_reason == ""
    assert [args[:2] for args in world.assistant_jobs()] == [(world.conversation.pk, answered.pk)]
    reasons = {m.llm_skip_reason for m in strangers}
    assert len(reasons) == 1 and "" not in reasons  # both new contacts skipped for the same rule
    updated = {m["id"]: m["llm_skip_reason"] for m in world.events_named("message.updated")}
    assert {pk: updated.get(pk) for pk in (m.pk for m in strangers)} == {m.pk: m.llm_skip_reason for m in strangers}
