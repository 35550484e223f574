"""Listings in the admin (superusers, across organizations). Every write goes through the listings services, as
the API's do: a save or a deleted image refreshes the cached card and pushes `card.update`, a deleted image or
listing takes its uploaded files with it, and the rows stay within one organization."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from switchboard.accounts.tenancy import request_user
from switchboard.common.exceptions import ApplicationError
from switchboard.listings import selectors, services
from switchboard.listings.models import ContactIndex, Listing, ListingImage

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _ImageTotal(TypedDict):
    image_total: int


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


class ListingForm(forms.ModelForm):
    """The values as the services store them, so the unique-reference check sees what will be saved."""

    class Meta:
        model = Listing
        fields = ["organization", *services.LISTING_FIELDS]

    def clean_reference(self) -> str:
        return selectors.normalize_reference(self.cleaned_data.get("reference") or "")

    def clean_currency(self) -> str:
        return (self.cleaned_data.get("currency") or "").strip().upper()


@admin.register(Listing)
class ListingAdmin(admin.ModelAdmin):
    form = ListingForm
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

    def get_readonly_fields(self, request: HttpRequest, obj: Listing | None = None) -> list[str]:
        # A listing never moves to another organization: its images and contact links are that organization's.
        return [*self.readonly_fields, "organization"] if obj is not None else list(self.readonly_fields)

    @admin.display(description="Images", ordering="image_total")
    def image_total(self, listing: WithAnnotations[Listing, _ImageTotal]) -> int:
        return listing.image_total

    # --- writes: the services ---------------------------------------------------------------------------------
    def save_model(self, request: HttpRequest, obj: Listing, form: Any, change: bool) -> None:
        data = {name: form.cleaned_data[name] for name in services.LISTING_FIELDS if name in form.cleaned_data}
        if change:
            services.listing_update(organization=obj.organization, listing=obj, by=request_user(request), data=data)
            return
        created = services.listing_create(organization=obj.organization, by=request_user(request), data=data)
        # The admin goes on with the instance it built (inlines, the log, the redirect): make it the stored row.
        obj.__dict__.update({key: value for key, value in created.__dict__.items() if key != "_state"})
        obj._state.adding, obj._state.db = False, created._state.db

    def delete_model(self, request: HttpRequest, obj: Listing) -> None:
        services.listing_delete(organization=obj.organization, listing=obj, by=request_user(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Listing]) -> None:
        for listing in queryset.select_related("organization"):
            services.listing_delete(organization=listing.organization, listing=listing, by=request_user(request))

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        listing: Listing = form.instance
        if formset.model is ListingImage:
            self._save_images(request, listing, formset)
        elif formset.model is ContactIndex:
            self._save_contact_links(request, listing, formset)
        else:  # pragma: no cover - the inlines above are the only ones
            super().save_formset(request, form, formset, change)

    def _save_images(self, request: HttpRequest, listing: Listing, formset: Any) -> None:
        formset.save(commit=False)  # fills changed_objects / deleted_objects; saves nothing
        organization = listing.organization
        for image in formset.deleted_objects:
            services.listing_image_delete(organization=organization, image=image, by=request_user(request))
        moved = False
        for image, changed in formset.changed_objects:
            if "caption" in changed:
                services.listing_image_update(organization=organization, image=image, caption=image.caption)
            moved = moved or "position" in changed
        if moved:
            deleted = {image.pk for image in formset.deleted_objects}
            kept = [f.instance for f in formset.initial_forms if f.instance.pk and f.instance.pk not in deleted]
            order = sorted(kept, key=lambda image: (image.position, image.pk))
            services.listing_images_reorder(
                organization=organization, listing=listing, image_ids=[image.pk for image in order]
            )

    def _save_contact_links(self, request: HttpRequest, listing: Listing, formset: Any) -> None:
        entries = formset.save(commit=False)
        for entry in formset.deleted_objects:
            services.contact_index_unlink(organization=listing.organization, entry=entry)
        for entry in entries:
            entry.listing = listing
            try:
                services.contact_index_save(organization=listing.organization, entry=entry)
            except (ApplicationError, ValidationError) as error:
                self.message_user(request, f"{entry.contact_key}: {error}", messages.WARNING)


class ContactIndexForm(forms.ModelForm):
    class Meta:
        model = ContactIndex
        fields = ["organization", "contact_key", "contact", "listing"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data  # what ModelForm.clean() returns
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

    def save_model(self, request: HttpRequest, obj: ContactIndex, form: Any, change: bool) -> None:
        services.contact_index_save(organization=obj.organization_id, entry=obj)

    def delete_model(self, request: HttpRequest, obj: ContactIndex) -> None:
        services.contact_index_unlink(organization=obj.organization_id, entry=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ContactIndex]) -> None:
        for entry in queryset:
            services.contact_index_unlink(organization=entry.organization_id, entry=entry)
