"""One WhatsApp person is one contact, however WhatsApp names them: the phone number (`wa_id`), the business-scoped
user id (BSUID, `user_id`), the parent BSUID and the username. A contact keeps every id it was given
(ContactIdentity rows, mirrored in `platform_ids`), is found by any of them, is never split in two (not even by two
deliveries racing) and never merged with someone else's (a recycled number, a username that changed hands)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import close_old_connections

from switchboard.inbox.events import ContactProfile, InboundMessage
from switchboard.inbox.models import Contact, ContactIdentity, Conversation, Message
from switchboard.inbox.payloads import ContactSerializer
from switchboard.inbox.services.ingest import handle_events
from switchboard.platforms.models import Platform, Provider
from switchboard.webhooks.testing import Seed, fixture_bytes, seed_messages

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
MARIA_PHONE = "+14155550101"
MARIA_ID = "US.28461937503816450173"  # Maria's business-scoped user id (cloud__message__phone_and_business_scoped)
SAM_ID = "US.13491208655302741918"
OTHER_ID = "US.99120384756102938475"


def said(pid: str, who: ContactProfile, at: datetime = T0, text: str = "hello") -> InboundMessage:
    return InboundMessage(platform_message_id=pid, contact=who, timestamp=at, text=text)


def maria(*, phone: bool = True, user_id: bool = True, username: str = "") -> ContactProfile:
    """Maria as a Cloud payload names her: with her number, her BSUID, or both."""
    return ContactProfile(
        external_id=MARIA_PHONE.lstrip("+") if phone else MARIA_ID,
        name="Maria Lopez",
        phone_number=MARIA_PHONE.lstrip("+") if phone else "",
        user_id=MARIA_ID if user_id else "",
        username=username,
    )


def ids_of(contact: Contact) -> set[tuple[str, str]]:
    return set(ContactIdentity.objects.filter(contact=contact).values_list("kind", "value"))


@pytest.fixture
def account(wa_cloud_account):
    return wa_cloud_account


def test_the_number_and_the_business_scoped_id_in_one_delivery_are_kept_on_one_contact(poster, account):
    delivery = poster.meta("whatsapp", fixture_bytes("whatsapp", "cloud__message__phone_and_business_scoped.json"))
    assert delivery.response.status_code == 200
    contact = Contact.objects.get()
    assert (contact.external_id, contact.phone_number, contact.username) == (MARIA_PHONE, MARIA_PHONE, "maria.lopez")
    assert contact.platform_ids == {"phone": MARIA_PHONE, "user_id": MARIA_ID, "username": "maria.lopez"}
    assert ids_of(contact) == {("phone", MARIA_PHONE), ("user_id", MARIA_ID), ("username", "maria.lopez")}
    assert all(i.organization_id == account.organization_id for i in ContactIdentity.objects.all())


def test_a_contact_known_by_number_and_id_is_found_by_either_alone(account):
    handle_events(account, [said("wamid.1", maria())])
    # Maria adopts a username: WhatsApp stops sending her number, only her BSUID.
    handle_events(account, [said("wamid.2", maria(phone=False), at=T0 + timedelta(minutes=1))])
    # An older integration (or Twilio without ExternalUserId) names only the number.
    handle_events(account, [said("wamid.3", maria(user_id=False), at=T0 + timedelta(minutes=2))])
    contact = Contact.objects.get()
    assert contact.external_id == MARIA_PHONE
    assert Conversation.objects.get().unread_count == 3
    assert Message.objects.filter(conversation__contact=contact).count() == 3


def test_a_contact_first_known_by_its_id_keeps_that_key_and_learns_the_number(account):
    handle_events(account, [said("wamid.1", maria(phone=False))])
    handle_events(account, [said("wamid.2", maria(), at=T0 + timedelta(minutes=1))])
    contact = Contact.objects.get()
    # The key the platform gave first stays; the number is added (and is what sending uses).
    assert (contact.external_id, contact.phone_number) == (MARIA_ID, MARIA_PHONE)
    assert contact.platform_ids == {"user_id": MARIA_ID, "phone": MARIA_PHONE}
    assert ids_of(contact) == {("user_id", MARIA_ID), ("phone", MARIA_PHONE)}
    # …and a later message with only the number finds it too.
    handle_events(account, [said("wamid.3", maria(user_id=False), at=T0 + timedelta(minutes=2))])
    assert Contact.objects.count() == 1 and Conversation.objects.get().unread_count == 3


def test_a_contact_stored_before_identities_is_found_by_its_external_id_and_gains_them(account):
    # Stored the old way (no identity rows), e.g. before the migration or by a seeding tool.
    seed_messages(account, (Seed("wamid.old", MARIA_PHONE, direction="inbound", status="received", phone=MARIA_PHONE),))
    handle_events(account, [said("wamid.1", maria(phone=False), at=T0)])  # only the BSUID: not knowable yet
    assert Contact.objects.count() == 2  # nothing tied the BSUID to the number until now…
    Contact.objects.filter(external_id=MARIA_ID).delete()
    handle_events(account, [said("wamid.2", maria(), at=T0 + timedelta(minutes=1))])
    contact = Contact.objects.get()  # …and a delivery naming both finds the old contact by its external id
    assert contact.external_id == MARIA_PHONE
    assert ids_of(contact) == {("phone", MARIA_PHONE), ("user_id", MARIA_ID)}
    handle_events(account, [said("wamid.3", maria(phone=False), at=T0 + timedelta(minutes=2))])
    assert Contact.objects.count() == 1


def test_a_malformed_user_id_never_replaces_the_number_as_the_sender(poster, account):
    delivery = poster.meta("whatsapp", fixture_bytes("whatsapp", "cloud__message__malformed_user_id.json"))
    assert delivery.response.status_code == 200
    contact = Contact.objects.get()
    assert (contact.external_id, contact.phone_number) == (MARIA_PHONE, MARIA_PHONE)
    assert ids_of(contact) == {("phone", MARIA_PHONE)}
    assert contact.platform_ids == {"phone": MARIA_PHONE}


def test_a_recycled_number_with_another_persons_id_is_not_merged(account):
    handle_events(account, [said("wamid.1", maria())])
    # The number now belongs to someone else: WhatsApp gives it with another business-scoped user id.
    stranger = ContactProfile(
        external_id=MARIA_PHONE.lstrip("+"), name="Ana", phone_number=MARIA_PHONE.lstrip("+"), user_id=OTHER_ID
    )
    handle_events(account, [said("wamid.2", stranger, at=T0 + timedelta(days=400))])
    maria_contact, ana = Contact.objects.get(external_id=MARIA_PHONE), Contact.objects.get(external_id=OTHER_ID)
    assert (ana.name, ana.phone_number) == ("Ana", MARIA_PHONE)
    assert maria_contact.name == "Maria Lopez"
    assert ids_of(ana) == {("user_id", OTHER_ID)}  # the number's identity stays with the contact that had it
    assert Conversation.objects.count() == 2
    # Each is found by its own id afterwards.
    handle_events(account, [said("wamid.3", stranger, at=T0 + timedelta(days=401))])
    handle_events(account, [said("wamid.4", maria(phone=False), at=T0 + timedelta(days=401))])
    assert Message.objects.filter(conversation__contact=ana).count() == 2
    assert Message.objects.filter(conversation__contact=maria_contact).count() == 2


def test_a_username_that_changed_hands_moves_with_the_user_id_that_proves_it(account):
    handle_events(account, [said("wamid.1", maria(phone=False, username="flat.hunter"))])
    # Maria renames herself; Sam takes her old username.
    handle_events(account, [said("wamid.2", maria(phone=False, username="maria.l"), at=T0 + timedelta(days=1))])
    sam = ContactProfile(external_id=SAM_ID, name="Sam Rivera", user_id=SAM_ID, username="flat.hunter")
    handle_events(account, [said("wamid.3", sam, at=T0 + timedelta(days=2))])
    maria_contact, sam_contact = Contact.objects.get(external_id=MARIA_ID), Contact.objects.get(external_id=SAM_ID)
    assert ids_of(maria_contact) == {("user_id", MARIA_ID), ("username", "maria.l")}
    assert ids_of(sam_contact) == {("user_id", SAM_ID), ("username", "flat.hunter")}
    assert maria_contact.platform_ids == {"user_id": MARIA_ID, "username": "maria.l"}


def test_the_contact_json_exposes_every_id(account):
    handle_events(account, [said("wamid.1", maria(username="maria.lopez"))])
    data = ContactSerializer(Contact.objects.get()).data
    assert data["platform_ids"] == {"phone": MARIA_PHONE, "user_id": MARIA_ID, "username": "maria.lopez"}


def test_twilio_external_user_id_beside_the_number_is_kept(poster, twilio_account):
    delivery = poster.twilio(fixture_bytes("whatsapp", "twilio__message__phone_and_external_user_id.txt"))
    assert delivery.response.status_code == 200
    contact = Contact.objects.get()
    assert contact.external_id == MARIA_PHONE
    assert contact.platform_ids == {"phone": MARIA_PHONE, "user_id": MARIA_ID}


@pytest.mark.django_db(transaction=True)
def test_two_deliveries_racing_with_different_ids_of_one_person_make_one_contact(
    require_postgres, make_org, make_account
):
    """One delivery names Maria by number and BSUID, the other (at the same moment) by BSUID only: each would
    create a contact under another external id; the identities' unique constraint makes them one."""
    for attempt in range(5):
        account = make_account(make_org(), Platform.WHATSAPP, Provider.META, external_id=f"10654035224292{attempt}")
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def deliver(pid: str, who: ContactProfile, account=account, barrier=barrier, errors=errors) -> None:
            try:
                barrier.wait()
                handle_events(account, [said(pid, who)])
            except BaseException as exc:  # surfaced below
                errors.append(exc)
            finally:
                close_old_connections()

        threads = [
            threading.Thread(target=deliver, args=("wamid.both", maria())),
            threading.Thread(target=deliver, args=("wamid.bsuid", maria(phone=False))),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        contacts = Contact.objects.filter(platform_account=account)
        assert contacts.count() == 1, json.dumps(list(contacts.values("external_id", "phone_number")))
        assert Message.objects.filter(platform_account=account).count() == 2
        assert ids_of(contacts.get()) == {("phone", MARIA_PHONE), ("user_id", MARIA_ID)}


def test_the_migration_gives_every_stored_whatsapp_contact_its_identities(account, messenger_account):
    """inbox 0006 backfills what contacts stored before it already had: the number or the BSUID and the username."""
    import importlib

    from django.apps import apps

    from switchboard.inbox.tests.conftest import create_contact

    backfill = importlib.import_module("switchboard.inbox.migrations.0006_contact_identities")
    by_phone = create_contact(account, external_id=MARIA_PHONE, username="maria.lopez")
    by_user_id = create_contact(account, external_id=SAM_ID, username="")
    psid = create_contact(messenger_account, external_id="7281946350172634")
    backfill.backfill_whatsapp_identities(apps, None)
    backfill.backfill_whatsapp_identities(apps, None)  # idempotent
    assert ids_of(by_phone) == {("phone", MARIA_PHONE), ("username", "maria.lopez")}
    assert ids_of(by_user_id) == {("user_id", SAM_ID)}
    assert ids_of(psid) == set()
    by_phone.refresh_from_db()
    assert by_phone.platform_ids == {"phone": MARIA_PHONE, "username": "maria.lopez"}
    # …and they are found by them: the BSUID-only message of a user stored by id lands on that contact.
    handle_events(account, [said("wamid.1", ContactProfile(external_id=SAM_ID, user_id=SAM_ID, name="Sam"))])
    assert Contact.objects.filter(platform_account=account).count() == 2


def test_a_known_contact_is_found_with_one_query(account, django_assert_num_queries):
    from switchboard.inbox.services.ingest import MessageService

    handle_events(account, [said("wamid.1", maria(username="maria.lopez"))])
    with django_assert_num_queries(1):  # the identities with their contact; nothing written
        contact = MessageService(account).contact_for(maria(username="maria.lopez"))
    assert contact.external_id == MARIA_PHONE
