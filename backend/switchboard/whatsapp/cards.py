"""A card (inbox/cards.py) in WhatsApp's wire formats, one per provider — the adapters send what these return.

* Cloud API (`/{phone-number-id}/messages`): the messages that make up the card, in order — the cover image with
  the caption (plain text when the card has no image) or, for a card with buttons (the interactive format,
  inbox/sendable.py), a button message with the cover image as its header and the card's buttons as reply buttons;
  then each further photo as an image message (at most MAX_FOLLOWING_IMAGES). The adapter posts them in order
  (meta/messages.py `graph_post`); the first one's id is the message's.
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
MAX_FOLLOWING_IMAGES = 9  # photos sent after the cover: ten in all, as many as a Messenger carousel shows


def cloud_card(
    card: Card, *, to: str = "", recipient: str = "", interactive: bool | None = None
) -> list[dict[str, Any]]:
    """The Cloud API messages of a card, in the order they are sent. `to` is the phone number; a user known only by
    their business-scoped user id gets `recipient` instead. `interactive` (default: whether the card carries
    buttons) sends the card as a button message."""
    base = cloud_address(to=to, recipient=recipient)
    following = [{**base, "type": "image", "image": {"link": image}} for image in _following_images(card)]
    return [_cloud_card_message(card, base, bool(card.buttons) if interactive is None else interactive), *following]


def _cloud_card_message(card: Card, base: dict[str, Any], interactive: bool) -> dict[str, Any]:
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


def twilio_card(card: Card) -> list[dict[str, Any]]:
    """The Twilio forms of a card, in the order they are sent (without To/From): the caption with the cover, then
    each further photo alone — WhatsApp through Twilio takes one media per message."""
    form: dict[str, Any] = {"Body": card.caption}
    if card.image:
        form["MediaUrl"] = [card.image]
    return [form, *({"MediaUrl": [image]} for image in _following_images(card))]


def bridge_card(card: Card, *, chat_id: str) -> list[tuple[str, dict[str, Any]]]:
    """The (endpoint, body) calls of the bridge's API for a card, in order: the cover with the caption (the caption
    alone without photos), then each further photo."""
    if not card.image:
        return [("sendText", {"chatId": chat_id, "text": card.caption})]
    cover = ("sendImage", {"chatId": chat_id, "caption": card.caption, "file": {"url": card.image}})
    following = [("sendImage", {"chatId": chat_id, "file": {"url": image}}) for image in _following_images(card)]
    return [cover, *following]


def _following_images(card: Card) -> tuple[str, ...]:
    """The photos sent after the cover, each on its own (at most MAX_FOLLOWING_IMAGES)."""
    return card.images[1 : 1 + MAX_FOLLOWING_IMAGES]
