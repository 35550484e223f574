"""Card payloads per platform (sending is the outbound pipeline's; these are the bodies it sends)."""

from __future__ import annotations

import pytest

from switchboard.listings import cards
from switchboard.platforms.models import Platform, Provider

CARD = {
    "id": 39,
    "reference": "39",
    "label": "Property 39",
    "title": "Sea view flat with a very long title that goes on and on past eighty characters for sure",
    "price": "250000.00",
    "currency": "EUR",
    "location": "Lisbon",
    "bedrooms": 2,
    "description": "Bright, renovated.",
    "status": "active",
    "images": ["https://inbox.example.com/api/listings/39/media/a.jpg?sig=x", "https://inbox.example.com/b.jpg"],
    "thumbnails": [],
    "image_count": 2,
    "verified_with_photos": True,
}


def test_caption():
    caption = cards.card_caption(CARD)
    assert caption.splitlines()[:4] == [f"🏠 {CARD['title']}", "💰 250,000 EUR", "📍 Lisbon", "🛏 2 bedrooms"]
    assert caption.endswith("Ref: Property 39")
    long = cards.card_caption({**CARD, "description": "x" * 5000})
    assert len(long) == cards.CAPTION_LIMIT and long.endswith("…")
    assert cards.format_price({**CARD, "price": "1234.50"}) == "1,234.50 EUR"
    assert cards.format_price({**CARD, "price": None}) == ""


def test_whatsapp_cloud_image_with_caption():
    payload = cards.card_platform_payload(CARD, platform=Platform.WHATSAPP, provider=Provider.META, to="447700900123")
    assert payload["messaging_product"] == "whatsapp" and payload["to"] == "447700900123"
    assert payload["type"] == "image" and payload["image"]["link"] == CARD["images"][0]
    assert payload["image"]["caption"] == cards.card_caption(CARD)


def test_whatsapp_cloud_interactive():
    payload = cards.card_platform_payload(
        CARD, platform=Platform.WHATSAPP, provider=Provider.META, to="447700900123", interactive=True
    )
    interactive = payload["interactive"]
    assert payload["type"] == "interactive" and interactive["type"] == "button"
    assert interactive["header"] == {"type": "image", "image": {"link": CARD["images"][0]}}
    button = interactive["action"]["buttons"][0]["reply"]
    assert button["id"] == "listing:39:interested" and len(button["title"]) <= 20


def test_whatsapp_without_photos_is_text():
    payload = cards.whatsapp_cloud_payload({**CARD, "images": []}, to="1")
    assert payload["type"] == "text" and "Property 39" in payload["text"]["body"]


def test_twilio_and_bridge():
    twilio = cards.card_platform_payload(CARD, platform=Platform.WHATSAPP, provider=Provider.TWILIO)
    assert twilio == {"Body": cards.card_caption(CARD), "MediaUrl": [CARD["images"][0]]}
    bridge = cards.card_platform_payload(CARD, platform=Platform.WHATSAPP, provider=Provider.BRIDGE, to="1@c.us")
    assert bridge["chatId"] == "1@c.us" and bridge["url"] == CARD["images"][0]


@pytest.mark.parametrize("platform", [Platform.MESSENGER, Platform.INSTAGRAM])
def test_messenger_and_instagram_generic_template(platform):
    payload = cards.card_platform_payload(CARD, platform=platform, provider=Provider.META)
    template = payload["attachment"]["payload"]
    assert payload["attachment"]["type"] == "template" and template["template_type"] == "generic"
    element = template["elements"][0]
    assert len(element["title"]) <= 80 and len(element["subtitle"]) <= 80
    assert element["subtitle"] == "250,000 EUR · Lisbon" and element["image_url"] == CARD["images"][0]
    assert element["buttons"][0]["payload"] == "LISTING:39:INTERESTED"


@pytest.mark.django_db
def test_absolute_links_use_the_public_base_url(settings):
    settings.PUBLIC_BASE_URL = "https://inbox.example.com/"
    url = cards.listing_media_url(organization_id=1, listing_id=39, filename="a.jpg", absolute=True)
    assert url.startswith("https://inbox.example.com/api/listings/39/media/a.jpg?sig=")
    assert cards.listing_media_signature_check(url.split("sig=")[1], listing_id=39, filename="a.jpg") == 1
    assert cards.listing_media_signature_check(url.split("sig=")[1], listing_id=40, filename="a.jpg") is None
