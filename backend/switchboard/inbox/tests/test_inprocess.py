"""Without a worker, a send never holds the agent's request (issue 9): the API answers `queued` at once and the
send runs on an in-process thread (inbox/inprocess.py); delayed jobs really wait; with a worker nothing changes."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from unittest import mock

import pytest
from asgiref.sync import async_to_sync
from celery import shared_task
from django.db import connections

from switchboard.inbox import inprocess
from switchboard.inbox.models import Message
from switchboard.inbox.tests.outbound_support import conversation_for
from switchboard.platforms.registry import SendResult
from switchboard.webhooks.testing import captured_broadcasts

runs: list[tuple[str, str, float, object]] = []


@shared_task(name="tests.inprocess_probe", ignore_result=True)
def probe_task(label: str) -> str:
    # The connection this thread used, to check it is closed once the job ends.
    connection = connections["default"]
    connection.ensure_connection()
    runs.append((label, threading.current_thread().name, time.monotonic(), connection))
    return label


@pytest.fixture(autouse=True)
def _clean():
    runs.clear()
    inprocess.reset()
    yield
    assert inprocess.wait_idle(10)
    inprocess.reset()


@pytest.mark.django_db(transaction=True)
def test_the_api_answers_queued_while_the_send_is_still_running(
    celery_eager, settings, agent_client, wa_cloud_account, monkeypatch
):
    settings.INPROCESS_TASK_THREADS = 2
    started, release = threading.Event(), threading.Event()

    def slow_send(self, message):  # a vendor that takes its time
        started.set()
        release.wait(10)
        return SendResult(platform_message_id="wamid.LATER")

    from switchboard.whatsapp.adapter import WhatsAppCloudAdapter

    monkeypatch.setattr(WhatsAppCloudAdapter, "send", slow_send)
    conversation = conversation_for(wa_cloud_account)
    with captured_broadcasts() as events:
        began = time.monotonic()
        response = agent_client.post(
            f"/api/messages/conversations/{conversation.pk}/messages/",
            json.dumps({"text": "hi"}),
            content_type="application/json",
        )
        answered_in = time.monotonic() - began
        # The answer is back while the vendor call has not returned: it did not wait for it.
        assert started.wait(5) and not release.is_set()
        assert response.status_code == 201 and response.json()["status"] == "queued"
        message = Message.objects.get(pk=response.json()["id"])
        assert message.status == "sending"
        release.set()
        assert inprocess.wait_idle(10)

    message.refresh_from_db()
    assert (message.status, message.platform_message_id) == ("sent", "wamid.LATER")
    assert [d["status"] for _, name, d in events if name == "message.updated"] == ["sent"]
    assert answered_in < 2.0, answered_in


@pytest.mark.django_db(transaction=True)
def test_threads_run_jobs_off_the_caller_and_close_their_connections(celery_eager, settings, monkeypatch):
    settings.INPROCESS_TASK_THREADS = 2
    closed_in: list[str] = []
    close_all = connections.close_all

    def spy() -> None:
        closed_in.append(threading.current_thread().name)
        close_all()

    monkeypatch.setattr(connections, "close_all", spy)
    inprocess.run_task(probe_task, "now")
    began = time.monotonic()
    inprocess.run_task_later(probe_task, 0.3, "later")
    assert inprocess.wait_idle(10)

    (now, now_thread, _, now_connection), (later, later_thread, later_at, later_connection) = runs
    assert (now, later) == ("now", "later")
    assert now_thread.startswith("inprocess-task") and later_thread.startswith("inprocess-task")
    assert later_at - began >= 0.29  # waited for real: Celery's eager mode would have ignored the countdown
    assert len(closed_in) == 2 and all(name.startswith("inprocess-task") for name in closed_in)
    if not getattr(
        now_connection, "is_in_memory_db", bool
    )():  # Django keeps an in-memory SQLite test database open on purpose
        assert now_connection.connection is None and later_connection.connection is None


@pytest.mark.django_db
def test_inline_mode_runs_now_and_keeps_delayed_jobs_until_asked(celery_eager, settings):
    settings.INPROCESS_TASK_THREADS = 0  # the suite's default, spelled out
    inprocess.run_task(probe_task, "now")
    assert [label for label, *_ in runs] == ["now"] and runs[0][1] == threading.current_thread().name

    inprocess.run_task_later(probe_task, 5, "second")
    inprocess.run_task_later(probe_task, 1, "first")
    assert inprocess.pending_delayed() == [
        ("tests.inprocess_probe", ("first",)),
        ("tests.inprocess_probe", ("second",)),
    ]
    assert inprocess.run_delayed() == 2
    assert [label for label, *_ in runs] == ["now", "first", "second"]


def test_with_a_worker_jobs_go_to_the_broker_with_their_countdown(celery_eager, settings):
    settings.INPROCESS_TASK_THREADS = 2
    celery_eager.conf.task_always_eager = False
    with mock.patch.object(probe_task, "delay") as delay, mock.patch.object(probe_task, "apply_async") as apply_async:
        inprocess.run_task(probe_task, "now")
        inprocess.run_task_later(probe_task, 2.5, "later")
    delay.assert_called_once_with("now")
    apply_async.assert_called_once_with(args=("later",), kwargs={}, countdown=2.5)
    assert runs == []


@pytest.mark.django_db(transaction=True)  # the pool's threads close their connections after each job
def test_a_job_never_waits_on_an_event_loop_that_has_stopped(settings):
    """The server's loop stopped (shutdown) after the job was queued: its broadcasts run on a loop of their own
    instead of waiting forever for a loop that no longer turns (which would also hang the process at exit)."""
    settings.INPROCESS_TASK_THREADS = 2
    stopped = asyncio.new_event_loop()  # never running, as the server's loop after it stopped
    results: list[str] = []

    async def greet() -> str:
        return "hi"

    inprocess._submit(lambda: results.append(async_to_sync(greet)()), loop=stopped)
    try:
        assert inprocess.wait_idle(5) and results == ["hi"]
    finally:
        stopped.close()
