"""A Messenger / Instagram inbox held by the fake Graph API: the Conversations API over a data set, paged with
cursors the way Graph pages (`paging.cursors.after`, and `paging.next` only while there is more).

    inbox = FakeConversations(page_id="109876543210987", platform="messenger")
    inbox.add_conversation("c1", customer_id="7281946350172634", name="Maya", messages=[...newest first...])
    inbox.install(vendor)     # routes GET /vX/{node}/conversations and GET /vX/{conversation-id}/messages
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.fakes.vendor import FakeVendor, Reply, Request


def graph_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    return int(base64.urlsafe_b64decode(cursor.encode()).decode().split(":", 1)[1])


@dataclass
class FakeConversation:
    id: str
    customer_id: str
    name: str
    username: str
    messages: list[dict[str, Any]] = field(default_factory=list)  # newest first, as Graph returns them

    @property
    def updated_time(self) -> str:
        return self.messages[0]["created_time"] if self.messages else graph_time(datetime.now(UTC))


class FakeConversations:
    def __init__(
        self,
        *,
        node: str,
        business_id: str,
        platform: str,
        conversations_page_size: int = 2,
        messages_page_size: int = 25,
    ) -> None:
        self.node = node
        self.business_id = business_id
        self.platform = platform
        self.conversations_page_size = conversations_page_size
        self.messages_page_size = messages_page_size
        self.conversations: list[FakeConversation] = []

    def add_conversation(
        self,
        conversation_id: str,
        *,
        customer_id: str,
        name: str = "",
        username: str = "",
        count: int,
        start: datetime,
        step: timedelta = timedelta(minutes=1),
        mid_prefix: str | None = None,
        business_every: int = 0,
    ) -> FakeConversation:
        """`count` messages from `start`, one per `step`; every `business_every`-th one is the business's reply.
        Message ids are `<mid_prefix><n>` (n from 1, oldest first)."""
        prefix = mid_prefix or f"m_{conversation_id}_"
        messages = []
        for n in range(1, count + 1):
            from_business = bool(business_every) and n % business_every == 0
            sender = self.business_id if from_business else customer_id
            recipient = customer_id if from_business else self.business_id
            messages.append(
                {
                    "id": f"{prefix}{n}",
                    "created_time": graph_time(start + step * (n - 1)),
                    "from": {"id": sender, **({"name": name} if not from_business else {})},
                    "to": {"data": [{"id": recipient}]},
                    "message": f"{conversation_id} message {n}",
                }
            )
        messages.reverse()
        conversation = FakeConversation(conversation_id, customer_id, name, username, messages)
        self.conversations.append(conversation)
        self.conversations.sort(key=lambda c: c.updated_time, reverse=True)
        return conversation

    def install(self, vendor: FakeVendor) -> None:
        vendor.on("GET", rf"/v[\d.]+/{re.escape(self.node)}/conversations", self._list_conversations)
        vendor.on("GET", r"/v[\d.]+/[^/]+/messages", self._list_messages)

    def _page(self, items: list[Any], request: Request, size: int, path: str) -> tuple[list[Any], dict[str, Any]]:
        start = _offset(request.param("after"))
        page = items[start : start + size]
        paging: dict[str, Any] = {"cursors": {"before": _cursor(start), "after": _cursor(start + len(page))}}
        if start + size < len(items):
            paging["next"] = f"https://graph.facebook.com/v21.0/{path}?after={_cursor(start + len(page))}"
        return page, paging

    def _messages_page(self, conversation: FakeConversation, request: Request | None) -> dict[str, Any]:
        fake = request or Request("GET", "", {}, {}, b"", 0.0)
        limit = int(fake.param("limit") or self.messages_page_size)
        page, paging = self._page(conversation.messages, fake, min(limit, self.messages_page_size),
                                  f"{conversation.id}/messages")  # fmt: skip
        return {"data": page, "paging": paging}

    def _list_conversations(self, request: Request) -> Reply:
        if request.param("platform") != self.platform:
            return Reply(400, {"error": {"message": "platform is required", "type": "OAuthException", "code": 100}})
        if "messages" not in (request.param("fields") or ""):
            return Reply(400, {"error": {"message": "fields must ask for messages", "code": 100}})
        page, paging = self._page(
            self.conversations, request, self.conversations_page_size, f"{self.node}/conversations"
        )
        data = []
        for conversation in page:
            customer = {"id": conversation.customer_id, "name": conversation.name}
            if conversation.username:
                customer["username"] = conversation.username
            data.append(
                {
                    "id": conversation.id,
                    "updated_time": conversation.updated_time,
                    "participants": {"data": [customer, {"id": self.business_id, "name": "The business"}]},
                    "messages": self._messages_page(conversation, None),
                }
            )
        return Reply(200, {"data": data, "paging": paging})

    def _list_messages(self, request: Request) -> Reply:
        conversation_id = request.path.rstrip("/").split("/")[-2]
        conversation = next((c for c in self.conversations if c.id == conversation_id), None)
        if conversation is None:
            return Reply(404, {"error": {"message": "Unknown conversation", "code": 100}})
        return Reply(200, self._messages_page(conversation, request))
