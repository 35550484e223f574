"""The listings admin renders and saves (superusers manage every organization's listings), through the listings
services: files go with deleted images and listings, and every change pushes `card.update`."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from switchboard.accounts.models import User
from switchboard.listings import cards, services
from switchboard.listings.models import ContactIndex, Listing, ListingImage
from switchboard.listings.tests.media_server import jpeg_bytes
from switchboard.webhooks.testing import captured_broadcasts

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser("root@example.com", "correct-horse-battery"))
    return client


def test_changelist_change_and_add_pages_render(admin_client, org):
    listing = services.listing_create(organization=org, by=None, data={"title": "Villa", "reference": "39"})
    services.contact_index_link(organization=org, listing=listing, phone_number="+447700900123")
    assert admin_client.get("/admin/listings/listing/").status_code == 200
    assert admin_client.get(f"/admin/listings/listing/{listing.pk}/change/").status_code == 200
    assert admin_client.get("/admin/listings/listing/add/").status_code == 200
    assert admin_client.get("/admin/listings/contactindex/").status_code == 200
    assert admin_client.get("/admin/listings/listing/?q=villa").status_code == 200


def test_saving_in_the_admin_drops_the_cached_card(admin_client, org):
    listing = services.listing_create(organization=org, by=None, data={"title": "Villa", "reference": "39"})
    cards.card_cached_core(listing)
    response = admin_client.post(
        f"/admin/listings/listing/{listing.pk}/change/",
        {
            "organization": org.pk, "reference": "a-1", "title": "Villa Sol", "currency": "", "location": "",
            "description": "", "data": "{}", "status": "active",
            "images-TOTAL_FORMS": "0", "images-INITIAL_FORMS": "0",
            "contact_links-TOTAL_FORMS": "1", "contact_links-INITIAL_FORMS": "0",
            "contact_links-0-contact_key": "+34600111222", "contact_links-0-contact": "",
        },
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    listing.refresh_from_db()
    assert (listing.title, listing.reference) == ("Villa Sol", "A-1")
    assert cache.get(cards.card_cache_key(org.pk, listing.pk)) is None
    assert ContactIndex.objects.get().organization_id == org.pk
    assert Listing.objects.count() == 1


def test_the_contact_index_admin_refuses_a_listing_of_another_organization(admin_client, org, make_org):
    foreign = services.listing_create(organization=make_org(), by=None, data={"title": "Elsewhere"})
    response = admin_client.post(
        "/admin/listings/contactindex/add/",
        {"organization": org.pk, "contact_key": "+447700900123", "contact": "", "listing": foreign.pk},
    )
    assert response.status_code == 200 and "another organization" in response.content.decode()
    assert not ContactIndex.objects.exists()


# --- every write goes through the services (issue 11 item 5) --------------------------------------------------------
def _change_form(listing, images, **overrides):
    """The change form as the admin renders it for `listing` with `images`, then `overrides`."""
    data = {
        "reference": listing.reference, "title": listing.title, "currency": listing.currency, "location": "",
        "description": "", "data": "{}", "status": listing.status,
        "images-TOTAL_FORMS": str(len(images)), "images-INITIAL_FORMS": str(len(images)),
        "contact_links-TOTAL_FORMS": "0", "contact_links-INITIAL_FORMS": "0",
    }  # fmt: skip
    for n, image in enumerate(images):
        data |= {
            f"images-{n}-id": str(image.pk), f"images-{n}-listing": str(listing.pk),
            f"images-{n}-position": str(image.position), f"images-{n}-caption": image.caption,
        }  # fmt: skip
    return data | overrides


@pytest.fixture
def photographed(org):
    listing = services.listing_create(organization=org, by=None, data={"title": "Villa", "reference": "39"})
    for n in range(3):
        upload = SimpleUploadedFile(f"photo{n}.jpg", jpeg_bytes((60 + n, 40)), content_type="image/jpeg")
        services.listing_image_upload(organization=org, listing=listing, by=None, file=upload, caption=f"photo {n}")
    return listing, list(ListingImage.objects.filter(listing=listing).order_by("position"))


def test_deleting_an_image_in_the_admin_removes_its_files_and_pushes_the_card(
    admin_client, photographed, django_capture_on_commit_callbacks
):
    listing, images = photographed
    gone = images[0]
    files = [gone.file.name, gone.thumbnail.name]
    assert all(default_storage.exists(name) for name in files)

    with captured_broadcasts() as sent, django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/admin/listings/listing/{listing.pk}/change/", _change_form(listing, images, **{"images-0-DELETE": "on"})
        )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert list(ListingImage.objects.filter(listing=listing).order_by("position")) == images[1:]
    assert not any(default_storage.exists(name) for name in files)  # the uploaded file and its thumbnail
    updates = [data for _, name, data in sent if name == "card.update"]
    assert updates and updates[-1]["listing_id"] == listing.pk and updates[-1]["card"]["image_count"] == 2
    assert cache.get(cards.card_cache_key(listing.organization_id, listing.pk))["image_count"] == 2


def test_captions_and_order_changed_in_the_admin_go_through_the_services(
    admin_client, photographed, django_capture_on_commit_callbacks
):
    listing, images = photographed
    edits = {"images-0-position": "9", "images-1-caption": "The terrace"}  # the first photo goes last
    with captured_broadcasts() as sent, django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/admin/listings/listing/{listing.pk}/change/", _change_form(listing, images, **edits)
        )

    assert response.status_code == 302, response.content.decode()[:2000]
    stored = list(ListingImage.objects.filter(listing=listing).order_by("position"))
    assert [(image.pk, image.position) for image in stored] == [(images[1].pk, 0), (images[2].pk, 1), (images[0].pk, 2)]
    assert stored[0].caption == "The terrace"
    assert "card.update" in [name for _, name, _ in sent]
    core = cache.get(cards.card_cache_key(listing.organization_id, listing.pk))
    assert [f["id"] for f in core["image_files"]] == [images[1].pk, images[2].pk, images[0].pk]


def test_deleting_a_listing_in_the_admin_removes_its_uploaded_files(
    admin_client, photographed, django_capture_on_commit_callbacks
):
    listing, images = photographed
    files = [name for image in images for name in (image.file.name, image.thumbnail.name)]
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/admin/listings/listing/{listing.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Listing.objects.exists() and not ListingImage.objects.exists()
    assert not any(default_storage.exists(name) for name in files)

    other, more = services.listing_create(organization=listing.organization, by=None, data={"title": "B"}), []
    upload = SimpleUploadedFile("b.jpg", jpeg_bytes(), content_type="image/jpeg")
    more.append(services.listing_image_upload(organization=other.organization, listing=other, by=None, file=upload))
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/listings/listing/", {"action": "delete_selected", "_selected_action": [other.pk], "post": "yes"}
        )
    assert response.status_code == 302 and not Listing.objects.exists()
    assert not default_storage.exists(more[0].file.name)


def test_adding_a_listing_in_the_admin_creates_it_through_the_service(
    admin_client, org, django_capture_on_commit_callbacks
):
    with captured_broadcasts() as sent, django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/listings/listing/add/",
            {
                "organization": org.pk, "reference": "oak-1", "title": "Oak", "currency": "usd", "location": "",
                "description": "", "data": "{}", "status": "active",
                "images-TOTAL_FORMS": "0", "images-INITIAL_FORMS": "0",
                "contact_links-TOTAL_FORMS": "1", "contact_links-INITIAL_FORMS": "0",
                "contact_links-0-contact_key": "+34600111222", "contact_links-0-contact": "",
            },
        )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    listing = Listing.objects.get()
    assert (listing.reference, listing.currency, listing.organization_id) == ("OAK-1", "USD", org.pk)
    assert listing.created_by == User.objects.get(email="root@example.com")
    assert [name for _, name, _ in sent] == ["card.update"]
    assert ContactIndex.objects.get().listing == listing


def test_a_duplicate_reference_is_a_form_error_in_the_admin(admin_client, org):
    services.listing_create(organization=org, by=None, data={"title": "Villa", "reference": "A-1"})
    response = admin_client.post(
        "/admin/listings/listing/add/",
        {
            "organization": org.pk, "reference": "a-1", "title": "Twin", "currency": "", "location": "",
            "description": "", "data": "{}", "status": "active",
            "images-TOTAL_FORMS": "0", "images-INITIAL_FORMS": "0",
            "contact_links-TOTAL_FORMS": "0", "contact_links-INITIAL_FORMS": "0",
        },
    )  # fmt: skip
    assert response.status_code == 200 and Listing.objects.count() == 1
    assert "listing_unique_reference" in response.content.decode()  # the form says so; nothing is saved
