"""Outbound on the production topology: a real `celery -A config worker` on the Redis broker, PostgreSQL, and a fake
Graph API on 127.0.0.1. An agent's message answered 429 is retried by the worker after its countdown and ends `sent`;
one refused with 131047 ends `failed` at once with the code and a sentence; an expired token marks the account."""

from __future__ import annotations

import subprocess
import time
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from config.celery import app as celery_app
from conftest import client_for
from switchboard.inbox.models import Message, MessageStatus
from switchboard.inbox.tests.conftest import create_contact, create_conversation
from switchboard.platforms.models import Platform, PlatformAccount, Provider
from tests.fakes import FakeVendor, cloud_sent, graph_error
from tests.live.servers import BACKEND_DIR, BIN, database_url_for, server_env

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

FINAL = {MessageStatus.SENT, MessageStatus.FAILED}


def wait_for(predicate, timeout: float = 40.0, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


@pytest.fixture
def queue():
    """A queue of this test's own, so no other worker on the same Redis takes its tasks (and they take none else)."""
    name = f"sb-test-outbound-{uuid.uuid4().hex[:10]}"
    previous = (celery_app.conf.task_default_queue, celery_app.conf.task_always_eager)
    celery_app.conf.task_default_queue, celery_app.conf.task_always_eager = name, False
    yield name
    celery_app.conf.task_default_queue, celery_app.conf.task_always_eager = previous
    try:
        import redis

        redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(name)
    except Exception:  # cleanup only
        pass


@pytest.fixture
def worker(require_postgres, require_redis, queue, tmp_path):
    vendor = FakeVendor().start()
    env = server_env(
        DATABASE_URL=database_url_for(connection.settings_dict),
        REDIS_URL=settings.REDIS_URL,
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        CELERY_TASK_ALWAYS_EAGER="false",
        GRAPH_API_BASE=vendor.url,
        SEND_RETRY_BACKOFF_SECONDS="0.5",
        DB_POOL_MIN_SIZE="1",
        DB_POOL_MAX_SIZE="4",
    )
    command = [
        str(BIN / "celery"), "-A", "config", "worker", "-Q", queue, "--pool", "solo", "--loglevel", "INFO",
        "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"{queue}@%h",
    ]  # fmt: skip
    log = tmp_path / "worker.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(command, cwd=BACKEND_DIR, env=env, stdout=sink, stderr=subprocess.STDOUT)
    process.log = log  # type: ignore[attr-defined]
    try:
        yield vendor, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        vendor.stop()


def test_a_real_worker_retries_transient_errors_and_fails_permanent_ones(worker, make_org, make_user):
    vendor, process = worker
    org = make_org()
    agent = make_user(org)
    account = PlatformAccount.objects.create(
        organization=org,
        platform=Platform.WHATSAPP,
        provider=Provider.META,
        external_id="106540352242922",
        display_name="Sales",
        credentials={"access_token": "live-token"},
    )
    path = r"/v21\.0/106540352242922/messages"

    def answer(request):
        text = request.json["text"]["body"]
        attempts = sum(1 for r in vendor.requests("POST", path) if r.json["text"]["body"] == text)
        if text == "busy then fine":
            return graph_error(130429, "Rate limit hit", status=429) if attempts == 1 else cloud_sent("wamid.LIVE1")
        if text == "too late":
            return graph_error(131047, "Re-engagement message")
        return graph_error(190, "Session has expired", status=401)

    vendor.on("POST", path, answer)
    conversation = create_conversation(account, create_contact(account, external_id="+15551234567"))
    conversation.last_inbound_at = timezone.now() - timedelta(hours=1)
    conversation.save()
    client = client_for(agent)

    ids = {}
    for text in ("busy then fine", "too late"):
        response = client.post(
            f"/api/messages/conversations/{conversation.pk}/messages/", {"text": text}, format="json"
        )
        assert response.status_code == 201, response.content
        assert response.json()["status"] == "queued"  # stored at once; the worker sends it
        ids[text] = response.json()["id"]

    def settled():
        rows = {m.text: m for m in Message.objects.filter(pk__in=ids.values())}
        return rows if all(m.status in FINAL for m in rows.values()) else None

    rows = wait_for(settled)
    assert rows, f"the worker did not settle the messages; its log:\n{process.log.read_text()[-4000:]}"
    busy, late = rows["busy then fine"], rows["too late"]
    assert (busy.status, busy.platform_message_id, busy.error_code) == ("sent", "wamid.LIVE1", "")
    attempts = [r for r in vendor.requests("POST", path) if r.json["text"]["body"] == "busy then fine"]
    assert len(attempts) == 2 and attempts[1].at - attempts[0].at >= 0.5  # the worker's countdown, then success
    assert (late.status, late.error_code) == ("failed", "131047")
    assert late.error_message.startswith("More than 24 hours have passed")
    assert len([r for r in vendor.requests("POST", path) if r.json["text"]["body"] == "too late"]) == 1

    # An expired token: failed, and the account is marked for reconnection by the worker.
    response = client.post(
        f"/api/messages/conversations/{conversation.pk}/messages/", {"text": "token?"}, format="json"
    )
    expired_id = response.json()["id"]
    expired = wait_for(lambda: Message.objects.filter(pk=expired_id, status__in=FINAL).first())
    assert expired is not None and (expired.status, expired.error_code) == ("failed", "190")
    account.refresh_from_db()
    assert account.needs_reconnect
