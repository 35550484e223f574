"""Property listings, their images, and which contact sends photos for which listing."""

from __future__ import annotations

from pathlib import PurePosixPath

from django.conf import settings
from django.db import models
from django.db.models import Q

from switchboard.accounts.tenancy import TenantModel
from switchboard.inbox.models import Attachment, Contact


class ListingStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    UNDER_OFFER = "under_offer", "Under offer"
    SOLD = "sold", "Sold"
    LET = "let", "Let"
    ARCHIVED = "archived", "Archived"


class Listing(TenantModel):
    reference = models.CharField(
        max_length=32,
        blank=True,
        help_text="The code contacts write in captions ('Property 39', '#39'); stored upper-case. Blank: the id.",
    )
    title = models.CharField(max_length=200)
    price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, help_text="ISO 4217, e.g. EUR.")
    location = models.CharField(max_length=255, blank=True)
    bedrooms = models.PositiveSmallIntegerField(null=True, blank=True)
    description = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True, help_text="Structured extras: area, floor, amenities …")
    status = models.CharField(max_length=16, choices=ListingStatus.choices, default=ListingStatus.ACTIVE)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "reference"], condition=~Q(reference=""), name="listing_unique_reference"
            )
        ]
        indexes = [models.Index(fields=["organization", "status"], name="listing_org_status")]

    def __str__(self) -> str:
        return f"{self.label} · {self.title}"

    @property
    def code(self) -> str:
        return self.reference or str(self.pk)

    @property
    def label(self) -> str:
        """How captions and cards name it: 'Property 39'."""
        return f"Property {self.code}"


class ImageSource(models.TextChoices):
    ATTACHMENT = "attachment", "Received in a conversation"
    UPLOAD = "upload", "Uploaded"


class ListingImage(TenantModel):
    """An image of a listing, in display order. One received in a conversation shares the attachment's stored file
    (no copy); an uploaded one owns its file."""

    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="images")
    attachment = models.ForeignKey(Attachment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    source = models.CharField(max_length=16, choices=ImageSource.choices, default=ImageSource.UPLOAD)
    file = models.FileField(max_length=300)
    thumbnail = models.FileField(max_length=300, blank=True)
    mime_type = models.CharField(max_length=120, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    caption = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["listing", "attachment"],
                condition=Q(attachment__isnull=False),
                name="listingimage_unique_attachment",
            )
        ]
        indexes = [models.Index(fields=["listing", "position", "id"], name="listingimage_order")]

    def __str__(self) -> str:
        return f"image #{self.pk} of listing {self.listing_id}"

    @property
    def filename(self) -> str:
        return PurePosixPath(self.file.name).name if self.file.name else ""  # a FieldFile is false without a name

    @property
    def thumbnail_filename(self) -> str:
        return PurePosixPath(self.thumbnail.name).name if self.thumbnail.name else ""


class ContactIndex(TenantModel):
    """Which listing a contact's photos belong to. `contact_key` is the contact normalized across accounts and
    platforms: the E.164 number when there is one (so WhatsApp Cloud and Twilio lines agree), otherwise
    `<platform>:<external id>`. One entry per contact and organization."""

    contact_key = models.CharField(max_length=160)
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="contact_links")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name_plural = "contact index"
        constraints = [
            # Also the lookup index: (organization, contact_key) is how an arriving photo finds its listing.
            models.UniqueConstraint(fields=["organization", "contact_key"], name="contactindex_unique_contact")
        ]

    def __str__(self) -> str:
        return f"{self.contact_key} → listing {self.listing_id}"
