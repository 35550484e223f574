"""A listing card (inbox.cards.Card) as Messenger and Instagram take it: a generic template, one element per
photo."""

from __future__ import annotations

import dataclasses

from switchboard.inbox.cards import Card, CardButton
from switchboard.meta import cards

IMAGE = "https://inbox.example.com/api/listings/39/media/a.jpg?sig=x"
CARD = Card(
    title="Sea view flat with a very long title that goes on and on past eighty characters for sure",
    subtitle="250,000 EUR · Lisbon",
    caption="🏠 Sea view flat …\n\nRef: Property 39",
    images=(IMAGE, "https://inbox.example.com/b.jpg"),
    buttons=(CardButton(title="I'm interested", reply_id="listing:39:interested"),),
)


def test_messenger_and_instagram_generic_template():
    payload = cards.messenger_card(CARD)
    template = payload["attachment"]["payload"]
    assert payload["attachment"]["type"] == "template" and template["template_type"] == "generic"
    element = template["elements"][0]
    assert len(element["title"]) <= 80 and len(element["subtitle"]) <= 80
    assert element["title"] == CARD.title[:80]
    assert element["subtitle"] == "250,000 EUR · Lisbon" and element["image_url"] == IMAGE
    assert element["buttons"] == [{"type": "postback", "title": "I'm interested", "payload": "LISTING:39:INTERESTED"}]


def test_without_photos_there_is_no_image():
    element = cards.messenger_card(dataclasses.replace(CARD, images=()))["attachment"]["payload"]["elements"][0]
    assert "image_url" not in element


def test_every_photo_is_an_element_of_the_carousel():
    elements = cards.messenger_card(CARD)["attachment"]["payload"]["elements"]
    assert [e.get("image_url") for e in elements] == [IMAGE, "https://inbox.example.com/b.jpg"]
    assert [e["subtitle"] for e in elements] == ["250,000 EUR · Lisbon", "Photo 2 of 2 · 250,000 EUR · Lisbon"]
    assert all(e["title"] == CARD.title[:80] and e["buttons"] == elements[0]["buttons"] for e in elements)


def test_the_carousel_holds_at_most_ten():
    many = dataclasses.replace(CARD, images=tuple(f"https://inbox.example.com/{n}.jpg" for n in range(12)))
    elements = cards.messenger_card(many)["attachment"]["payload"]["elements"]
    assert len(elements) == cards.MAX_ELEMENTS == 10 and elements[-1]["subtitle"].startswith("Photo 10 of 10")


def test_a_card_without_buttons_sends_none():
    [element] = cards.messenger_card(dataclasses.replace(CARD, images=(), buttons=()))["attachment"]["payload"][
        "elements"
    ]
    assert "buttons" not in element and element["subtitle"] == "250,000 EUR · Lisbon"
