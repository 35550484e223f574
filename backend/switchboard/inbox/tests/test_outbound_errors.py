"""What an agent reads when a send fails, and what a developer reads: `error_message` is a sentence, the library's
or vendor's own words go to `error_detail` (and the log), never into the sentence (issue 9)."""

from __future__ import annotations

import socket

import pytest

from switchboard.inbox.models import Message
from switchboard.inbox.services import sending
from switchboard.inbox.tests.outbound_support import conversation_for, send
from switchboard.platforms.registry import SendResult

pytestmark = pytest.mark.usefixtures("celery_eager")

# What requests / urllib3 put into a connection error's text: none of it may reach an agent.
LIBRARY_WORDS = ("HTTPConnectionPool", "Max retries", "urllib3", "NewConnectionError", "Errno", "Graph API unreachable")


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed): connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_refused_connection_reads_as_a_sentence_and_keeps_the_detail(
    settings, agent_client, wa_cloud_account, django_capture_on_commit_callbacks, caplog
):
    settings.GRAPH_API_BASE = f"http://127.0.0.1:{closed_port()}"
    settings.SEND_EAGER_RETRY_MAX_WAIT_SECONDS = 0  # one attempt, no in-process backoff
    caplog.set_level("WARNING", logger="switchboard.inbox.services.sending")

    sent = send(agent_client, django_capture_on_commit_callbacks, conversation_for(wa_cloud_account), {"text": "hi"})

    assert sent.response.status_code == 201, sent.response.content
    message = Message.objects.get(pk=sent.response.json()["id"])
    assert (message.status, message.error_code) == ("failed", "network")
    assert message.error_message == (
        "The platform could not be reached (a network problem or a timeout). Gave up after 1 attempt."
    )
    assert not any(word in message.error_message for word in LIBRARY_WORDS)
    # The developer's half: the exception as requests raised it, with the address it tried.
    assert message.error_detail.startswith("Graph API: Graph API unreachable: ")
    assert "127.0.0.1" in message.error_detail and "Connection refused" in message.error_detail
    # … in the API and the WebSocket event, and in the log line of the failure.
    [updated] = sent.of("message.updated")[-1:]
    assert (updated["error_message"], updated["error_detail"]) == (message.error_message, message.error_detail)
    assert "Connection refused" in caplog.text


def test_a_crashing_adapter_reads_as_an_internal_error_with_the_exception_as_detail(
    agent_client, wa_cloud_account, django_capture_on_commit_callbacks, monkeypatch
):
    from switchboard.whatsapp.adapter import WhatsAppCloudAdapter

    def boom(self, message):
        raise KeyError("recipient")

    monkeypatch.setattr(WhatsAppCloudAdapter, "send", boom)
    sent = send(agent_client, django_capture_on_commit_callbacks, conversation_for(wa_cloud_account), {"text": "hi"})

    message = Message.objects.get(pk=sent.response.json()["id"])
    assert (message.status, message.error_code) == ("failed", "internal_error")
    assert message.error_message == "Switchboard could not send this message because of an internal error."
    assert message.error_detail == "whatsapp/meta adapter raised KeyError: 'recipient'"


def test_a_retry_and_a_later_success_clear_the_detail(
    agent_client, wa_cloud_account, django_capture_on_commit_callbacks, monkeypatch, settings
):
    settings.SEND_EAGER_RETRY_MAX_WAIT_SECONDS = 0
    from switchboard.whatsapp.adapter import WhatsAppCloudAdapter

    answers = iter([SendResult.failure("2", "The platform is busy.", transient=True, detail="HTTP 503"),
                    SendResult(platform_message_id="wamid.LATER")])  # fmt: skip
    monkeypatch.setattr(WhatsAppCloudAdapter, "send", lambda self, message: next(answers))
    conversation = conversation_for(wa_cloud_account)
    sent = send(agent_client, django_capture_on_commit_callbacks, conversation, {"text": "hi"})
    message = Message.objects.get(pk=sent.response.json()["id"])
    assert (message.status, message.error_detail) == ("failed", "HTTP 503")

    with django_capture_on_commit_callbacks(execute=True):
        sending.message_retry(organization=message.organization_id, message=message, by=None)

    message.refresh_from_db()
    assert (message.status, message.platform_message_id) == ("sent", "wamid.LATER")
    assert (message.error_code, message.error_message, message.error_detail) == ("", "", "")
