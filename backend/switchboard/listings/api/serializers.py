"""Listings JSON. Output serializers read rows (or the card dicts of `listings.cards`); input serializers only
validate — services write."""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from switchboard.common.parsers import contains_nul
from switchboard.common.serializer_fields import IdField
from switchboard.inbox.models import Attachment
from switchboard.inbox.sendable import CardFormat
from switchboard.listings import cards
from switchboard.listings.models import ContactIndex, Listing, ListingImage, ListingStatus

_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,31}")


class ListingSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(source="code", help_text="The code captions use; the id when none was set.")
    # Declared fields named like Field.label / Serializer.data: the metaclass moves them to the field list.
    label = serializers.CharField(  # type: ignore[assignment]  # a field, not Field.label
        help_text="How cards and notes name it, e.g. 'Property 39'."
    )
    image_count = serializers.SerializerMethodField()
    # A plain string here: the choice set is documented once, on the write serializer (an enum in two components
    # collides with the inbox's `status` enums in the schema until ENUM_NAME_OVERRIDES names it).
    status = serializers.CharField(help_text="draft, active, under_offer, sold, let or archived.")

    class Meta:
        model = Listing
        fields = [
            "id", "reference", "label", "title", "price", "currency", "location", "bedrooms", "description", "data",
            "status", "image_count", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_image_count(self, listing: Listing) -> int:
        count = getattr(listing, "image_count", None)
        return count if isinstance(count, int) else listing.images.count()


class ListingWriteSerializer(serializers.Serializer):
    reference = serializers.CharField(
        required=False, allow_blank=True, max_length=32, help_text="Letters, digits and '-'; unique in your agency."
    )
    title = serializers.CharField(max_length=200)
    price = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True, min_value=0)
    currency = serializers.CharField(required=False, allow_blank=True, max_length=3)
    location = serializers.CharField(required=False, allow_blank=True, max_length=255)
    bedrooms = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=1000)
    description = serializers.CharField(required=False, allow_blank=True)
    data = serializers.JSONField(  # type: ignore[assignment]  # a field, not Serializer.data
        required=False, help_text="Structured extras (an object)."
    )
    status = serializers.ChoiceField(choices=ListingStatus.choices, required=False)

    def validate_reference(self, value: str) -> str:
        value = value.strip().lstrip("#")
        if value and not _REFERENCE.fullmatch(value):
            raise serializers.ValidationError("Use letters, digits and '-' only.")
        return value

    def validate_currency(self, value: str) -> str:
        value = value.strip().upper()
        if value and not re.fullmatch(r"[A-Z]{3}", value):
            raise serializers.ValidationError("An ISO 4217 code of three letters, e.g. EUR.")
        return value

    def validate_data(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise serializers.ValidationError("An object.")
        if contains_nul(value):  # a form field's JSON bypasses the JSON parser's check; PostgreSQL refuses NUL
            raise serializers.ValidationError("Strings may not contain NUL (\\u0000) characters.")
        return value


class ListingImageSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="Signed URL of the image (no header needed); short-lived.")
    thumbnail_url = serializers.SerializerMethodField(help_text="Signed URL of the 320px thumbnail.")
    attachment: serializers.PrimaryKeyRelatedField[Attachment] = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True
    )

    class Meta:
        model = ListingImage
        fields = [
            "id", "position", "source", "url", "thumbnail_url", "mime_type", "size", "width", "height", "caption",
            "attachment", "created_at",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_url(self, image: ListingImage) -> str | None:
        return cards.image_urls(image)["url"]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_thumbnail_url(self, image: ListingImage) -> str | None:
        return cards.image_urls(image)["thumbnail_url"]


class ListingImagesSerializer(serializers.Serializer):
    listing_id = serializers.IntegerField()
    image_count = serializers.IntegerField()
    image_urls = serializers.ListField(child=serializers.CharField(), help_text="Signed URLs, in display order.")
    verified_with_photos = serializers.BooleanField(
        help_text="At least one photo arrived from a conversation (not only uploads)."
    )
    images = ListingImageSerializer(many=True)


class ListingImageUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A JPEG, PNG, GIF or WebP image; it is decoded before it is stored.")
    caption = serializers.CharField(required=False, allow_blank=True, default="")


class ListingImageUpdateSerializer(serializers.Serializer):
    caption = serializers.CharField(allow_blank=True)


class ListingImagesReorderSerializer(serializers.Serializer):
    image_ids = serializers.ListField(
        child=IdField(),
        min_length=1,
        max_length=500,
        help_text="Image ids in the new order; images not listed follow in their current order.",
    )


class ContactSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    phone_number = serializers.CharField()
    platform = serializers.CharField()


class ContactLinkSerializer(serializers.ModelSerializer):
    contact = serializers.SerializerMethodField()

    class Meta:
        model = ContactIndex
        fields = ["id", "contact_key", "contact", "listing", "created_at", "updated_at"]
        read_only_fields = fields

    @extend_schema_field(ContactSummarySerializer(allow_null=True))
    def get_contact(self, entry: ContactIndex) -> dict[str, Any] | None:
        contact = entry.contact
        if contact is None:
            return None
        return {
            "id": contact.pk,
            "name": str(contact),
            "phone_number": contact.phone_number,
            "platform": contact.platform,
        }


class ContactLinkCreateSerializer(serializers.Serializer):
    contact = IdField(required=False, help_text="A contact of your organization.")
    phone_number = serializers.CharField(
        required=False, max_length=40, help_text="Or a phone number, for someone who has not written yet."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if bool(attrs.get("contact")) == bool(attrs.get("phone_number")):
            raise serializers.ValidationError("Give either `contact` or `phone_number`.")
        return attrs


class CardSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a declared field, not Field.label
    title = serializers.CharField()
    price = serializers.CharField(allow_null=True, help_text="Decimal as a string.")
    currency = serializers.CharField()
    location = serializers.CharField()
    bedrooms = serializers.IntegerField(allow_null=True)
    description = serializers.CharField()
    status = serializers.CharField()
    images = serializers.ListField(child=serializers.CharField(), help_text="Signed image URLs, in order.")
    thumbnails = serializers.ListField(child=serializers.CharField(allow_null=True))
    image_count = serializers.IntegerField()
    verified_with_photos = serializers.BooleanField()


class CardDisplaySerializer(serializers.Serializer):
    has_card = serializers.BooleanField(help_text="The listing has at least one photo to show.")
    card = CardSerializer(allow_null=True)
    message = serializers.CharField()


class AutoDisplayNoticeSerializer(serializers.Serializer):
    listing_id = serializers.IntegerField()
    message = serializers.CharField(help_text="e.g. 'Photos received! Property 39 now has 5 images.'")
    image_count = serializers.IntegerField()
    added = serializers.IntegerField(help_text="Photos added by this delivery.")
    conversation_id = serializers.IntegerField()
    message_id = serializers.IntegerField(help_text="The listing_card note in the conversation.")
    created_at = serializers.DateTimeField()


class AutoDisplaySerializer(serializers.Serializer):
    has_notice = serializers.BooleanField()
    notice = AutoDisplayNoticeSerializer(allow_null=True)
    card = CardSerializer(allow_null=True, help_text="The current card, when there was a notice.")


class CardUpdateEventSerializer(serializers.Serializer):
    """The `card.update` WebSocket event's `data` (documented for clients; not an HTTP body)."""

    listing_id = serializers.IntegerField()
    card = CardSerializer(allow_null=True)
    message = serializers.CharField()
    conversation_id = serializers.IntegerField(allow_null=True)
    message_id = serializers.IntegerField(allow_null=True)


class SendCardSerializer(serializers.Serializer):
    conversation = IdField(help_text="A conversation of your organization.")
    format = serializers.ChoiceField(
        choices=[f.value for f in CardFormat],
        required=False,
        help_text="How the card goes, where the platform gives a choice. WhatsApp Cloud API: `image` (default: the "
        "cover photo with the card as caption) or `interactive` (a button message: the cover photo as header, the "
        "card's text, an \"I'm interested\" reply button); Twilio and bridges: `image`; Messenger / Instagram: "
        "`generic` (a carousel, one element per photo). Either way every further photo follows (WhatsApp: as image "
        "messages; at most ten photos in all). One the account cannot send is a 400 on `format`.",
    )


def card_display_data(core: dict[str, Any]) -> dict[str, Any]:
    has_card = core["image_count"] > 0
    return {
        "has_card": has_card,
        "card": cards.card_display(core) if has_card else None,
        "message": cards.card_message_text(core),
    }
