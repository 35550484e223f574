"""WhatsApp Cloud API parser: every documented message type, statuses, batches, contacts — pure, no database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from switchboard.inbox.events import (
    AttachmentRef,
    ContactProfile,
    InboundEvent,
    InboundMessage,
    MessageDeleted,
    Reaction,
    StatusUpdate,
)
from switchboard.inbox.models import MessageKind, MessageStatus
from switchboard.webhooks.testing import load_fixture
from switchboard.whatsapp.parsers import cloud

PHONE_NUMBER_ID = "106540352242922"
AT_10 = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
MARIA = ContactProfile(external_id="14155550101", name="Maria Lopez", phone_number="14155550101")
OUR_MESSAGE = "wamid.HBgLMTQxNTU1NTAxMDEVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"


def load(name: str) -> dict[str, Any]:
    return load_fixture("whatsapp", name)


def events_of(name: str) -> list[InboundEvent]:
    """What the adapter does with a delivery: every (phone number id, value), every event in it."""
    events: list[InboundEvent] = []
    for phone_number_id, value in cloud.iter_changes(load(name)):
        assert phone_number_id == PHONE_NUMBER_ID
        events.extend(cloud.parse_value(value))
    return events


def only_message(name: str) -> InboundMessage:
    events = events_of(name)
    assert len(events) == 1
    assert isinstance(events[0], InboundMessage)
    return events[0]


def only_status(name: str) -> StatusUpdate:
    events = events_of(name)
    assert len(events) == 1
    assert isinstance(events[0], StatusUpdate)
    return events[0]


# --- iter_changes ---------------------------------------------------------------------------------------------------


def test_iter_changes_yields_every_messages_change_of_every_entry_and_skips_other_fields():
    changes = cloud.iter_changes(load("cloud__batch__two_entries_messages_and_statuses.json"))
    assert [pid for pid, _ in changes] == [PHONE_NUMBER_ID, PHONE_NUMBER_ID]
    assert [len(value.get("messages", [])) for _, value in changes] == [3, 0]
    assert [len(value.get("statuses", [])) for _, value in changes] == [1, 2]


def test_a_change_without_phone_number_id_is_malformed():
    with pytest.raises(ValueError, match="phone_number_id"):
        cloud.iter_changes(load("cloud__malformed__change_without_phone_number_id.json"))


@pytest.mark.parametrize("payload", [[], "entry", None, {"object": "whatsapp_business_account"}, {"entry": ["x"]}])
def test_a_delivery_that_is_not_an_object_with_entries_is_malformed(payload):
    with pytest.raises(ValueError):
        cloud.iter_changes(payload)


@pytest.mark.parametrize("value", [None, [], "value"])
def test_a_value_that_is_not_an_object_is_malformed(value):
    with pytest.raises(ValueError):
        cloud.parse_value(value)


# --- batches --------------------------------------------------------------------------------------------------------


def test_batch_delivery_yields_every_message_and_every_status_of_every_entry():
    events = events_of("cloud__batch__two_entries_messages_and_statuses.json")
    assert [type(e).__name__ for e in events] == [
        "InboundMessage",
        "InboundMessage",
        "InboundMessage",
        "StatusUpdate",
        "StatusUpdate",
        "StatusUpdate",
    ]
    first, jon, image, delivered, read, failed = events
    assert (first.platform_message_id, first.text, first.contact) == (
        "wamid.HBgLMTQxNTU1NTAxMDEVAgASGBQzQUYyMDAwMDAwMDAwMDAwMQA=",
        "First question: pets allowed?",
        MARIA,
    )
    # Two senders in one value: each message gets the profile of its own contact.
    assert jon.contact == ContactProfile(external_id="14155550177", name="Jon Park", phone_number="14155550177")
    assert jon.timestamp == datetime(2026, 1, 1, 10, 0, 5, tzinfo=UTC)
    assert image.kind == MessageKind.IMAGE and image.attachments[0].media_id == "880162245008001"
    assert image.contact == MARIA
    assert [(s.status, s.platform_message_id) for s in (delivered, read)] == [
        (MessageStatus.DELIVERED, OUR_MESSAGE),
        (MessageStatus.READ, OUR_MESSAGE),
    ]
    assert (failed.status, failed.error_code, failed.recipient_id) == (MessageStatus.FAILED, "131026", "14155550177")


# --- message types --------------------------------------------------------------------------------------------------


def test_text_message():
    message = only_message("cloud__text__basic.json")
    assert message.platform_message_id == "wamid.HBgLMTQxNTU1NTAxMDEVAgASGBQzQUYxMDAwMDAwMDAwMDAwMQA="
    assert message.kind == MessageKind.TEXT
    assert message.text == "Hola! Is the flat on Calle Mayor still available?"
    assert message.contact == MARIA
    assert message.timestamp == AT_10 and message.timestamp.tzinfo is UTC
    assert (message.reply_to_platform_id, message.attachments, message.payload, message.is_echo) == ("", (), {}, False)
    assert message.raw["id"] == message.platform_message_id


def test_reply_context_gives_the_replied_message_id():
    message = only_message("cloud__text__reply.json")
    assert message.reply_to_platform_id == "wamid.HBgLMTU1NTA3ODM4ODEVAgARGBJBQUJCQ0NERERFRUZGMDAwMQA="
    assert message.text == "Yes, Saturday at 11 works for me"


def test_forwarded_context_goes_into_the_payload_and_is_no_reply():
    message = only_message("cloud__text__forwarded.json")
    assert message.payload == {"forwarded": True, "frequently_forwarded": True}
    assert message.reply_to_platform_id == ""


def test_referred_product_goes_into_the_payload():
    message = only_message("cloud__text__referred_product.json")
    assert message.payload["referred_product"] == {
        "catalog_id": "194836987003835",
        "product_retailer_id": "flat-calle-mayor-12",
    }
    assert message.reply_to_platform_id == "wamid.HBgLMTU1NTA3ODM4ODEVAgARGBJBQUJCQ0NERERFRUZGMDAwMgA="


def test_click_to_whatsapp_ad_referral_goes_into_the_payload():
    message = only_message("cloud__text__click_to_whatsapp_ad.json")
    assert message.kind == MessageKind.TEXT
    assert message.payload["referral"]["source_type"] == "ad"
    assert message.payload["referral"]["headline"] == "Bright studio near Retiro"


def test_image_with_caption():
    message = only_message("cloud__image__caption.json")
    assert message.kind == MessageKind.IMAGE
    assert message.text == "The damp patch in the bedroom"
    assert message.attachments == (
        AttachmentRef(
            kind=MessageKind.IMAGE,
            media_id="1479537139650973",
            mime_type="image/jpeg",
            caption="The damp patch in the bedroom",
            sha256="IB1r4vzyjHRTd1CgzMt5Gd8uX4ElTCoS8FVuV4tTfUM=",
        ),
    )


def test_video_keeps_the_url_when_whatsapp_sends_one():
    message = only_message("cloud__video__basic.json")
    assert message.kind == MessageKind.VIDEO and message.text == ""
    (attachment,) = message.attachments
    assert attachment.media_id == "1684902485644195"
    assert attachment.url.startswith("https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1684902485644195")
    assert attachment.mime_type == "video/mp4"


def test_voice_note_is_audio_with_the_voice_flag():
    message = only_message("cloud__audio__voice.json")
    assert message.kind == MessageKind.AUDIO
    assert message.payload == {"voice": True}
    assert message.attachments[0].mime_type == "audio/ogg; codecs=opus"
    assert message.attachments[0].media_id == "2049135352190372"


def test_document_keeps_the_filename():
    message = only_message("cloud__document__filename.json")
    assert message.kind == MessageKind.DOCUMENT
    (attachment,) = message.attachments
    assert (attachment.filename, attachment.caption, attachment.mime_type) == (
        "lease-calle-mayor-12.pdf",
        "Signed lease",
        "application/pdf",
    )


def test_animated_sticker():
    message = only_message("cloud__sticker__animated.json")
    assert message.kind == MessageKind.STICKER
    assert message.payload == {"animated": True}
    assert message.attachments[0].kind == MessageKind.STICKER
    assert message.attachments[0].mime_type == "image/webp"


def test_location_goes_into_the_payload():
    message = only_message("cloud__location__named.json")
    assert message.kind == MessageKind.LOCATION
    assert message.payload == {
        "latitude": 40.4153,
        "longitude": -3.7074,
        "name": "Plaza Mayor",
        "address": "Plaza Mayor, 28012 Madrid, Spain",
        "url": "https://maps.example.invalid/plaza-mayor",
    }
    assert message.attachments == ()


def test_shared_contacts_go_into_the_payload():
    message = only_message("cloud__contacts__vcard.json")
    assert message.kind == MessageKind.CONTACTS
    (card,) = message.payload["contacts"]
    assert card["name"]["formatted_name"] == "Jon Park"
    assert card["phones"][0]["wa_id"] == "14155550177"


def test_interactive_button_reply_text_is_the_title_and_the_id_is_in_the_payload():
    message = only_message("cloud__interactive__button_reply.json")
    assert message.kind == MessageKind.INTERACTIVE
    assert message.text == "Book a viewing"
    assert message.payload == {"type": "button_reply", "id": "book-viewing", "title": "Book a viewing"}
    assert message.reply_to_platform_id == "wamid.HBgLMTU1NTA3ODM4ODEVAgARGBJBQUJCQ0NERERFRUZGMDAwMwA="


def test_interactive_list_reply_keeps_the_row_id_and_description():
    message = only_message("cloud__interactive__list_reply.json")
    assert message.kind == MessageKind.INTERACTIVE
    assert message.text == "Up to 1,500 EUR"
    assert message.payload == {
        "type": "list_reply",
        "id": "budget-1500",
        "title": "Up to 1,500 EUR",
        "description": "Monthly rent, bills excluded",
    }


def test_interactive_flow_reply_parses_the_response_json():
    message = only_message("cloud__interactive__nfm_reply.json")
    assert message.kind == MessageKind.INTERACTIVE
    assert message.text == "Sent"
    assert message.payload == {
        "type": "nfm_reply",
        "name": "flow",
        "body": "Sent",
        "response": {"flow_token": "viewing-42", "date": "2026-01-10", "slot": "11:00"},
    }


def test_template_quick_reply_button_is_interactive_with_text_and_payload():
    message = only_message("cloud__button__quick_reply.json")
    assert message.kind == MessageKind.INTERACTIVE
    assert message.text == "Confirm"
    assert message.payload == {"type": "button", "payload": "CONFIRM_VIEWING_42", "title": "Confirm"}
    assert message.reply_to_platform_id == "wamid.HBgLMTU1NTA3ODM4ODEVAgARGBJBQUJCQ0NERERFRUZGMDAwNAA="


def test_order_is_interactive_with_catalog_and_items():
    message = only_message("cloud__order__products.json")
    assert message.kind == MessageKind.INTERACTIVE
    assert message.text == "Both parking spots please"
    assert message.payload["type"] == "order"
    assert message.payload["catalog_id"] == "194836987003835"
    assert [(i["product_retailer_id"], i["quantity"], i["item_price"]) for i in message.payload["product_items"]] == [
        ("parking-a1", 1, 95),
        ("parking-a2", 1, 110.5),
    ]


def test_system_message_without_contacts():
    message = only_message("cloud__system__user_changed_number.json")
    assert message.kind == MessageKind.SYSTEM
    assert message.text == "User Maria Lopez changed from 14155550101 to 14155550199"
    assert message.payload["system"]["type"] == "user_changed_number"
    assert message.payload["system"]["wa_id"] == "14155550199"
    assert message.contact == ContactProfile(external_id="14155550101", phone_number="14155550101")


def test_request_welcome_is_a_system_message_without_text():
    message = only_message("cloud__request_welcome__first_open.json")
    assert (message.kind, message.text, message.payload) == (MessageKind.SYSTEM, "", {"type": "request_welcome"})


def test_unsupported_message_keeps_its_type_and_errors():
    message = only_message("cloud__unsupported__poll.json")
    assert message.kind == MessageKind.UNSUPPORTED
    assert message.payload["type"] == "unsupported"
    assert message.payload["unsupported_type"] == "poll_creation"
    assert message.payload["errors"][0]["code"] == 131051


def test_unknown_type_becomes_unsupported_with_the_raw_message_kept():
    message = only_message("cloud__unknown__future_type.json")
    assert message.kind == MessageKind.UNSUPPORTED
    assert message.payload == {"type": "hologram"}
    assert message.raw == load("cloud__unknown__future_type.json")["entry"][0]["changes"][0]["value"]["messages"][0]
    assert message.raw["hologram"] == {"id": "777", "shape": "teapot"}


# --- reactions ------------------------------------------------------------------------------------------------------


def test_reaction_targets_the_reacted_message():
    (reaction,) = events_of("cloud__reaction__added.json")
    assert reaction == Reaction(
        target_platform_message_id="wamid.HBgLMTU1NTA3ODM4ODEVAgARGBJBQUJCQ0NERERFRUZGMDAwNQA=",
        contact=MARIA,
        emoji="\U0001f44d",
        timestamp=AT_10,
        platform_message_id="wamid.HBgLMTQxNTU1NTAxMDEVAgASGBQzQUYxMDAwMDAwMDAwMDAxNwA=",
        removed=False,
    )


def test_reaction_without_emoji_is_a_removal():
    (reaction,) = events_of("cloud__reaction__removed.json")
    assert isinstance(reaction, Reaction)
    assert (reaction.emoji, reaction.removed) == ("", True)
    assert reaction.target_platform_message_id == "wamid.HBgLMTU1NTA3ODM4ODEVAgARGBJBQUJCQ0NERERFRUZGMDAwNQA="


# --- who the customer is --------------------------------------------------------------------------------------------


def test_contacts_absent_still_gives_a_contact_from_the_sender():
    message = only_message("cloud__message__no_contacts.json")
    assert message.contact == ContactProfile(external_id="14155550101", phone_number="14155550101")


def test_business_scoped_user_without_from_is_known_by_user_id_and_username():
    message = only_message("cloud__message__business_scoped_user.json")
    assert message.contact == ContactProfile(
        external_id="US.13491208655302741918",
        name="Sam Rivera",
        username="samrivera",
        phone_number="",
        user_id="US.13491208655302741918",
    )
    assert message.text == "Hi, I'm messaging with my username"


def test_business_scoped_id_in_from_is_no_phone_number():
    message = only_message("cloud__message__business_scoped_from.json")
    assert message.contact == ContactProfile(
        external_id="US.13491208655302741918",
        name="Sam Rivera",
        username="samrivera",
        phone_number="",
        user_id="US.13491208655302741918",
    )


def test_group_message_gives_no_one_to_one_event():
    assert events_of("cloud__message__group.json") == []


def test_message_without_id_is_malformed():
    with pytest.raises(ValueError, match="no 'id'"):
        events_of("cloud__malformed__message_without_id.json")


@pytest.mark.parametrize(
    "message",
    [
        {"id": "wamid.x", "timestamp": "1767261600", "type": "text", "text": {"body": "from nobody"}},
        {"id": "wamid.x", "from": "14155550101", "type": "text"},
        {"id": "wamid.x", "from": "14155550101", "timestamp": "yesterday", "type": "text"},
        {"id": "wamid.x", "from": "14155550101", "timestamp": "1767261600", "type": "reaction", "reaction": {}},
        "not an object",
    ],
    ids=["no sender", "no timestamp", "bad timestamp", "reaction without target", "not an object"],
)
def test_message_missing_what_it_needs_is_malformed(message):
    with pytest.raises(ValueError):
        cloud.parse_value({"messages": [message]})


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("1767261600", AT_10),  # what Cloud sends: seconds as a string
        (1767261600, AT_10),
        ("1767261600000", AT_10),  # milliseconds, by magnitude
        ("2026-01-01T10:00:00+00:00", AT_10),  # ISO 8601
    ],
)
def test_message_times_follow_the_rule_meta_parsers_share(stamp, expected):
    message = {"id": "wamid.x", "from": "14155550101", "timestamp": stamp, "type": "text", "text": {"body": "hi"}}
    assert cloud.parse_value({"messages": [message]})[0].timestamp == expected


@pytest.mark.parametrize("stamp", ["0", "-1", "1e14", "nan"])
def test_message_times_no_platform_sends_are_malformed(stamp):
    message = {"id": "wamid.x", "from": "14155550101", "timestamp": stamp, "type": "text", "text": {"body": "hi"}}
    with pytest.raises(ValueError, match=r"timestamp of message wamid\.x"):
        cloud.parse_value({"messages": [message]})


# --- statuses -------------------------------------------------------------------------------------------------------


def test_sent_status_with_conversation_and_pricing():
    status = only_status("cloud__status__sent.json")
    assert status == StatusUpdate(
        platform_message_id=OUR_MESSAGE,
        status=MessageStatus.SENT,
        timestamp=datetime(2026, 1, 1, 10, 1, 40, tzinfo=UTC),
        recipient_id="14155550101",
    )


def test_status_without_conversation_or_pricing():
    status = only_status("cloud__status__delivered_without_pricing.json")
    assert (status.status, status.recipient_id, status.error_code) == (MessageStatus.DELIVERED, "14155550101", "")
    assert status.timestamp == datetime(2026, 1, 1, 10, 1, 50, tzinfo=UTC)


def test_read_status():
    assert only_status("cloud__status__read.json").status == MessageStatus.READ


def test_played_status_counts_as_read():
    assert only_status("cloud__status__played.json").status == MessageStatus.READ


def test_failed_status_carries_the_code_and_a_readable_message():
    status = only_status("cloud__status__failed.json")
    assert status.status == MessageStatus.FAILED
    assert status.error_code == "131047"
    assert status.error_message == (
        "Re-engagement message: Message failed to send because more than 24 hours have passed since the customer "
        "last replied to this number."
    )


def test_status_to_a_business_scoped_user_names_the_user_id():
    assert only_status("cloud__status__business_scoped_recipient.json").recipient_id == "US.13491208655302741918"


def test_deleted_status_marks_the_message_deleted():
    (deleted,) = events_of("cloud__status__deleted.json")
    assert deleted == MessageDeleted(
        platform_message_id="wamid.HBgLMTQxNTU1NTAxMDEVAgASGBQzQUYxMDAwMDAwMDAwMDAwMQA=",
        contact=ContactProfile(external_id="14155550101", phone_number="14155550101"),
        timestamp=datetime(2026, 1, 1, 10, 6, 40, tzinfo=UTC),
    )


def test_unknown_status_gives_no_event():
    status = {"id": OUR_MESSAGE, "status": "warehoused", "timestamp": "1767261700", "recipient_id": "14155550101"}
    assert cloud.parse_value({"statuses": [status]}) == []


def test_status_without_id_is_malformed():
    with pytest.raises(ValueError, match="status has no 'id'"):
        cloud.parse_value({"statuses": [{"status": "read", "timestamp": "1767261700"}]})


def test_value_with_only_delivery_errors_gives_no_event():
    assert events_of("cloud__errors__rate_limit.json") == []
