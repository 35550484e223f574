"""Listing reads: querysets for the API, and how an arriving photo finds its listing."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import cast

from django.db.models import Count, QuerySet

from switchboard.accounts.models import Organization
from switchboard.accounts.tenancy import TenantQuerySet
from switchboard.common.phones import normalize_phone
from switchboard.inbox.models import Contact
from switchboard.listings.models import ContactIndex, Listing, ListingImage
from switchboard.platforms.models import Platform

# "Property 39", "property no. 39", "Listing #A-12", "Ref: 39", "reference 39", or a bare "#39".
_REFERENCE = re.compile(
    r"(?:\b(?:property|listing|ref(?:erence)?)\b\s*(?:no\.?|number|nr\.?)?\s*[:#]?\s*|#)([a-z0-9][a-z0-9-]{0,31})\b",
    re.IGNORECASE,
)


def listing_queryset() -> TenantQuerySet[Listing]:
    # The annotation makes the checker's row type `Listing` with `image_count`; callers scope and filter it as listings.
    return cast("TenantQuerySet[Listing]", Listing.objects.annotate(image_count=Count("images", distinct=True)))


def listing_images(*, listing: Listing) -> QuerySet[ListingImage]:
    return (
        ListingImage.objects.for_organization(listing.organization_id)
        .filter(listing=listing)
        .order_by("position", "id")
    )


def normalize_reference(value: str) -> str:
    return value.strip().upper()


def references_in(texts: Iterable[str]) -> list[str]:
    """The listing codes a caption or message text names, in order of appearance."""
    found: list[str] = []
    for text in texts:
        for match in _REFERENCE.finditer(text or ""):
            code = normalize_reference(match.group(1))
            if code not in found:
                found.append(code)
    return found


def listing_for_texts(*, organization: Organization | int, texts: Iterable[str]) -> Listing | None:
    """The first listing a text names: by its reference code, else (a number) by the id of a listing without one."""
    listings = Listing.objects.for_organization(organization)
    for code in references_in(texts):
        listing = listings.filter(reference=code).first()
        if listing is None and code.isdigit():
            listing = listings.filter(pk=int(code), reference="").first()
        if listing is not None:
            return listing
    return None


def contact_key(*, platform: str, external_id: str, phone_number: str = "") -> str:
    """One key per person: the E.164 number when known, else `<platform>:<external id>`."""
    phone = normalize_phone(phone_number) if phone_number else ""
    if not phone and platform == Platform.WHATSAPP:
        phone = normalize_phone(external_id)
    return phone or f"{platform}:{external_id.strip()}"


def contact_key_for(contact: Contact) -> str:
    return contact_key(platform=contact.platform, external_id=contact.external_id, phone_number=contact.phone_number)


def listing_for_contact(*, organization: Organization | int, contact: Contact) -> Listing | None:
    entry = (
        ContactIndex.objects.for_organization(organization)
        .filter(contact_key=contact_key_for(contact))
        .select_related("listing")
        .first()
    )
    return entry.listing if entry is not None else None


def contact_links(*, listing: Listing) -> QuerySet[ContactIndex]:
    return (
        ContactIndex.objects.for_organization(listing.organization_id).filter(listing=listing).select_related("contact")
    )
