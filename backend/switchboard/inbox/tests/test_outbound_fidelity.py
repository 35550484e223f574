"""Outbound fidelity, round two (issue 14), against the fake vendor on 127.0.0.1 (tests/fakes/vendor.py): Graph's
Retry-After is honoured."""

from __future__ import annotations

from unittest import mock

import pytest
from celery.exceptions import Retry

from switchboard.inbox.models import Message
from switchboard.inbox.services import sending
from switchboard.inbox.tasks.sending import send_message_task
from switchboard.inbox.tests.outbound_support import conversation_for, send
from tests.fakes import Reply, cloud_sent, graph_error

pytestmark = pytest.mark.usefixtures("celery_eager")

CLOUD_MESSAGES = r"/v21\.0/106540352242922/messages"


@pytest.fixture(autouse=True)
def _no_public_base(settings):
    settings.PUBLIC_BASE_URL = ""


# --- Graph's Retry-After ----------------------------------------------------------------------------------------------
def test_a_graph_429_with_retry_after_3_is_retried_after_3_seconds_by_a_worker(fake_vendor, wa_cloud_account, agent,
                                                                               settings):  # fmt: skip
    settings.SEND_RETRY_BACKOFF_SECONDS = 1  # our own backoff would say 1 s
    fake_vendor.on("POST", CLOUD_MESSAGES, graph_error(130429, "Rate limit hit", status=429,
                                                       headers={"Retry-After": "3"}))  # fmt: skip
    conversation = conversation_for(wa_cloud_account)
    message = sending.message_send(organization=conversation.organization_id, conversation=conversation, by=agent,
                                    text="hi")  # fmt: skip
    with mock.patch.object(send_message_task, "retry", side_effect=Retry()) as retry, pytest.raises(Retry):
        send_message_task.run(message.pk, attempt=1)
    assert retry.call_args.kwargs["countdown"] == 3
    message.refresh_from_db()
    assert message.status == "queued" and "Trying again in 3 s" in message.error_message


def test_the_next_attempt_really_waits_the_retry_after(fake_vendor, agent_client, wa_cloud_account,
                                                       django_capture_on_commit_callbacks, settings):  # fmt: skip
    settings.SEND_RETRY_BACKOFF_SECONDS = 0.01
    fake_vendor.on("POST", CLOUD_MESSAGES, graph_error(130429, status=429, headers={"Retry-After": "1"}),
                   cloud_sent("wamid.AFTER"))  # fmt: skip
    sent = send(agent_client, django_capture_on_commit_callbacks, conversation_for(wa_cloud_account), {"text": "hi"})
    message = Message.objects.get(pk=sent.response.json()["id"])
    assert (message.status, message.platform_message_id) == ("sent", "wamid.AFTER")
    first, second = fake_vendor.requests("POST", CLOUD_MESSAGES)
    assert second.at - first.at >= 1.0  # not 0.01 s: the vendor said 1 s


def test_retry_after_is_read_from_any_graph_answer(fake_vendor, wa_cloud_account, agent, settings):
    """Also without Meta's envelope (a proxy's 503 page), and never below our own backoff."""
    settings.SEND_RETRY_BACKOFF_SECONDS = 4
    fake_vendor.on("POST", CLOUD_MESSAGES, Reply(503, "<html>Service Unavailable</html>", {"Retry-After": "2"}))
    conversation = conversation_for(wa_cloud_account)
    message = sending.message_send(organization=conversation.organization_id, conversation=conversation, by=agent,
                                    text="hi")  # fmt: skip
    with mock.patch.object(send_message_task, "retry", side_effect=Retry()) as retry, pytest.raises(Retry):
        send_message_task.run(message.pk, attempt=1)
    assert retry.call_args.kwargs["countdown"] == 4  # the longer of the two
