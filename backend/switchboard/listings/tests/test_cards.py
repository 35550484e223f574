"""Listing cards: the caption, the platform-neutral card a listing card message sends (inbox.cards.Card) and its
provider for the inbox's LISTING_CARD hook, and signed image links. Each platform's wire format is tested with its
platform (whatsapp/tests/test_cards.py, meta/tests/test_cards.py)."""

from __future__ import annotations

import pytest

from switchboard.inbox import hooks
from switchboard.inbox.cards import Card, CardButton
from switchboard.listings import cards, services
from switchboard.listings.models import Listing

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


def test_the_card_says_it_without_any_platform_format():
    card = cards.card_for(CARD, snapshot={"id": 39})
    assert card == Card(
        title=CARD["title"],
        subtitle="250,000 EUR · Lisbon",
        caption=cards.card_caption(CARD),
        images=tuple(CARD["images"]),
        buttons=(CardButton(title="I'm interested", reply_id="listing:39:interested"),),
    )
    assert card.image == CARD["images"][0] and card.snapshot == {"id": 39}
    bare = cards.card_for({**CARD, "title": "", "price": None, "location": "", "images": []}, snapshot={})
    assert (bare.title, bare.subtitle, bare.image, bare.images) == ("Property 39", "Property 39", None, ())


@pytest.mark.django_db
def test_the_listing_card_hook_gives_the_live_card_then_the_snapshot(org, make_org, settings):
    settings.PUBLIC_BASE_URL = "https://inbox.example.com"
    listing = services.listing_create(
        organization=org, by=None, data={"reference": "39", "title": "Sea view flat", "price": "250000"}
    )
    ask = {"organization_id": org.pk, "listing_id": listing.pk, "snapshot": None}
    assert cards.listing_card in hooks.subscribers(hooks.LISTING_CARD)  # ListingsConfig.ready subscribed it

    live = hooks.ask(hooks.LISTING_CARD, **ask, absolute=True)
    assert (live.title, live.subtitle, live.images) == ("Sea view flat", "250,000", ())
    assert "organization_id" not in live.snapshot and live.snapshot["label"] == "Property 39"
    # Another organization's listing is no card at all (the same as a missing one).
    assert hooks.ask(hooks.LISTING_CARD, **{**ask, "organization_id": make_org().pk}, absolute=True) is None

    snapshot = dict(live.snapshot)
    Listing.objects.filter(pk=listing.pk).delete()
    gone = hooks.ask(hooks.LISTING_CARD, **{**ask, "snapshot": snapshot}, absolute=True)
    assert (gone.title, gone.caption, gone.images) == ("Sea view flat", live.caption, ())
    assert hooks.ask(hooks.LISTING_CARD, **ask, absolute=True) is None


@pytest.mark.django_db
def test_absolute_links_use_the_public_base_url(settings):
    settings.PUBLIC_BASE_URL = "https://inbox.example.com/"
    url = cards.listing_media_url(organization_id=1, listing_id=39, filename="a.jpg", absolute=True)
    assert url.startswith("https://inbox.example.com/api/listings/39/media/a.jpg?sig=")
    assert cards.listing_media_signature_check(url.split("sig=")[1], listing_id=39, filename="a.jpg") == 1
    assert cards.listing_media_signature_check(url.split("sig=")[1], listing_id=40, filename="a.jpg") is None
