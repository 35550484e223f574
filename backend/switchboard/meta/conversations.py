"""Messenger / Instagram history through the Graph Conversations API, as the same events webhooks produce.

    GET /{page-or-ig-node}/conversations?platform=messenger|instagram
        &fields=id,updated_time,participants,messages.limit(N){id,created_time,from,to,message,attachments,…}
    GET /{conversation-id}/messages?fields=…&after=<cursor>          (the rest of one conversation's messages)

Conversations come newest first (by `updated_time`) and so do the messages inside one; both are paged with
`paging.cursors.after`, and the absence of `paging.next` marks the last page. The walk stops at the end, or as soon
as everything further is older than `since` (the account's last sync, minus an overlap).

Each Graph message is rewritten into the shape of a `messaging[]` webhook event and handed to the same parser
(`meta.messaging.parse_messaging_event`), so a message seen by webhook and by sync normalizes identically — same
`mid`, same kind, same echo decision — and `MessageService` stores it once. Each conversation is yielded oldest
first, so the thread reads in order while it is ingested.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from switchboard.inbox.events import ContactProfile, InboundEvent, InboundMessage
from switchboard.meta.graph import GraphClient
from switchboard.meta.messaging import parse_messaging_event, parse_timestamp

CONVERSATIONS_PAGE_SIZE = 25
MESSAGES_PAGE_SIZE = 50
MESSAGE_FIELDS = (
    "id,created_time,from,to,message,"
    "attachments{id,mime_type,name,image_data,video_data,file_url},shares{link,name,description},sticker"
)


def conversation_fields(messages_page_size: int = MESSAGES_PAGE_SIZE) -> str:
    return f"id,updated_time,participants,messages.limit({messages_page_size}){{{MESSAGE_FIELDS}}}"


def fetch_history(
    client: GraphClient,
    *,
    node: str,
    platform: str,
    business_id: str,
    since: datetime | None,
    conversations_page_size: int = CONVERSATIONS_PAGE_SIZE,
    messages_page_size: int = MESSAGES_PAGE_SIZE,
) -> Iterator[InboundEvent]:
    """Every message since `since` of every conversation of `node`, one conversation at a time (oldest first
    inside each). Raises GraphError when a page cannot be read."""
    after: str | None = None
    while True:
        params: dict[str, Any] = {
            "platform": platform,
            "fields": conversation_fields(messages_page_size),
            "limit": conversations_page_size,
        }
        if after:
            params["after"] = after
        page = client.get(f"{node}/conversations", params)
        for conversation in _list(page.get("data")):
            updated = _time_or_none(conversation.get("updated_time"))
            if since is not None and updated is not None and updated < since:
                return  # newest first: every conversation after this one is older still
            messages = _conversation_messages(client, conversation, since, messages_page_size)
            yield from _events(conversation, reversed(messages), business_id)
        after = _next_cursor(page)
        if after is None:
            return


def _conversation_messages(
    client: GraphClient, conversation: dict[str, Any], since: datetime | None, page_size: int
) -> list[dict[str, Any]]:
    """The conversation's messages newer than `since`, newest first, following its paging to the end."""
    collected: list[dict[str, Any]] = []
    page = conversation.get("messages") if isinstance(conversation.get("messages"), dict) else None
    if page is None and conversation.get("id"):
        page = client.get(f"{conversation['id']}/messages", {"fields": MESSAGE_FIELDS, "limit": page_size})
    while page is not None:
        for message in _list(page.get("data")):
            created = _time_or_none(message.get("created_time"))
            if since is not None and created is not None and created < since:
                return collected
            collected.append(message)
        after = _next_cursor(page)
        if after is None or not conversation.get("id"):
            return collected
        page = client.get(
            f"{conversation['id']}/messages", {"fields": MESSAGE_FIELDS, "limit": page_size, "after": after}
        )
    return collected


def _events(conversation: dict[str, Any], messages: Any, business_id: str) -> Iterator[InboundEvent]:
    profiles = _participants(conversation, business_id)
    for message in messages:
        event = messaging_event(message, business_id=business_id)
        if event is None:
            continue
        for parsed in parse_messaging_event(event, business_id=business_id):
            if isinstance(parsed, InboundMessage) and parsed.contact.external_id in profiles:
                # Webhooks carry only ids; the Conversations API also names the person.
                parsed = dataclasses.replace(parsed, contact=profiles[parsed.contact.external_id])
            yield parsed


def messaging_event(message: dict[str, Any], *, business_id: str) -> dict[str, Any] | None:
    """A Conversations API message in the shape of a `messaging[]` webhook event (None when it names no one)."""
    if not isinstance(message, dict) or not message.get("id"):
        return None
    sender = str((message.get("from") or {}).get("id") or "")
    recipients = [str(r.get("id")) for r in _list((message.get("to") or {}).get("data")) if r.get("id")]
    recipient = next((r for r in recipients if r != sender), recipients[0] if recipients else "")
    if not sender or not recipient:
        return None
    content: dict[str, Any] = {"mid": str(message["id"]), "text": message.get("message") or ""}
    attachments = [
        a for a in (_attachment(item) for item in _list((message.get("attachments") or {}).get("data"))) if a
    ]
    for share in _list((message.get("shares") or {}).get("data")):
        if share.get("link"):
            attachments.append({"type": "share", "payload": {"url": share["link"], "title": share.get("name", "")}})
    if isinstance(message.get("sticker"), str) and message["sticker"]:
        attachments.append({"type": "image", "payload": {"url": message["sticker"], "sticker_id": "sticker"}})
    if attachments:
        content["attachments"] = attachments
    if sender == business_id:
        content["is_echo"] = True
    return {
        "sender": {"id": sender},
        "recipient": {"id": recipient},
        "timestamp": message.get("created_time"),
        "message": content,
    }


def _attachment(item: Any) -> dict[str, Any] | None:
    if not isinstance(item, dict):
        return None
    mime = str(item.get("mime_type") or "")
    if isinstance(item.get("image_data"), dict) and item["image_data"].get("url"):
        return {"type": "image", "payload": {"url": item["image_data"]["url"]}}
    if isinstance(item.get("video_data"), dict) and item["video_data"].get("url"):
        return {"type": "video", "payload": {"url": item["video_data"]["url"]}}
    if item.get("file_url"):
        kind = "audio" if mime.startswith("audio/") else "video" if mime.startswith("video/") else "file"
        return {"type": kind, "payload": {"url": item["file_url"]}}
    return None


def _participants(conversation: dict[str, Any], business_id: str) -> dict[str, ContactProfile]:
    profiles = {}
    for person in _list((conversation.get("participants") or {}).get("data")):
        person_id = str(person.get("id") or "")
        if person_id and person_id != business_id:
            profiles[person_id] = ContactProfile(
                external_id=person_id, name=str(person.get("name") or ""), username=str(person.get("username") or "")
            )
    return profiles


def _next_cursor(page: dict[str, Any]) -> str | None:
    paging = value if isinstance(value := page.get("paging"), dict) else {}
    if not paging.get("next"):
        return None  # Graph keeps cursors on the last page too; only `next` says there is more
    cursors = value if isinstance(value := paging.get("cursors"), dict) else {}
    after = cursors.get("after")
    return str(after) if after else None


def _list(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _time_or_none(value: Any) -> datetime | None:
    try:
        return parse_timestamp(value)
    except ValueError:
        return None
