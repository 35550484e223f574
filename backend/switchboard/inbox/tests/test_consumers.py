"""The WebSocket: JWT in three places, 4401 otherwise, one's own group only, ping/pong."""

from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from rest_framework_simplejwt.tokens import AccessToken

from config.asgi import application
from switchboard.inbox.realtime import broadcast

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.fixture(autouse=True)
def _in_memory_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def token_for(user, lifetime: timedelta | None = None) -> str:
    token = AccessToken.for_user(user)
    if lifetime is not None:
        token.set_exp(lifetime=lifetime)
    return str(token)


async def connect(path: str, headers=None, subprotocols=None) -> tuple[WebsocketCommunicator, bool, object]:
    communicator = WebsocketCommunicator(application, path, headers=headers or [], subprotocols=subprotocols)
    connected, subprotocol = await communicator.connect()
    return communicator, connected, subprotocol


async def test_query_token_joins_own_group_and_receives_events(make_user, org):
    user = await sync_to_async(make_user)(org)
    communicator, connected, _ = await connect(f"/ws/messages/?token={token_for(user)}")
    assert connected
    assert (await communicator.receive_json_from())["type"] == "connection.ready"
    await sync_to_async(broadcast)([user.pk], "message.created", {"id": 7})
    assert await communicator.receive_json_from() == {"type": "message.created", "data": {"id": 7}}
    await communicator.disconnect()


async def test_authorization_header_is_accepted(make_user, org):
    user = await sync_to_async(make_user)(org)
    communicator, connected, _ = await connect(
        "/ws/messages/", headers=[(b"authorization", f"Bearer {token_for(user)}".encode())]
    )
    assert connected and (await communicator.receive_json_from())["type"] == "connection.ready"
    await communicator.disconnect()


async def test_bearer_subprotocol_pair_is_accepted_and_echoed(make_user, org):
    user = await sync_to_async(make_user)(org)
    communicator, connected, subprotocol = await connect("/ws/messages/", subprotocols=["bearer", token_for(user)])
    assert connected and subprotocol == "bearer"
    assert (await communicator.receive_json_from())["type"] == "connection.ready"
    await communicator.disconnect()


@pytest.mark.parametrize("query", ["", "?token=not-a-jwt"])
async def test_missing_or_invalid_token_closes_with_4401(query):
    communicator, connected, _ = await connect(f"/ws/messages/{query}")
    assert connected  # accepted first so the close code reaches the client
    assert (await communicator.receive_output())["code"] == 4401


async def test_expired_token_closes_with_4401(make_user, org):
    user = await sync_to_async(make_user)(org)
    communicator, _, _ = await connect(f"/ws/messages/?token={token_for(user, timedelta(seconds=-5))}")
    assert (await communicator.receive_output())["code"] == 4401


async def test_inactive_user_is_refused(make_user, org):
    user = await sync_to_async(make_user)(org)
    user.is_active = False
    await sync_to_async(user.save)()
    communicator, _, _ = await connect(f"/ws/messages/?token={token_for(user)}")
    assert (await communicator.receive_output())["code"] == 4401


async def test_another_users_events_never_arrive(make_user, org, make_org):
    me = await sync_to_async(make_user)(org)
    stranger = await sync_to_async(make_user)(await sync_to_async(make_org)())
    communicator, _, _ = await connect(f"/ws/messages/?token={token_for(me)}")
    await communicator.receive_json_from()
    await sync_to_async(broadcast)([stranger.pk], "message.created", {"id": 1})
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.disconnect()


async def test_ping_pong(make_user, org):
    user = await sync_to_async(make_user)(org)
    communicator, _, _ = await connect(f"/ws/messages/?token={token_for(user)}")
    await communicator.receive_json_from()
    await communicator.send_json_to({"type": "ping"})
    assert (await communicator.receive_json_from())["type"] == "pong"
    await communicator.disconnect()


async def test_browser_from_a_foreign_origin_is_rejected(make_user, org):
    user = await sync_to_async(make_user)(org)
    _communicator, connected, _ = await connect(
        f"/ws/messages/?token={token_for(user)}", headers=[(b"origin", b"https://evil.example")]
    )
    assert not connected


async def test_group_send_goes_through_the_channel_layer(make_user, org):
    """The consumer listens on messages_<user_id>: a raw group_send reaches it."""
    user = await sync_to_async(make_user)(org)
    communicator, _, _ = await connect(f"/ws/messages/?token={token_for(user)}")
    await communicator.receive_json_from()
    await get_channel_layer().group_send(
        f"messages_{user.pk}", {"type": "inbox.event", "event": "card.update", "data": {"listing_id": 3}}
    )
    assert (await communicator.receive_json_from())["type"] == "card.update"
    await communicator.disconnect()
