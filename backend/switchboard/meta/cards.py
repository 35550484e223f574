"""A card (inbox/cards.py) in the Messenger Platform's wire format (Messenger and Instagram Send API `message`):
a generic template — title and subtitle at most 80 characters, the image, the card's buttons as postbacks — with
one element per photo, a carousel of at most MAX_ELEMENTS (Meta's limit for both platforms); the later elements
say which photo they show ("Photo 2 of 5") and carry the same buttons, so the customer can answer from any."""

from __future__ import annotations

from typing import Any

from switchboard.inbox.cards import Card

TITLE_LIMIT = 80  # a generic template's title and subtitle
BUTTON_TITLE_LIMIT = 20
MAX_BUTTONS = 3
MAX_ELEMENTS = 10  # a generic template's carousel


def messenger_card(card: Card) -> dict[str, Any]:
    buttons = [
        # Postback payloads are upper-case here, as Messenger's own (GET_STARTED): LISTING:39:INTERESTED.
        {"type": "postback", "title": button.title[:BUTTON_TITLE_LIMIT], "payload": button.reply_id.upper()}
        for button in card.buttons[:MAX_BUTTONS]
    ]
    images: list[str | None] = list(card.images[:MAX_ELEMENTS]) or [None]
    elements = []
    for number, image in enumerate(images, start=1):
        subtitle = card.subtitle if number == 1 else f"Photo {number} of {len(images)} · {card.subtitle}"
        element: dict[str, Any] = {"title": card.title[:TITLE_LIMIT], "subtitle": subtitle[:TITLE_LIMIT]}
        if buttons:
            element["buttons"] = buttons
        if image:
            element["image_url"] = image
        elements.append(element)
    return {"attachment": {"type": "template", "payload": {"template_type": "generic", "elements": elements}}}
