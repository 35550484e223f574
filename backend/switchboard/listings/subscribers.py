"""What the listings app does on the inbox's hooks (inbox/hooks.py), subscribed in `ListingsConfig.ready()`.

* MESSAGE_MEDIA_SETTLED → `file_received_photos`: the stored photos of an inbound message go under its listing.
* LISTING_CARD → `cards.listing_card`: the platform-neutral card of a listing, for a listing_card message.
* DEMO_SEED → `demo.demo_listing`: the demo agency's listing (`manage.py seed_demo`).
"""

from __future__ import annotations

from switchboard.inbox import hooks
from switchboard.listings import cards, demo, services


def file_received_photos(*, organization_id: int, message_id: int) -> None:
    services.listing_images_from_message(organization=organization_id, message_id=message_id)


def subscribe() -> None:
    hooks.subscribe(hooks.MESSAGE_MEDIA_SETTLED, file_received_photos)
    hooks.subscribe(hooks.LISTING_CARD, cards.listing_card)
    hooks.subscribe(hooks.DEMO_SEED, demo.demo_listing)
