"""WhatsApp-Web bridge callbacks → normalized inbox events.

Two envelope families are understood:
* whatsapp-web.js style: `{"event": "message" | "new_message" | "message_create" | "message_ack" |
  "message_revoke_everyone" | "message_reaction", "data": {...}, "sessionId" | "session" | "clientId": ...}`,
  also as posted by the whatsapp-web.js REST wrappers: `{"dataType": ..., "data": {"message": {...}, "ack": 3},
  "sessionId": ...}`. The message is whatsapp-web.js's serialized `Message` (`id` object with `_serialized`,
  `type`, `body`, `timestamp` in seconds, `fromMe`, `hasMedia`, `_data`).
* WAHA: `{"id": "evt_…", "timestamp": <ms>, "event": "message" | "message.any" | "message.ack" |
  "message.reaction" | "message.revoked", "session": ..., "payload": {...}}` where the payload is WAHA's
  `WAMessage` (`id` string, `from`, `to`, `fromMe`, `body`, `hasMedia`, `media {url, mimetype, filename}`,
  `ack` / `ackName`, `replyTo`).

Decisions:
* Only one-to-one chats become events. Groups (`@g.us`), channels (`@newsletter`), status updates
  (`status@broadcast`) and broadcast lists (`@broadcast`) produce **no event**: they are not a contact, and the
  pipeline logs the delivery as ignored. `@c.us` / `@s.whatsapp.net` chats carry a phone number; `@lid` chats are
  one-to-one but hide it, so the contact is the lid with no phone number.
* `fromMe: true` is our own message (sent from the phone or through the bridge API): `is_echo=True`, and the
  contact's name is not taken from it (the push name there is ours).
* `hasMedia: true` without a media URL still yields an attachment, keyed by the message id, so the media task can
  ask the bridge for it.
* Acks: -1 → failed, 0 (pending) → sending, 1 (server) → sent, 2 (device) → delivered, 3 (read) and 4 (played) →
  read. Acks on messages that are not ours are dropped (statuses are about what we sent).
* Timestamps are seconds in messages and milliseconds on WAHA envelopes; both are accepted everywhere. An ack
  carries no time of its own: the envelope's, else `now`.
* Bridge message ids are the serialized form `<fromMe>_<chat>_<id>` that the bridges use to reply and react; a
  bare id (WAHA `revokedMessageId`, quoted `replyTo.id`) is expanded to it.
* Non-message events (session status, QR, calls, …) produce no event.
"""

from __future__ import annotations

from datetime import UTC, datetime
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
from switchboard.whatsapp.parsers import as_dict, as_float, as_list, as_str, compact, kind_for_mime

# WAHA's `message.waiting` ("waiting for this message") and `message.edited` are not messages of their own: no event.
_MESSAGE_EVENTS = {"message", "new_message", "message_create", "message.any"}
_ACK_EVENTS = {"message_ack", "message.ack"}
_REACTION_EVENTS = {"message_reaction", "message.reaction"}
_REVOKE_EVENTS = {"message_revoke_everyone", "message.revoked"}

_ACKS = {
    -1: MessageStatus.FAILED,
    0: MessageStatus.SENDING,
    1: MessageStatus.SENT,
    2: MessageStatus.DELIVERED,
    3: MessageStatus.READ,
    4: MessageStatus.READ,  # played (voice note): it was seen
}
_ACK_NAMES = {"ERROR": -1, "PENDING": 0, "SERVER": 1, "DEVICE": 2, "READ": 3, "PLAYED": 4}

# whatsapp-web.js message types (`type`, also WAHA's `_data.type` on the WEBJS engine).
_TYPE_KINDS = {
    "chat": MessageKind.TEXT,
    "image": MessageKind.IMAGE,
    "video": MessageKind.VIDEO,
    "audio": MessageKind.AUDIO,
    "ptt": MessageKind.AUDIO,
    "document": MessageKind.DOCUMENT,
    "sticker": MessageKind.STICKER,
    "location": MessageKind.LOCATION,
    "vcard": MessageKind.CONTACTS,
    "multi_vcard": MessageKind.CONTACTS,
    "buttons_response": MessageKind.INTERACTIVE,
    "list_response": MessageKind.INTERACTIVE,
    "template_button_reply": MessageKind.INTERACTIVE,
    "order": MessageKind.INTERACTIVE,
    "call_log": MessageKind.SYSTEM,
}
# Bookkeeping WhatsApp Web shows as grey notices, not conversation content: no event.
_NOTICE_TYPES = {
    "e2e_notification",
    "notification",
    "notification_template",
    "gp2",
    "group_notification",
    "broadcast_notification",
    "protocol",
    "debug",
}
_MEDIA_KINDS = {MessageKind.IMAGE, MessageKind.VIDEO, MessageKind.AUDIO, MessageKind.DOCUMENT, MessageKind.STICKER}
_NOT_A_CONTACT = ("@g.us", "@newsletter", "@broadcast")
_PHONE_SUFFIXES = ("@c.us", "@s.whatsapp.net")


def session_key(payload: dict[str, Any]) -> str | None:
    """The bridge session that sent the callback (WAHA `session`; wrappers' `sessionId` / `clientId`)."""
    if not isinstance(payload, dict):
        return None
    for key in ("session", "sessionId", "clientId"):
        value = as_str(payload.get(key)).strip()
        if value:
            return value
    return None


def parse(payload: dict[str, Any], *, now: datetime | None = None) -> list[InboundEvent]:
    """The events of one bridge callback. `now` stamps acks that carry no time (default: the clock)."""
    if not isinstance(payload, dict):
        raise ValueError("a bridge callback must be a JSON object")
    event = as_str(payload.get("event") or payload.get("dataType")).strip()
    if not event:
        raise ValueError("the bridge callback names no 'event'")
    body = payload.get("payload") if "payload" in payload else payload.get("data")
    data = as_dict(body)
    envelope_at = _envelope_time(payload)

    if event in _MESSAGE_EVENTS:
        message = _unwrap(data, "message")
        return _listed(_message(message))
    if event in _ACK_EVENTS:
        message = _unwrap(data, "message")
        ack = data.get("ack") if "message" in data else message.get("ack")
        return _listed(_ack(message, ack, envelope_at or now or datetime.now(UTC)))
    if event in _REACTION_EVENTS:
        # REST wrappers nest whatsapp-web.js's Reaction under "reaction"; WAHA's payload also has a "reaction" key,
        # but there it is the {text, messageId} detail of the payload itself.
        inner = data.get("reaction")
        reaction = inner if isinstance(inner, dict) and ("msgId" in inner or "id" in inner) else data
        if not reaction:
            raise ValueError("the bridge callback carries no reaction")
        return _listed(_reaction(reaction, envelope_at or now or datetime.now(UTC)))
    if event in _REVOKE_EVENTS:
        return _listed(_revoke(data, envelope_at or now or datetime.now(UTC)))
    return []


def _listed(event: InboundEvent | None) -> list[InboundEvent]:
    return [event] if event is not None else []


def _unwrap(data: dict[str, Any], key: str) -> dict[str, Any]:
    """REST wrappers nest the object (`{"message": {...}}`); plain whatsapp-web.js style and WAHA do not."""
    inner = data.get(key)
    found = inner if isinstance(inner, dict) else data
    if not found:
        raise ValueError(f"the bridge callback carries no {key}")
    return found


def _envelope_time(payload: dict[str, Any]) -> datetime | None:
    value = payload.get("timestamp")
    if value in (None, ""):
        return None
    return parse_timestamp(value, what="callback timestamp")


# --- ids ------------------------------------------------------------------------------------------------------------


def _jid(value: Any) -> str:
    """A chat or user id, given as a string or as whatsapp-web.js's `{..., "_serialized": ...}` object."""
    if isinstance(value, dict):
        return as_str(value.get("_serialized")) or (
            f"{as_str(value.get('user'))}@{as_str(value.get('server'))}" if value.get("user") else ""
        )
    return as_str(value).strip()


def _message_id(value: Any) -> str:
    """The serialized message id `<fromMe>_<chat>_<id>`, from a string or a whatsapp-web.js id object."""
    if isinstance(value, dict):
        serialized = as_str(value.get("_serialized") or value.get("$1"))
        if serialized:
            return serialized
        if value.get("id") and value.get("remote"):
            return f"{str(bool(value.get('fromMe'))).lower()}_{_jid(value.get('remote'))}_{as_str(value.get('id'))}"
        return ""
    return as_str(value).strip()


def _remote_of(message_id: str) -> str:
    """'false_14155550101@c.us_3EB0…' → '14155550101@c.us'."""
    parts = message_id.split("_")
    return parts[1] if len(parts) >= 3 and "@" in parts[1] else ""


def _expand_id(bare: str, chat: str, *, from_me: bool | None) -> str:
    """A bare message id as the bridges serialize it, when we know whose message it is; else as given."""
    if not bare or "@" in bare or from_me is None or not chat:
        return bare
    return f"{str(from_me).lower()}_{chat}_{bare}"


def _chat_of(item: dict[str, Any], from_me: bool) -> str:
    """The other side of the conversation: `to` on our own messages, `from` on theirs; the id's remote part
    (whatsapp-web.js `id.remote`, or inside WAHA's serialized id) when those are missing."""
    raw_id = item.get("id")
    if isinstance(raw_id, dict) and raw_id.get("remote"):
        return _jid(raw_id.get("remote"))
    chat = _jid(item.get("to") if from_me else item.get("from"))
    return chat or _remote_of(_message_id(raw_id))


def _is_one_to_one(chat: str) -> bool:
    return bool(chat) and not chat.endswith(_NOT_A_CONTACT) and chat != "status@broadcast"


def _contact(chat: str, *, name: str = "") -> ContactProfile:
    phone = ""
    if chat.endswith(_PHONE_SUFFIXES):
        phone = chat.split("@", 1)[0]
    return ContactProfile(external_id=chat, name=name, phone_number=phone)


# --- messages -------------------------------------------------------------------------------------------------------


def _message(message: dict[str, Any]) -> InboundEvent | None:
    message_id = _message_id(message.get("id"))
    if not message_id:
        raise ValueError("a bridge message has no 'id'")
    raw_data = as_dict(message.get("_data"))
    id_object = as_dict(message.get("id"))
    from_me = bool(message.get("fromMe", id_object.get("fromMe", False)))
    chat = _chat_of(message, from_me)
    if not chat:
        raise ValueError(f"bridge message {message_id} names no chat ('from' / 'to')")
    if not _is_one_to_one(chat) or message.get("isStatus"):
        return None
    timestamp = parse_timestamp(message.get("timestamp", raw_data.get("t")), what=f"timestamp of message {message_id}")

    wweb_type = as_str(message.get("type") or raw_data.get("type"))
    if wweb_type in _NOTICE_TYPES:
        return None
    # Our own push name rides on our own messages: only a customer's message names the customer.
    name = (
        "" if from_me else as_str(raw_data.get("notifyName") or message.get("notifyName") or raw_data.get("pushName"))
    )
    contact = _contact(chat, name=name)
    if wweb_type == "revoked":
        # A message already revoked when the bridge saw it: the id is the one that was deleted.
        return MessageDeleted(platform_message_id=message_id, contact=contact, timestamp=timestamp, raw=message)

    body = as_str(message.get("body"))
    media = as_dict(message.get("media"))
    mime = as_str(media.get("mimetype") or raw_data.get("mimetype"))
    location = as_dict(message.get("location"))
    vcards = [c for c in as_list(message.get("vCards")) if isinstance(c, str) and c]

    kind: str  # a MessageKind value
    if wweb_type:
        kind = _TYPE_KINDS.get(wweb_type, MessageKind.UNSUPPORTED)
    elif location:
        kind = MessageKind.LOCATION
    elif vcards:
        kind = MessageKind.CONTACTS
    elif message.get("hasMedia") or media:
        kind = kind_for_mime(mime) if mime else MessageKind.DOCUMENT
    else:
        kind = MessageKind.TEXT

    payload: dict[str, Any] = compact(
        {
            "forwarded": bool(message.get("isForwarded")) or None,
            "source": as_str(message.get("source")),  # WAHA: "api" when we sent it through the bridge
        }
    )
    text = body
    attachments: tuple[AttachmentRef, ...] = ()
    if kind in _MEDIA_KINDS:
        if wweb_type == "ptt":
            payload["voice"] = True
        if message.get("hasMedia") or media:
            attachments = (
                AttachmentRef(
                    kind=kind,
                    media_id=message_id,  # what the bridge downloads media by
                    url=as_str(media.get("url") or message.get("mediaUrl")),
                    mime_type=mime,
                    filename=as_str(media.get("filename") or raw_data.get("filename")),
                    caption=body,
                ),
            )
    elif kind == MessageKind.LOCATION:
        text = ""  # whatsapp-web.js puts a thumbnail in `body` for locations
        description = as_str(location.get("description"))
        payload.update(
            compact(
                {
                    "latitude": as_float(location.get("latitude")),
                    "longitude": as_float(location.get("longitude")),
                    "name": as_str(location.get("name")) or description.split("\n", 1)[0],
                    "address": as_str(location.get("address"))
                    or (description.split("\n", 1)[1] if "\n" in description else ""),
                    "url": as_str(location.get("url")),
                }
            )
        )
    elif kind == MessageKind.CONTACTS:
        text = ""  # the vCard is the body for single contacts: it belongs in the payload
        payload["vcards"] = vcards or ([body] if body else [])
    elif kind == MessageKind.INTERACTIVE:
        payload.update(
            compact(
                {
                    "type": wweb_type,
                    "id": as_str(message.get("selectedButtonId") or message.get("selectedRowId")),
                    "order_id": as_str(message.get("orderId")),
                }
            )
        )
    elif kind == MessageKind.UNSUPPORTED:
        payload["type"] = wweb_type or "unknown"

    return InboundMessage(
        platform_message_id=message_id,
        contact=contact,
        timestamp=timestamp,
        kind=kind,
        text=text,
        payload=payload,
        attachments=attachments,
        reply_to_platform_id=_reply_to(message, raw_data, chat),
        is_echo=from_me,
        raw=message,
    )


def _reply_to(message: dict[str, Any], raw_data: dict[str, Any], chat: str) -> str:
    reply = as_dict(message.get("replyTo"))
    quoted = as_str(reply.get("id")) or as_str(raw_data.get("quotedStanzaID"))
    if not quoted:
        return ""
    participant = _jid(reply.get("participant") or raw_data.get("quotedParticipant"))
    # In a one-to-one chat the quoted message is the customer's when its author is the chat, else ours.
    from_me = None if not participant else participant != chat
    return _expand_id(quoted, chat, from_me=from_me)


# --- acks, reactions, revokes ---------------------------------------------------------------------------------------


def _ack(message: dict[str, Any], ack: Any, at: datetime) -> InboundEvent | None:
    message_id = _message_id(message.get("id"))
    if not message_id:
        raise ValueError("a bridge ack has no message 'id'")
    id_object = as_dict(message.get("id"))
    from_me = message.get("fromMe", id_object.get("fromMe"))
    if from_me is False:
        return None
    chat = _chat_of(message, True)
    if chat and not _is_one_to_one(chat):
        return None
    number = _ACK_NAMES.get(as_str(message.get("ackName")).upper()) if ack is None else ack
    try:
        status = _ACKS.get(int(number)) if number is not None and not isinstance(number, bool) else None
    except (TypeError, ValueError):
        status = None
    if status is None:
        return None  # an ack value we do not know: nothing to move
    return StatusUpdate(
        platform_message_id=message_id,
        status=status,
        timestamp=at,
        recipient_id=chat,
        # The bridges give no reason, only the ack: keep their name for it as the code.
        error_code="ACK_ERROR" if status == MessageStatus.FAILED else "",
        error_message="The bridge reported an error sending this message." if status == MessageStatus.FAILED else "",
        raw=message,
    )


def _reaction(reaction: dict[str, Any], fallback_at: datetime) -> InboundEvent | None:
    details = as_dict(reaction.get("reaction"))
    if details:  # WAHA: {"reaction": {"text", "messageId"}, "from", "to", "fromMe", "timestamp"}
        emoji = as_str(details.get("text"))
        target = _message_id(details.get("messageId"))
        from_me = bool(reaction.get("fromMe"))
        chat = _chat_of(reaction, from_me) or _remote_of(target)
    else:  # whatsapp-web.js Reaction: {"id", "msgId", "reaction", "senderId", "timestamp"}
        emoji = as_str(reaction.get("reaction"))
        target = _message_id(reaction.get("msgId"))
        id_object = as_dict(reaction.get("id"))
        from_me = bool(id_object.get("fromMe"))
        chat = _jid(id_object.get("remote")) or _remote_of(target) or _jid(reaction.get("senderId"))
    if not target:
        raise ValueError("a bridge reaction names no target message")
    if not _is_one_to_one(chat):
        return None
    stamp = reaction.get("timestamp")
    return Reaction(
        target_platform_message_id=target,
        contact=_contact(chat),
        emoji=emoji,
        timestamp=parse_timestamp(stamp, what="reaction timestamp") if stamp not in (None, "") else fallback_at,
        platform_message_id=_message_id(reaction.get("id")),
        removed=not emoji,  # both bridges send an empty text when the reaction is taken off
        from_business=from_me,
        raw=reaction,
    )


def _revoke(data: dict[str, Any], fallback_at: datetime) -> InboundEvent | None:
    after = as_dict(data.get("after"))
    before = as_dict(data.get("before"))
    known = after or before
    if not known:
        raise ValueError("a revoke callback carries no message ('after' / 'before')")
    id_object = as_dict(known.get("id"))
    from_me = bool(known.get("fromMe", id_object.get("fromMe", False)))
    chat = _chat_of(known, from_me)
    if not _is_one_to_one(chat):
        return None
    # The deleted message: the copy from before the revoke, else WAHA's revokedMessageId (bare; only its sender can
    # revoke it for everyone, so it shares the revoke's fromMe), else whatsapp-web.js's protocol key or `after.id`.
    target = (
        _message_id(before.get("id"))
        or _expand_id(as_str(data.get("revokedMessageId")), chat, from_me=from_me)
        or _message_id(after.get("protocolMessageKey"))
        or _message_id(after.get("id"))
    )
    if not target:
        raise ValueError("a revoke callback names no message id")
    stamp = known.get("timestamp")
    return MessageDeleted(
        platform_message_id=target,
        contact=_contact(chat),
        timestamp=parse_timestamp(stamp, what="revoke timestamp") if stamp not in (None, "") else fallback_at,
        raw=data,
    )
