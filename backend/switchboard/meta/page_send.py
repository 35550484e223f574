"""Outbound and history for Messenger and Instagram (Messenger Platform, Page access token): one mixin both
adapters share. WhatsApp Cloud has its own (whatsapp/adapter.py, whatsapp/cloud_api.py) on the
same Graph send helpers (meta/messages.py).

* Send API: `POST /{node}/messages` — Messenger uses the Page id, Instagram `me` (the Page the token belongs to,
  which is linked to the Instagram account). Within 24 hours of the customer's last message a reply is
  `messaging_type=RESPONSE`; after that, up to 7 days, an agent's reply goes as `MESSAGE_TAG` + `HUMAN_AGENT`.
  The API refuses (409) anything later before it is queued (inbox/services/sending.py).
* Read receipts: `sender_action: mark_seen` to the customer.
* History: the Conversations API (meta/conversations.py).
* Connection test (`check_connection`): `GET /{node}?fields=id,name` with the Page token. (The scheduled sync has no
  separate health check here: reading the conversations already proves the token.)
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from switchboard.inbox import sendable
from switchboard.inbox.events import InboundEvent
from switchboard.inbox.models import Message
from switchboard.meta import cards, conversations, messages
from switchboard.meta.graph import GraphClient, GraphError
from switchboard.platforms.models import PlatformAccount
from switchboard.platforms.registry import LISTING_GONE, PlatformError, SendResult


class MessagingOutboundMixin:
    platform: str

    def node(self, account: PlatformAccount) -> str:
        """The Graph node messages are sent from and conversations listed on."""
        return account.external_id

    def _client(self, account: PlatformAccount) -> GraphClient:
        return GraphClient(account.credential("access_token"))

    def send(self, message: Message) -> SendResult:
        account = message.platform_account
        conversation = message.conversation
        try:
            client = self._client(account)
        except GraphError as exc:
            return messages.classify(exc)
        content = sendable.content_of(message)
        if content.is_template:
            return SendResult.failure("unsupported", "Templates are a WhatsApp feature; send text instead.")
        if content.is_listing:
            card = sendable.listing_card(message)
            if card is None:
                return LISTING_GONE
            body = cards.messenger_card(card)
        elif content.attachment is not None:
            try:
                body = messages.messenger_attachment(
                    content.attachment.kind, sendable.media_public_url(content.attachment)
                )
            except sendable.MediaUnavailable as exc:
                return SendResult.failure("media_unavailable", str(exc))
        else:
            body = {"text": message.text}
        window = sendable.messaging_window(conversation)
        request = messages.messenger_body(
            recipient_id=conversation.contact.external_id,
            message=body,
            human_agent=window != sendable.Window.OPEN,
            metadata=sendable.metadata_for(message.pk),
        )
        return messages.graph_post(client, f"{self.node(account)}/messages", request)

    def mark_read(self, message: Message) -> SendResult:
        account = message.platform_account
        try:
            client = self._client(account)
        except GraphError as exc:
            return messages.classify(exc)
        body = messages.mark_seen_body(message.conversation.contact.external_id)
        return messages.graph_call(client, "POST", f"{self.node(account)}/messages", json=body)

    def fetch_history(self, account: PlatformAccount, since: datetime | None) -> Iterable[InboundEvent]:
        try:
            yield from conversations.fetch_history(
                self._client(account),
                node=self.node(account),
                platform=self.platform,
                business_id=account.external_id,
                since=since,
            )
        except GraphError as exc:
            raise PlatformError(messages.classify(exc)) from exc

    def check_connection(self, account: PlatformAccount) -> dict[str, Any]:
        """One cheap authenticated call: the node messages are sent from (the Page; `me` for Instagram)."""
        try:
            node = self._client(account).get(self.node(account), {"fields": "id,name"})
        except GraphError as exc:
            raise PlatformError(messages.classify(exc)) from exc
        name = str(node.get("name") or "")
        detail = f"Connected as {name}." if name else "Connected."
        return {"ok": True, "id": str(node.get("id") or ""), "name": name, "detail": detail}
