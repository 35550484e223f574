"""WhatsApp-Web bridge parser (whatsapp-web.js style and WAHA callbacks) — pure, no database."""

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
from switchboard.whatsapp.parsers import bridge

NOW = datetime(2026, 1, 1, 12, 30, tzinfo=UTC)
AT_10 = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
MARIA_CHAT = "14155550101@c.us"
MARIA = ContactProfile(external_id=MARIA_CHAT, name="Maria Lopez", phone_number="14155550101")
MARIA_UNNAMED = ContactProfile(external_id=MARIA_CHAT, phone_number="14155550101")


def load(name: str) -> dict[str, Any]:
    return load_fixture("whatsapp", name)


def events_of(name: str) -> list[InboundEvent]:
    return bridge.parse(load(name), now=NOW)


def only(name: str, kind: type) -> Any:
    events = events_of(name)
    assert len(events) == 1
    assert isinstance(events[0], kind)
    return events[0]


# --- session_key ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fixture",
    [
        "bridge__waha__message.json",  # WAHA: "session"
        "bridge__wwebjs__message.json",  # "sessionId"
        "bridge__wwebjs__new_message_client_id.json",  # "clientId"
    ],
)
def test_session_key_names_the_bridge_session(fixture):
    assert bridge.session_key(load(fixture)) == "agency-main"


@pytest.mark.parametrize("payload", [{"event": "message"}, {"session": "  "}, [], "agency-main"])
def test_session_key_is_none_when_the_callback_names_none(payload):
    assert bridge.session_key(payload) is None


# --- whatsapp-web.js style ------------------------------------------------------------------------------------------


def test_wwebjs_incoming_text_message():
    message = only("bridge__wwebjs__message.json", InboundMessage)
    assert message == InboundMessage(
        platform_message_id="false_14155550101@c.us_3EB0C767D26A1B9E4F21",
        contact=MARIA,
        timestamp=AT_10,
        kind=MessageKind.TEXT,
        text="Hola! Is the flat on Calle Mayor still available?",
    )
    assert message.is_echo is False


def test_wwebjs_new_message_event_is_a_message():
    message = only("bridge__wwebjs__new_message_client_id.json", InboundMessage)
    assert (message.text, message.contact) == ("Also: is there a lift?", MARIA)


def test_wwebjs_from_me_is_an_echo_without_our_push_name():
    message = only("bridge__wwebjs__message_create_from_me.json", InboundMessage)
    assert message.is_echo is True
    assert message.platform_message_id == "true_14155550101@c.us_3EB0A1B2C3D4E5F60718"
    # The chat is the customer's even though we sent it; the name on our own message is ours, so none.
    assert message.contact == MARIA_UNNAMED
    assert message.text == "Yes, viewings on Saturday 11:00"


def test_wwebjs_rest_wrapper_envelope_is_understood():
    message = only("bridge__wwebjs__api_wrapper_message.json", InboundMessage)
    assert message.platform_message_id == "false_14155550101@c.us_3EB0C767D26A1B9E4F30"
    assert message.text == "Sent through the REST wrapper"


def test_wwebjs_quoted_message_becomes_the_serialized_reply_id():
    message = only("bridge__wwebjs__message_reply.json", InboundMessage)
    # The quoted author is us, so the quoted id is one of our own (`true_`) in this chat.
    assert message.reply_to_platform_id == "true_14155550101@c.us_3EB0A1B2C3D4E5F60718"


def test_wwebjs_voice_note_with_has_media_but_no_media_still_gives_an_attachment_to_fetch():
    message = only("bridge__wwebjs__voice_note_without_media.json", InboundMessage)
    assert message.kind == MessageKind.AUDIO
    assert message.payload == {"voice": True}
    assert message.attachments == (
        AttachmentRef(
            kind=MessageKind.AUDIO,
            media_id="false_14155550101@c.us_3EB0C767D26A1B9E4F23",
            mime_type="audio/ogg; codecs=opus",
        ),
    )


def test_wwebjs_location_goes_into_the_payload_without_the_thumbnail_body():
    message = only("bridge__wwebjs__location.json", InboundMessage)
    assert message.kind == MessageKind.LOCATION
    assert message.text == ""
    assert message.payload == {
        "latitude": 40.4153,
        "longitude": -3.7074,
        "name": "Plaza Mayor",
        "address": "Plaza Mayor, 28012 Madrid, Spain",
    }


def test_wwebjs_vcard_is_contacts():
    message = only("bridge__wwebjs__vcard.json", InboundMessage)
    assert message.kind == MessageKind.CONTACTS
    assert message.text == ""
    assert len(message.payload["vcards"]) == 1
    assert "FN:Jon Park" in message.payload["vcards"][0]


def test_wwebjs_unknown_type_is_unsupported_with_the_raw_message_kept():
    message = only("bridge__wwebjs__unknown_type.json", InboundMessage)
    assert message.kind == MessageKind.UNSUPPORTED
    assert message.payload == {"type": "poll_creation"}
    assert message.raw == load("bridge__wwebjs__unknown_type.json")["data"]


def test_wwebjs_encryption_notice_is_no_message():
    assert events_of("bridge__wwebjs__e2e_notification.json") == []


def test_wwebjs_group_chat_is_ignored():
    assert events_of("bridge__wwebjs__group_message.json") == []


def test_wwebjs_status_broadcast_is_ignored():
    assert events_of("bridge__wwebjs__status_broadcast.json") == []


def test_wwebjs_ack_read_updates_our_message_with_the_injected_time():
    status = only("bridge__wwebjs__message_ack_read.json", StatusUpdate)
    assert status == StatusUpdate(
        platform_message_id="true_14155550101@c.us_3EB0A1B2C3D4E5F60718",
        status=MessageStatus.READ,
        timestamp=NOW,  # an ack carries no time of its own
        recipient_id=MARIA_CHAT,
    )


def test_wwebjs_ack_error_is_failed():
    status = only("bridge__wwebjs__message_ack_error.json", StatusUpdate)
    assert (status.status, status.error_code) == (MessageStatus.FAILED, "ACK_ERROR")
    assert status.platform_message_id == "true_14155550101@c.us_3EB0A1B2C3D4E5F60719"


def test_wwebjs_ack_on_the_customers_message_is_ignored():
    assert events_of("bridge__wwebjs__message_ack_inbound.json") == []


@pytest.mark.parametrize(
    ("ack", "status"),
    [
        (-1, MessageStatus.FAILED),
        (0, MessageStatus.SENDING),
        (1, MessageStatus.SENT),
        (2, MessageStatus.DELIVERED),
        (3, MessageStatus.READ),
        (4, MessageStatus.READ),
    ],
)
def test_every_ack_number_maps_to_a_status(ack, status):
    payload = load("bridge__wwebjs__message_ack_read.json")
    payload["data"]["ack"] = ack
    (update,) = bridge.parse(payload, now=NOW)
    assert update.status == status


def test_unknown_ack_number_gives_no_event():
    payload = load("bridge__wwebjs__message_ack_read.json")
    payload["data"]["ack"] = 9
    assert bridge.parse(payload, now=NOW) == []


def test_wwebjs_reaction_targets_our_message():
    reaction = only("bridge__wwebjs__message_reaction.json", Reaction)
    assert reaction == Reaction(
        target_platform_message_id="true_14155550101@c.us_3EB0A1B2C3D4E5F60718",
        contact=MARIA_UNNAMED,
        emoji="\u2764\ufe0f",
        timestamp=datetime(2026, 1, 1, 10, 1, 40, tzinfo=UTC),
        platform_message_id="false_14155550101@c.us_3EB0D1E2F3A4B5C6D7E8",
        removed=False,
        from_business=False,
    )


def test_wwebjs_revoke_for_everyone_deletes_the_original_message():
    deleted = only("bridge__wwebjs__message_revoke_everyone.json", MessageDeleted)
    assert deleted == MessageDeleted(
        platform_message_id="false_14155550101@c.us_3EB0C767D26A1B9E4F21",
        contact=MARIA_UNNAMED,
        timestamp=datetime(2026, 1, 1, 10, 5, tzinfo=UTC),
    )


def test_non_message_events_give_no_event():
    assert events_of("bridge__wwebjs__session_ready.json") == []
    assert events_of("bridge__waha__session_status.json") == []


# --- WAHA -----------------------------------------------------------------------------------------------------------


def test_waha_incoming_text_message():
    message = only("bridge__waha__message.json", InboundMessage)
    assert message.platform_message_id == "false_14155550101@c.us_3EB0B1C2D3E4F5061728"
    assert (message.kind, message.text) == (MessageKind.TEXT, "Hola! Is the studio near Retiro still free?")
    assert message.contact == MARIA
    assert message.timestamp == AT_10  # the message's seconds, not the envelope's milliseconds
    assert message.payload == {"source": "app"}


def test_waha_media_gives_url_mime_type_and_filename():
    message = only("bridge__waha__message_with_media.json", InboundMessage)
    assert message.kind == MessageKind.DOCUMENT
    assert message.text == "Floor plan attached"
    assert message.attachments == (
        AttachmentRef(
            kind=MessageKind.DOCUMENT,
            media_id="false_14155550101@c.us_3EB0B1C2D3E4F5061729",
            url="https://waha.agency.example/api/files/agency-main/false_14155550101@c.us_3EB0B1C2D3E4F5061729.pdf",
            mime_type="application/pdf",
            filename="floor-plan.pdf",
            caption="Floor plan attached",
        ),
    )


def test_waha_has_media_with_media_null_does_not_crash_and_keeps_a_fetchable_attachment():
    message = only("bridge__waha__message_has_media_without_media.json", InboundMessage)
    assert message.kind == MessageKind.IMAGE
    (attachment,) = message.attachments
    assert (attachment.url, attachment.media_id) == ("", "false_14155550101@c.us_3EB0B1C2D3E4F506172A")


def test_waha_message_any_from_me_is_an_echo():
    message = only("bridge__waha__message_any_from_me.json", InboundMessage)
    assert message.is_echo is True
    assert message.contact == MARIA_UNNAMED
    assert message.payload == {"source": "api"}


def test_waha_reply_to_expands_the_bare_quoted_id():
    message = only("bridge__waha__message_reply.json", InboundMessage)
    assert message.reply_to_platform_id == "true_14155550101@c.us_3EB0F1E2D3C4B5A69788"


def test_waha_message_timestamp_in_milliseconds_is_accepted():
    message = only("bridge__waha__message_timestamp_ms.json", InboundMessage)
    assert message.timestamp == datetime(2026, 1, 1, 10, 0, 0, 500000, tzinfo=UTC)


def test_waha_lid_chat_is_a_contact_without_phone_number():
    message = only("bridge__waha__message_lid.json", InboundMessage)
    assert message.contact == ContactProfile(external_id="215842399715436@lid", name="Maria Lopez", phone_number="")


def test_waha_newsletter_is_ignored():
    assert events_of("bridge__waha__newsletter.json") == []


def test_waha_ack_uses_the_envelope_time_in_milliseconds():
    status = only("bridge__waha__message_ack.json", StatusUpdate)
    assert status == StatusUpdate(
        platform_message_id="true_14155550101@c.us_3EB0F1E2D3C4B5A69788",
        status=MessageStatus.DELIVERED,
        timestamp=datetime(2026, 1, 1, 10, 1, 40, tzinfo=UTC),
        recipient_id=MARIA_CHAT,
    )


def test_waha_ack_name_is_used_when_the_number_is_missing():
    payload = load("bridge__waha__message_ack.json")
    del payload["payload"]["ack"]
    payload["payload"]["ackName"] = "PLAYED"
    (status,) = bridge.parse(payload, now=NOW)
    assert status.status == MessageStatus.READ


def test_waha_ack_in_a_group_is_ignored():
    assert events_of("bridge__waha__message_ack_group.json") == []


def test_waha_reaction_with_fractional_seconds():
    reaction = only("bridge__waha__message_reaction.json", Reaction)
    assert reaction.target_platform_message_id == "true_14155550101@c.us_3EB0F1E2D3C4B5A69788"
    assert reaction.platform_message_id == "false_14155550101@c.us_3EB0AA11BB22CC33DD44"
    assert (reaction.emoji, reaction.removed, reaction.from_business) == ("\U0001f64f", False, False)
    assert reaction.contact == MARIA_UNNAMED
    assert reaction.timestamp == datetime(2026, 1, 1, 10, 2, 30, 853000, tzinfo=UTC)


def test_waha_reaction_with_empty_text_is_a_removal():
    reaction = only("bridge__waha__message_reaction_removed.json", Reaction)
    assert (reaction.emoji, reaction.removed) == ("", True)


def test_waha_revoked_deletes_the_revoked_message_id_in_its_serialized_form():
    deleted = only("bridge__waha__message_revoked.json", MessageDeleted)
    assert deleted.platform_message_id == "false_14155550101@c.us_3EB0B1C2D3E4F5061728"
    assert deleted.contact == MARIA_UNNAMED
    assert deleted.timestamp == datetime(2026, 1, 1, 10, 3, 20, tzinfo=UTC)


# --- malformed ------------------------------------------------------------------------------------------------------


def test_callback_without_event_is_malformed():
    with pytest.raises(ValueError, match="event"):
        events_of("bridge__malformed__no_event.json")


def test_message_without_id_is_malformed():
    with pytest.raises(ValueError, match="no 'id'"):
        events_of("bridge__malformed__message_without_id.json")


@pytest.mark.parametrize("payload", [[], "message", None])
def test_callback_that_is_not_an_object_is_malformed(payload):
    with pytest.raises(ValueError):
        bridge.parse(payload)


def test_message_with_a_bad_timestamp_is_malformed():
    payload = load("bridge__waha__message.json")
    payload["payload"]["timestamp"] = "soon"
    with pytest.raises(ValueError, match="timestamp"):
        bridge.parse(payload)
