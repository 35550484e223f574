"""WhatsApp Cloud API (Meta) webhooks → normalized inbox events.

A delivery is `{"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value":
{...}}]}]}`. One POST may carry several entries, several changes and, inside one `value`, several `messages` and
`statuses` mixed: `iter_changes` yields every `value` with the phone number it belongs to, `parse_value` turns every
message and every status in it into events.

Decisions (see the tests for each):
* `order` (a cart sent from a catalog / product message) is `kind=interactive`: like a button or list reply it is
  the customer's structured answer to something we sent. Its text and items are kept in the payload.
* `system` (number or identity changed) is `kind=system` with the body as text; `request_welcome` (a user opening
  the chat for the first time) is a `system` message with empty text.
* `unsupported`, `unknown` and any type we do not know are `kind=unsupported`, with the type and the errors.
* Messages with a `group_id` (Cloud API groups) produce no event: a group is not a one-to-one contact.
* Statuses: sent / delivered / read / failed map to themselves; `played` (a voice note was played) is `read`;
  `deleted` (legacy: the customer deleted a message) is a `MessageDeleted`; any other status produces no event.
* A `value` carrying only `errors` (a delivery-level error from Meta) produces no event.
* Voice notes are audio attachments with `payload.voice = true`: `audio` with `voice: true`, and the older API's
  `type: voice`.
* The contact is the phone number when WhatsApp gives a valid one; for a business-scoped user (`from` missing or
  `US.…`) it is the BSUID (`from_user_id` / `contacts[].user_id`) with an empty phone number. Every well-formed id
  WhatsApp gives rides along (`user_id`, `parent_user_id`, `username`), so the service can find the contact by any
  of them; a malformed BSUID is dropped, never taken for the sender.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from switchboard.inbox.events import (
    AttachmentRef,
    ContactProfile,
    InboundEvent,
    InboundMessage,
    MessageDeleted,
    Reaction,
    StatusUpdate,
)
from switchboard.inbox.models import MessageKind, MessageStatus
from switchboard.meta.timestamps import parse_timestamp
from switchboard.whatsapp.parsers import PHONE, as_dict, as_float, as_list, as_str, compact, user_id_or_empty

_MEDIA_TYPES = {
    "image": MessageKind.IMAGE,
    "video": MessageKind.VIDEO,
    "audio": MessageKind.AUDIO,
    "document": MessageKind.DOCUMENT,
    "sticker": MessageKind.STICKER,
    "voice": MessageKind.AUDIO,  # the older API's voice note: `{"type": "voice", "voice": {"id", "mime_type", …}}`
}

_STATUSES = {
    "sent": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "read": MessageStatus.READ,
    "played": MessageStatus.READ,  # a played voice note has certainly been seen
    "failed": MessageStatus.FAILED,
}


def iter_changes(payload: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(metadata.phone_number_id, value) for every entry and every change with field "messages"."""
    if not isinstance(payload, dict):
        raise ValueError("a WhatsApp Cloud delivery must be a JSON object")
    entries = payload.get("entry")
    if not isinstance(entries, list):
        raise ValueError("a WhatsApp Cloud delivery must carry an 'entry' list")
    found: list[tuple[str, dict[str, Any]]] = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise ValueError("every 'entry' must be an object")
        for change in as_list(entry.get("changes")):
            # Other fields (template status, account updates, …) are not conversation traffic.
            if not isinstance(change, dict) or change.get("field") != "messages":
                continue
            value = change.get("value")
            if not isinstance(value, dict):
                raise ValueError("a 'messages' change must carry a 'value' object")
            phone_number_id = as_str(as_dict(value.get("metadata")).get("phone_number_id"))
            if not phone_number_id:
                raise ValueError("a 'messages' change has no metadata.phone_number_id")
            found.append((phone_number_id, value))
    return found


def parse_value(value: dict[str, Any]) -> list[InboundEvent]:
    """Every message and every status of one change's `value`, in payload order (messages first)."""
    if not isinstance(value, dict):
        raise ValueError("a 'messages' change value must be an object")
    contacts = [c for c in as_list(value.get("contacts")) if isinstance(c, dict)]
    events: list[InboundEvent] = []
    for message in as_list(value.get("messages")):
        event = _parse_message(message, contacts)
        if event is not None:
            events.append(event)
    for status in as_list(value.get("statuses")):
        event = _parse_status(status)
        if event is not None:
            events.append(event)
    return events


# --- messages -------------------------------------------------------------------------------------------------------


def _parse_message(message: Any, contacts: list[dict[str, Any]]) -> InboundEvent | None:
    if not isinstance(message, dict):
        raise ValueError("every entry of 'messages' must be an object")
    message_id = as_str(message.get("id"))
    if not message_id:
        raise ValueError("a WhatsApp message has no 'id'")
    if message.get("group_id"):
        return None
    timestamp = parse_timestamp(message.get("timestamp"), what=f"timestamp of message {message_id}")
    contact = _sender(message, contacts)
    kind = as_str(message.get("type"))

    if kind == "reaction":
        reaction = as_dict(message.get("reaction"))
        target = as_str(reaction.get("message_id"))
        if not target:
            raise ValueError(f"reaction {message_id} names no message_id")
        emoji = as_str(reaction.get("emoji"))
        return Reaction(
            target_platform_message_id=target,
            contact=contact,
            emoji=emoji,
            timestamp=timestamp,
            platform_message_id=message_id,
            removed=not emoji,  # WhatsApp omits (or empties) the emoji when the customer takes the reaction off
            raw=message,
        )

    context = as_dict(message.get("context"))
    payload: dict[str, Any] = compact(
        {
            "forwarded": bool(context.get("forwarded")) or None,
            "frequently_forwarded": bool(context.get("frequently_forwarded")) or None,
            "referred_product": as_dict(context.get("referred_product")) or None,
            "referral": as_dict(message.get("referral")) or None,  # Click-to-WhatsApp ad the chat started from
            "errors": as_list(message.get("errors")) or None,
        }
    )
    fields: dict[str, Any] = {"kind": MessageKind.UNSUPPORTED, "text": "", "attachments": ()}

    if kind == "text":
        fields.update(kind=MessageKind.TEXT, text=as_str(as_dict(message.get("text")).get("body")))
    elif kind in _MEDIA_TYPES:
        fields.update(_media(kind, as_dict(message.get(kind)), payload))
    elif kind == "location":
        location = as_dict(message.get("location"))
        fields["kind"] = MessageKind.LOCATION
        payload.update(
            compact(
                {
                    "latitude": as_float(location.get("latitude")),
                    "longitude": as_float(location.get("longitude")),
                    "name": as_str(location.get("name")),
                    "address": as_str(location.get("address")),
                    "url": as_str(location.get("url")),
                }
            )
        )
    elif kind == "contacts":
        fields["kind"] = MessageKind.CONTACTS
        payload["contacts"] = [c for c in as_list(message.get("contacts")) if isinstance(c, dict)]
    elif kind == "interactive":
        fields.update(_interactive(as_dict(message.get("interactive")), payload))
    elif kind == "button":
        button = as_dict(message.get("button"))
        fields.update(kind=MessageKind.INTERACTIVE, text=as_str(button.get("text")))
        payload.update(type="button", payload=as_str(button.get("payload")), title=as_str(button.get("text")))
    elif kind == "order":
        order = as_dict(message.get("order"))
        fields.update(kind=MessageKind.INTERACTIVE, text=as_str(order.get("text")))
        payload.update(
            type="order",
            catalog_id=as_str(order.get("catalog_id")),
            product_items=[item for item in as_list(order.get("product_items")) if isinstance(item, dict)],
        )
    elif kind == "system":
        system = as_dict(message.get("system"))
        fields.update(kind=MessageKind.SYSTEM, text=as_str(system.get("body")))
        payload.update(type="system", system=system)
    elif kind == "request_welcome":
        fields["kind"] = MessageKind.SYSTEM
        payload["type"] = "request_welcome"
    else:
        # `unsupported`, the older `unknown`, and types newer than this code: never an error, always kept.
        payload["type"] = kind or "unknown"
        unsupported_type = as_str(as_dict(message.get("unsupported")).get("type"))
        if unsupported_type:
            payload["unsupported_type"] = unsupported_type

    return InboundMessage(
        platform_message_id=message_id,
        contact=contact,
        timestamp=timestamp,
        payload=payload,
        reply_to_platform_id=as_str(context.get("id")),
        raw=message,
        **fields,
    )


def _media(kind: str, media: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    caption = as_str(media.get("caption"))
    if kind == "voice":
        payload["voice"] = True
    elif kind == "audio" and "voice" in media:
        payload["voice"] = bool(media.get("voice"))
    if kind == "sticker" and "animated" in media:
        payload["animated"] = bool(media.get("animated"))
    attachment = AttachmentRef(
        kind=_MEDIA_TYPES[kind],
        media_id=as_str(media.get("id")),
        url=as_str(media.get("url")),
        mime_type=as_str(media.get("mime_type")),
        filename=as_str(media.get("filename")),
        caption=caption,
        sha256=as_str(media.get("sha256")),
    )
    # The caption is also the message text, so previews and search see it.
    return {"kind": _MEDIA_TYPES[kind], "text": caption, "attachments": (attachment,)}


def _interactive(interactive: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    subtype = as_str(interactive.get("type"))
    reply = as_dict(interactive.get(subtype)) if subtype else {}
    payload["type"] = subtype or "interactive"
    if subtype in ("button_reply", "list_reply"):
        payload.update(
            compact(
                {
                    "id": as_str(reply.get("id")),
                    "title": as_str(reply.get("title")),
                    "description": as_str(reply.get("description")),
                }
            )
        )
        return {"kind": MessageKind.INTERACTIVE, "text": as_str(reply.get("title"))}
    if subtype == "nfm_reply":
        # A WhatsApp Flow or address message: the answers come as a JSON string; keep them as data when they parse.
        response: Any = as_str(reply.get("response_json"))
        with contextlib.suppress(ValueError):
            response = json.loads(response) if response else {}
        payload.update(compact({"name": as_str(reply.get("name")), "body": as_str(reply.get("body"))}))
        payload["response"] = response
        return {"kind": MessageKind.INTERACTIVE, "text": as_str(reply.get("body"))}
    # call_permission_reply and future replies: structured, so interactive, with everything WhatsApp sent.
    if reply:
        payload[subtype] = reply
    return {"kind": MessageKind.INTERACTIVE, "text": ""}


def _sender(message: dict[str, Any], contacts: list[dict[str, Any]]) -> ContactProfile:
    """The customer, with every id WhatsApp gives for them: the phone number (`from` / `contacts[].wa_id`) when it
    shares one, the business-scoped user id (`from_user_id` / `contacts[].user_id`, or a `US.…` in `from`), the
    parent BSUID and the username. `external_id` is the phone number when there is a valid one, else the BSUID: a
    malformed id never stands in for a valid phone number."""
    sender = as_str(message.get("from")).strip()
    raw_user_id = as_str(message.get("from_user_id")).strip()
    ids = {i for i in (sender, raw_user_id) if i}

    def keys(contact: dict[str, Any]) -> set[str]:
        return {k for k in (as_str(contact.get("wa_id")), as_str(contact.get("user_id"))) if k}

    entry = next((c for c in contacts if keys(c) & ids), None)
    if entry is None and len(contacts) == 1:
        # One contact whose ids do not contradict the message's (e.g. keyed only by user_id while the message has
        # only `from`): it is the sender. Several unmatched contacts are ambiguous, so none is used.
        only = contacts[0]
        wa_id, contact_user_id = as_str(only.get("wa_id")), as_str(only.get("user_id"))
        contradicts = (sender and wa_id and wa_id != sender) or (
            raw_user_id and contact_user_id and contact_user_id != raw_user_id
        )
        entry = None if contradicts else only
    entry = entry or {}
    profile = as_dict(entry.get("profile"))
    phone = next((v for v in (sender, as_str(entry.get("wa_id")).strip()) if PHONE.fullmatch(v)), "")
    user_id = user_id_or_empty(raw_user_id) or user_id_or_empty(entry.get("user_id")) or user_id_or_empty(sender)
    parent_user_id = user_id_or_empty(message.get("from_parent_user_id")) or user_id_or_empty(
        entry.get("parent_user_id")
    )
    # Nothing well-formed at all: the sender as WhatsApp wrote it, so the message is still kept.
    external_id = phone or user_id or parent_user_id or sender or raw_user_id
    if not external_id:
        raise ValueError(f"message {as_str(message.get('id'))} names no sender (no 'from' nor 'from_user_id')")
    return ContactProfile(
        external_id=external_id,
        name=as_str(profile.get("name")),
        username=as_str(profile.get("username")).strip(),
        phone_number=phone,
        user_id=user_id,
        parent_user_id=parent_user_id,
    )


# --- statuses -------------------------------------------------------------------------------------------------------


def _parse_status(status: Any) -> InboundEvent | None:
    if not isinstance(status, dict):
        raise ValueError("every entry of 'statuses' must be an object")
    message_id = as_str(status.get("id"))
    if not message_id:
        raise ValueError("a WhatsApp status has no 'id'")
    name = as_str(status.get("status")).lower()
    timestamp = parse_timestamp(status.get("timestamp"), what=f"timestamp of status {message_id}")
    # recipient_id is the phone (or group id); it is omitted when we wrote to the user's BSUID.
    recipient = as_str(status.get("recipient_id")) or as_str(status.get("recipient_user_id"))
    if name == "deleted":
        return MessageDeleted(
            platform_message_id=message_id,
            contact=ContactProfile(external_id=recipient, phone_number=recipient if PHONE.fullmatch(recipient) else ""),
            timestamp=timestamp,
            raw=status,
        )
    mapped = _STATUSES.get(name)
    if mapped is None:
        return None
    error_code, error_message = "", ""
    errors = [e for e in as_list(status.get("errors")) if isinstance(e, dict)]
    if errors:
        first = errors[0]
        error_code = as_str(first.get("code"))
        headline = as_str(first.get("title")) or as_str(first.get("message"))
        details = as_str(as_dict(first.get("error_data")).get("details"))
        error_message = ": ".join(part for part in (headline, details if details != headline else "") if part)
    return StatusUpdate(
        platform_message_id=message_id,
        status=mapped,
        timestamp=timestamp,
        recipient_id=recipient,
        error_code=error_code,
        error_message=error_message,
        raw=status,
    )
