"""A listing card (inbox.cards.Card) in WhatsApp's three wire formats — the bodies the adapters send."""

from __future__ import annotations

import dataclasses

from switchboard.inbox.cards import Card, CardButton
from switchboard.whatsapp import cards

IMAGE = "https://inbox.example.com/api/listings/39/media/a.jpg?sig=x"
CARD = Card(
    title="Sea view flat",
    subtitle="250,000 EUR · Lisbon",
    caption="🏠 Sea view flat\n💰 250,000 EUR\n📍 Lisbon\n\nRef: Property 39",
    images=(IMAGE, "https://inbox.example.com/b.jpg"),
    buttons=(CardButton(title="I'm interested", reply_id="listing:39:interested"),),
)
NO_PHOTOS = dataclasses.replace(CARD, images=())


def test_whatsapp_cloud_image_with_caption():
    payload = cards.cloud_card(CARD, to="447700900123")
    assert payload["messaging_product"] == "whatsapp" and payload["to"] == "447700900123"
    assert payload["type"] == "image" and payload["image"]["link"] == IMAGE
    assert payload["image"]["caption"] == CARD.caption


def test_whatsapp_cloud_interactive():
    payload = cards.cloud_card(CARD, to="447700900123", interactive=True)
    interactive = payload["interactive"]
    assert payload["type"] == "interactive" and interactive["type"] == "button"
    assert interactive["header"] == {"type": "image", "image": {"link": IMAGE}}
    assert interactive["body"] == {"text": CARD.caption}
    button = interactive["action"]["buttons"][0]["reply"]
    assert button["id"] == "listing:39:interested" and len(button["title"]) <= 20


def test_whatsapp_without_photos_is_text():
    payload = cards.cloud_card(NO_PHOTOS, to="1")
    assert payload["type"] == "text" and "Property 39" in payload["text"]["body"]
    assert payload["text"]["preview_url"] is False


def test_twilio_and_bridge():
    assert cards.twilio_card(CARD) == {"Body": CARD.caption, "MediaUrl": [IMAGE]}
    assert cards.twilio_card(NO_PHOTOS) == {"Body": CARD.caption}
    assert cards.bridge_card(CARD, chat_id="1@c.us") == (
        "sendImage",
        {"chatId": "1@c.us", "caption": CARD.caption, "file": {"url": IMAGE}},
    )
    assert cards.bridge_card(NO_PHOTOS, chat_id="1@c.us") == ("sendText", {"chatId": "1@c.us", "text": CARD.caption})
