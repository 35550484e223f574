"""/api/listings/: CRUD, images (upload, reorder, captions, removal), linked contacts, cards, auto-display notices,
the tenant-checked media files — and another organization's ids always a 404."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from conftest import client_for
from switchboard.inbox.models import Message, MessageKind, MessageStatus
from switchboard.inbox.tests.conftest import create_contact, create_conversation, create_message
from switchboard.listings import cards, services
from switchboard.listings.models import ContactIndex, Listing, ListingImage
from switchboard.listings.tests.media_server import jpeg_bytes, png_bytes, stored_photo
from switchboard.platforms.models import Platform

pytestmark = pytest.mark.django_db
STORED_NAME = re.compile(r"^\d+/\d{4}/\d{2}/[0-9a-f]{32}\.(jpg|png)$")


@pytest.fixture
def listing(org, owner):
    return services.listing_create(
        organization=org, by=owner, data={"reference": "39", "title": "Sea view flat", "bedrooms": 2, "price": "250000"}
    )


def upload(client, listing, data: bytes = b"", name="photo.jpg", content_type="image/jpeg", caption=""):
    file = SimpleUploadedFile(name, data or jpeg_bytes(), content_type=content_type)
    return client.post(f"/api/listings/{listing.pk}/images/", {"file": file, "caption": caption}, format="multipart")


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


# --- CRUD ---------------------------------------------------------------------------------------------------------
def test_create_read_update_delete(agent_client):
    created = agent_client.post(
        "/api/listings/",
        {"reference": "#a-12", "title": "Villa", "price": "1250000.00", "currency": "eur", "bedrooms": 4,
         "location": "Marbella", "description": "Pool", "data": {"area_m2": 320}},
        format="json",
    )  # fmt: skip
    assert created.status_code == 201, created.content
    data = created.json()
    assert (data["reference"], data["label"], data["currency"], data["status"]) == (
        "A-12",
        "Property A-12",
        "EUR",
        "active",
    )
    assert data["image_count"] == 0 and data["data"] == {"area_m2": 320}
    pk = data["id"]
    assert agent_client.get(f"/api/listings/{pk}/").json()["title"] == "Villa"
    patched = agent_client.patch(f"/api/listings/{pk}/", {"status": "under_offer", "price": None}, format="json")
    assert patched.status_code == 200 and patched.json()["status"] == "under_offer" and patched.json()["price"] is None
    replaced = agent_client.put(f"/api/listings/{pk}/", {"title": "Villa Sol"}, format="json")
    assert replaced.status_code == 200 and replaced.json()["title"] == "Villa Sol"
    assert agent_client.delete(f"/api/listings/{pk}/").status_code == 204
    assert agent_client.get(f"/api/listings/{pk}/").status_code == 404


def test_listing_without_a_reference_is_named_by_its_id(agent_client):
    data = agent_client.post("/api/listings/", {"title": "Loft"}, format="json").json()
    assert data["reference"] == str(data["id"]) and data["label"] == f"Property {data['id']}"


@pytest.mark.parametrize(
    "payload",
    [{}, {"title": "x", "currency": "euro"}, {"title": "x", "reference": "a b"}, {"title": "x", "price": "-1"},
     {"title": "x", "data": [1]}, {"title": "x", "status": "gone"}],
)  # fmt: skip
def test_invalid_input_is_a_400(agent_client, payload):
    response = agent_client.post("/api/listings/", payload, format="json")
    assert response.status_code == 400 and response.json()["code"] == "invalid"


def test_duplicate_reference_is_a_409(agent_client, listing):
    response = agent_client.post("/api/listings/", {"title": "Twin", "reference": "39"}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "duplicate_reference"


def test_list_filters_and_search(agent_client, org, listing):
    services.listing_create(organization=org, by=None, data={"title": "Garage", "status": "sold", "location": "Porto"})
    results = agent_client.get("/api/listings/").json()["results"]
    assert {r["title"] for r in results} == {"Sea view flat", "Garage"}
    assert [r["title"] for r in agent_client.get("/api/listings/?status=sold").json()["results"]] == ["Garage"]
    assert [r["title"] for r in agent_client.get("/api/listings/?search=porto").json()["results"]] == ["Garage"]
    assert [r["title"] for r in agent_client.get("/api/listings/?search=%2339").json()["results"]] == ["Sea view flat"]


def test_lists_show_only_the_callers_organization(make_org, make_user, listing):
    outsider = client_for(make_user(make_org()))
    assert outsider.get("/api/listings/").json()["results"] == []


def test_another_organizations_listing_is_a_404_everywhere(make_org, make_user, listing, org):
    image = ListingImage.objects.create(organization=org, listing=listing, file="1/2026/01/" + "a" * 32 + ".jpg")
    link = services.contact_index_link(organization=org, listing=listing, phone_number="+447700900123")
    outsider = client_for(make_user(make_org()))
    base = f"/api/listings/{listing.pk}"
    for method, url in [
        ("get", f"{base}/"), ("patch", f"{base}/"), ("put", f"{base}/"), ("delete", f"{base}/"),
        ("get", f"{base}/images/"), ("post", f"{base}/images/"), ("post", f"{base}/images/reorder/"),
        ("patch", f"{base}/images/{image.pk}/"), ("delete", f"{base}/images/{image.pk}/"),
        ("get", f"{base}/contacts/"), ("post", f"{base}/contacts/"), ("delete", f"{base}/contacts/{link.pk}/"),
        ("get", f"{base}/card-display/"), ("get", f"{base}/auto-display/"), ("post", f"{base}/send-card/"),
        ("get", f"{base}/media/{image.filename}"),
    ]:  # fmt: skip
        response = getattr(outsider, method)(url, {"title": "x"}, format="json")
        assert response.status_code == 404, (method, url, response.status_code)
        assert "Sea view" not in response.content.decode()
    assert Listing.objects.get(pk=listing.pk).title == "Sea view flat"
    assert ListingImage.objects.filter(pk=image.pk).exists() and ContactIndex.objects.filter(pk=link.pk).exists()


# --- images -------------------------------------------------------------------------------------------------------
def test_upload_stores_under_a_new_name_and_lists_signed_urls(agent_client, api_client, listing):
    response = upload(agent_client, listing, name="../../../etc/evil.jpg", caption="Living room")
    assert response.status_code == 201, response.content
    image = ListingImage.objects.get(pk=response.json()["id"])
    assert STORED_NAME.match(image.file.name) and "evil" not in image.file.name
    assert image.thumbnail.name.endswith("_thumb.jpg") and image.source == "upload"
    assert (image.width, image.height, image.caption) == (640, 480, "Living room")

    data = agent_client.get(f"/api/listings/{listing.pk}/images/").json()
    assert data["listing_id"] == listing.pk and data["image_count"] == 1
    assert data["verified_with_photos"] is False  # uploads only; photos from a conversation verify a listing
    assert len(data["image_urls"]) == 1 and data["images"][0]["caption"] == "Living room"
    fetched = api_client.get(data["image_urls"][0])  # no header: the signature is the ticket
    assert fetched.status_code == 200 and body(fetched) == default_storage.open(image.file.name).read()
    assert api_client.get(data["images"][0]["thumbnail_url"]).status_code == 200


def test_uploads_that_are_not_images_are_refused_with_the_reason(agent_client, listing):
    html = upload(agent_client, listing, b"<html><script>x</script></html>", name="x.jpg")
    assert html.status_code == 400 and "markup" in html.json()["errors"]["file"][0]
    pdf = upload(agent_client, listing, b"%PDF-1.4 ...", name="plan.jpg")
    assert pdf.status_code == 400 and "not a valid image" in pdf.json()["errors"]["file"][0]
    truncated = upload(agent_client, listing, jpeg_bytes()[:300])
    assert truncated.status_code == 400
    assert ListingImage.objects.count() == 0


def test_uploads_over_the_size_limit_are_refused(agent_client, listing, settings):
    settings.MEDIA_MAX_BYTES = 100
    response = upload(agent_client, listing)
    assert response.status_code == 400 and "larger than 100 bytes" in response.json()["errors"]["file"][0]


def test_reorder_caption_and_remove(agent_client, listing, django_capture_on_commit_callbacks):
    ids = [upload(agent_client, listing, jpeg_bytes((10 + n, 10))).json()["id"] for n in range(3)]
    reordered = agent_client.post(
        f"/api/listings/{listing.pk}/images/reorder/", {"image_ids": [ids[2], ids[0]]}, format="json"
    )
    assert reordered.status_code == 200
    assert [i["id"] for i in reordered.json()] == [ids[2], ids[0], ids[1]]
    assert [i["position"] for i in reordered.json()] == [0, 1, 2]
    bad = agent_client.post(
        f"/api/listings/{listing.pk}/images/reorder/", {"image_ids": [ids[0], 999999]}, format="json"
    )
    assert bad.status_code == 400
    twice = agent_client.post(
        f"/api/listings/{listing.pk}/images/reorder/", {"image_ids": [ids[0], ids[0]]}, format="json"
    )
    assert twice.status_code == 400

    captioned = agent_client.patch(f"/api/listings/{listing.pk}/images/{ids[1]}/", {"caption": "Garden"}, format="json")
    assert captioned.status_code == 200 and captioned.json()["caption"] == "Garden"

    removed = ListingImage.objects.get(pk=ids[0])
    with django_capture_on_commit_callbacks(execute=True):  # files go once the removal is committed
        assert agent_client.delete(f"/api/listings/{listing.pk}/images/{ids[0]}/").status_code == 204
    assert not default_storage.exists(removed.file.name) and not default_storage.exists(removed.thumbnail.name)
    assert agent_client.get(f"/api/listings/{listing.pk}/images/").json()["image_count"] == 2


def test_removing_a_received_photo_keeps_the_attachments_file(agent_client, listing, org, make_account):
    conversation = create_conversation(make_account(org, Platform.WHATSAPP))
    attachment = stored_photo(create_message(conversation, ""))
    image = ListingImage.objects.create(
        organization=org, listing=listing, attachment=attachment, source="attachment", file=attachment.file.name
    )
    assert agent_client.delete(f"/api/listings/{listing.pk}/images/{image.pk}/").status_code == 204
    assert default_storage.exists(attachment.file.name)


def test_an_image_of_another_listing_is_a_404(agent_client, listing, org):
    other = services.listing_create(organization=org, by=None, data={"title": "Other"})
    image_id = upload(agent_client, other).json()["id"]
    assert agent_client.delete(f"/api/listings/{listing.pk}/images/{image_id}/").status_code == 404


# --- media files --------------------------------------------------------------------------------------------------
def test_media_files_for_members_and_signed_urls(agent_client, api_client, listing):
    image = ListingImage.objects.get(
        pk=upload(agent_client, listing, png_bytes(), name="p.png", content_type="image/png").json()["id"]
    )
    response = agent_client.get(f"/api/listings/{listing.pk}/media/{image.filename}")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    thumb = agent_client.get(f"/api/listings/{listing.pk}/media/{image.thumbnail_filename}")
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/jpeg"
    assert api_client.get(f"/api/listings/{listing.pk}/media/{image.filename}").status_code == 401
    forged = f"/api/listings/{listing.pk}/media/{image.filename}?sig=forged"
    assert api_client.get(forged).status_code == 401
    signed = cards.image_urls(image)["url"]
    other_file = signed.replace(image.filename, image.thumbnail_filename)  # a signature names exactly one file
    assert api_client.get(other_file).status_code == 401


@pytest.mark.parametrize(
    "filename", ["..%2F..%2Fsettings.py", "..", "%2e%2e", "a.jpg%00.png", "x" * 200 + ".jpg", "nope.jpg"]
)
def test_media_filenames_cannot_escape(agent_client, listing, filename):
    upload(agent_client, listing)
    assert agent_client.get(f"/api/listings/{listing.pk}/media/{filename}").status_code == 404


def test_media_x_accel_redirect(agent_client, listing, settings):
    image = ListingImage.objects.get(pk=upload(agent_client, listing).json()["id"])
    settings.MEDIA_X_ACCEL_REDIRECT = True
    response = agent_client.get(f"/api/listings/{listing.pk}/media/{image.filename}")
    assert response["X-Accel-Redirect"] == f"/protected-media/{image.file.name}" and response.content == b""


# --- contacts -----------------------------------------------------------------------------------------------------
def test_link_contacts_by_id_or_phone_and_unlink(agent_client, listing, org, make_account, make_org):
    account = make_account(org, Platform.WHATSAPP)
    contact = create_contact(account, external_id="+34600111222", name="Ana")
    by_id = agent_client.post(f"/api/listings/{listing.pk}/contacts/", {"contact": contact.pk}, format="json")
    assert by_id.status_code == 201
    assert by_id.json()["contact_key"] == "+34600111222" and by_id.json()["contact"]["name"] == "Ana"
    by_phone = agent_client.post(
        f"/api/listings/{listing.pk}/contacts/", {"phone_number": "+44 7700 900123"}, format="json"
    )
    assert by_phone.status_code == 201 and by_phone.json()["contact"] is None
    assert len(agent_client.get(f"/api/listings/{listing.pk}/contacts/").json()) == 2

    foreign = create_contact(make_account(make_org(), Platform.WHATSAPP))
    assert (
        agent_client.post(f"/api/listings/{listing.pk}/contacts/", {"contact": foreign.pk}, format="json").status_code
        == 404
    )
    both = agent_client.post(
        f"/api/listings/{listing.pk}/contacts/", {"contact": contact.pk, "phone_number": "+1"}, format="json"
    )
    assert both.status_code == 400
    bad = agent_client.post(f"/api/listings/{listing.pk}/contacts/", {"phone_number": "call me"}, format="json")
    assert bad.status_code == 400

    assert agent_client.delete(f"/api/listings/{listing.pk}/contacts/{by_id.json()['id']}/").status_code == 204
    assert len(agent_client.get(f"/api/listings/{listing.pk}/contacts/").json()) == 1


def test_linking_a_contact_again_moves_it(agent_client, listing, org):
    other = services.listing_create(organization=org, by=None, data={"title": "Other"})
    agent_client.post(f"/api/listings/{listing.pk}/contacts/", {"phone_number": "+447700900123"}, format="json")
    agent_client.post(f"/api/listings/{other.pk}/contacts/", {"phone_number": "447700900123"}, format="json")
    assert ContactIndex.objects.get().listing == other


# --- cards --------------------------------------------------------------------------------------------------------
def test_card_display(agent_client, api_client, listing):
    empty = agent_client.get(f"/api/listings/{listing.pk}/card-display/").json()
    assert empty == {"has_card": False, "card": None, "message": "No photos yet for Property 39."}
    upload(agent_client, listing)
    upload(agent_client, listing, jpeg_bytes((20, 20)))
    data = agent_client.get(f"/api/listings/{listing.pk}/card-display/").json()
    assert data["has_card"] is True and data["message"] == "Property 39 has 2 images."
    card = data["card"]
    assert {
        "id",
        "title",
        "price",
        "currency",
        "location",
        "bedrooms",
        "images",
        "image_count",
        "verified_with_photos",
        "description",
    } <= set(card)
    assert (card["id"], card["title"], card["price"], card["bedrooms"], card["image_count"]) == (
        listing.pk,
        "Sea view flat",
        "250000.00",
        2,
        2,
    )
    assert all(api_client.get(url).status_code == 200 for url in card["images"])
    assert cache.get(cards.card_cache_key(listing.organization_id, listing.pk))["image_count"] == 2


def test_auto_display_returns_and_clears_the_notice(
    agent_client, listing, org, make_account, django_capture_on_commit_callbacks
):
    assert agent_client.get(f"/api/listings/{listing.pk}/auto-display/").json() == {
        "has_notice": False,
        "notice": None,
        "card": None,
    }
    conversation = create_conversation(make_account(org, Platform.WHATSAPP))
    message = create_message(conversation, "Property 39", kind=MessageKind.IMAGE)
    stored_photo(message)
    with django_capture_on_commit_callbacks(execute=True):
        services.listing_images_from_message(organization=message.organization_id, message_id=message.pk)
    data = agent_client.get(f"/api/listings/{listing.pk}/auto-display/").json()
    assert data["has_notice"] is True and data["notice"]["message"] == "Photos received! Property 39 now has 1 image."
    assert data["notice"]["conversation_id"] == conversation.pk and data["card"]["image_count"] == 1
    assert agent_client.get(f"/api/listings/{listing.pk}/auto-display/").json()["has_notice"] is False


def test_send_card_into_a_conversation(agent_client, listing, org, make_account, make_org, monkeypatch):
    from switchboard.inbox.tasks import sending as sending_tasks

    monkeypatch.setattr(sending_tasks.send_message_task, "delay", lambda *a, **k: None)  # delivery is not tested here
    conversation = create_conversation(make_account(org, Platform.MESSENGER), last_inbound_at=timezone.now())
    response = agent_client.post(
        f"/api/listings/{listing.pk}/send-card/", {"conversation": conversation.pk}, format="json"
    )
    assert response.status_code == 201, response.content
    message = Message.objects.get(pk=response.json()["id"])
    assert (message.kind, message.status, message.conversation_id) == (
        MessageKind.LISTING_CARD,
        MessageStatus.QUEUED,
        conversation.pk,
    )
    closed = create_conversation(make_account(org, Platform.MESSENGER))  # the customer never wrote: no reply allowed
    refused = agent_client.post(f"/api/listings/{listing.pk}/send-card/", {"conversation": closed.pk}, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "outside_messaging_window"
    foreign = create_conversation(make_account(make_org(), Platform.MESSENGER))
    assert (
        agent_client.post(
            f"/api/listings/{listing.pk}/send-card/", {"conversation": foreign.pk}, format="json"
        ).status_code
        == 404
    )
