"""The live inbox over WebSocket: `/ws/messages/`.

Authenticates the access JWT (`?token=`, the `Authorization: Bearer` header, or the subprotocol pair
`bearer, <token>`), joins only the user's own group `messages_<user_id>`, and relays inbox events as
`{"type": <event>, "data": <REST JSON>}`. A missing, invalid or expired token closes the socket with 4401.
Clients may send `{"type": "ping"}` and get `{"type": "pong"}`; daphne also pings at the protocol level.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.contrib.auth import get_user_model
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken

from switchboard.inbox.realtime import user_group

CLOSE_UNAUTHORIZED = 4401
BEARER_SUBPROTOCOL = "bearer"


def token_from_scope(scope: dict[str, Any]) -> tuple[str, str | None]:
    """(token, subprotocol to accept). The query string wins, then the header, then the subprotocol pair."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    if query.get("token"):
        return query["token"][0], None
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, credentials = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and credentials.strip():
                return credentials.strip(), None
    subprotocols = [p.strip() for p in scope.get("subprotocols", [])]
    if len(subprotocols) >= 2 and subprotocols[0].lower() == BEARER_SUBPROTOCOL:
        return subprotocols[1], subprotocols[0]
    return "", None


@database_sync_to_async
def _active_user_id(token: str) -> tuple[int, float] | None:
    try:
        access = AccessToken(token)  # type: ignore[arg-type]  # simplejwt annotates the encoded token as Token
    except TokenError:
        return None
    user_id = access.get("user_id")
    if user_id is None or not get_user_model().objects.filter(pk=user_id, is_active=True).exists():
        return None
    return int(user_id), float(access["exp"])


class InboxConsumer(AsyncJsonWebsocketConsumer):
    user_id: int | None = None
    group: str | None = None
    expires_at: float = 0.0

    async def connect(self) -> None:
        token, subprotocol = token_from_scope(self.scope)
        identity = await _active_user_id(token) if token else None
        # Accept first: a close before accept is an HTTP 403 that carries no code the client can act on.
        await self.accept(subprotocol=subprotocol)
        if identity is None:
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        self.user_id, self.expires_at = identity
        self.group = user_group(self.user_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.send_json({"type": "connection.ready", "data": {"user_id": self.user_id}})

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if await self._expired():
            return
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong", "data": {"ts": time.time()}})
        else:
            await self.send_json({"type": "error", "data": {"detail": 'Only {"type": "ping"} is accepted.'}})

    async def inbox_event(self, message: dict[str, Any]) -> None:
        if await self._expired():
            return
        await self.send_json({"type": message["event"], "data": message["data"]})

    async def _expired(self) -> bool:
        """An access token's life ends the session too: the client reconnects with a refreshed token."""
        if self.expires_at and time.time() >= self.expires_at:
            await self.close(code=CLOSE_UNAUTHORIZED)
            return True
        return False
