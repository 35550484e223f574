"""The Messenger / Instagram `entry[].messaging[]` parser: webhook events → normalized inbox events.

Pure: no database, no network, no Django models — a payload in, frozen dataclasses out, so it is tested without the
database and replayed safely. Messenger (`object: page`) and Instagram (`object: instagram`) share one event shape:

    {"object": "page", "entry": [{"id": "<PAGE_ID>", "time": 1700000000000,
        "messaging": [{"sender": {"id": "<PSID>"}, "recipient": {"id": "<PAGE_ID>"}, "timestamp": 1700000000000,
                       "message": {...} | "postback": {...} | "reaction": {...} | "delivery": {...} | "read": {...}}],
        "standby": [...same events, while another app of the handover protocol controls the thread...]}]}

Decisions that matter downstream:
- `is_echo: true` is a message the business sent (native inbox or our own send): sender and recipient are swapped, so
  the contact is the recipient. A business-sent message without the flag (sender == business id) is treated the same,
  so it can never become an inbound customer message.
- Attachments become `AttachmentRef`s only when there is a URL to fetch; URL-less ones (`like_heart`, `location`,
  `template`, `fallback` link shares) are described in `payload` instead. Unknown types keep their raw fragment in
  `payload["unsupported"]`.
- Instagram stories (`story_mention`, `reply_to.story`) are also marked in `payload["story"]`: their CDN URLs expire
  within about a day and Meta's policy forbids storing story media, so the media task can tell them apart.
- Timestamps are milliseconds, or seconds in some newer events, as numbers or strings: decided by magnitude
  (`meta.timestamps`, the rule the WhatsApp parsers share).
- Events the inbox has no use for (referrals, optins, handover notices, edits, unknown ones) give [] — even when
  oddly shaped, because one bad ignored event must not make the whole delivery (up to 1,000 updates) fail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlparse

from switchboard.inbox.events import (
    AttachmentRef,
    ContactProfile,
    InboundEvent,
    InboundMessage,
    MessageDeleted,
    Reaction,
    ReadReceipt,
)
from switchboard.inbox.models import MessageKind, MessageStatus
from switchboard.meta.timestamps import parse_timestamp

# The arrays of an entry that carry messaging events. `standby` is the handover protocol's copy of events in a
# thread our app does not control: the customer still wrote to the business, so they are parsed the same way.
EVENT_ARRAYS = ("messaging", "standby")

# `reaction.reaction` names Meta sends beside (or, in older versions, instead of) the emoji.
_REACTION_EMOJI = {
    "love": "\u2764\ufe0f",
    "like": "\U0001f44d",
    "dislike": "\U0001f44e",
    "smile": "\U0001f606",
    "laugh": "\U0001f602",
    "wow": "\U0001f62e",
    "sad": "\U0001f622",
    "angry": "\U0001f620",
}

LIKE_HEART_TEXT = "\u2764\ufe0f"

_MEDIA_KINDS = {
    "image": MessageKind.IMAGE,
    "video": MessageKind.VIDEO,
    "audio": MessageKind.AUDIO,
    "file": MessageKind.DOCUMENT,
    "sticker": MessageKind.STICKER,
}
# Shared content: the payload URL is the CDN copy of the shared media (a post's first image, a reel's video).
_SHARE_KINDS = {
    "share": MessageKind.IMAGE,
    "post": MessageKind.IMAGE,
    "ig_post": MessageKind.IMAGE,
    "reel": MessageKind.VIDEO,
    "ig_reel": MessageKind.VIDEO,
}


# --- entry points -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MessagingWebhook:
    """The webhook bodies of one `object`: "page" (Messenger) or "instagram" (Instagram). The two share this parser
    and differ only by the object (and by which event types and attachments they happen to send)."""

    object: str
    body_name: str  # how errors name such a body, e.g. "a Messenger webhook body"

    def check_object(self, payload: Any) -> None:
        """Raise ValueError unless `payload` is a webhook body of this object."""
        if not isinstance(payload, dict) or payload.get("object") != self.object:
            found = payload.get("object") if isinstance(payload, dict) else type(payload).__name__
            raise ValueError(f"Expected {self.body_name} (object '{self.object}'), got {found!r}.")

    def parse(self, payload: Any) -> list[tuple[str, InboundEvent]]:
        """Every event of a webhook body as (entry id, event), in payload order: the entry id is the Page or the
        Instagram account. Raises ValueError when the body is of another object or is malformed; entries with
        `changes` (comments, mentions) carry no messaging events and give nothing."""
        self.check_object(payload)
        return [
            (entry_id, parsed)
            for entry_id, event in iter_messaging(payload)
            for parsed in parse_messaging_event(event, business_id=entry_id)
        ]


def iter_messaging(payload: dict) -> list[tuple[str, dict]]:
    """Every messaging event of a webhook body as (entry id, event), from every entry and both `messaging` and
    `standby`, in payload order. Entries without messaging events (e.g. `changes` for comments) give nothing."""
    if not isinstance(payload, dict):
        raise ValueError(f"A Meta webhook body must be a JSON object, not {_type_name(payload)}.")
    entries = payload.get("entry")
    if not isinstance(entries, list):
        raise ValueError("A Meta webhook body must have an 'entry' list.")
    found: list[tuple[str, dict]] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ValueError(f"entry[{index}] must be an object, not {_type_name(entry)}.")
        for key in EVENT_ARRAYS:
            events = entry.get(key)
            if events is None:
                continue
            if not isinstance(events, list):
                raise ValueError(f"entry[{index}].{key} must be a list, not {_type_name(events)}.")
            if not events:
                continue
            entry_id = _id_value(entry.get("id"), f"entry[{index}].id")
            if entry_id is None:
                # The entry id is the page / Instagram account: without it the events cannot be routed to a tenant.
                raise ValueError(f"entry[{index}] has {key} events but no 'id'.")
            found.extend((entry_id, event) for event in events)
    return found


# --- one event ----------------------------------------------------------------------------------------------------


def parse_messaging_event(event: dict, *, business_id: str) -> list[InboundEvent]:
    """One `messaging[]` / `standby[]` event → normalized events (usually one; [] for events the inbox ignores).

    `business_id` is the page id (Messenger) or Instagram professional account id: the entry id the event came in.
    Raises ValueError on a malformed event (not an object, no sender / recipient id, no message id, bad timestamp).
    """
    if not isinstance(event, dict):
        raise ValueError(f"A messaging event must be an object, not {_type_name(event)}.")
    if "message" in event:
        handler = _parse_message
    elif "postback" in event:
        handler = _parse_postback
    elif "reaction" in event:
        handler = _parse_reaction
    elif "delivery" in event:
        handler = _parse_delivery
    elif "read" in event:
        handler = _parse_read
    else:
        # referral, optin, account_linking, pass/take/request_thread_control, message_edit, policy_enforcement, …
        return []
    sender_id = _party_id(event, "sender")
    recipient_id = _party_id(event, "recipient")
    if sender_id is None or recipient_id is None:
        # Plugin guests are addressed by `user_ref`, not a PSID: there is no contact the inbox could answer.
        return []
    return handler(event, _Parties(sender_id, recipient_id, str(business_id)))


class _Parties:
    __slots__ = ("business_id", "recipient_id", "sender_id")

    def __init__(self, sender_id: str, recipient_id: str, business_id: str) -> None:
        self.sender_id = sender_id
        self.recipient_id = recipient_id
        self.business_id = business_id

    @property
    def sent_by_business(self) -> bool:
        return bool(self.business_id) and self.sender_id == self.business_id and self.recipient_id != self.business_id

    def contact(self, *, business_sent: bool) -> ContactProfile:
        return ContactProfile(external_id=self.recipient_id if business_sent else self.sender_id)

    def counterpart(self) -> ContactProfile:
        """The customer of an event that is not a message (receipts): whichever side is not the business."""
        return self.contact(business_sent=self.sent_by_business)


def _parse_message(event: dict, parties: _Parties) -> list[InboundEvent]:
    message = event["message"]
    if not isinstance(message, dict):
        raise ValueError(f"'message' must be an object, not {_type_name(message)}.")
    mid = _required_str(message, "mid", "message")
    is_echo = message.get("is_echo") is True or parties.sent_by_business
    contact = parties.contact(business_sent=is_echo)
    timestamp = _event_time(event)
    if message.get("is_deleted") is True:
        return [MessageDeleted(platform_message_id=mid, contact=contact, timestamp=timestamp, raw=event)]

    text = _text(message.get("text"))
    payload: dict[str, Any] = {}
    refs: list[AttachmentRef] = []
    kinds: list[str] = []
    fallback_texts: list[str] = []

    for attachment in _attachment_list(message):
        _read_attachment(attachment, message, refs, kinds, payload, fallback_texts)

    reply_to = message.get("reply_to")
    reply_to_mid = ""
    if isinstance(reply_to, dict):
        reply_to_mid = _text(reply_to.get("mid"))
        story = reply_to.get("story")
        if isinstance(story, dict):
            url = _text(story.get("url"))
            payload["story"] = {"type": "reply", "id": _text(story.get("id")), "url": url}
            if url:
                refs.append(AttachmentRef(kind=MessageKind.IMAGE, url=url))

    quick_reply = message.get("quick_reply")
    if isinstance(quick_reply, dict):
        payload["quick_reply"] = {"payload": quick_reply.get("payload", "")}
    if "referral" in message:
        payload["referral"] = message["referral"]
    if is_echo:
        # Our own sends carry our app_id and the metadata we attached: the service can recognise its own copy.
        for key in ("app_id", "metadata"):
            if message.get(key) not in (None, ""):
                payload[key] = message[key]

    if not text and fallback_texts:
        text = "\n".join(fallback_texts)

    media_kinds = [k for k in kinds if k not in (MessageKind.TEXT, MessageKind.UNSUPPORTED)]
    kind: str  # a MessageKind value
    if message.get("is_unsupported") is True:
        # Instagram: content the API cannot deliver (some GIFs, stickers, polls…). Keep a bubble so nothing vanishes.
        payload["is_unsupported"] = True
        kind = MessageKind.UNSUPPORTED
    elif media_kinds:
        kind = media_kinds[0]
    elif text:
        kind = MessageKind.INTERACTIVE if "quick_reply" in payload else MessageKind.TEXT
    elif refs:
        kind = refs[0].kind  # a story reply with no words of its own
    else:
        kind = MessageKind.UNSUPPORTED  # unknown attachments only, or an empty message: still shown, never dropped

    return [
        InboundMessage(
            platform_message_id=mid,
            contact=contact,
            timestamp=timestamp,
            kind=kind,
            text=text,
            payload=payload,
            attachments=tuple(refs),
            reply_to_platform_id=reply_to_mid,
            is_echo=is_echo,
            raw=event,
        )
    ]


def _attachment_list(message: dict) -> list[dict]:
    attachments = message.get("attachments")
    if attachments is None:
        return []
    if isinstance(attachments, dict):  # seen from older API versions: one attachment, not a list
        attachments = [attachments]
    if not isinstance(attachments, list):
        raise ValueError(f"'message.attachments' must be a list, not {_type_name(attachments)}.")
    items = [a for a in attachments if isinstance(a, dict)]
    # Sticker transition (Messenger, 2026): a sticker arrives as a `sticker` attachment AND an `image` one carrying
    # the same sticker_id. Keep one.
    if any(a.get("type") == "sticker" for a in items):
        items = [a for a in items if not (a.get("type") == "image" and _sticker_id(a) is not None)]
    return items


def _read_attachment(
    attachment: dict,
    message: dict,
    refs: list[AttachmentRef],
    kinds: list[str],
    payload: dict[str, Any],
    fallback_texts: list[str],
) -> None:
    """Fold one attachment into the message being built (refs, kinds, payload, fallback text)."""
    kind_name = attachment.get("type")
    body = value if isinstance(value := attachment.get("payload"), dict) else {}
    url = _text(body.get("url"))

    if kind_name in _MEDIA_KINDS:
        if not url:
            _unsupported(attachment, kinds, payload)
            return
        sticker_id = None
        if kind_name in ("image", "sticker"):
            # Messenger stickers (the thumbs-up "like" too) are images with a sticker_id, on the attachment or,
            # in older versions, on the message.
            sticker_id = _sticker_id(attachment) or _id_or_none(message.get("sticker_id"))
        kind = MessageKind.STICKER if sticker_id is not None else _MEDIA_KINDS[kind_name]
        if sticker_id is not None:
            payload["sticker_id"] = sticker_id
        filename = _filename_from_url(url) if kind == MessageKind.DOCUMENT else ""
        refs.append(AttachmentRef(kind=kind, url=url, filename=filename))
        kinds.append(kind)
    elif kind_name in _SHARE_KINDS:
        if not url:
            _unsupported(attachment, kinds, payload)
            return
        title = _text(body.get("title"))
        shared = {"type": kind_name, "url": url, "title": title}
        media_id = body.get("reel_video_id") or body.get("ig_post_media_id") or body.get("id")
        if media_id not in (None, ""):
            shared["id"] = str(media_id)
        payload.setdefault("shared", []).append(shared)
        refs.append(AttachmentRef(kind=_SHARE_KINDS[kind_name], url=url, caption=title))
        kinds.append(_SHARE_KINDS[kind_name])
    elif kind_name == "story_mention":
        if not url:
            _unsupported(attachment, kinds, payload)
            return
        payload["story"] = {"type": "mention", "id": _text(body.get("id")), "url": url}
        refs.append(AttachmentRef(kind=MessageKind.IMAGE, url=url))
        kinds.append(MessageKind.IMAGE)
    elif kind_name == "like_heart":
        # Instagram's heart: no payload, nothing to fetch. The emoji as text is what the thread should show.
        payload["like_heart"] = True
        fallback_texts.append(LIKE_HEART_TEXT)
        kinds.append(MessageKind.STICKER)
    elif kind_name == "location":
        coordinates = value if isinstance(value := body.get("coordinates"), dict) else {}
        payload["location"] = {
            "latitude": coordinates.get("lat"),
            "longitude": coordinates.get("long"),
            "name": _text(attachment.get("title") or body.get("title")),
            "url": _text(attachment.get("url") or url),
        }
        kinds.append(MessageKind.LOCATION)
    elif kind_name == "fallback":
        # A shared link: the URL is a web page, not media, so it is a link in the payload, not an attachment.
        link_url = url or _text(attachment.get("url"))
        title = _text(body.get("title") or attachment.get("title"))
        if not link_url and not title:
            _unsupported(attachment, kinds, payload)  # "for unsupported shares a fallback with no payload"
            return
        payload.setdefault("links", []).append({"url": link_url, "title": title})
        fallback_texts.append(" ".join(part for part in (title, link_url) if part))
        kinds.append(MessageKind.TEXT)
    elif kind_name == "template":
        # Templates only come as echoes of what the business sent (button / generic / media templates).
        payload.setdefault("templates", []).append(body)
        summary = _text(body.get("text"))
        elements = body.get("elements")
        if not summary and isinstance(elements, list) and elements and isinstance(elements[0], dict):
            summary = _text(elements[0].get("title"))
        if summary:
            fallback_texts.append(summary)
        kinds.append(MessageKind.INTERACTIVE)
    else:
        _unsupported(attachment, kinds, payload)


def _unsupported(attachment: dict, kinds: list[str], payload: dict[str, Any]) -> None:
    payload.setdefault("unsupported", []).append(attachment)
    kinds.append(MessageKind.UNSUPPORTED)


def _parse_postback(event: dict, parties: _Parties) -> list[InboundEvent]:
    postback = event["postback"]
    if not isinstance(postback, dict):
        raise ValueError(f"'postback' must be an object, not {_type_name(postback)}.")
    timestamp = _event_time(event)
    mid = _text(postback.get("mid"))
    if not mid:
        # Postbacks before Graph v11 (and Get Started taps) have no mid. A deterministic id keeps Meta's retries
        # of the same delivery deduplicated.
        mid = f"postback.{parties.sender_id}.{int(timestamp.timestamp() * 1000)}"
    title = _text(postback.get("title"))
    payload: dict[str, Any] = {"postback": {"payload": postback.get("payload", ""), "title": title}}
    if "referral" in postback:
        payload["referral"] = postback["referral"]
    return [
        InboundMessage(
            platform_message_id=mid,
            contact=parties.contact(business_sent=False),
            timestamp=timestamp,
            kind=MessageKind.INTERACTIVE,
            text=title,
            payload=payload,
            raw=event,
        )
    ]


def _parse_reaction(event: dict, parties: _Parties) -> list[InboundEvent]:
    reaction = event["reaction"]
    if not isinstance(reaction, dict):
        raise ValueError(f"'reaction' must be an object, not {_type_name(reaction)}.")
    target = _required_str(reaction, "mid", "reaction")
    action = reaction.get("action") or "react"
    if action not in ("react", "unreact"):
        return []
    removed = action == "unreact"
    name = _text(reaction.get("reaction"))
    emoji = "" if removed else (_text(reaction.get("emoji")) or _REACTION_EMOJI.get(name, ""))
    if not removed and not emoji:
        return []  # a reaction we cannot show; applying it empty would remove the contact's real one
    from_business = parties.sent_by_business
    return [
        Reaction(
            target_platform_message_id=target,
            contact=parties.contact(business_sent=from_business),
            emoji=emoji,
            timestamp=_event_time(event),
            removed=removed,
            from_business=from_business,
            raw=event,
        )
    ]


def _parse_delivery(event: dict, parties: _Parties) -> list[InboundEvent]:
    delivery = event["delivery"]
    if not isinstance(delivery, dict):
        raise ValueError(f"'delivery' must be an object, not {_type_name(delivery)}.")
    if delivery.get("watermark") is None:
        raise ValueError("'delivery.watermark' is missing.")
    watermark = parse_timestamp(delivery["watermark"])
    mids = delivery.get("mids") or []
    if not isinstance(mids, list):
        raise ValueError(f"'delivery.mids' must be a list, not {_type_name(mids)}.")
    return [
        ReadReceipt(
            contact=parties.counterpart(),
            watermark=watermark,
            # The documented delivery example has no timestamp: the watermark is the best time there is.
            timestamp=_event_time(event, default=watermark),
            status=MessageStatus.DELIVERED,
            platform_message_ids=tuple(str(m) for m in mids if isinstance(m, str | int) and str(m)),
            raw=event,
        )
    ]


def _parse_read(event: dict, parties: _Parties) -> list[InboundEvent]:
    read = event["read"]
    if not isinstance(read, dict):
        raise ValueError(f"'read' must be an object, not {_type_name(read)}.")
    watermark = parse_timestamp(read["watermark"]) if read.get("watermark") is not None else None
    timestamp = _event_time(event, default=watermark)
    mid = _text(read.get("mid"))
    return [
        ReadReceipt(
            contact=parties.counterpart(),
            # Instagram's messaging_seen names the last message seen (`mid`) instead of a watermark: the customer
            # opened the thread at `timestamp`, so everything sent before then was seen.
            watermark=watermark or timestamp,
            timestamp=timestamp,
            status=MessageStatus.READ,
            platform_message_ids=(mid,) if mid else (),
            raw=event,
        )
    ]


# --- small helpers ------------------------------------------------------------------------------------------------


def _event_time(event: dict, default: datetime | None = None) -> datetime:
    value = event.get("timestamp")
    if value is None or value == "":
        if default is not None:
            return default
        raise ValueError("The event has no 'timestamp'.")
    return parse_timestamp(value)


def _party_id(event: dict, key: str) -> str | None:
    """The id of `sender` / `recipient`; None for a plugin guest known only by `user_ref`."""
    party = event.get(key)
    if not isinstance(party, dict):
        raise ValueError(f"The event has no '{key}' object.")
    party_id = _id_value(party.get("id"), f"{key}.id")
    if party_id is None:
        if party.get("user_ref"):
            return None
        raise ValueError(f"The event's '{key}' has no 'id'.")
    return party_id


def _id_value(value: Any, where: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"'{where}' must be a string, not {_type_name(value)}.")
    text = str(value).strip()
    return text or None


def _id_or_none(value: Any) -> str | None:
    if value is None or value == "" or isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return str(value)


def _sticker_id(attachment: dict) -> str | None:
    body = attachment.get("payload")
    return _id_or_none(body.get("sticker_id")) if isinstance(body, dict) else None


def _required_str(obj: dict, key: str, where: str) -> str:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
        raise ValueError(f"'{where}.{key}' is missing.")
    return str(value).strip()


def _text(value: Any) -> str:
    """Content fields are forgiving: a missing or odd value is empty text, never a failed delivery."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def _filename_from_url(url: str) -> str:
    name = unquote(PurePosixPath(urlparse(url).path).name)
    return name if "." in name else ""


_JSON_TYPE_NAMES = {dict: "an object", list: "a list", str: "a string", type(None): "null"}


def _type_name(value: Any) -> str:
    return _JSON_TYPE_NAMES.get(type(value), type(value).__name__)
