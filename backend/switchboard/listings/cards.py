"""Listing cards: the card itself, its cache, signed image URLs, and the platform-neutral card messages send.

Two layers, because signed URLs expire long before the cache does:
* the card *core* (`card_core`) — listing fields and image file names, no URLs — is cached for
  LISTING_CARD_CACHE_TTL seconds (Redis in production) and invalidated by every change to the listing or its images;
* the *display* card (`card_display`) adds freshly signed image URLs each time it is read.

What a listing card message sends is an `inbox.cards.Card` (`listing_card`: title, subtitle, caption, images, an
"I'm interested" button) — no platform's format. The inbox asks for it through its LISTING_CARD hook (this app
subscribes in `ListingsConfig.ready`), at send time so the image links are fresh, and each platform's adapter
renders it in its own wire format (whatsapp/cards.py, meta/cards.py).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.urls import NoReverseMatch, reverse

from switchboard.inbox.cards import CAPTION_LIMIT, Card, CardButton
from switchboard.inbox.media import media_sign, media_unsign
from switchboard.listings.models import ImageSource, Listing, ListingImage

SIGNING_SALT = "switchboard.listings.media"
_CACHE_VERSION = 1


def card_cache_key(organization_id: int, listing_id: int) -> str:
    return f"listings:card:v{_CACHE_VERSION}:{organization_id}:{listing_id}"


def auto_display_cache_key(organization_id: int, listing_id: int) -> str:
    return f"listings:auto-display:{organization_id}:{listing_id}"


# --- signed listing media URLs ------------------------------------------------------------------------------------
def listing_media_signature(*, organization_id: int, listing_id: int, filename: str) -> str:
    return media_sign({"o": organization_id, "l": listing_id, "f": filename}, salt=SIGNING_SALT)


def listing_media_signature_check(token: str, *, listing_id: int, filename: str) -> int | None:
    """The organization id when `token` was signed for exactly this listing and file name, else None."""
    payload = media_unsign(token, salt=SIGNING_SALT)
    if not payload or payload.get("l") != listing_id or payload.get("f") != filename:
        return None
    organization_id = payload.get("o")
    return organization_id if isinstance(organization_id, int) else None


def listing_media_url(*, organization_id: int, listing_id: int, filename: str, absolute: bool = False) -> str:
    try:
        path = reverse("listing-media", kwargs={"pk": listing_id, "filename": filename})
    except NoReverseMatch:
        path = f"/api/listings/{listing_id}/media/{filename}"
    signature = listing_media_signature(organization_id=organization_id, listing_id=listing_id, filename=filename)
    url = f"{path}?sig={signature}"
    if absolute and settings.PUBLIC_BASE_URL:
        url = settings.PUBLIC_BASE_URL.rstrip("/") + url
    return url


def image_urls(image: ListingImage, *, absolute: bool = False) -> dict[str, str | None]:
    def sign(filename: str) -> str | None:
        if not filename:
            return None
        return listing_media_url(
            organization_id=image.organization_id, listing_id=image.listing_id, filename=filename, absolute=absolute
        )

    return {"url": sign(image.filename), "thumbnail_url": sign(image.thumbnail_filename)}


# --- the card -----------------------------------------------------------------------------------------------------
def verified_with_photos(images: list[ListingImage]) -> bool:
    """Photos arrived from the field (a contact's conversation), not only uploads from the office."""
    return any(image.source == ImageSource.ATTACHMENT for image in images)


def _price(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def card_core(listing: Listing) -> dict[str, Any]:
    """The cacheable card: everything but URLs."""
    images = list(ListingImage.objects.filter(listing_id=listing.pk).order_by("position", "id"))
    return {
        "id": listing.pk,
        "organization_id": listing.organization_id,
        "reference": listing.code,
        "label": listing.label,
        "title": listing.title,
        "price": _price(listing.price),
        "currency": listing.currency,
        "location": listing.location,
        "bedrooms": listing.bedrooms,
        "description": listing.description,
        "status": listing.status,
        "image_count": len(images),
        "verified_with_photos": verified_with_photos(images),
        "image_files": [
            {"id": image.pk, "file": image.filename, "thumbnail": image.thumbnail_filename} for image in images
        ],
        "updated_at": listing.updated_at.isoformat() if listing.updated_at else None,
    }


def card_cached_core(listing: Listing) -> dict[str, Any]:
    key = card_cache_key(listing.organization_id, listing.pk)
    core = cache.get(key)
    if core is None:
        core = card_core(listing)
        cache.set(key, core, settings.LISTING_CARD_CACHE_TTL)
    return core


def card_cache_refresh(listing: Listing) -> dict[str, Any]:
    core = card_core(listing)
    cache.set(card_cache_key(listing.organization_id, listing.pk), core, settings.LISTING_CARD_CACHE_TTL)
    return core


def card_cache_invalidate(*, organization_id: int, listing_id: int) -> None:
    cache.delete(card_cache_key(organization_id, listing_id))


def card_display(core: dict[str, Any], *, absolute: bool = False) -> dict[str, Any]:
    """The card as clients and payload builders see it: the core plus freshly signed image URLs."""

    def url(filename: str) -> str | None:
        if not filename:
            return None
        return listing_media_url(
            organization_id=core["organization_id"], listing_id=core["id"], filename=filename, absolute=absolute
        )

    files = core.get("image_files", [])
    return {
        "id": core["id"],
        "reference": core["reference"],
        "label": core["label"],
        "title": core["title"],
        "price": core["price"],
        "currency": core["currency"],
        "location": core["location"],
        "bedrooms": core["bedrooms"],
        "description": core["description"],
        "status": core["status"],
        "images": [url(f["file"]) for f in files],
        "thumbnails": [url(f["thumbnail"]) or url(f["file"]) for f in files],
        "image_count": core["image_count"],
        "verified_with_photos": core["verified_with_photos"],
    }


def card_message_text(core: dict[str, Any]) -> str:
    count = core["image_count"]
    if not count:
        return f"No photos yet for {core['label']}."
    return f"{core['label']} has {count} image{'s' if count != 1 else ''}."


# --- the platform-neutral card (inbox.cards.Card) ------------------------------------------------------------------
def format_price(card: dict[str, Any]) -> str:
    if card.get("price") in (None, ""):
        return ""
    amount = Decimal(str(card["price"]))
    text = f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}"
    return f"{text} {card.get('currency') or ''}".strip()


def _label(card: dict[str, Any]) -> str:
    return card.get("label") or f"Property {card.get('reference') or card.get('id') or ''}".strip()


def card_caption(card: dict[str, Any]) -> str:
    label = _label(card)
    lines = [f"🏠 {card['title']}" if card.get("title") else f"🏠 {label}"]
    if price := format_price(card):
        lines.append(f"💰 {price}")
    if card.get("location"):
        lines.append(f"📍 {card['location']}")
    if card.get("bedrooms") is not None:
        lines.append(f"🛏 {card['bedrooms']} bedroom{'s' if card['bedrooms'] != 1 else ''}")
    if card.get("description"):
        lines.append("")
        lines.append(card["description"])
    lines.append("")
    lines.append(f"Ref: {label}")
    text = "\n".join(lines)
    return text if len(text) <= CAPTION_LIMIT else text[: CAPTION_LIMIT - 1] + "…"


def card_snapshot(core: dict[str, Any]) -> dict[str, Any]:
    """What a listing_card message stores (`payload.card`): the card core without URLs (they expire) and without
    the tenant id; the card is rebuilt from it when the listing is deleted before the message is sent."""
    return {key: value for key, value in core.items() if key != "organization_id"}


def card_for(card: dict[str, Any], *, snapshot: dict[str, Any]) -> Card:
    """The platform-neutral card of a display card (or of a stored snapshot, whose images are gone)."""
    label = _label(card)
    subtitle = " · ".join(part for part in (format_price(card), card.get("location") or "") if part)
    return Card(
        title=card.get("title") or label,
        subtitle=subtitle or label,
        caption=card_caption(card),
        images=tuple(url for url in card.get("images") or () if url),
        buttons=(CardButton(title="I'm interested", reply_id=f"listing:{card.get('id')}:interested"),),
        snapshot=snapshot,
    )


def listing_card(
    *, organization_id: int, listing_id: int, snapshot: dict[str, Any] | None, absolute: bool
) -> Card | None:
    """The card of a listing of the organization, with freshly signed image URLs (`absolute`: PUBLIC_BASE_URL in
    front, for a platform to fetch); when the listing is gone, the card of the snapshot the message stored (no
    images); None without either. The provider of the inbox's LISTING_CARD hook."""
    listing = Listing.objects.for_organization(organization_id).filter(pk=listing_id).first()
    if listing is not None:
        core = card_cached_core(listing)
        return card_for(card_display(core, absolute=absolute), snapshot=card_snapshot(core))
    if isinstance(snapshot, dict) and snapshot:
        return card_for(snapshot, snapshot=snapshot)
    return None
