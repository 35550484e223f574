"""Listing services: references in captions, the contact index, and the automatic filing of received photos with
its card note, cached card, auto-display notice and `card.update` event."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from switchboard.inbox.models import AttachmentStatus, Conversation, Direction, Message, MessageKind, MessageStatus
from switchboard.inbox.tests.conftest import create_contact, create_conversation, create_message
from switchboard.listings import cards, selectors, services
from switchboard.listings.models import ContactIndex, ImageSource, Listing, ListingImage
from switchboard.listings.tests.media_server import jpeg_bytes, stored_photo
from switchboard.platforms.models import Platform
from switchboard.webhooks.testing import captured_broadcasts

pytestmark = pytest.mark.django_db


@pytest.fixture
def listing(org, owner):
    return services.listing_create(
        organization=org,
        by=owner,
        data={"reference": "39", "title": "Sea view flat", "price": Decimal("250000"), "currency": "eur"},
    )


@pytest.fixture
def thread(org, make_account):
    account = make_account(org, Platform.WHATSAPP)
    contact = create_contact(account, external_id="+447700900123")
    return create_conversation(account, contact)


_sizes = itertools.count(100)


def photo_message(conversation, *, text="", count=1, captions=(), **fields):
    """An inbound photo message whose `count` photos are stored (each a different picture)."""
    message = create_message(conversation, text, kind=MessageKind.IMAGE, **fields)
    for n in range(count):
        stored_photo(message, image=jpeg_bytes((next(_sizes), 80)), caption=captions[n] if n < len(captions) else "")
    return message


# --- references ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("Photos for Property 39", ["39"]),
        ("property no. 39 and listing #A-12", ["39", "A-12"]),
        ("Ref: 7b", ["7B"]),
        ("reference 120, see #39", ["120", "39"]),
        ("kitchen #39!", ["39"]),
        ("nothing here, 39 photos", []),
        ("properties are nice", []),
    ],
)
def test_references_in_texts(text, codes):
    assert selectors.references_in([text]) == codes


def test_a_reference_code_wins_over_an_id(org, owner):
    by_id = services.listing_create(organization=org, by=owner, data={"title": "No code"})
    coded = services.listing_create(organization=org, by=owner, data={"title": "Coded", "reference": str(by_id.pk)})
    assert selectors.listing_for_texts(organization=org, texts=[f"Property {by_id.pk}"]) == coded
    plain = services.listing_create(organization=org, by=owner, data={"title": "Plain"})
    assert selectors.listing_for_texts(organization=org, texts=[f"#{plain.pk}"]) == plain


def test_references_never_cross_tenants(listing, make_org):
    assert selectors.listing_for_texts(organization=make_org(), texts=["Property 39"]) is None


@pytest.mark.parametrize(
    ("platform", "external_id", "phone", "key"),
    [
        (Platform.WHATSAPP, "447700900123", "", "+447700900123"),
        (Platform.WHATSAPP, "US.13491208655302741918", "", "whatsapp:US.13491208655302741918"),
        (Platform.MESSENGER, "6543210987654321", "", "messenger:6543210987654321"),
        (Platform.INSTAGRAM, "17841", "+44 7700 900123", "+447700900123"),
    ],
)
def test_contact_keys(platform, external_id, phone, key):
    assert selectors.contact_key(platform=platform, external_id=external_id, phone_number=phone) == key


# --- CRUD rules ---------------------------------------------------------------------------------------------------
def test_references_and_currencies_are_normalized(listing):
    assert (listing.reference, listing.currency, listing.label) == ("39", "EUR", "Property 39")
    other = services.listing_update(
        organization=listing.organization, listing=listing, by=None, data={"reference": "a-7"}
    )
    assert other.reference == "A-7"


def test_duplicate_reference_is_a_conflict(listing, org):
    from switchboard.common.errors import Conflict

    with pytest.raises(Conflict):
        services.listing_create(organization=org, by=None, data={"title": "Twin", "reference": "39"})


# --- the automatic path -------------------------------------------------------------------------------------------
def test_photos_from_a_linked_contact_are_filed_and_the_card_is_pushed(
    listing, thread, owner, agent, django_capture_on_commit_callbacks
):
    services.contact_index_link(organization=listing.organization, listing=listing, phone_number="+44 7700 900123")
    message = photo_message(thread, count=3)

    with captured_broadcasts() as sent, django_capture_on_commit_callbacks(execute=True):
        filed = services.listing_images_from_message(organization=message.organization_id, message_id=message.pk)

    assert filed is not None and len(filed.images) == 3
    images = list(ListingImage.objects.filter(listing=listing))
    assert [image.position for image in images] == [0, 1, 2]
    assert all(image.source == ImageSource.ATTACHMENT and image.attachment for image in images)
    assert images[0].file.name == filed.images[0].attachment.file.name  # shared, not copied

    note = filed.card_message
    assert note.text == "Photos received! Property 39 now has 3 images."
    assert (note.kind, note.direction, note.status) == (
        MessageKind.LISTING_CARD,
        Direction.OUTBOUND,
        MessageStatus.SENT,
    )
    assert note.payload["internal"] is True and note.payload["listing_id"] == listing.pk
    assert note.conversation_id == thread.pk

    core = cache.get(cards.card_cache_key(listing.organization_id, listing.pk))
    assert core["image_count"] == 3 and core["verified_with_photos"] is True
    notice = cache.get(cards.auto_display_cache_key(listing.organization_id, listing.pk))
    assert notice["message"] == note.text and notice["added"] == 3 and notice["message_id"] == note.pk

    assert [name for _, name, _ in sent] == ["message.created", "card.update"]
    assert all(sorted(user_ids) == sorted([owner.pk, agent.pk]) for user_ids, _, _ in sent)  # every member
    card_event = next(data for _, name, data in sent if name == "card.update")
    assert card_event["listing_id"] == listing.pk and card_event["message"] == note.text
    assert card_event["card"]["image_count"] == 3 and len(card_event["card"]["images"]) == 3
    assert card_event["conversation_id"] == thread.pk
    created_event = next(data for _, name, data in sent if name == "message.created")
    assert created_event["kind"] == "listing_card"


def test_filing_is_idempotent(listing, thread, django_capture_on_commit_callbacks):
    services.contact_index_link(organization=listing.organization, listing=listing, contact=thread.contact)
    message = photo_message(thread, count=2)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.listing_images_from_message(organization=message.organization_id, message_id=message.pk)
        assert services.listing_images_from_message(organization=message.organization_id, message_id=message.pk) is None
    assert listing.images.count() == 2
    assert Message.objects.filter(kind=MessageKind.LISTING_CARD).count() == 1


def test_the_same_photo_sent_twice_is_filed_once(listing, thread, django_capture_on_commit_callbacks):
    services.contact_index_link(organization=listing.organization, listing=listing, contact=thread.contact)
    first = create_message(thread, "", kind=MessageKind.IMAGE)
    stored_photo(first, image=jpeg_bytes((50, 50)))
    second = create_message(thread, "", kind=MessageKind.IMAGE)
    stored_photo(second, image=jpeg_bytes((50, 50)))
    with django_capture_on_commit_callbacks(execute=True):
        services.listing_images_from_message(organization=first.organization_id, message_id=first.pk)
        assert services.listing_images_from_message(organization=second.organization_id, message_id=second.pk) is None
    assert listing.images.count() == 1


def test_a_caption_names_the_listing_and_links_the_contact_for_the_rest_of_the_album(
    listing, thread, django_capture_on_commit_callbacks
):
    first = photo_message(thread, captions=["Kitchen of Property 39"])
    rest = photo_message(thread, count=2)
    with django_capture_on_commit_callbacks(execute=True):
        services.listing_images_from_message(organization=first.organization_id, message_id=first.pk)
        filed = services.listing_images_from_message(organization=rest.organization_id, message_id=rest.pk)
    assert filed.listing == listing and listing.images.count() == 3
    assert ContactIndex.objects.get(contact_key="+447700900123").listing == listing
    assert filed.card_message.text == "Photos received! Property 39 now has 3 images."


def test_a_caption_moves_the_contact_to_another_listing(listing, thread, org, django_capture_on_commit_callbacks):
    other = services.listing_create(organization=org, by=None, data={"title": "Villa", "reference": "40"})
    services.contact_index_link(organization=org, listing=listing, contact=thread.contact)
    message = photo_message(thread, text="now #40")
    with django_capture_on_commit_callbacks(execute=True):
        filed = services.listing_images_from_message(organization=message.organization_id, message_id=message.pk)
    assert filed.listing == other and filed.card_message.text == "Photos received! Property 40 now has 1 image."
    assert ContactIndex.objects.get(contact_key="+447700900123").listing == other


def test_nothing_happens_without_a_listing(thread):
    message = photo_message(thread, count=2)
    assert services.listing_images_from_message(organization=message.organization_id, message_id=message.pk) is None
    assert not Message.objects.filter(kind=MessageKind.LISTING_CARD).exists()


def test_outbound_photos_and_unstored_attachments_are_ignored(listing, thread):
    services.contact_index_link(organization=listing.organization, listing=listing, contact=thread.contact)
    ours = photo_message(thread, direction=Direction.OUTBOUND)
    assert services.listing_images_from_message(organization=ours.organization_id, message_id=ours.pk) is None
    rejected = create_message(thread, "", kind=MessageKind.IMAGE)
    stored_photo(rejected, status=AttachmentStatus.REJECTED)
    assert services.listing_images_from_message(organization=rejected.organization_id, message_id=rejected.pk) is None
    document = create_message(thread, "", kind=MessageKind.DOCUMENT)
    stored_photo(document, kind=MessageKind.DOCUMENT)
    assert services.listing_images_from_message(organization=document.organization_id, message_id=document.pk) is None
    assert listing.images.count() == 0


def test_a_contact_of_another_tenant_never_files_into_this_tenant(listing, make_org, make_account):
    services.contact_index_link(organization=listing.organization, listing=listing, phone_number="+447700900123")
    foreign_account = make_account(make_org(), Platform.WHATSAPP)
    foreign = create_conversation(foreign_account, create_contact(foreign_account, external_id="+447700900123"))
    message = photo_message(foreign, text="Property 39")
    assert services.listing_images_from_message(organization=message.organization_id, message_id=message.pk) is None
    assert listing.images.count() == 0


# --- agent-sent cards and notices ---------------------------------------------------------------------------------
def test_an_agent_sends_the_card_through_the_outbound_path(
    listing, thread, owner, monkeypatch, django_capture_on_commit_callbacks
):
    from switchboard.inbox.tasks import sending as sending_tasks

    sent_ids = []
    monkeypatch.setattr(sending_tasks.send_message_task, "delay", lambda pk, *a, **k: sent_ids.append(pk))
    Conversation.objects.filter(pk=thread.pk).update(last_inbound_at=timezone.now())  # inside the reply window
    thread.refresh_from_db()
    with captured_broadcasts() as sent, django_capture_on_commit_callbacks(execute=True):
        message = services.listing_card_send(
            organization=listing.organization, listing=listing, conversation=thread, by=owner
        )
    assert (message.kind, message.status, message.sent_by) == (MessageKind.LISTING_CARD, MessageStatus.QUEUED, owner)
    assert message.payload["listing_id"] == listing.pk and "organization_id" not in message.payload["card"]
    assert "Sea view flat" in message.text and "250,000 EUR" in message.text
    assert sent_ids == [message.pk]
    thread.refresh_from_db()
    assert thread.last_message_preview
    assert "message.created" in [name for _, name, _ in sent]


def test_sending_a_card_outside_the_reply_window_is_a_conflict(listing, org, make_account, owner):
    from switchboard.common.errors import Conflict

    stale = create_conversation(make_account(org, Platform.MESSENGER))  # the customer never wrote
    with pytest.raises(Conflict) as raised:
        services.listing_card_send(organization=org, listing=listing, conversation=stale, by=owner)
    assert raised.value.code == "outside_messaging_window"  # the inbox's SendRefused, a Conflict, as it is


def test_the_auto_display_notice_is_read_once(listing):
    cache.set(cards.auto_display_cache_key(listing.organization_id, listing.pk), {"message": "hi"})
    assert services.listing_auto_display_pop(organization=listing.organization, listing=listing) == {"message": "hi"}
    assert services.listing_auto_display_pop(organization=listing.organization, listing=listing) is None


def test_listing_changes_refresh_the_cached_card(listing, django_capture_on_commit_callbacks):
    cards.card_cached_core(listing)
    with captured_broadcasts() as sent, django_capture_on_commit_callbacks(execute=True):
        services.listing_update(organization=listing.organization, listing=listing, by=None, data={"title": "Renamed"})
    assert cache.get(cards.card_cache_key(listing.organization_id, listing.pk))["title"] == "Renamed"
    assert [name for _, name, _ in sent] == ["card.update"]


def test_deleting_a_listing_drops_its_cached_card(listing, django_capture_on_commit_callbacks):
    cards.card_cached_core(listing)
    with django_capture_on_commit_callbacks(execute=True):
        services.listing_delete(organization=listing.organization, listing=listing, by=None)
    assert cache.get(cards.card_cache_key(listing.organization_id, listing.pk)) is None
    assert not Listing.objects.filter(pk=listing.pk).exists()
