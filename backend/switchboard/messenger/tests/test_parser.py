"""Messenger webhook bodies (tests/fixtures/*.json) → normalized events. Pure: no database."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from switchboard.inbox.events import InboundMessage, MessageDeleted, Reaction, ReadReceipt
from switchboard.inbox.models import MessageKind, MessageStatus
from switchboard.messenger.parser import MESSENGER
from switchboard.meta.messaging import parse_messaging_event
from switchboard.webhooks.testing import load_fixture, unused_fixtures

PAGE = "109876543210987"
PSID = "7281946350172634"
PSID2 = "6930418275610493"
parse = MESSENGER.parse  # every event of a body, as (entry id, event)


def ms(value: int) -> datetime:
    return datetime.fromtimestamp(value // 1000, tz=UTC).replace(microsecond=(value % 1000) * 1000)


T = 1732186800123
AT = ms(T)


def load(name: str) -> dict:
    return load_fixture("messenger", name)


def events_of(name: str) -> list:
    parsed = parse(load(name))
    assert all(entry_id == PAGE for entry_id, _ in parsed)
    return [event for _, event in parsed]


def only_event(name: str):
    events = events_of(name)
    assert len(events) == 1, events
    return events[0]


def only_message(name: str) -> InboundMessage:
    event = only_event(name)
    assert isinstance(event, InboundMessage)
    return event


# --- messages -----------------------------------------------------------------------------------------------------


def test_text_message():
    message = only_message("messages__text")
    assert message.platform_message_id == "m_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789text"
    assert message.kind == MessageKind.TEXT
    assert message.text == "Bonjour ! Is the 2-bedroom on Rue Sainte-Catherine still available? 🏠"
    assert message.contact.external_id == PSID
    assert message.is_echo is False
    assert message.timestamp == AT
    assert message.attachments == ()
    assert message.reply_to_platform_id == ""
    assert message.raw == load("messages__text")["entry"][0]["messaging"][0]


def test_quick_reply_keeps_text_and_puts_the_payload_in_payload():
    message = only_message("messages__quick_reply")
    assert message.kind == MessageKind.INTERACTIVE
    assert message.text == "Book a viewing"
    assert message.payload["quick_reply"] == {"payload": "BOOK_VIEWING:listing-42"}


def test_reply_to_names_the_quoted_message():
    message = only_message("messages__reply_to")
    assert message.reply_to_platform_id == "m_OurProposal0001"
    assert message.text == "Yes, Saturday at 10 works for me"
    assert message.kind == MessageKind.TEXT


@pytest.mark.parametrize(
    ("fixture", "kind", "url"),
    [
        (
            "messages__image",
            MessageKind.IMAGE,
            "https://scontent.xx.fbcdn.net/v/t1.15752-9/kitchen.jpg?_nc_cat=1&oh=abc&oe=6750A1B2",
        ),
        ("messages__video", MessageKind.VIDEO, "https://video.xx.fbcdn.net/v/t42.3356-2/balcony.mp4?_nc_cat=1&oh=abc"),
        (
            "messages__audio",
            MessageKind.AUDIO,
            "https://cdn.fbsbx.com/v/t59.3654-21/audioclip-1732186800-1234.mp4?oh=abc",
        ),
    ],
)
def test_single_media_attachment(fixture, kind, url):
    message = only_message(fixture)
    assert message.kind == kind
    assert message.text == ""
    assert [(a.kind, a.url) for a in message.attachments] == [(kind, url)]


def test_file_attachment_is_a_document_named_from_its_url():
    message = only_message("messages__file")
    assert message.kind == MessageKind.DOCUMENT
    (attachment,) = message.attachments
    assert attachment.kind == MessageKind.DOCUMENT
    assert attachment.url.startswith("https://cdn.fbsbx.com/v/t59.2708-21/pay%20stubs%20October.pdf/")
    assert attachment.filename == "pay stubs October.pdf"


def test_several_attachments_are_all_kept_in_order():
    message = only_message("messages__several_attachments")
    assert message.kind == MessageKind.IMAGE
    assert [(a.kind, a.url.split("?")[0].rsplit("/", 1)[1]) for a in message.attachments] == [
        (MessageKind.IMAGE, "living-room.jpg"),
        (MessageKind.IMAGE, "bedroom.jpg"),
        (MessageKind.VIDEO, "walkthrough.mp4"),
    ]


def test_sticker_sent_as_both_sticker_and_image_attachment_is_one_sticker():
    message = only_message("messages__sticker")
    assert message.kind == MessageKind.STICKER
    assert len(message.attachments) == 1
    assert message.attachments[0].kind == MessageKind.STICKER
    assert message.attachments[0].url == "https://scontent.xx.fbcdn.net/v/t39.1997-6/cat-wave.png?oh=1"
    assert message.payload["sticker_id"] == "767226160478561"


def test_like_button_is_a_sticker_image_and_a_thumbs_up():
    message = only_message("messages__like_sticker")
    assert message.kind == MessageKind.STICKER
    assert message.text == "👍"
    assert message.payload["sticker_id"] == "369239263222822"
    assert [a.kind for a in message.attachments] == [MessageKind.STICKER]
    assert message.attachments[0].url


def test_like_button_in_its_larger_size_is_a_thumbs_up_too():
    message = only_message("messages__like_sticker_large")
    assert (message.kind, message.text, message.payload["sticker_id"]) == (MessageKind.STICKER, "👍", "369239343222814")


def test_location_is_described_in_the_payload_without_an_attachment():
    message = only_message("messages__location")
    assert message.kind == MessageKind.LOCATION
    assert message.attachments == ()
    assert message.payload["location"]["latitude"] == 45.5017
    assert message.payload["location"]["longitude"] == -73.5673
    assert message.payload["location"]["name"] == "Maya's Location"
    assert message.payload["location"]["url"].startswith("https://l.facebook.com/")


def test_fallback_link_share_is_a_link_not_a_downloadable_attachment():
    message = only_message("messages__fallback")
    assert message.kind == MessageKind.TEXT
    assert message.attachments == ()
    url = "https://www.example.com/listings/42-rue-sainte-catherine"
    assert message.payload["links"] == [{"url": url, "title": "42 Rue Sainte-Catherine — 2 bedrooms"}]
    assert message.text == f"42 Rue Sainte-Catherine — 2 bedrooms {url}"


def test_fallback_without_payload_is_unsupported_with_its_raw_fragment():
    message = only_message("messages__fallback_no_payload")
    assert message.kind == MessageKind.UNSUPPORTED
    assert message.payload["unsupported"] == [{"type": "fallback", "payload": None}]


def test_unknown_attachment_type_is_unsupported_with_its_raw_fragment():
    message = only_message("messages__unknown_attachment")
    assert message.kind == MessageKind.UNSUPPORTED
    assert message.attachments == ()
    fragment = load("messages__unknown_attachment")["entry"][0]["messaging"][0]["message"]["attachments"][0]
    assert message.payload["unsupported"] == [fragment]


# --- echoes -------------------------------------------------------------------------------------------------------


def test_echo_is_the_business_own_message_and_the_contact_is_the_recipient():
    message = only_message("message_echoes__text")
    assert message.is_echo is True
    assert message.contact.external_id == PSID  # not the page, which is the sender of an echo
    assert message.platform_message_id == "m_Echo0001"
    assert message.text == "Hi Maya, yes it is! When would you like to visit?"
    assert message.payload["app_id"] == 1517776481860111
    assert message.payload["metadata"] == "switchboard:msg:7f9d2c1e"
    assert message.timestamp == ms(T + 5000)


def test_template_echo_is_interactive_with_the_template_in_the_payload():
    message = only_message("message_echoes__template")
    assert message.is_echo is True
    assert message.contact.external_id == PSID
    assert message.kind == MessageKind.INTERACTIVE
    assert message.attachments == ()
    (template,) = message.payload["templates"]
    assert template["template_type"] == "generic"
    assert message.text == "42 Rue Sainte-Catherine"


# --- postbacks ----------------------------------------------------------------------------------------------------


def test_postback_is_an_interactive_message_with_its_title_as_text():
    message = only_message("messaging_postbacks__button")
    assert message.platform_message_id == "m_Postback0001"
    assert message.kind == MessageKind.INTERACTIVE
    assert message.text == "Book a viewing"
    assert message.payload["postback"] == {"payload": "BOOK_VIEWING:listing-42", "title": "Book a viewing"}
    assert message.contact.external_id == PSID
    assert message.is_echo is False


def test_postback_without_mid_gets_a_deterministic_id_and_second_timestamps_are_read():
    notice, message = events_of("messaging_postbacks__get_started")
    assert message.timestamp == datetime(2024, 11, 21, 11, 0, 7, tzinfo=UTC)  # "1732186807": seconds, a string
    assert message.platform_message_id == f"postback.{PSID2}.1732186807000"
    assert events_of("messaging_postbacks__get_started")[1].platform_message_id == message.platform_message_id
    assert message.payload["postback"]["payload"] == "GET_STARTED"
    assert message.payload["referral"]["ref"] == "spring-campaign"
    # The m.me link the thread was opened from: a notice of its own, before the tap.
    assert (notice.platform_message_id, notice.kind) == (f"referral.postback.{PSID2}.1732186807000", MessageKind.SYSTEM)
    assert notice.contact_attributes["referral"]["ref"] == "spring-campaign"


def test_referral_is_a_notice_for_the_contact():
    (notice,) = events_of("messaging_referrals__referral")
    assert isinstance(notice, InboundMessage) and notice.is_notice
    assert notice.platform_message_id == f"referral.{PSID}.1732186811123"
    assert notice.contact_attributes["referral"]["ad_id"] == "6045246247433"


def test_notification_messages_optin_keeps_the_token_and_frequency():
    (notice,) = events_of("messaging_optins__notification_messages")
    optin = notice.contact_attributes["optin"]
    assert (optin["token"], optin["frequency"], optin["token_expires_at"]) == (
        "7429183652019384756",
        "WEEKLY",
        "2025-05-20T11:00:20+00:00",
    )


@pytest.mark.parametrize("fixture", ["messaging_optins__checkbox_user_ref", "messages__other_recipient"])
def test_events_nobody_here_can_answer_give_nothing(fixture):
    assert parse(load(fixture)) == []


# --- reactions ----------------------------------------------------------------------------------------------------


def test_reaction_targets_the_reacted_message():
    reaction = only_event("message_reactions__react")
    assert isinstance(reaction, Reaction)
    assert reaction.target_platform_message_id == "m_Echo0001"
    assert reaction.emoji == "❤️"
    assert reaction.removed is False
    assert reaction.from_business is False
    assert reaction.contact.external_id == PSID
    assert reaction.timestamp == ms(T + 8000)


def test_unreact_removes_the_reaction():
    reaction = only_event("message_reactions__unreact")
    assert isinstance(reaction, Reaction)
    assert reaction.target_platform_message_id == "m_Echo0001"
    assert reaction.removed is True
    assert reaction.emoji == ""


# --- receipts -----------------------------------------------------------------------------------------------------


def test_delivery_is_a_delivered_receipt_with_mids_and_watermark():
    receipt = only_event("message_deliveries__delivery")
    assert isinstance(receipt, ReadReceipt)
    assert receipt.status == MessageStatus.DELIVERED
    assert receipt.platform_message_ids == ("m_Echo0001", "m_EchoTemplate0001")
    assert receipt.watermark == ms(T + 6500)
    assert receipt.timestamp == receipt.watermark  # the documented delivery has no timestamp
    assert receipt.contact.external_id == PSID


def test_read_is_a_read_receipt_up_to_the_watermark():
    receipt = only_event("message_reads__read")
    assert isinstance(receipt, ReadReceipt)
    assert receipt.status == MessageStatus.READ
    assert receipt.watermark == ms(T + 9500)
    assert receipt.timestamp == ms(T + 10000)
    assert receipt.platform_message_ids == ()
    assert receipt.contact.external_id == PSID


# --- standby, batches, ignored events -----------------------------------------------------------------------------


def test_standby_events_are_parsed_like_messaging_events():
    message = only_message("standby__message")
    assert message.platform_message_id == "m_Standby0001"
    assert message.text == "Are pets allowed?"
    assert message.contact.external_id == PSID


def test_batch_every_entry_and_every_event_is_parsed_in_order():
    parsed = parse(load("batch__two_entries_several_events"))
    summary = [
        (
            entry_id,
            type(e).__name__,
            getattr(e, "platform_message_id", None) or getattr(e, "target_platform_message_id", ""),
        )
        for entry_id, e in parsed
    ]
    assert summary == [
        (PAGE, "InboundMessage", "m_Batch0001"),
        (PAGE, "InboundMessage", "m_Batch0002"),
        (PAGE, "ReadReceipt", ""),
        (PAGE, "Reaction", "m_Echo0001"),
        (PAGE, "InboundMessage", f"referral.{PSID}.1732186816623"),  # the m.me link beside it: a notice
        (PAGE, "InboundMessage", "m_Batch0003"),  # standby of the second entry
    ]
    contacts = [e.contact.external_id for _, e in parsed]
    assert contacts == [PSID, PSID2, PSID, PSID, PSID, PSID2]
    assert parsed[1][1].attachments[0].kind == MessageKind.IMAGE


@pytest.mark.parametrize("fixture", ["message_edits__edit", "unknown__event"])
def test_events_the_inbox_does_not_use_give_nothing(fixture):
    assert parse(load(fixture)) == []


# --- the wrapper --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("obj", ["instagram", "whatsapp_business_account", None])
def test_a_body_for_another_object_is_rejected(obj):
    payload = load("messages__text")
    payload["object"] = obj
    with pytest.raises(ValueError, match="Messenger"):
        parse(payload)


def test_a_body_that_is_not_an_object_is_rejected():
    with pytest.raises(ValueError, match="Messenger"):
        parse([load("messages__text")])


def test_malformed_event_in_a_messenger_body_raises_value_error():
    payload = copy.deepcopy(load("messages__text"))
    del payload["entry"][0]["messaging"][0]["sender"]
    with pytest.raises(ValueError, match="sender"):
        parse(payload)


def test_parse_messaging_event_is_the_per_event_form_of_parse():
    payload = load("message_echoes__text")
    raw = payload["entry"][0]["messaging"][0]
    assert parse_messaging_event(raw, business_id=PAGE) == [event for _, event in parse(payload)]


def test_deleted_messages_are_not_a_messenger_concept_but_parse_the_same_way():
    # Messenger documents no unsend webhook; the shared parser still turns `is_deleted` into a deletion.
    payload = copy.deepcopy(load("messages__text"))
    payload["entry"][0]["messaging"][0]["message"] = {"mid": "m_gone", "is_deleted": True}
    (event,) = [e for _, e in parse(payload)]
    assert isinstance(event, MessageDeleted)
    assert event.platform_message_id == "m_gone"


# --- fixtures ------------------------------------------------------------------------------------------------------


def test_every_fixture_is_used_by_a_test():
    unused = unused_fixtures("messenger")
    assert not unused, f"Fixtures used by no test: {unused}"
