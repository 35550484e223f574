"""End to end on the production topology: a live daphne on PostgreSQL and the Redis channel layer.
An agent's WebSocket receives `message.created` for a signed webhook posted over HTTP; an agent of another
tenant receives nothing."""

from __future__ import annotations

import asyncio
import json

import pytest
import requests
import websockets
from django.conf import settings
from django.db import connection
from rest_framework_simplejwt.tokens import AccessToken

from switchboard.inbox.models import Message
from switchboard.platforms.models import Platform
from switchboard.webhooks.testing import META_APP_SECRET, fixture_bytes, meta_signature
from tests.live.servers import database_url_for, running_server, server_env

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


async def _receive_types(url: str, seconds: float, ready: asyncio.Event, out: list[dict]) -> None:
    async with websockets.connect(url) as ws:
        out.append(json.loads(await asyncio.wait_for(ws.recv(), 5)))  # connection.ready
        ready.set()
        try:
            while True:
                out.append(json.loads(await asyncio.wait_for(ws.recv(), seconds)))
        except TimeoutError:
            return


def test_webhook_reaches_own_tenant_websocket_only(require_postgres, require_redis, make_org, make_user, make_account):
    org, other_org = make_org(), make_org()
    agent, outsider = make_user(org), make_user(other_org)
    make_account(org, Platform.WHATSAPP, external_id="106540352242922")
    body = fixture_bytes("whatsapp", "cloud__text__basic.json")

    env = server_env(
        DATABASE_URL=database_url_for(connection.settings_dict),
        REDIS_URL=settings.REDIS_URL,
        META_APP_SECRET=META_APP_SECRET,
    )
    with running_server("daphne", env) as base_url:
        ws_base = base_url.replace("http://", "ws://") + "/ws/messages/?token="

        async def scenario() -> tuple[list[dict], list[dict]]:
            mine: list[dict] = []
            theirs: list[dict] = []
            ready_a, ready_b = asyncio.Event(), asyncio.Event()
            listeners = [
                asyncio.create_task(_receive_types(ws_base + str(AccessToken.for_user(agent)), 3, ready_a, mine)),
                asyncio.create_task(_receive_types(ws_base + str(AccessToken.for_user(outsider)), 3, ready_b, theirs)),
            ]
            await asyncio.wait_for(asyncio.gather(ready_a.wait(), ready_b.wait()), 10)
            response = await asyncio.to_thread(
                requests.post,
                f"{base_url}/api/webhooks/whatsapp/",
                data=body,
                headers={"Content-Type": "application/json", "X-Hub-Signature-256": meta_signature(body)},
                timeout=10,
            )
            assert response.status_code == 200, response.text
            await asyncio.gather(*listeners)
            return mine, theirs

        mine, theirs = asyncio.run(scenario())

    assert [e["type"] for e in theirs] == ["connection.ready"]
    created = [e for e in mine if e["type"] == "message.created"]
    assert len(created) == 1
    stored = Message.objects.get()
    assert created[0]["data"]["id"] == stored.pk and created[0]["data"]["text"] == stored.text
    assert any(e["type"] == "conversation.updated" for e in mine)
