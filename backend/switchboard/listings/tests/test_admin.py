"""The listings admin renders and saves (superusers manage every organization's listings)."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from switchboard.accounts.models import User
from switchboard.listings import cards, services
from switchboard.listings.models import ContactIndex, Listing

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
