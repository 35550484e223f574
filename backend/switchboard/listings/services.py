"""Listing services — the only code that writes listings, their images and the contact index, and the only code
that sends `card.update`.

The automatic path (`listing_images_from_message`) runs when the inbox says every attachment of an inbound message
is settled (the MESSAGE_MEDIA_SETTLED hook, subscribed in `ListingsConfig.ready`): the stored photos are filed under
the listing the caption names (and the contact is linked to it), or else under the listing the contact is linked
to; then a `listing_card` note goes into the conversation ("Photos received! Property 39 now has 5 images."), the
card is cached, an auto-display notice is left for `GET /api/listings/{id}/auto-display/`, and `card.update` goes to
every member — all after commit, and no HTTP request to ourselves.

Every function takes the organization it acts for and checks each row it is given with `tenancy.ensure_owned`: a
row of another organization is the same `DoesNotExist` (404) as a missing one. Refusals are application errors
(`common.exceptions.Conflict`, Django's `ValidationError`), never HTTP exceptions: the API's handler answers them.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from switchboard.accounts.models import Organization, User
from switchboard.accounts.tenancy import ensure_owned
from switchboard.common.exceptions import Conflict
from switchboard.common.phones import normalize_phone
from switchboard.inbox import media, realtime
from switchboard.inbox.models import (
    Attachment,
    AttachmentStatus,
    Contact,
    Conversation,
    Direction,
    Message,
    MessageKind,
    MessageStatus,
)
from switchboard.inbox.services import sending
from switchboard.listings import cards, selectors
from switchboard.listings.models import ContactIndex, ImageSource, Listing, ListingImage

logger = logging.getLogger(__name__)

LISTING_FIELDS = ("reference", "title", "price", "currency", "location", "bedrooms", "description", "data", "status")


# --- events -------------------------------------------------------------------------------------------------------
def _card_changed_on_commit(*, listing: Listing, notice: dict[str, Any] | None = None, message_text: str = "") -> None:
    """After commit: refresh the cached card, leave the auto-display notice, and push `card.update`."""
    organization_id, listing_id = listing.organization_id, listing.pk

    def refresh() -> None:
        fresh = Listing.objects.filter(pk=listing_id).first()
        if fresh is None:
            cards.card_cache_invalidate(organization_id=organization_id, listing_id=listing_id)
            return
        cards.card_cache_refresh(fresh)
        if notice is not None:
            cache.set(
                cards.auto_display_cache_key(organization_id, listing_id), notice, settings.LISTING_CARD_CACHE_TTL
            )

    def payload() -> dict[str, Any]:
        fresh = Listing.objects.filter(pk=listing_id).first()
        if fresh is None:
            return {"listing_id": listing_id, "card": None, "message": "The listing was deleted."}
        core = cards.card_cached_core(fresh)
        return {
            "listing_id": listing_id,
            "card": cards.card_display(core),
            "message": message_text or cards.card_message_text(core),
            "conversation_id": (notice or {}).get("conversation_id"),
            "message_id": (notice or {}).get("message_id"),
        }

    # Drop the cached card now (a rollback only costs a cache miss) and rebuild it from committed rows after
    # commit; the refresh is registered first, so the event below reads the rebuilt card.
    cards.card_cache_invalidate(organization_id=organization_id, listing_id=listing_id)
    transaction.on_commit(refresh)
    realtime.send_event_on_commit(organization_id, realtime.CARD_UPDATE, payload)


# --- listings -----------------------------------------------------------------------------------------------------
def _clean(data: dict[str, Any]) -> dict[str, Any]:
    values = {name: data[name] for name in LISTING_FIELDS if name in data}
    if "reference" in values:
        values["reference"] = selectors.normalize_reference(values["reference"] or "")
    if "currency" in values:
        values["currency"] = (values["currency"] or "").strip().upper()
    return values


def _save_unique(listing: Listing) -> None:
    try:
        with transaction.atomic():
            listing.save()
    except IntegrityError as exc:
        raise Conflict(
            f"Another listing already uses the reference {listing.reference}.", code="duplicate_reference"
        ) from exc


def listing_create(*, organization: Organization, by: User | None, data: dict[str, Any]) -> Listing:
    listing = Listing(organization=organization, created_by=by, **_clean(data))
    with transaction.atomic():
        _save_unique(listing)
        _card_changed_on_commit(listing=listing)
    return listing


def listing_update(*, organization: Organization, listing: Listing, by: User | None, data: dict[str, Any]) -> Listing:
    ensure_owned(organization, listing)
    for name, value in _clean(data).items():
        setattr(listing, name, value)
    with transaction.atomic():
        _save_unique(listing)
        _card_changed_on_commit(listing=listing)
    return listing


def listing_delete(*, organization: Organization, listing: Listing, by: User | None) -> None:
    ensure_owned(organization, listing)
    # Uploaded files belong to the listing; received ones stay with their attachment.
    owned = [
        name
        for image in listing.images.filter(source=ImageSource.UPLOAD)
        for name in (image.file.name, image.thumbnail.name)
    ]
    organization_id, listing_id = listing.organization_id, listing.pk
    with transaction.atomic():
        listing.delete()
        transaction.on_commit(lambda: media.media_delete(*owned))
        transaction.on_commit(
            lambda: cards.card_cache_invalidate(organization_id=organization_id, listing_id=listing_id)
        )


# --- images -------------------------------------------------------------------------------------------------------
def _next_position(listing: Listing) -> int:
    top = ListingImage.objects.filter(listing=listing).aggregate(top=Max("position"))["top"]
    return 0 if top is None else top + 1


def listing_image_upload(
    *, organization: Organization, listing: Listing, by: User | None, file: UploadedFile[bytes], caption: str = ""
) -> ListingImage:
    """An image uploaded by an agent: checked like received media (decoded with Pillow), stored under a new
    name — the uploaded file's name is never used."""
    organization_id = ensure_owned(organization, listing)
    if file.size is not None and file.size > settings.MEDIA_MAX_BYTES:
        raise ValidationError({"file": [f"The file is larger than {settings.MEDIA_MAX_BYTES} bytes."]})
    try:
        inspected = media.media_inspect(file, kind=MessageKind.IMAGE, declared_mime=file.content_type or "")
    except media.MediaError as exc:
        raise ValidationError({"file": [exc.reason]}) from exc
    file.seek(0)
    digest = hashlib.sha256()
    for chunk in file.chunks():
        digest.update(chunk)
    stored = media.media_save(organization_id=organization_id, fileobj=file, inspected=inspected)
    try:
        with transaction.atomic():
            Listing.objects.select_for_update().filter(pk=listing.pk).first()  # serialize positions per listing
            image = ListingImage.objects.create(
                organization_id=organization_id,
                listing=listing,
                source=ImageSource.UPLOAD,
                file=stored.name,
                thumbnail=stored.thumbnail_name,
                mime_type=inspected.detected.mime,
                size=file.size,
                sha256=digest.hexdigest(),
                width=inspected.image.width if inspected.image else None,
                height=inspected.image.height if inspected.image else None,
                caption=caption,
                position=_next_position(listing),
                created_by=by,
            )
            Listing.objects.filter(pk=listing.pk).update(updated_at=timezone.now())
            _card_changed_on_commit(listing=listing)
    except Exception:
        media.media_delete(stored.name, stored.thumbnail_name)
        raise
    return image


def listing_image_update(*, organization: Organization, image: ListingImage, caption: str) -> ListingImage:
    ensure_owned(organization, image)
    with transaction.atomic():
        ListingImage.objects.filter(pk=image.pk).update(caption=caption)
        image.caption = caption
        _card_changed_on_commit(listing=image.listing)
    return image


def listing_image_delete(*, organization: Organization, image: ListingImage, by: User | None) -> None:
    ensure_owned(organization, image)
    owned = [image.file.name, image.thumbnail.name] if image.source == ImageSource.UPLOAD else []
    listing = image.listing
    with transaction.atomic():
        image.delete()
        Listing.objects.filter(pk=listing.pk).update(updated_at=timezone.now())
        transaction.on_commit(lambda: media.media_delete(*owned))
        _card_changed_on_commit(listing=listing)


def listing_images_reorder(*, organization: Organization, listing: Listing, image_ids: list[int]) -> list[ListingImage]:
    """The listed images first, in the given order; any image not listed keeps its relative order after them."""
    ensure_owned(organization, listing)
    if len(set(image_ids)) != len(image_ids):
        raise ValidationError({"image_ids": ["An image is listed twice."]})
    with transaction.atomic():
        images = list(ListingImage.objects.select_for_update().filter(listing=listing).order_by("position", "id"))
        by_id = {image.pk: image for image in images}
        unknown = [pk for pk in image_ids if pk not in by_id]
        if unknown:
            raise ValidationError({"image_ids": [f"Not images of this listing: {unknown}."]})
        ordered = [by_id[pk] for pk in image_ids] + [image for image in images if image.pk not in set(image_ids)]
        for position, image in enumerate(ordered):
            image.position = position
        ListingImage.objects.bulk_update(ordered, ["position"])
        Listing.objects.filter(pk=listing.pk).update(updated_at=timezone.now())
        _card_changed_on_commit(listing=listing)
    return ordered


# --- contact index ------------------------------------------------------------------------------------------------
def contact_index_link(
    *,
    organization: Organization | int,
    listing: Listing,
    by: User | None = None,
    contact: Contact | None = None,
    phone_number: str = "",
) -> ContactIndex:
    """Link a contact (or a phone number, for someone who has not written yet) to a listing; a contact already
    linked to another listing moves to this one."""
    organization_id = ensure_owned(organization, listing)
    if contact is not None:
        ensure_owned(organization_id, contact)
        key = selectors.contact_key_for(contact)
    else:
        key = normalize_phone(phone_number)
        if not key:
            raise ValidationError({"phone_number": ["Not a valid phone number."]})
    defaults = {"listing": listing, "contact": contact, "created_by": by}
    if contact is None:
        defaults.pop("contact")
    for _attempt in range(2):  # a concurrent link of the same contact may win the unique constraint once
        try:
            with transaction.atomic():
                entry, _ = ContactIndex.objects.update_or_create(
                    organization_id=organization_id, contact_key=key, defaults=defaults
                )
            return entry
        except IntegrityError:
            continue
    raise Conflict("The contact is being linked concurrently; try again.")


def contact_index_save(*, organization: Organization | int, entry: ContactIndex) -> ContactIndex:
    """Store an index entry as given, its key typed by hand (the Django admin): the listing and the contact must be
    the organization's; a key already in the index is a Conflict."""
    organization_id = ensure_owned(organization, entry.listing)
    contact = entry.contact if entry.contact_id is not None else None
    if contact is not None:
        ensure_owned(organization_id, contact)
    entry.organization_id = organization_id
    entry.contact_key = entry.contact_key.strip()
    try:
        with transaction.atomic():
            entry.save()
    except IntegrityError as exc:
        raise Conflict(f"{entry.contact_key} is already linked to a listing.", code="duplicate_contact") from exc
    return entry


def contact_index_unlink(*, organization: Organization | int, entry: ContactIndex) -> None:
    ensure_owned(organization, entry)
    entry.delete()


# --- the automatic path -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FiledImages:
    listing: Listing
    images: list[ListingImage]
    card_message: Message
    notice: dict[str, Any]


def listing_images_from_message(*, organization: Organization | int, message_id: int) -> FiledImages | None:
    """File the stored photos of an inbound message of the organization under its listing, then prepare and push
    the card. Idempotent: a photo already on the listing (same attachment, or same bytes) is not added twice, and no
    card note is posted when nothing was added."""
    message = (
        Message.objects.for_organization(organization)
        .select_related("conversation__contact", "conversation__platform_account")
        .filter(pk=message_id)
        .first()
    )
    if message is None or message.direction != Direction.INBOUND or message.is_deleted:
        return None
    photos = list(
        Attachment.objects.filter(message=message, status=AttachmentStatus.STORED, kind=MessageKind.IMAGE).order_by(
            "id"
        )
    )
    if not photos:
        return None
    organization_id = message.organization_id
    contact = message.conversation.contact
    listing = selectors.listing_for_texts(
        organization=organization_id, texts=[message.text, *(photo.caption for photo in photos)]
    )
    named_in_caption = listing is not None
    if listing is None:
        listing = selectors.listing_for_contact(organization=organization_id, contact=contact)
    if listing is None:
        return None

    with transaction.atomic():
        # One filer per listing at a time: two tasks finishing together attach each photo once, in order.
        listing = Listing.objects.select_for_update().get(pk=listing.pk)
        present = ListingImage.objects.filter(listing=listing).filter(
            Q(attachment__in=photos) | Q(sha256__in=[p.sha256 for p in photos if p.sha256])
        )
        seen_attachments = set(present.values_list("attachment_id", flat=True))
        seen_hashes = set(present.values_list("sha256", flat=True))
        position = _next_position(listing)
        new_images: list[ListingImage] = []
        for photo in photos:
            if photo.pk in seen_attachments or (photo.sha256 and photo.sha256 in seen_hashes):
                continue
            new_images.append(
                ListingImage(
                    organization_id=organization_id,
                    listing=listing,
                    attachment=photo,
                    source=ImageSource.ATTACHMENT,
                    file=photo.file.name,
                    thumbnail=photo.thumbnail.name,
                    mime_type=photo.mime_type,
                    size=photo.size,
                    sha256=photo.sha256,
                    width=photo.width,
                    height=photo.height,
                    caption=photo.caption,
                    position=position + len(new_images),
                )
            )
            seen_hashes.add(photo.sha256)
        added = ListingImage.objects.bulk_create(new_images)
        if named_in_caption:
            # WhatsApp sends an album as one message per photo, the caption on the first only: link the contact
            # so the rest of the album (and later photos) find the same listing.
            contact_index_link(organization=organization_id, listing=listing, contact=contact)
        if not added:
            return None
        Listing.objects.filter(pk=listing.pk).update(updated_at=timezone.now())
        count = ListingImage.objects.filter(listing=listing).count()
        text = f"Photos received! {listing.label} now has {count} image{'s' if count != 1 else ''}."
        card_message = _listing_card_note_create(
            conversation=message.conversation,
            listing=listing,
            text=text,
            payload={
                "listing_id": listing.pk,
                "auto": True,
                "internal": True,
                "added": len(added),
                "image_count": count,
                "source_message_id": message.pk,
            },
        )
        notice = {
            "listing_id": listing.pk,
            "message": text,
            "image_count": count,
            "added": len(added),
            "conversation_id": message.conversation_id,
            "message_id": card_message.pk,
            "created_at": timezone.now().isoformat(),
        }
        _card_changed_on_commit(listing=listing, notice=notice, message_text=text)
    return FiledImages(listing=listing, images=added, card_message=card_message, notice=notice)


def _listing_card_note_create(
    *, conversation: Conversation, listing: Listing, text: str, payload: dict[str, Any]
) -> Message:
    """A note for the agents in the thread, not a message to the customer: it is never queued, so the outbound
    pipeline never sends it (`payload.internal`)."""
    message = Message.objects.create(
        organization_id=conversation.organization_id,
        conversation=conversation,
        platform_account_id=conversation.platform_account_id,
        direction=Direction.OUTBOUND,
        kind=MessageKind.LISTING_CARD,
        text=text,
        payload=payload,
        status=MessageStatus.SENT,
        is_read=True,
        timestamp=timezone.now(),
    )
    realtime.publish_on_commit(conversation.organization_id, messages_created=[message.pk])
    return message


def listing_card_send(
    *,
    organization: Organization,
    listing: Listing,
    conversation: Conversation,
    by: User | None,
    card_format: str | None = None,
) -> Message:
    """An agent sends the listing's card into a conversation. There is one outbound path: the inbox's
    `message_send` stores it (a queued outbound `listing_card` message, after the account and reply-window checks)
    and the send task delivers it: the adapter renders the card (`cards.listing_card`, asked through the inbox's
    LISTING_CARD hook at send time, so the image links it hands the platform are fresh). Its refusals
    (`SendRefused`, a Conflict; ValidationError) are the same as sending the listing from the conversation.
    `card_format`: `image` or `interactive` on WhatsApp Cloud (inbox/sendable.py `card_formats`), None for the
    account's default; one the account cannot send is a ValidationError on `format`."""
    ensure_owned(organization, listing)
    ensure_owned(organization, conversation)
    return sending.message_send(
        organization=organization, conversation=conversation, by=by, listing_id=listing.pk, card_format=card_format
    )


def listing_auto_display_pop(*, organization: Organization, listing: Listing) -> dict[str, Any] | None:
    """The last auto-display notice of the listing, cleared as it is read (at most one reader gets it)."""
    organization_id = ensure_owned(organization, listing)
    key = cards.auto_display_cache_key(organization_id, listing.pk)
    notice: dict[str, Any] | None = cache.get(key)
    if notice is None or not cache.delete(key):
        return None
    return notice
