"""Normalized inbound events: what every platform parser produces and `MessageService.handle` consumes.

Frozen dataclasses with only normalized fields, so the service never looks at a platform's payload shape.
Parsers are pure functions (no database) that build these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from switchboard.inbox.models import MessageKind, MessageStatus


@dataclass(frozen=True)
class ContactProfile:
    """Who the customer is, as far as the payload says. `external_id` is the platform's id for them
    (phone digits / `US.…` for WhatsApp, PSID / IGSID for Messenger / Instagram, chat id for bridges).

    WhatsApp may name one person several ways at once: the phone number (`wa_id`), the business-scoped user id
    (`user_id`, `US.…`), a parent BSUID shared across a business's portfolios (`parent_user_id`, `US.ENT.…`) and a
    username. The parser puts each it trusts in its own field (a malformed id is left out); the service keeps them
    all on one contact and finds the contact by any of them."""

    external_id: str
    name: str = ""
    username: str = ""
    phone_number: str = ""  # raw as sent; the service normalizes to E.164
    profile_picture_url: str = ""
    user_id: str = ""  # WhatsApp's business-scoped user id (BSUID), when the payload carries a well-formed one
    parent_user_id: str = ""  # WhatsApp's parent BSUID, likewise


@dataclass(frozen=True)
class AttachmentRef:
    kind: str  # a MessageKind value: image, video, audio, document, sticker
    media_id: str = ""
    url: str = ""
    mime_type: str = ""
    filename: str = ""
    caption: str = ""
    sha256: str = ""


@dataclass(frozen=True)
class InboundMessage:
    """A message in the conversation. `is_echo` marks one the business sent (from the native app, or our own send
    echoed back): it is stored as outbound and matched to our own copy by platform message id.

    `is_notice` marks an event about the conversation rather than words from the customer (they came from an ad or
    a link, opted in to notifications): stored as a read `system` line, it neither counts as unread nor opens the
    reply window nor brings an archived thread back. `contact_attributes` are what the event says about the contact
    (`{"referral": {...}}`): each key replaces the contact's stored value of that key, the other keys stay."""

    platform_message_id: str
    contact: ContactProfile
    timestamp: datetime
    kind: str = MessageKind.TEXT
    text: str = ""
    payload: dict[str, Any] = field(default_factory=dict)
    attachments: tuple[AttachmentRef, ...] = ()
    reply_to_platform_id: str = ""
    is_echo: bool = False
    is_notice: bool = False
    contact_attributes: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class StatusUpdate:
    """The platform's word on a message we sent: sent, delivered, read or failed (with the vendor's code)."""

    platform_message_id: str
    status: str  # a MessageStatus value
    timestamp: datetime
    recipient_id: str = ""
    error_code: str = ""
    error_message: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Reaction:
    """An emoji put on (or, with an empty emoji / removed=True, taken off) an earlier message."""

    target_platform_message_id: str
    contact: ContactProfile
    emoji: str
    timestamp: datetime
    platform_message_id: str = ""
    removed: bool = False
    from_business: bool = False
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class MessageDeleted:
    platform_message_id: str
    contact: ContactProfile
    timestamp: datetime
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class ReadReceipt:
    """Messenger / Instagram `read` watermark: every outbound message up to `watermark` was read by the contact.
    Messenger `delivery` watermarks use `status=delivered` and may list `platform_message_ids`."""

    contact: ContactProfile
    watermark: datetime
    timestamp: datetime
    status: str = MessageStatus.READ
    platform_message_ids: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


InboundEvent = InboundMessage | StatusUpdate | Reaction | MessageDeleted | ReadReceipt
