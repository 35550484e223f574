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


SECOND = "https://inbox.example.com/b.jpg"
BASE = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": "447700900123"}


def test_whatsapp_cloud_image_with_caption_then_the_other_photos():
    """A card without buttons (the image format: inbox/sendable.py leaves them off) is the cover with the caption."""
    cover, second = cards.cloud_card(dataclasses.replace(CARD, buttons=()), to="447700900123")
    assert cover == {**BASE, "type": "image", "image": {"link": IMAGE, "caption": CARD.caption}}
    assert second == {**BASE, "type": "image", "image": {"link": SECOND}}  # no caption: the card said it all


def test_whatsapp_cloud_interactive_is_a_card_with_buttons():
    for messages in (cards.cloud_card(CARD, to="447700900123"), cards.cloud_card(CARD, to="447700900123",
                                                                                  interactive=True)):  # fmt: skip
        payload, second = messages
        interactive = payload["interactive"]
        assert payload["type"] == "interactive" and interactive["type"] == "button"
        assert interactive["header"] == {"type": "image", "image": {"link": IMAGE}}
        assert interactive["body"] == {"text": CARD.caption}
        assert interactive["action"]["buttons"] == [
            {"type": "reply", "reply": {"id": "listing:39:interested", "title": "I'm interested"}}
        ]
        assert second == {**BASE, "type": "image", "image": {"link": SECOND}}


def test_whatsapp_cloud_sends_at_most_ten_photos():
    many = dataclasses.replace(CARD, images=tuple(f"https://inbox.example.com/{n}.jpg" for n in range(14)))
    messages = cards.cloud_card(many, to="1", interactive=False)
    assert len(messages) == 1 + cards.MAX_FOLLOWING_IMAGES == 10
    assert [m["image"]["link"] for m in messages] == [f"https://inbox.example.com/{n}.jpg" for n in range(10)]


def test_whatsapp_without_photos_is_text():
    [payload] = cards.cloud_card(dataclasses.replace(NO_PHOTOS, buttons=()), to="1")
    assert payload["type"] == "text" and "Property 39" in payload["text"]["body"]
    assert payload["text"]["preview_url"] is False
    [interactive] = cards.cloud_card(NO_PHOTOS, to="1")
    assert interactive["type"] == "interactive" and "header" not in interactive["interactive"]


def test_a_business_scoped_user_is_addressed_by_recipient():
    [payload] = cards.cloud_card(NO_PHOTOS, recipient="US.13491208655302741918")
    assert payload["recipient"] == "US.13491208655302741918" and "to" not in payload


def test_twilio_and_bridge_send_the_cover_with_the_caption_then_each_further_photo():
    assert cards.twilio_card(CARD) == [{"Body": CARD.caption, "MediaUrl": [IMAGE]}, {"MediaUrl": [SECOND]}]
    assert cards.twilio_card(NO_PHOTOS) == [{"Body": CARD.caption}]
    assert cards.bridge_card(CARD, chat_id="1@c.us") == [
        ("sendImage", {"chatId": "1@c.us", "caption": CARD.caption, "file": {"url": IMAGE}}),
        ("sendImage", {"chatId": "1@c.us", "file": {"url": SECOND}}),
    ]
    assert cards.bridge_card(NO_PHOTOS, chat_id="1@c.us") == [("sendText", {"chatId": "1@c.us", "text": CARD.caption})]


def test_at_most_ten_photos_in_all():
    many = dataclasses.replace(CARD, images=tuple(f"https://inbox.example.com/{n}.jpg" for n in range(14)))
    assert len(cards.twilio_card(many)) == 10
    assert len(cards.bridge_card(many, chat_id="1@c.us")) == 10
