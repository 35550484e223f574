"""The Messenger / Instagram `entry[].messaging[]` parser: webhook events → normalized inbox events.

Pure: no database, no network, no Django models — a payload in, frozen dataclasses out, so it is tested without the
database and replayed safely. Messenger (`object: page`) and Instagram (`object: instagram`) share one event shape:

    {"object": "page", "entry": [{"id": "<PAGE_ID>", "time": 1700000000000,
        "messaging": [{"sender": {"id": "<PSID>"}, "recipient": {"id": "<PAGE_ID>"}, "timestamp": 1700000000000,
                       "message": {...} | "postback": {...} | "reaction": {...} | "delivery": {...} | "read": {...}}],
        "standby": [...same events, while another app of the handover protocol controls the thread...]}]}

Decisions that matter downstream:
- An event belongs to the business it was routed to only when the business is one of its two parties: the recipient
  of what the customer sent, the sender of what the business sent. An event between other ids (a `recipient.id` that
  is not the routed Page or Instagram account), or from the business to itself, gives nothing.
- `is_echo: true` is a message the business sent (native inbox or our own send): sender and recipient are swapped, so
  the contact is the recipient. A business-sent message without the flag (sender == business id) is treated the same,
  so it can never become an inbound customer message. The contact is never the business itself: it is whichever
  party is not the business. An echo with nothing in it (no text, no attachment) is still passed on, so that the
  service can match it to our own send (`metadata`, `mid`); unmatched, it adds nothing.
- Attachments become `AttachmentRef`s only when there is a URL to fetch; URL-less ones (`like_heart`, `location`,
  `template`, `fallback` link shares) are described in `payload` instead. Unknown types keep their raw fragment in
  `payload["unsupported"]`.
- Instagram stories (`story_mention`, `reply_to.story`) are also marked in `payload["story"]`: their CDN URLs expire
  within about a day and Meta's policy forbids storing story media, so the media task can tell them apart.
- Timestamps are milliseconds, or seconds in some newer events, as numbers or strings: decided by magnitude
  (`meta.timestamps`, the rule the WhatsApp parsers share).
- Referrals (an ad, an m.me / ig.me link, the chat plugin: a `referral` event, or one inside a `postback` or a
  `message`) and opt-ins (`optin`, recurring notification messages with their token and frequency among them) are
  notices: a `system` message in the thread that says where the customer came from or what they opted in to, and
  `contact_attributes` (`referral`, `optin`) for the contact. A referral beside a postback or a message comes first,
  as its own notice (`referral.<mid>`); one on its own, or an opt-in, has an id made of its sender and time, so
  Meta's retries stay one notice.
- The like button (Messenger's thumbs-up sticker, in each of its sizes) is a sticker whose text is 👍.
- Events the inbox has no use for (handover notices, edits, unknown ones) give [] — even when oddly shaped, because
  one bad ignored event must not make the whole delivery (up to 1,000 updates) fail.
"""

from __future__ import annotations

import contextlib
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

# Messenger's like button: a sticker in three sizes. Shown as the thumbs-up it is, beside the sticker image.
LIKE_STICKER_IDS = frozenset({"369239263222822", "369239343222814", "369239383222810"})
LIKE_STICKER_TEXT = "\U0001f44d"

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
    elif "referral" in event:
        handler = _parse_referral
    elif "optin" in event:
        handler = _parse_optin
    else:
        # account_linking, pass/take/request_thread_control, message_edit, policy_enforcement, …
        return []
    if handler is _parse_optin and "sender" not in event:
        # The checkbox plugin's opt-in names the person by `optin.user_ref` only, with no sender: nobody to answer.
        return []
    sender_id = _party_id(event, "sender")
    recipient_id = _party_id(event, "recipient")
    if sender_id is None or recipient_id is None:
        # Plugin guests are addressed by `user_ref`, not a PSID: there is no contact the inbox could answer.
        return []
    parties = _Parties(sender_id, recipient_id, str(business_id))
    if not parties.concern_the_business:
        return []  # addressed to another Page / account, or the business to itself: not this inbox's conversation
    return handler(event, parties)


class _Parties:
    __slots__ = ("business_id", "recipient_id", "sender_id")

    def __init__(self, sender_id: str, recipient_id: str, business_id: str) -> None:
        self.sender_id = sender_id
        self.recipient_id = recipient_id
        self.business_id = business_id

    @property
    def concern_the_business(self) -> bool:
        """The business is one side of the event and a customer the other (always so without a business id)."""
        if not self.business_id:
            return True
        return self.business_id in (self.sender_id, self.recipient_id) and self.sender_id != self.recipient_id

    def event_id(self, prefix: str, timestamp: datetime) -> str:
        """The id of an event Meta gives none (a postback without mid, a referral, an opt-in): its kind, its sender
        and its time in milliseconds, so Meta's retries of it stay one message."""
        return f"{prefix}.{self.sender_id}.{int(timestamp.timestamp() * 1000)}"

    @property
    def sent_by_business(self) -> bool:
        return bool(self.business_id) and self.sender_id == self.business_id and self.recipient_id != self.business_id

    def customer(self, *, echo: bool = False) -> ContactProfile:
        """The contact of the event: whichever side is not the business (an echo's recipient, in the documented
        shape); without a business id, the recipient of an echo and the sender of anything else."""
        if self.business_id:
            return ContactProfile(
                external_id=self.recipient_id if self.sender_id == self.business_id else self.sender_id
            )
        return ContactProfile(external_id=self.recipient_id if echo else self.sender_id)


def _parse_message(event: dict, parties: _Parties) -> list[InboundEvent]:
    message = event["message"]
    if not isinstance(message, dict):
        raise ValueError(f"'message' must be an object, not {_type_name(message)}.")
    mid = _required_str(message, "mid", "message")
    is_echo = message.get("is_echo") is True or parties.sent_by_business
    contact = parties.customer(echo=is_echo)
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

    notices: list[InboundEvent] = []
    if not is_echo:
        # A click-to-Messenger / Instagram ad (or a link) the customer wrote from: said in the thread before it.
        notice = _referral_notice(message.get("referral"), f"referral.{mid}", contact, timestamp, event)
        if notice is not None:
            notices.append(notice)

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
        *notices,
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
        ),
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
            if sticker_id in LIKE_STICKER_IDS:
                fallback_texts.append(LIKE_STICKER_TEXT)
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
        mid = parties.event_id("postback", timestamp)
    title = _text(postback.get("title"))
    payload: dict[str, Any] = {"postback": {"payload": postback.get("payload", ""), "title": title}}
    if "referral" in postback:
        payload["referral"] = postback["referral"]
    contact = parties.customer()
    # Get Started from an ad or a link (a new thread): where the customer came from, said before the tap.
    notice = _referral_notice(postback.get("referral"), f"referral.{mid}", contact, timestamp, event)
    return [
        *([notice] if notice is not None else []),
        InboundMessage(
            platform_message_id=mid,
            contact=contact,
            timestamp=timestamp,
            kind=MessageKind.INTERACTIVE,
            text=title,
            payload=payload,
            raw=event,
        ),
    ]


def _parse_referral(event: dict, parties: _Parties) -> list[InboundEvent]:
    """messaging_referrals: a customer who already has a thread came back through an ad, a link or the plugin."""
    timestamp = _event_time(event)
    mid = parties.event_id("referral", timestamp)
    notice = _referral_notice(event["referral"], mid, parties.customer(), timestamp, event)
    return [notice] if notice is not None else []


def _parse_optin(event: dict, parties: _Parties) -> list[InboundEvent]:
    """messaging_optins: the Send to Messenger plugin, a one-time notification request, or recurring notification
    messages (opted in, stopped, resumed; the token to send them with and its frequency)."""
    raw_optin = event["optin"]
    if not isinstance(raw_optin, dict):
        return []
    timestamp = _event_time(event)
    optin: dict[str, Any] = {}
    for key, name in _OPTIN_FIELDS:
        value = _text(raw_optin.get(key))
        if value and name not in optin:
            optin[name] = value
    expiry = raw_optin.get("token_expiry_timestamp")
    if expiry not in (None, ""):
        with contextlib.suppress(ValueError):  # a content field: an odd expiry is left out, never a failure
            optin["token_expires_at"] = parse_timestamp(expiry).isoformat()
    optin["at"] = timestamp.isoformat()
    return [
        InboundMessage(
            platform_message_id=parties.event_id("optin", timestamp),
            contact=parties.customer(),
            timestamp=timestamp,
            kind=MessageKind.SYSTEM,
            text=_optin_text(optin),
            payload={"type": "optin", "optin": optin},
            is_notice=True,
            contact_attributes={"optin": optin},
            raw=event,
        )
    ]


# (Meta's field, the name it is kept under in the opt-in): the first that is present wins.
_OPTIN_FIELDS = (
    ("type", "type"),
    ("ref", "ref"),
    ("payload", "payload"),
    ("title", "title"),
    ("notification_messages_token", "token"),
    ("one_time_notif_token", "token"),
    ("notification_messages_frequency", "frequency"),
    ("notification_messages_timezone", "timezone"),
    ("notification_messages_status", "status"),
    ("user_token_status", "token_status"),
)
_REFERRAL_FIELDS = ("source", "type", "ref", "ad_id", "referer_uri")


def _referral_notice(
    value: Any, mid: str, contact: ContactProfile, timestamp: datetime, event: dict
) -> InboundMessage | None:
    """The notice of a `referral` object (None when it is not one): its text says where the customer came from,
    and the referral goes to the contact's attributes."""
    if not isinstance(value, dict):
        return None
    referral: dict[str, Any] = {}
    for key in _REFERRAL_FIELDS:
        text = _id_or_none(value.get(key))
        if text:
            referral[key] = text
    context = value.get("ads_context_data")
    if isinstance(context, dict):
        ad = {key: str(item) for key, item in context.items() if _id_or_none(item) or isinstance(item, float)}
        if ad:
            referral["ads_context_data"] = ad
    product = value.get("product")
    if isinstance(product, dict) and _id_or_none(product.get("id")):
        referral["product_id"] = str(product["id"])
    if not referral:
        return None
    referral["at"] = timestamp.isoformat()
    return InboundMessage(
        platform_message_id=mid[:255],  # `referral.<mid>` of a very long mid still fits (and stays deterministic)
        contact=contact,
        timestamp=timestamp,
        kind=MessageKind.SYSTEM,
        text=_referral_text(referral),
        payload={"type": "referral", "referral": referral},
        is_notice=True,
        contact_attributes={"referral": referral},
        raw=event,
    )


def _referral_text(referral: dict[str, Any]) -> str:
    source = str(referral.get("source", "")).upper()
    ad = referral.get("ads_context_data") or {}
    if source == "ADS" or "ad_id" in referral:
        text = "Came from an ad"
        if ad.get("ad_title"):
            text += f": \u201c{ad['ad_title']}\u201d"
        if referral.get("ad_id"):
            text += f" (ad {referral['ad_id']})"
    elif "PLUGIN" in source:
        text = "Came from the chat plugin"
        if referral.get("referer_uri"):
            text += f" on {referral['referer_uri']}"
    elif "LINK" in source or "SHORT" in source:
        text = "Came from a link"
    elif source:
        text = f"Came from {source.lower().replace('_', ' ')}"
    else:
        text = "Came from a referral"
    if referral.get("ref"):
        text += f" \u00b7 ref {referral['ref']}"
    return text


def _optin_text(optin: dict[str, Any]) -> str:
    kind = optin.get("type", "")
    if kind == "notification_messages":
        status = optin.get("status", "")
        if status == "STOP_NOTIFICATIONS":
            text = "Stopped notification messages"
        elif status == "RESUME_NOTIFICATIONS":
            text = "Resumed notification messages"
        elif optin.get("frequency"):
            text = f"Opted in to {optin['frequency'].lower()} notification messages"
        else:
            text = "Opted in to notification messages"
    elif kind == "one_time_notif_req":
        text = "Asked to be notified once"
    else:
        text = "Opted in to messages"
    if optin.get("title"):
        text += f": {optin['title']}"
    elif optin.get("ref") and kind not in ("notification_messages", "one_time_notif_req"):
        text += f" \u00b7 ref {optin['ref']}"
    return text


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
            contact=parties.customer(),
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
            contact=parties.customer(),
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
            contact=parties.customer(),
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
