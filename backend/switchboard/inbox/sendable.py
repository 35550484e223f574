"""What a stored outbound message says, in the forms the platform adapters need — read-only helpers.

The outbound service (`inbox/services/sending.py`) stores what an agent sends; the adapters turn the stored row into
a vendor request at send time through these helpers, so every platform reads a message the same way:

* `content_of(message)` — text, template, listing, media: which one the message is.
* `media_bytes(attachment)` / `media_public_url(attachment)` — the stored file, or a short-lived signed link to it
  that a platform can fetch (needs PUBLIC_BASE_URL: Meta and Twilio download media from the public internet).
* `listing_card(message)` — the platform-neutral card (inbox/cards.py) of a listing card message, built at send
  time with fresh image links by the app that owns listings, asked through the LISTING_CARD hook (inbox/hooks.py),
  as the message's format sends it (`card_formats`, `card_format_of`: image, interactive, generic); each adapter
  renders it in its own wire format.
* `messaging_window(conversation, at)` — where the conversation stands in the platforms' reply windows;
  `messaging_window_state` adds when that state ends (the API's `window_expires_at`); `sendable_now` what may be
  sent now and the Messenger / Instagram tag it goes with (the API's `sendable`, `message_tag`).
* `metadata_for(message_id)` — the tag Meta echoes back with our own messages.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone

from switchboard.inbox import hooks
from switchboard.inbox.cards import Card
from switchboard.inbox.media import attachment_urls
from switchboard.inbox.models import Attachment, AttachmentStatus, Conversation, Message, MessageKind
from switchboard.platforms.models import Platform, Provider

# Sent with Meta messages and echoed back (`message_echoes`): how ingest knows an echo is the copy of one of ours.
METADATA_PREFIX = "switchboard:msg:"
# In the payload of a message an agent sent with a stored attachment (`attachment_id`): the attachment it re-sent.
FORWARDED_PAYLOAD_KEY = "forwarded_attachment_id"

CUSTOMER_SERVICE_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)


class Window(enum.StrEnum):
    OPEN = "open"  # the customer wrote within 24 hours: any message
    HUMAN_AGENT = "human_agent"  # Messenger / Instagram, 24 hours to 7 days: a human agent's reply, tagged
    TEMPLATES_ONLY = "templates_only"  # WhatsApp Business API after 24 hours: approved templates only
    CLOSED = "closed"  # Messenger / Instagram after 7 days (or never written): nothing


def has_customer_service_window(platform: str, provider: str) -> bool:
    """WhatsApp-Web bridges are a phone's own session: no Business API window applies to them."""
    return not (platform == Platform.WHATSAPP and provider == Provider.BRIDGE)


def messaging_window(conversation: Conversation, at: datetime | None = None) -> Window:
    return messaging_window_state(conversation, at)[0]


def messaging_window_state(conversation: Conversation, at: datetime | None = None) -> tuple[Window, datetime | None]:
    """The window the conversation is in at `at`, and when that state ends by itself (the customer's last message
    plus 24 hours, or plus 7 days for the human-agent window); None when nothing changes until the customer writes
    again (templates only, closed) or when no window applies (bridges)."""
    at = at or timezone.now()
    account = conversation.platform_account
    if not has_customer_service_window(account.platform, account.provider):
        return Window.OPEN, None
    last = conversation.last_inbound_at
    if last is not None and at - last <= CUSTOMER_SERVICE_WINDOW:
        return Window.OPEN, last + CUSTOMER_SERVICE_WINDOW
    if account.platform == Platform.WHATSAPP:
        return Window.TEMPLATES_ONLY, None
    if last is not None and at - last <= HUMAN_AGENT_WINDOW:
        return Window.HUMAN_AGENT, last + HUMAN_AGENT_WINDOW
    return Window.CLOSED, None


class SendableKind(enum.StrEnum):
    """What an agent can send (one of the send endpoint's contents): `text`, a file (`media`: `file` or
    `attachment_id`), a listing's card, a WhatsApp template."""

    TEXT = "text"
    MEDIA = "media"
    LISTING_CARD = "listing_card"
    TEMPLATE = "template"


# Messenger / Instagram: an agent's reply after 24 hours (up to 7 days) is sent with this message tag.
HUMAN_AGENT_TAG = "HUMAN_AGENT"


def templates_allowed(platform: str, provider: str) -> bool:
    """Approved templates are a WhatsApp Business API feature (Cloud API, Twilio; the sandbox behaves as the Cloud
    API so what an agency tries there holds once it connects Meta). Bridges and Messenger / Instagram have none."""
    return platform == Platform.WHATSAPP and provider in (Provider.META, Provider.TWILIO, Provider.SANDBOX)


class CardFormat(enum.StrEnum):
    """How a card is sent, where the platform gives a choice (`format` of a listing card send):

    * `image` — WhatsApp: the cover photo with the card as its caption, the other photos as image messages after
      it (WhatsApp shows no buttons under an image);
    * `interactive` — WhatsApp Cloud API: a button message (the card's text, its "I'm interested" reply button) with
      the cover photo as its header, the other photos after it;
    * `generic` — Messenger / Instagram: a generic template, one element (photo, title, buttons) per photo: a
      carousel."""

    IMAGE = "image"
    INTERACTIVE = "interactive"
    GENERIC = "generic"


# The formats whose message shows the card's buttons (a card sent in another format leaves them off).
_FORMATS_WITH_BUTTONS = frozenset({CardFormat.INTERACTIVE, CardFormat.GENERIC})


def card_formats(platform: str, provider: str) -> tuple[CardFormat, ...]:
    """The card formats an account can send, its default first. Interactive messages are a Cloud API feature (the
    sandbox behaves as the Cloud API); Twilio would need an approved Content Template, a bridge has none."""
    if platform != Platform.WHATSAPP:
        return (CardFormat.GENERIC,)
    if provider in (Provider.META, Provider.SANDBOX):
        return (CardFormat.IMAGE, CardFormat.INTERACTIVE)
    return (CardFormat.IMAGE,)


def card_format_of(message: Message) -> CardFormat:
    """The format a listing card message was stored with (`payload.format`); the account's default for one stored
    before formats existed, or with a format its account does not take."""
    payload = message.payload if isinstance(message.payload, dict) else {}
    account = message.platform_account
    allowed = card_formats(account.platform, account.provider)
    chosen = payload.get("format")
    return CardFormat(chosen) if chosen in allowed else allowed[0]


@dataclass(frozen=True)
class SendableNow:
    """What the reply windows allow in a conversation at one moment — what the send endpoint would accept, so a
    client knows before sending instead of learning it from a 409. The account's own state (disconnected, needs
    reconnecting) is the account's (`/api/platforms/accounts/`), not part of this."""

    window: Window
    expires_at: datetime | None  # when `window` changes by itself
    kinds: tuple[SendableKind, ...]  # in SendableKind's order
    message_tag: str | None  # the Messenger / Instagram tag replies carry now, or None


def sendable_now(conversation: Conversation, at: datetime | None = None) -> SendableNow:
    """The one rule of what may be sent now (the send service refuses by the same window and template rules)."""
    window, expires_at = messaging_window_state(conversation, at)
    account = conversation.platform_account
    templates = templates_allowed(account.platform, account.provider)
    free_form = (SendableKind.TEXT, SendableKind.MEDIA, SendableKind.LISTING_CARD)
    if window in (Window.OPEN, Window.HUMAN_AGENT):
        kinds = free_form + ((SendableKind.TEMPLATE,) if templates else ())
    elif window == Window.TEMPLATES_ONLY:
        kinds = (SendableKind.TEMPLATE,)
    else:
        kinds = ()
    return SendableNow(window, expires_at, kinds, HUMAN_AGENT_TAG if window == Window.HUMAN_AGENT else None)


def metadata_for(message_id: int) -> str:
    return f"{METADATA_PREFIX}{message_id}"


def message_id_from_metadata(value: Any) -> int | None:
    """Our message id from an echo's `metadata`, when we put it there."""
    if isinstance(value, str) and value.startswith(METADATA_PREFIX):
        rest = value[len(METADATA_PREFIX) :]
        if rest.isdigit():
            return int(rest)
    return None


@dataclass(frozen=True)
class OutboundContent:
    kind: str
    text: str = ""
    template: dict[str, Any] | None = None
    listing_id: int | None = None
    attachment: Attachment | None = None

    @property
    def is_template(self) -> bool:
        return self.template is not None

    @property
    def is_listing(self) -> bool:
        return self.listing_id is not None

    @property
    def is_media(self) -> bool:
        return self.attachment is not None


def content_of(message: Message) -> OutboundContent:
    payload = message.payload if isinstance(message.payload, dict) else {}
    if isinstance(payload.get("template"), dict):
        return OutboundContent(kind=message.kind, text=message.text, template=payload["template"])
    if message.kind == MessageKind.LISTING_CARD and payload.get("listing_id"):
        return OutboundContent(kind=message.kind, text=message.text, listing_id=int(payload["listing_id"]))
    attachment = message.attachments.order_by("id").first()
    return OutboundContent(kind=message.kind, text=message.text, attachment=attachment)


class MediaUnavailable(Exception):
    """The file cannot be offered to the platform (not stored, or no public address to link it from)."""


def media_bytes(attachment: Attachment) -> bytes:
    name = attachment.file.name  # a FieldFile is false exactly when it has no name
    if attachment.status != AttachmentStatus.STORED or not name:
        raise MediaUnavailable("The attached file is not stored.")
    with default_storage.open(name, "rb") as handle:
        return handle.read()


def media_public_url(attachment: Attachment) -> str:
    """A signed link the platform can download the file from, valid MEDIA_URL_TTL_SECONDS (platforms fetch at once)."""
    if not settings.PUBLIC_BASE_URL:
        raise MediaUnavailable(
            "Media cannot be sent: this Switchboard has no public address (PUBLIC_BASE_URL) the platform could "
            "download the file from."
        )
    url = attachment_urls(attachment).get("url")
    if not url:
        raise MediaUnavailable("The attached file is not stored.")
    return settings.PUBLIC_BASE_URL.rstrip("/") + url


def listing_card(message: Message) -> Card | None:
    """The card of the message's listing as this message sends it: absolute, freshly signed links to every photo
    (cover first) — or the card of the snapshot stored when it was sent, if the listing is gone; None without either
    (or when no app provides listing cards). Without PUBLIC_BASE_URL the card goes without images (a platform cannot
    fetch a relative link). Its buttons only in a format that shows them (`card_format_of`: interactive, generic):
    the renderers send what the card holds (whatsapp/cards.py sends a card with buttons as a button message)."""
    payload = message.payload if isinstance(message.payload, dict) else {}
    snapshot = payload.get("card")
    card: Card | None = hooks.ask(
        hooks.LISTING_CARD,
        organization_id=message.organization_id,
        listing_id=payload.get("listing_id"),
        snapshot=snapshot if isinstance(snapshot, dict) else None,
        absolute=True,
    )
    if card is None:
        return None
    if not settings.PUBLIC_BASE_URL:
        card = dataclasses.replace(card, images=())
    if card_format_of(message) not in _FORMATS_WITH_BUTTONS:
        card = dataclasses.replace(card, buttons=())
    return card
