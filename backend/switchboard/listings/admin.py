"""Listings in the admin (superusers, across organizations). Saves go through the card cache invalidation so the
cached card never outlives an edit made here."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from switchboard.listings.cards import card_cache_invalidate
from switchboard.listings.models import ContactIndex, Listing, ListingImage


class ListingImageInline(admin.TabularInline):
    model = ListingImage
    extra = 0
    fields = ["position", "source", "file", "thumbnail", "mime_type", "width", "height", "caption", "attachment"]
    readonly_fields = ["source", "file", "thumbnail", "mime_type", "width", "height", "attachment"]
    ordering = ["position", "id"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # images arrive through the API (decoded and stored safely) or from conversations


class ContactIndexInline(admin.TabularInline):
    model = ContactIndex
    extra = 0
    fields = ["contact_key", "contact", "created_at"]
    readonly_fields = ["created_at"]
    raw_id_fields = ["contact"]


@admin.register(Listing)
class ListingAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "reference",
        "title",
        "organization",
        "status",
        "price",
        "currency",
        "image_total",
        "updated_at",
    ]
    list_filter = ["status", "organization"]
    search_fields = ["reference", "title", "location", "description"]
    readonly_fields = ["created_at", "updated_at", "created_by"]
    inlines = [ListingImageInline, ContactIndexInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Listing]:
        return super().get_queryset(request).select_related("organization").annotate(image_total=Count("images"))

    @admin.display(description="Images", ordering="image_total")
    def image_total(self, listing: Listing) -> int:
        return listing.image_total  # type: ignore[attr-defined]

    def save_model(self, request: HttpRequest, obj: Listing, form: Any, change: bool) -> None:
        obj.reference = (obj.reference or "").strip().upper()
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        card_cache_invalidate(organization_id=form.instance.organization_id, listing_id=form.instance.pk)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        # Inline rows take the listing's organization (the tenant column is not edited by hand).
        instances = formset.save(commit=False)
        for instance in instances:
            instance.organization_id = form.instance.organization_id
            instance.save()
        for obj in formset.deleted_objects:
            obj.delete()
        formset.save_m2m()


class ContactIndexForm(forms.ModelForm):
    class Meta:
        model = ContactIndex
        fields = ["organization", "contact_key", "contact", "listing"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        organization, listing, contact = data.get("organization"), data.get("listing"), data.get("contact")
        if organization and listing and listing.organization_id != organization.pk:
            raise forms.ValidationError("The listing belongs to another organization.")
        if organization and contact and contact.organization_id != organization.pk:
            raise forms.ValidationError("The contact belongs to another organization.")
        return data


@admin.register(ContactIndex)
class ContactIndexAdmin(admin.ModelAdmin):
    form = ContactIndexForm
    list_display = ["contact_key", "listing", "organization", "updated_at"]
    search_fields = ["contact_key", "listing__title", "listing__reference"]
    raw_id_fields = ["contact", "listing"]
    list_filter = ["organization"]
