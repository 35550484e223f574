"""The sandbox as an agent sees it in the embedded mode (no worker): the API answers `queued`, and over the
WebSocket come sent, delivered and read, with real delays between them, then the simulated customer's reply — the
send and the simulated platform run on in-process threads, their events delivered on the server's event loop."""

from __future__ import annotations

import json
import time

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from config.asgi import application
from switchboard.inbox import inprocess
from switchboard.inbox.models import Direction, Message
from switchboard.inbox.tests.outbound_support import conversation_for
from switchboard.platforms.models import Platform, Provider
from switchboard.sandbox import simulation

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

STEP = 0.3  # seconds between the simulated platform's callbacks in this test


@pytest.fixture(autouse=True)
def _embedded(settings, monkeypatch):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    settings.INPROCESS_TASK_THREADS = 2  # the server's threads, not the suite's inline mode
    for name in ("DELIVERED_AFTER", "READ_AFTER", "REPLY_AFTER"):
        monkeypatch.setattr(simulation, name, STEP)
    yield
    assert inprocess.wait_idle(30), "in-process jobs still running after the test"


async def test_statuses_then_the_reply_arrive_over_the_websocket_in_order_and_in_time(
    celery_eager, make_user, make_account, org
):
    agent = await sync_to_async(make_user)(org)
    account = await sync_to_async(make_account)(
        org, Platform.WHATSAPP, Provider.SANDBOX, credentials={}, settings={"simulate_replies": True}
    )
    conversation = await sync_to_async(conversation_for)(account)
    communicator = WebsocketCommunicator(application, f"/ws/messages/?token={AccessToken.for_user(agent)}")
    assert (await communicator.connect())[0]
    assert (await communicator.receive_json_from())["type"] == "connection.ready"

    # The web app's request, in a thread of asgiref's as under daphne.
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(agent)}")
    response = await sync_to_async(client.post)(
        f"/api/messages/conversations/{conversation.pk}/messages/",
        json.dumps({"text": "Viewing on Saturday?"}),
        content_type="application/json",
    )
    assert response.status_code == 201 and response.json()["status"] == "queued"
    ours = response.json()["id"]

    arrivals: list[tuple[str, str, float]] = []  # (event, status of the message it carries, when)
    while not any(event == "message.created" and status == "received" for event, status, _ in arrivals):
        frame = await communicator.receive_json_from(timeout=10)
        if frame["type"] in ("message.created", "message.updated"):
            arrivals.append((frame["type"], frame["data"]["status"], time.monotonic()))
    await communicator.disconnect()

    assert [(event, status) for event, status, _ in arrivals] == [
        ("message.created", "queued"),
        ("message.updated", "sent"),
        ("message.updated", "delivered"),
        ("message.updated", "read"),
        ("message.created", "received"),  # the simulated customer
    ]
    sent, delivered, read, reply = (at for _, _, at in arrivals[1:])
    # Real waits, not a burst: each callback came after its delay (a little slack for the clock).
    assert delivered - sent >= STEP - 0.05 and read - delivered >= STEP - 0.05 and reply - read >= STEP - 0.05
    answer = await sync_to_async(Message.objects.get)(conversation=conversation, direction=Direction.INBOUND)
    assert answer.payload["simulated"] is True and answer.reply_to_id == ours
