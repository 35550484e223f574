"""Twilio WhatsApp parser: inbound messages and status callbacks from the exact form bodies — pure, no database."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qsl

import pytest

from switchboard.inbox.events import AttachmentRef, ContactProfile, InboundMessage, StatusUpdate
from switchboard.inbox.models import MessageKind, MessageStatus
from switchboard.webhooks.testing import fixture_bytes
from switchboard.whatsapp.parsers import twilio

NOW = datetime(2026, 1, 1, 12, 30, tzinfo=UTC)
OUR_NUMBER = "+14155238886"
ACCOUNT_SID = "AC" + "a" * 32
MARIA = ContactProfile(external_id="14155550101", name="Maria Lopez", phone_number="+14155550101")
OUTBOUND_SID = "SMe8f90a1b2c3d4e5f60718293a4b5c6d7"


def params(name: str) -> dict[str, str]:
    """Decoded exactly as the webhook pipeline decodes Twilio's form body."""
    body = fixture_bytes("whatsapp", name).decode("ascii")
    assert not body.endswith("\n"), "a Twilio fixture is the exact body Twilio posts"
    return dict(parse_qsl(body, keep_blank_values=True, strict_parsing=True))


def only_message(name: str) -> InboundMessage:
    events = twilio.parse(params(name), now=NOW)
    assert len(events) == 1
    assert isinstance(events[0], InboundMessage)
    return events[0]


def only_status(name: str) -> StatusUpdate:
    events = twilio.parse(params(name), now=NOW)
    assert len(events) == 1
    assert isinstance(events[0], StatusUpdate)
    return events[0]


# --- account_key ----------------------------------------------------------------------------------------------------


def test_account_key_of_an_inbound_message_is_our_to_number_and_the_account_sid():
    assert twilio.account_key(params("twilio__text__basic.txt")) == (OUR_NUMBER, ACCOUNT_SID)


def test_account_key_of_a_status_callback_is_our_from_number():
    # On a callback for a message we sent, To is the customer: our number is From.
    assert twilio.account_key(params("twilio__status__delivered.txt")) == (OUR_NUMBER, ACCOUNT_SID)


def test_account_key_without_our_number_is_malformed():
    with pytest.raises(ValueError, match="WhatsApp number"):
        twilio.account_key({"AccountSid": ACCOUNT_SID, "Body": "hi"})


def test_account_key_of_something_that_is_not_form_parameters_is_malformed():
    with pytest.raises(ValueError):
        twilio.account_key(["To", OUR_NUMBER])


# --- inbound messages -----------------------------------------------------------------------------------------------


def test_text_message():
    message = only_message("twilio__text__basic.txt")
    assert message == InboundMessage(
        platform_message_id="SM0a1b2c3d4e5f60718293a4b5c6d7e8f9",
        contact=MARIA,
        timestamp=NOW,
        kind=MessageKind.TEXT,
        text="Hi! Is the flat on Calle Mayor still available?",
    )
    assert message.raw["MessageSid"] == "SM0a1b2c3d4e5f60718293a4b5c6d7e8f9"


def test_timestamp_is_now_because_twilio_sends_none():
    before = datetime.now(UTC)
    (message,) = twilio.parse(params("twilio__text__basic.txt"))
    assert before <= message.timestamp <= datetime.now(UTC)
    assert message.timestamp.tzinfo is not None


def test_reply_gives_the_original_message_sid():
    message = only_message("twilio__text__reply.txt")
    assert message.reply_to_platform_id == "SM9f8e7d6c5b4a39281706f5e4d3c2b1a0"
    assert message.text == "Saturday works"


def test_image_with_body_as_caption_text():
    message = only_message("twilio__media__image_caption.txt")
    assert message.kind == MessageKind.IMAGE
    assert message.text == "The damp patch in the bedroom"
    assert message.attachments == (
        AttachmentRef(
            kind=MessageKind.IMAGE,
            url=f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM2c3d4e5f60718293a4b5c6d7e8f90a1b"
            "/Media/ME0c3d4e5f60718293a4b5c6d7e8f90a1b",
            mime_type="image/jpeg",
        ),
    )


def test_three_media_give_three_attachments_and_an_empty_body_gives_empty_text():
    message = only_message("twilio__media__three_images.txt")
    assert message.kind == MessageKind.IMAGE
    assert message.text == ""
    assert [(a.kind, a.mime_type, a.url.rsplit("/", 1)[1]) for a in message.attachments] == [
        (MessageKind.IMAGE, "image/jpeg", "ME1d4e5f60718293a4b5c6d7e8f90a1b2c"),
        (MessageKind.IMAGE, "image/png", "ME2d4e5f60718293a4b5c6d7e8f90a1b2c"),
        (MessageKind.IMAGE, "image/jpeg", "ME3d4e5f60718293a4b5c6d7e8f90a1b2c"),
    ]


def test_every_media_url_counts_even_when_num_media_undercounts():
    form = params("twilio__media__three_images.txt") | {"NumMedia": "1"}
    (message,) = twilio.parse(form, now=NOW)
    assert len(message.attachments) == 3


def test_sticker_is_known_from_the_message_type():
    message = only_message("twilio__media__sticker.txt")
    assert message.kind == MessageKind.STICKER
    assert [(a.kind, a.mime_type) for a in message.attachments] == [(MessageKind.STICKER, "image/webp")]


def test_voice_note_is_audio():
    message = only_message("twilio__media__voice_note.txt")
    assert message.kind == MessageKind.AUDIO
    assert [(a.kind, a.mime_type) for a in message.attachments] == [(MessageKind.AUDIO, "audio/ogg")]


def test_location_goes_into_the_payload():
    message = only_message("twilio__location__pin.txt")
    assert message.kind == MessageKind.LOCATION
    assert message.text == ""
    assert message.payload == {
        "latitude": 40.4153,
        "longitude": -3.7074,
        "name": "Plaza Mayor",
        "address": "Plaza Mayor, 28012 Madrid, Spain",
    }


def test_shared_contact_is_contacts_with_the_vcard_as_attachment():
    message = only_message("twilio__contacts__vcard.txt")
    assert message.kind == MessageKind.CONTACTS
    assert [(a.kind, a.mime_type) for a in message.attachments] == [(MessageKind.DOCUMENT, "text/vcard")]


def test_template_quick_reply_button_is_interactive():
    message = only_message("twilio__button__quick_reply.txt")
    assert message.kind == MessageKind.INTERACTIVE
    assert message.text == "Confirm"
    assert message.payload == {"type": "button", "title": "Confirm", "payload": "CONFIRM_VIEWING_42"}
    assert message.reply_to_platform_id == "MM8f7e6d5c4b3a29180716f5e4d3c2b1a0"


def test_interactive_reply_button_keeps_its_payload():
    message = only_message("twilio__interactive__button_reply.txt")
    assert message.kind == MessageKind.INTERACTIVE
    assert message.text == "Book a viewing"
    assert message.payload == {"type": "interactive", "title": "Book a viewing", "payload": "book-viewing"}


def test_click_to_whatsapp_ad_referral_goes_into_the_payload():
    message = only_message("twilio__referral__click_to_whatsapp_ad.txt")
    assert message.kind == MessageKind.TEXT
    referral = message.payload["referral"]
    assert referral["headline"] == "Bright studio near Retiro"
    assert referral["source_type"] == "ad"
    assert referral["source_id"] == "120212345678900123"
    assert referral["ctwa_clid"].startswith("ARAkLkA8")
    assert "num_media" not in referral


def test_forwarded_flag_goes_into_the_payload():
    assert only_message("twilio__message__forwarded.txt").payload == {"forwarded": True}


def test_business_scoped_user_is_known_by_the_external_user_id_without_phone():
    message = only_message("twilio__message__business_scoped_user.txt")
    assert message.contact == ContactProfile(
        external_id="US.13491208655302741918", name="Sam Rivera", user_id="US.13491208655302741918"
    )


def test_unknown_message_type_becomes_unsupported_with_the_raw_form_kept():
    message = only_message("twilio__message__unknown_type.txt")
    assert message.kind == MessageKind.UNSUPPORTED
    assert message.payload == {"type": "unknown"}
    assert message.raw == params("twilio__message__unknown_type.txt")


def test_message_without_sid_is_malformed():
    with pytest.raises(ValueError, match="MessageSid"):
        twilio.parse(params("twilio__malformed__no_message_sid.txt"), now=NOW)


def test_message_without_sender_is_malformed():
    with pytest.raises(ValueError, match="From"):
        twilio.parse({"MessageSid": "SM1", "To": "whatsapp:" + OUR_NUMBER, "Body": "hi"}, now=NOW)


def test_parameters_that_are_not_a_mapping_are_malformed():
    with pytest.raises(ValueError):
        twilio.parse("Body=hi", now=NOW)


# --- status callbacks -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "status"),
    [
        ("twilio__status__queued.txt", MessageStatus.QUEUED),
        ("twilio__status__sending.txt", MessageStatus.SENDING),
        ("twilio__status__sent.txt", MessageStatus.SENT),
        ("twilio__status__delivered.txt", MessageStatus.DELIVERED),
        ("twilio__status__read.txt", MessageStatus.READ),
    ],
)
def test_status_callback_maps_to_the_same_status(fixture, status):
    update = only_status(fixture)
    assert update == StatusUpdate(
        platform_message_id=OUTBOUND_SID, status=status, timestamp=NOW, recipient_id="+14155550101"
    )


def test_undelivered_is_failed_with_the_error_code():
    update = only_status("twilio__status__undelivered.txt")
    # Twilio sent only the code: the sentence the send path gives it.
    assert (update.status, update.error_code, update.error_message) == (
        MessageStatus.FAILED,
        "63024",
        "The customer's number is not a valid WhatsApp recipient.",
    )


def test_failed_carries_the_error_code_and_message():
    update = only_status("twilio__status__failed.txt")
    assert update.status == MessageStatus.FAILED
    assert update.error_code == "63016"
    # The send path's sentence for 63016, not Twilio's developer message.
    assert update.error_message == (
        "More than 24 hours have passed since the customer last wrote, so WhatsApp only allows an approved "
        "template message."
    )


def test_unknown_status_gives_no_event():
    form = params("twilio__status__sent.txt") | {"MessageStatus": "partially_delivered"}
    assert twilio.parse(form, now=NOW) == []


def test_received_status_is_an_inbound_message_not_a_callback():
    form = params("twilio__text__basic.txt") | {"MessageStatus": "received"}
    (event,) = twilio.parse(form, now=NOW)
    assert isinstance(event, InboundMessage)


def test_inbound_without_content_is_unsupported_not_an_empty_bubble():
    form = {"MessageSid": "SM2", "From": "whatsapp:+14155550101", "To": "whatsapp:" + OUR_NUMBER, "Body": ""}
    (message,) = twilio.parse(form, now=NOW)
    assert (message.kind, message.text, message.payload) == (MessageKind.UNSUPPORTED, "", {"type": "empty"})
