"""The sandbox provider on the production topology: a real `celery -A config worker` on the Redis broker and
PostgreSQL. The worker sends, the simulated platform's statuses are tasks with a countdown on the same queue, and
the scripted customer answers — nothing reaches a vendor."""

from __future__ import annotations

import json
import subprocess
import time
import uuid

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app as celery_app
from conftest import client_for
from switchboard.inbox.models import Direction, Message, MessageStatus
from switchboard.inbox.tests.outbound_support import conversation_for
from switchboard.platforms.models import Platform, PlatformAccount, Provider
from tests.live.servers import BACKEND_DIR, BIN, database_url_for, server_env

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(require_postgres, require_redis, tmp_path):
    queue = f"sb-test-sandbox-{uuid.uuid4().hex[:10]}"  # this test's own: no other worker takes its tasks
    previous = (celery_app.conf.task_default_queue, celery_app.conf.task_always_eager)
    celery_app.conf.task_default_queue, celery_app.conf.task_always_eager = queue, False
    env = server_env(
        DATABASE_URL=database_url_for(connection.settings_dict),
        REDIS_URL=settings.REDIS_URL,
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        CELERY_TASK_ALWAYS_EAGER="false",
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
    try:
        yield log
    finally:
        process.terminate()
        process.wait(timeout=20)
        celery_app.conf.task_default_queue, celery_app.conf.task_always_eager = previous


def test_a_worker_sends_and_the_simulated_platform_answers_with_countdowns(worker, make_user, org):
    agent = make_user(org)
    account = PlatformAccount.objects.create(
        organization=org,
        platform=Platform.MESSENGER,
        provider=Provider.SANDBOX,
        external_id="sandbox-live-page",
        display_name="Sandbox page",
        settings={"simulate_replies": True},
    )
    conversation = conversation_for(account, external_id="7281946350172634")

    response = client_for(agent).post(
        f"/api/messages/conversations/{conversation.pk}/messages/",
        json.dumps({"text": "Are you free on Saturday?"}),
        content_type="application/json",
    )
    assert response.status_code == 201 and response.json()["status"] == "queued"
    message_id = response.json()["id"]

    seen: dict[str, float] = {}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and "reply" not in seen:
        status = Message.objects.filter(pk=message_id).values_list("status", flat=True).first()
        seen.setdefault(status, time.monotonic())
        if Message.objects.filter(conversation=conversation, direction=Direction.INBOUND).exists():
            seen.setdefault("reply", time.monotonic())
        time.sleep(0.05)

    assert "reply" in seen, f"no reply; statuses seen: {seen}; worker log:\n{worker.read_text()[-3000:]}"
    assert seen.keys() >= {MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ, "reply"}
    # The worker's countdowns, not a burst: delivered 1.5 s after sent, read 2.5 s later, the reply 3 s after that.
    assert seen[MessageStatus.DELIVERED] - seen[MessageStatus.SENT] >= 1.0
    assert seen[MessageStatus.READ] - seen[MessageStatus.DELIVERED] >= 2.0
    assert seen["reply"] - seen[MessageStatus.READ] >= 2.5
    reply = Message.objects.get(conversation=conversation, direction=Direction.INBOUND)
    assert reply.text == "Thanks for getting back to me! Is it still available?" and reply.payload["simulated"] is True
    assert "sandbox.status" in worker.read_text()
