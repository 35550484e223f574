"""Every WhatsApp-Web bridge fixture (WAHA, whatsapp-web.js) through the real endpoint with the session's secret,
against what it must store.

EXPECTED is written from the fixtures themselves (the Zulip way), not from the parser: a parser bug fails here.
Message ids are the bridges' serialized `<fromMe>_<chat>_<id>`; `<digits>@c.us` chats are stored as E.164 numbers."""

from __future__ import annotations

import pytest

from switchboard.webhooks.testing import Attached, Expect, Seed, Stored, check_webhook, fixture_names

MARIA = "+14155550101"  # the chat 14155550101@c.us
AT = "2026-01-01T10:00:00+00:00"  # 1767261600, the time of most fixtures

# Our messages to Maria that acks, reactions and replies name (WAHA and whatsapp-web.js fixtures).
OURS_WAHA = "true_14155550101@c.us_3EB0F1E2D3C4B5A69788"
OURS_WWEBJS = "true_14155550101@c.us_3EB0A1B2C3D4E5F60718"
# Maria's first messages, which the revokes delete.
FIRST_WAHA = "false_14155550101@c.us_3EB0B1C2D3E4F5061728"
FIRST_WWEBJS = "false_14155550101@c.us_3EB0C767D26A1B9E4F21"


def maria(message_id: str, kind: str, at: str = AT, **fields) -> Stored:
    """A message from Maria, whose push name (`notifyName`) names her."""
    return Stored(message_id, kind, MARIA, at=at, name="Maria Lopez", phone=MARIA, **fields)


def ours(message_id: str, status: str = "sent", **fields) -> Stored:
    """A message the business sent (seeded before the delivery, unless it is the delivery), as it is after it."""
    return Stored(message_id, "text", MARIA, direction="outbound", status=status, phone=MARIA, **fields)


def to_maria(message_id: str, **fields) -> Seed:
    return Seed(message_id, MARIA, phone=MARIA, **fields)


def from_maria(message_id: str, text: str) -> Seed:
    return Seed(message_id, MARIA, direction="inbound", status="received", text=text, phone=MARIA)


EXPECTED: dict[str, Expect] = {
    # --- WAHA ---------------------------------------------------------------------------------------------------
    "bridge__waha__message.json": Expect(
        "processed",
        events=1,
        messages=(
            maria(FIRST_WAHA, "text", text="Hola! Is the studio near Retiro still free?", payload={"source": "app"}),
        ),
    ),
    "bridge__waha__message_ack.json": Expect(
        # ack 2 (DEVICE): delivered.
        "processed",
        events=1,
        seed=(to_maria(OURS_WAHA),),
        messages=(ours(OURS_WAHA, "delivered"),),
    ),
    "bridge__waha__message_ack_group.json": Expect("ignored"),  # a group chat is not a contact
    "bridge__waha__message_any_from_me.json": Expect(
        # fromMe: our own message, outbound; the push name on it would be ours, so the contact gets no name.
        "processed",
        events=1,
        messages=(
            ours(OURS_WAHA, at=AT, text="Sure, I'll send the floor plan", payload={"source": "api", "echo": True}),
        ),
    ),
    "bridge__waha__message_has_media_without_media.json": Expect(
        # hasMedia without a URL: an attachment keyed by the message id, for the bridge to fetch.
        "processed",
        events=1,
        messages=(
            maria(
                "false_14155550101@c.us_3EB0B1C2D3E4F506172A",
                "image",
                attachments=(
                    Attached("image", mime_type="image/jpeg", media_id="false_14155550101@c.us_3EB0B1C2D3E4F506172A"),
                ),
            ),
        ),
    ),
    "bridge__waha__message_lid.json": Expect(
        # A @lid chat is one-to-one but hides the number: the lid is the contact, with no phone.
        "processed",
        events=1,
        messages=(
            Stored(
                "false_215842399715436@lid_3EB0B1C2D3E4F506172D",
                "text",
                "215842399715436@lid",
                at=AT,
                text="Hi, I found you on the listing site",
                name="Maria Lopez",
                payload={"source": "app"},
            ),
        ),
    ),
    "bridge__waha__message_reaction.json": Expect(
        "processed",
        events=1,
        seed=(to_maria(OURS_WAHA),),
        messages=(ours(OURS_WAHA, reactions=(("\U0001f64f", "contact"),)),),
    ),
    "bridge__waha__message_reaction_removed.json": Expect(
        "processed",
        events=1,
        seed=(to_maria(OURS_WAHA, reactions=(("\U0001f64f", "contact"),)),),
        messages=(ours(OURS_WAHA),),
    ),
    "bridge__waha__message_reply.json": Expect(
        # replyTo names a bare id whose participant is us: our serialized message, linked.
        "processed",
        events=1,
        seed=(to_maria(OURS_WAHA, text="Sure, I'll send the floor plan"),),
        messages=(
            maria(
                "false_14155550101@c.us_3EB0B1C2D3E4F506172B", "text", text="Thanks! 11:00 is fine", reply_to=OURS_WAHA
            ),
            ours(OURS_WAHA, text="Sure, I'll send the floor plan", name="Maria Lopez"),
        ),
    ),
    "bridge__waha__message_revoked.json": Expect(
        # revokedMessageId is bare: Maria's own message (only its sender revokes for everyone).
        "processed",
        events=1,
        seed=(from_maria(FIRST_WAHA, "Hola! Is the studio near Retiro still free?"),),
        messages=(Stored(FIRST_WAHA, "text", MARIA, phone=MARIA, is_deleted=True, payload={"deleted": True}),),
    ),
    "bridge__waha__message_timestamp_ms.json": Expect(
        "processed",
        events=1,
        messages=(
            maria(
                "false_14155550101@c.us_3EB0B1C2D3E4F506172C",
                "text",
                at="2026-01-01T10:00:00.500+00:00",  # 1767261600500: milliseconds
                text="Sent by an engine that writes milliseconds",
            ),
        ),
    ),
    "bridge__waha__message_with_media.json": Expect(
        "processed",
        events=1,
        messages=(
            maria(
                "false_14155550101@c.us_3EB0B1C2D3E4F5061729",
                "document",
                text="Floor plan attached",
                attachments=(
                    Attached(
                        "document",
                        mime_type="application/pdf",
                        media_id="false_14155550101@c.us_3EB0B1C2D3E4F5061729",
                        url="https://waha.agency.example/api/files/agency-main/"
                        "false_14155550101@c.us_3EB0B1C2D3E4F5061729.pdf",
                        filename="floor-plan.pdf",
                        caption="Floor plan attached",
                    ),
                ),
            ),
        ),
    ),
    "bridge__waha__newsletter.json": Expect("ignored"),  # a channel is not a contact
    "bridge__waha__session_status.json": Expect("ignored"),  # not a message
    # --- whatsapp-web.js ----------------------------------------------------------------------------------------
    "bridge__wwebjs__api_wrapper_message.json": Expect(
        # A REST wrapper's envelope: `dataType`, the message under data.message.
        "processed",
        events=1,
        messages=(maria("false_14155550101@c.us_3EB0C767D26A1B9E4F30", "text", text="Sent through the REST wrapper"),),
    ),
    "bridge__wwebjs__e2e_notification.json": Expect("ignored"),  # a grey notice, not conversation content
    "bridge__wwebjs__group_message.json": Expect("ignored"),
    "bridge__wwebjs__location.json": Expect(
        # The body is a thumbnail, not text; the description is "name\naddress".
        "processed",
        events=1,
        messages=(
            maria(
                "false_14155550101@c.us_3EB0C767D26A1B9E4F24",
                "location",
                payload={
                    "latitude": 40.4153,
                    "longitude": -3.7074,
                    "name": "Plaza Mayor",
                    "address": "Plaza Mayor, 28012 Madrid, Spain",
                },
            ),
        ),
    ),
    "bridge__wwebjs__message.json": Expect(
        "processed",
        events=1,
        messages=(maria(FIRST_WWEBJS, "text", text="Hola! Is the flat on Calle Mayor still available?"),),
    ),
    "bridge__wwebjs__message_ack_error.json": Expect(
        # ack -1: failed; the bridge gives no reason.
        "processed",
        events=1,
        seed=(to_maria("true_14155550101@c.us_3EB0A1B2C3D4E5F60719", text="Here is the contract"),),
        messages=(
            ours(
                "true_14155550101@c.us_3EB0A1B2C3D4E5F60719",
                "failed",
                text="Here is the contract",
                error_code="ACK_ERROR",
                error_message="The bridge reported an error sending this message.",
            ),
        ),
    ),
    "bridge__wwebjs__message_ack_inbound.json": Expect(
        # An ack on Maria's message: statuses are about what we sent, hers stays received.
        "ignored",
        seed=(from_maria(FIRST_WWEBJS, "Hola! Is the flat on Calle Mayor still available?"),),
        messages=(
            Stored(FIRST_WWEBJS, "text", MARIA, text="Hola! Is the flat on Calle Mayor still available?", phone=MARIA),
        ),
    ),
    "bridge__wwebjs__message_ack_read.json": Expect(
        "processed",
        events=1,
        seed=(to_maria(OURS_WWEBJS, text="Yes, viewings on Saturday 11:00"),),
        messages=(ours(OURS_WWEBJS, "read", text="Yes, viewings on Saturday 11:00"),),
    ),
    "bridge__wwebjs__message_create_from_me.json": Expect(
        "processed",
        events=1,
        messages=(ours(OURS_WWEBJS, at=AT, text="Yes, viewings on Saturday 11:00", payload={"echo": True}),),
    ),
    "bridge__wwebjs__message_reaction.json": Expect(
        "processed",
        events=1,
        seed=(to_maria(OURS_WWEBJS),),
        messages=(ours(OURS_WWEBJS, reactions=(("\u2764\ufe0f", "contact"),)),),
    ),
    "bridge__wwebjs__message_reply.json": Expect(
        # quotedStanzaID is bare and quotedParticipant is us: our serialized message, linked.
        "processed",
        events=1,
        seed=(to_maria(OURS_WWEBJS, text="Yes, viewings on Saturday 11:00"),),
        messages=(
            maria(
                "false_14155550101@c.us_3EB0C767D26A1B9E4F22",
                "text",
                text="Perfect, see you then",
                reply_to=OURS_WWEBJS,
            ),
            ours(OURS_WWEBJS, text="Yes, viewings on Saturday 11:00", name="Maria Lopez"),
        ),
    ),
    "bridge__wwebjs__message_revoke_everyone.json": Expect(
        "processed",
        events=1,
        seed=(from_maria(FIRST_WWEBJS, "Hola! Is the flat on Calle Mayor still available?"),),
        messages=(Stored(FIRST_WWEBJS, "text", MARIA, phone=MARIA, is_deleted=True, payload={"deleted": True}),),
    ),
    "bridge__wwebjs__new_message_client_id.json": Expect(
        # The session named by `clientId`.
        "processed",
        events=1,
        messages=(maria("false_14155550101@c.us_3EB0C767D26A1B9E4F2A", "text", text="Also: is there a lift?"),),
    ),
    "bridge__wwebjs__session_ready.json": Expect("ignored"),  # not a message
    "bridge__wwebjs__status_broadcast.json": Expect("ignored"),  # a status update, not a chat
    "bridge__wwebjs__unknown_type.json": Expect(
        # A poll: unsupported, its question kept as the text.
        "processed",
        events=1,
        messages=(
            maria(
                "false_14155550101@c.us_3EB0C767D26A1B9E4F26",
                "unsupported",
                text="Which day suits you?",
                payload={"type": "poll_creation"},
            ),
        ),
    ),
    "bridge__wwebjs__vcard.json": Expect(
        # The vCard is the body: it goes into the payload, not the text.
        "processed",
        events=1,
        messages=(
            maria(
                "false_14155550101@c.us_3EB0C767D26A1B9E4F25",
                "contacts",
                payload={
                    "vcards": [
                        "BEGIN:VCARD\nVERSION:3.0\nN:Park;Jon;;;\nFN:Jon Park\n"
                        "TEL;type=CELL;waid=14155550177:+1 415-555-0177\nEND:VCARD"
                    ]
                },
            ),
        ),
    ),
    "bridge__wwebjs__voice_note_without_media.json": Expect(
        # ptt is a voice note; hasMedia without a URL: keyed by the message id.
        "processed",
        events=1,
        messages=(
            maria(
                "false_14155550101@c.us_3EB0C767D26A1B9E4F23",
                "audio",
                attachments=(
                    Attached(
                        "audio",
                        mime_type="audio/ogg; codecs=opus",
                        media_id="false_14155550101@c.us_3EB0C767D26A1B9E4F23",
                    ),
                ),
                payload={"voice": True},
            ),
        ),
    ),
}


def test_every_bridge_fixture_has_its_expectation():
    malformed = fixture_names("whatsapp", prefix="bridge__malformed__")
    assert sorted(EXPECTED) == [n for n in fixture_names("whatsapp", prefix="bridge__") if n not in malformed]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_bridge_fixture_is_stored_as_expected(poster, bridge_account, name):
    check_webhook(poster, bridge_account, "whatsapp", name, EXPECTED[name])
