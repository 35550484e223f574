"""A card (inbox/cards.py) in the Messenger Platform's wire format (Messenger and Instagram Send API `message`):
a generic template — title and subtitle at most 80 characters, the image, the card's buttons as postbacks."""

from __future__ import annotations

from typing import Any

from switchboard.inbox.cards import Card

TITLE_LIMIT = 80  # a generic template's title and subtitle
BUTTON_TITLE_LIMIT = 20
MAX_BUTTONS = 3


def messenger_card(card: Card) -> dict[str, Any]:
    element: dict[str, Any] = {
        "title": card.title[:TITLE_LIMIT],
        "subtitle": card.subtitle[:TITLE_LIMIT],
        "buttons": [
            # Postback payloads are upper-case here, as Messenger's own (GET_STARTED): LISTING:39:INTERESTED.
            {"type": "postback", "title": button.title[:BUTTON_TITLE_LIMIT], "payload": button.reply_id.upper()}
            for button in card.buttons[:MAX_BUTTONS]
        ],
    }
    if card.image:
        element["image_url"] = card.image
    return {"attachment": {"type": "template", "payload": {"template_type": "generic", "elements": [element]}}}
