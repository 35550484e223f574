"""A card (inbox/cards.py) in WhatsApp's wire formats, one per provider — the adapters send what these return.

* Cloud API (`/{phone-number-id}/messages`): an image with the caption; plain text when the card has no image; or,
  `interactive=True`, a button message with the image as its header and the card's buttons as reply buttons.
* Twilio (Messages API form fields): `Body` with the caption and `MediaUrl` with the image (From / To are the
  sender's to add).
* Bridges (WAHA HTTP API): `sendImage` with the caption and the image's URL, or `sendText`.
"""

from __future__ import annotations

from typing import Any

from switchboard.inbox.cards import Card
from switchboard.whatsapp.cloud_api import cloud_address

BUTTON_TITLE_LIMIT = 20  # a reply button's title
MAX_REPLY_BUTTONS = 3


def cloud_card(card: Card, *, to: str = "", recipient: str = "", interactive: bool = False) -> dict[str, Any]:
    """`to` is the phone number; a user known only by their business-scoped user id gets `recipient` instead."""
    base = cloud_address(to=to, recipient=recipient)
    if interactive:
        body: dict[str, Any] = {
            "type": "button",
            "body": {"text": card.caption},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": button.reply_id, "title": button.title[:BUTTON_TITLE_LIMIT]}}
                    for button in card.buttons[:MAX_REPLY_BUTTONS]
                ]
            },
        }
        if card.image:
            body["header"] = {"type": "image", "image": {"link": card.image}}
        return {**base, "type": "interactive", "interactive": body}
    if card.image:
        return {**base, "type": "image", "image": {"link": card.image, "caption": card.caption}}
    return {**base, "type": "text", "text": {"body": card.caption, "preview_url": False}}


def twilio_card(card: Card) -> dict[str, Any]:
    form: dict[str, Any] = {"Body": card.caption}
    if card.image:
        form["MediaUrl"] = [card.image]
    return form


def bridge_card(card: Card, *, chat_id: str) -> tuple[str, dict[str, Any]]:
    """(endpoint, body) of the bridge's API."""
    if card.image:
        return "sendImage", {"chatId": chat_id, "caption": card.caption, "file": {"url": card.image}}
    return "sendText", {"chatId": chat_id, "text": card.caption}
