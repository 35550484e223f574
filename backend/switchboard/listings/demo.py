"""The listings part of the demo agency (`manage.py seed_demo`, through the inbox's DEMO_SEED hook).

A listing — 12 Oak Street, reference OAK12 — with three photos uploaded from the shipped demo files, whose card is
the WhatsApp thread's listing_card message (`demo-wa-4`). Idempotent: the reference is fixed, so a second run finds
the listing and its photos stored.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile

from switchboard.accounts.models import Organization, User
from switchboard.inbox.hooks import DemoPart
from switchboard.listings import services
from switchboard.listings.models import Listing, ListingStatus

LISTING_REFERENCE = "OAK12"
LISTING_PHOTOS = ("facade.png", "kitchen.jpg", "living-room.jpg")
CARD_MESSAGE = "demo-wa-4"  # the demo's listing_card message in Maria's WhatsApp thread


def demo_listing(*, organization: Organization, user: User, media_folder: Path) -> DemoPart:
    listing = Listing.objects.for_organization(organization).filter(reference=LISTING_REFERENCE).first()
    if listing is None:
        listing = services.listing_create(
            organization=organization,
            by=user,
            data={
                "reference": LISTING_REFERENCE,
                "title": "12 Oak Street",
                "price": Decimal("485000"),
                "currency": "USD",
                "location": "Oakland, CA",
                "bedrooms": 3,
                "description": "Bright 3-bedroom family home with a new kitchen and a garden (sandbox demo).",
                "status": ListingStatus.ACTIVE,
            },
        )
    if not listing.images.exists():
        for name in LISTING_PHOTOS:
            data = (media_folder / name).read_bytes()
            mime = "image/png" if name.endswith(".png") else "image/jpeg"
            upload = SimpleUploadedFile(name, data, content_type=mime)
            services.listing_image_upload(organization=organization, listing=listing, by=user, file=upload)
    return DemoPart(
        name="listing",
        ids={"id": listing.pk, "reference": listing.reference, "title": listing.title},
        report=f"  Listing {listing.pk}: {listing.title} (reference {listing.reference}).",
        message_payloads={CARD_MESSAGE: {"listing_id": listing.pk}},
    )
