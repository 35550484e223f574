"""Twilio WhatsApp webhooks (form-encoded parameters, already decoded into a dict) → normalized inbox events.

Twilio posts two kinds of request to the same URL family:
* an inbound message: `MessageSid`, `From=whatsapp:+<E.164>` (or `whatsapp:US.…` with `ExternalUserId` for
  username users), `To=whatsapp:<our number>`, `Body`, `NumMedia` + `MediaUrl{i}` / `MediaContentType{i}`,
  `ProfileName`, `WaId`, `MessageType`, `Latitude` / `Longitude` / `Address` / `Label`, `ButtonText` /
  `ButtonPayload`, `OriginalRepliedMessageSid`, `Referral*`, `Forwarded`;
* a status callback for a message we sent: `MessageStatus` (queued, sending, sent, delivered, read, undelivered,
  failed), `ErrorCode`, with `From=whatsapp:<our number>` and `To=whatsapp:<customer>`.

Decisions:
* `account_key` returns *our* number: `To` on an inbound message but `From` on a status callback (there `To` is the
  customer). Both come with the `AccountSid`.
* Status mapping: queued / accepted / scheduled → queued, sending → sending (the service never moves a status
  backwards, so these are harmless when late), sent / delivered / read → themselves, undelivered / failed /
  canceled → failed with `ErrorCode` and the sentence the send path gives that code (twilio_errors.py; Twilio's
  own `ErrorMessage` is not an agent's sentence). Unknown statuses give no event.
* A status callback needs only `MessageSid` and `MessageStatus`: `From` / `To` may be missing (trimmed or forwarded
  callbacks); the adapter then routes it by its URL (`/api/webhooks/twilio/<account id>/status/`) or by the
  MessageSid of our own message.
* A button reply's text is `ButtonText` (the button the customer tapped), else `Body`.
* `ExternalUserId` (the business-scoped user id) rides along with a phone `From`; a malformed one is dropped.
* Twilio gives no time for inbound messages or statuses: the event time is `now` (injectable for tests).
* Every `MediaUrl{i}` becomes an attachment, whatever `NumMedia` says.
* An inbound message with no body, no media, no location and no button is `kind=unsupported` rather than an empty
  text bubble.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from switchboard.inbox.events import AttachmentRef, ContactProfile, InboundEvent, InboundMessage, StatusUpdate
from switchboard.inbox.models import MessageKind, MessageStatus
from switchboard.whatsapp.parsers import PHONE, as_float, as_str, compact, kind_for_mime, user_id_or_empty
from switchboard.whatsapp.twilio_errors import delivery_failure_sentence

_PREFIX = "whatsapp:"

_STATUSES = {
    "queued": MessageStatus.QUEUED,
    "accepted": MessageStatus.QUEUED,
    "scheduled": MessageStatus.QUEUED,
    "sending": MessageStatus.SENDING,
    "sent": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "read": MessageStatus.READ,
    "undelivered": MessageStatus.FAILED,
    "failed": MessageStatus.FAILED,
    "canceled": MessageStatus.FAILED,
}

# A status callback says where *our* message got to; these two values describe an inbound message instead.
_INBOUND_STATUSES = {"received", "receiving"}

_MEDIA_KINDS: dict[str, str] = {
    "image": MessageKind.IMAGE,
    "video": MessageKind.VIDEO,
    "audio": MessageKind.AUDIO,
    "document": MessageKind.DOCUMENT,
    "sticker": MessageKind.STICKER,
}

_MEDIA_URL = re.compile(r"MediaUrl(\d+)")

_REFERRAL_FIELDS = {
    "ReferralBody": "body",
    "ReferralHeadline": "headline",
    "ReferralSourceId": "source_id",
    "ReferralSourceType": "source_type",
    "ReferralSourceUrl": "source_url",
    "ReferralMediaId": "media_id",
    "ReferralMediaContentType": "media_content_type",
    "ReferralMediaUrl": "media_url",
    "ReferralCtwaClid": "ctwa_clid",
}


def strip_prefix(address: str) -> str:
    """'whatsapp:+14155238886' → '+14155238886' (Twilio prefixes every WhatsApp address)."""
    address = address.strip()
    return address[len(_PREFIX) :] if address.lower().startswith(_PREFIX) else address


def is_status_callback(params: dict[str, str]) -> bool:
    status = as_str(params.get("MessageStatus")).strip().lower()
    return bool(status) and status not in _INBOUND_STATUSES


def account_key(params: dict[str, str]) -> tuple[str, str]:
    """(our WhatsApp number without the `whatsapp:` prefix, AccountSid) — what routes the request to a tenant. A
    status callback may come without `From` (trimmed or forwarded callbacks carry only MessageSid, MessageStatus,
    AccountSid, ErrorCode): the number is then '' and the adapter routes by the callback's URL or its MessageSid."""
    if not isinstance(params, dict):
        raise ValueError("expected Twilio's form-encoded parameters")
    status_callback = is_status_callback(params)
    number = strip_prefix(as_str(params.get("From" if status_callback else "To")))
    if not number and not status_callback:
        raise ValueError("the Twilio message names no WhatsApp number of ours ('To')")
    return number, as_str(params.get("AccountSid")).strip()


def message_sid(params: dict[str, str]) -> str:
    """The MessageSid (or its older names), '' when there is none."""
    return next((as_str(params.get(k)).strip() for k in ("MessageSid", "SmsMessageSid", "SmsSid") if params.get(k)), "")


def parse(params: dict[str, str], *, now: datetime | None = None) -> list[InboundEvent]:
    """One inbound message or one status callback. `now` is the event time (Twilio sends none); default: the clock."""
    if not isinstance(params, dict):
        raise ValueError("expected Twilio's form-encoded parameters")
    at = now or datetime.now(UTC)
    if is_status_callback(params):
        return _status(params, at)
    return [_message(params, at)]


def _sid(params: dict[str, str]) -> str:
    sid = message_sid(params)
    if not sid:
        raise ValueError("the Twilio request has no MessageSid")
    return sid


def _status(params: dict[str, str], at: datetime) -> list[InboundEvent]:
    sid = _sid(params)
    status = _STATUSES.get(as_str(params.get("MessageStatus")).strip().lower())
    if status is None:
        return []  # a status this code does not know (e.g. a new Twilio state): nothing to move
    failed = status == MessageStatus.FAILED
    error_code = as_str(params.get("ErrorCode")).strip() if failed else ""
    # The send path's sentence for the code (twilio_errors.py): Twilio's own ErrorMessage is for developers, and a
    # callback often carries only the code.
    error_message = delivery_failure_sentence(error_code) if failed else ""
    return [
        StatusUpdate(
            platform_message_id=sid,
            status=status,
            timestamp=at,
            recipient_id=strip_prefix(as_str(params.get("To"))),
            error_code=error_code,
            error_message=error_message,
            raw=dict(params),
        )
    ]


def _contact(params: dict[str, str]) -> ContactProfile:
    """The customer: the phone number when `From` is one (with `ExternalUserId`, their business-scoped user id, when
    Twilio sends it too), else the business-scoped user id. A malformed `ExternalUserId` is dropped: it never
    replaces a valid phone number, nor a well-formed id in `From`."""
    sender = strip_prefix(as_str(params.get("From")))
    if not sender:
        raise ValueError("the Twilio message has no 'From'")
    name = as_str(params.get("ProfileName"))
    user_id = user_id_or_empty(strip_prefix(as_str(params.get("ExternalUserId"))))
    if PHONE.fullmatch(sender):
        phone = sender if sender.startswith("+") else "+" + sender
        return ContactProfile(
            external_id=as_str(params.get("WaId")) or phone.lstrip("+"), name=name, phone_number=phone, user_id=user_id
        )
    # A username user: no phone number, the business-scoped id is who they are.
    user_id = user_id or user_id_or_empty(sender)
    return ContactProfile(external_id=user_id or sender, name=name, user_id=user_id)


def _attachments(params: dict[str, str], message_type: str) -> tuple[AttachmentRef, ...]:
    indexes = sorted(int(m.group(1)) for key in params if (m := _MEDIA_URL.fullmatch(key)))
    refs = []
    for index in indexes:
        url = as_str(params.get(f"MediaUrl{index}"))
        if not url:
            continue
        mime = as_str(params.get(f"MediaContentType{index}"))
        # Twilio says "sticker" only in MessageType; the content type alone (image/webp) reads as an image.
        kind = MessageKind.STICKER if message_type == "sticker" else kind_for_mime(mime)
        refs.append(AttachmentRef(kind=kind, url=url, mime_type=mime))
    return tuple(refs)


def _message(params: dict[str, str], at: datetime) -> InboundMessage:
    sid = _sid(params)
    contact = _contact(params)
    body = as_str(params.get("Body"))
    message_type = as_str(params.get("MessageType")).strip().lower()
    attachments = _attachments(params, message_type)

    payload: dict[str, Any] = compact(
        {
            "forwarded": as_str(params.get("Forwarded")).lower() == "true" or None,
            "frequently_forwarded": as_str(params.get("FrequentlyForwarded")).lower() == "true" or None,
            "referral": compact({name: as_str(params.get(key)) for key, name in _REFERRAL_FIELDS.items()}) or None,
        }
    )
    text = body
    button_text, button_payload = as_str(params.get("ButtonText")), as_str(params.get("ButtonPayload"))

    kind: str  # a MessageKind value
    if message_type in ("button", "interactive") or button_text or button_payload:
        kind = MessageKind.INTERACTIVE
        text = button_text or body  # the button the customer tapped is what they said
        payload.update(compact({"type": message_type or "button", "title": button_text, "payload": button_payload}))
    elif params.get("Latitude") and params.get("Longitude"):
        kind = MessageKind.LOCATION
        payload.update(
            compact(
                {
                    "latitude": as_float(params.get("Latitude")),
                    "longitude": as_float(params.get("Longitude")),
                    "name": as_str(params.get("Label")),
                    "address": as_str(params.get("Address")),
                }
            )
        )
    elif message_type == "contacts":
        kind = MessageKind.CONTACTS  # the vCard itself is the attachment (text/vcard)
    elif attachments:
        kind = _MEDIA_KINDS.get(message_type, attachments[0].kind)
    elif body and message_type in ("", "text"):
        kind = MessageKind.TEXT
    else:
        kind = MessageKind.UNSUPPORTED
        payload["type"] = message_type or "empty"

    return InboundMessage(
        platform_message_id=sid,
        contact=contact,
        timestamp=at,
        kind=kind,
        text=text,
        payload=payload,
        attachments=attachments,
        reply_to_platform_id=as_str(params.get("OriginalRepliedMessageSid")),
        raw=dict(params),
    )
