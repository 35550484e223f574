"""Every Messenger fixture through the real endpoint, signed as Meta signs it, against what it must store.

EXPECTED is written from the fixtures themselves (the Zulip way), not from the parser: a parser bug fails here."""

from __future__ import annotations

import json

import pytest

from switchboard.inbox.models import Direction, Message, MessageStatus
from switchboard.webhooks.models import WebhookLog
from switchboard.webhooks.testing import (
    META_VERIFY_TOKEN,
    Attached,
    Expect,
    Seed,
    Stored,
    check_webhook,
    fixture_bytes,
    fixture_names,
)

MAYA = "7281946350172634"  # the PSID most fixtures come from
JON = "6930418275610493"  # the second customer (batch, Get Started)
FB_CDN = "https://scontent.xx.fbcdn.net/v/t1.15752-9/"


def ours(mid: str, status: str = "sent", **changes) -> Stored:
    """A message the Page sent (seeded before the delivery), as it is after it."""
    return Stored(mid, "text", MAYA, direction="outbound", status=status, **changes)


EXPECTED: dict[str, Expect] = {
    "batch__two_entries_several_events.json": Expect(
        # Two entries; messaging and standby; a message, an image, a read, a reaction and an ignored referral.
        "processed",
        events=5,
        seed=(Seed("m_Echo0001", MAYA),),
        messages=(
            Stored("m_Batch0001", "text", MAYA, at="2024-11-21T11:00:14.123+00:00", text="First question"),
            Stored(
                "m_Batch0002",
                "image",
                JON,
                at="2024-11-21T11:00:14.623+00:00",
                attachments=(Attached("image", url=FB_CDN + "id-card.jpg?oh=9"),),
            ),
            Stored("m_Batch0003", "text", JON, at="2024-11-21T11:00:17.123+00:00", text="Hello? Anyone there?"),
            ours("m_Echo0001", status="read", reactions=(("\U0001f44d", "contact"),)),
        ),
    ),
    "message_deliveries__delivery.json": Expect(
        "processed",
        events=1,
        seed=(Seed("m_Echo0001", MAYA), Seed("m_EchoTemplate0001", MAYA)),
        messages=(ours("m_Echo0001", status="delivered"), ours("m_EchoTemplate0001", status="delivered")),
    ),
    "message_echoes__template.json": Expect(
        "processed",
        events=1,
        messages=(
            Stored(
                "m_EchoTemplate0001",
                "interactive",
                MAYA,  # an echo: the customer is the recipient
                at="2024-11-21T11:00:06.123+00:00",
                text="42 Rue Sainte-Catherine",  # the generic template's first element
                direction="outbound",
                status="sent",
                payload={"echo": True, "app_id": 1517776481860111},
            ),
        ),
    ),
    "message_echoes__text.json": Expect(
        "processed",
        events=1,
        messages=(
            Stored(
                "m_Echo0001",
                "text",
                MAYA,
                at="2024-11-21T11:00:05.123+00:00",
                text="Hi Maya, yes it is! When would you like to visit?",
                direction="outbound",
                status="sent",
                payload={"echo": True, "metadata": "switchboard:msg:7f9d2c1e"},
            ),
        ),
    ),
    # Edits, referrals and unknown events are not stored (meta/messaging.py).
    "message_edits__edit.json": Expect("ignored"),
    "message_reactions__react.json": Expect(
        "processed",
        events=1,
        seed=(Seed("m_Echo0001", MAYA),),
        messages=(ours("m_Echo0001", reactions=(("\u2764\ufe0f", "contact"),)),),
    ),
    "message_reactions__unreact.json": Expect(
        "processed",
        events=1,
        seed=(Seed("m_Echo0001", MAYA, reactions=(("\u2764\ufe0f", "contact"),)),),
        messages=(ours("m_Echo0001"),),
    ),
    "message_reads__read.json": Expect(
        "processed",
        events=1,
        seed=(Seed("m_Echo0001", MAYA),),
        messages=(ours("m_Echo0001", status="read"),),
    ),
    "messages__audio.json": Expect(
        "processed",
        events=1,
        messages=(
            Stored(
                "m_Audio0001",
                "audio",
                MAYA,
                at="2024-11-21T11:00:00.123+00:00",
                attachments=(
                    Attached("audio", url="https://cdn.fbsbx.com/v/t59.3654-21/audioclip-1732186800-1234.mp4?oh=abc"),
                ),
            ),
        ),
    ),
    "messages__fallback.json": Expect(
        "processed",
        events=1,
        messages=(
            Stored(
                "m_Fallback0001",
                "text",
                MAYA,
                at="2024-11-21T11:00:00.123+00:00",
                # A shared link is text and a link, not a downloadable attachment.
                text="42 Rue Sainte-Catherine \u2014 2 bedrooms https://www.example.com/listings/42-rue-sainte-catherine",
                payload={
                    "links": [
                        {
                            "url": "https://www.example.com/listings/42-rue-sainte-catherine",
                            "title": "42 Rue Sainte-Catherine \u2014 2 bedrooms",
                        }
                    ]
                },
            ),
        ),
    ),
    "messages__fallback_no_payload.json": Expect(
        "processed",
        events=1,
        messages=(
            Stored(
                "m_FallbackEmpty0001",
                "unsupported",
                MAYA,
                at="2024-11-21T11:00:00.123+00:00",
                payload={"unsupported": [{"type": "fallback", "payload": None}]},
            ),
        ),
    ),
    "messages__file.json": Expect(
        "processed",
        events=1,
        messages=(
            Stored(
                "m_File0001",
                "document",
                MAYA,
                at="2024-11-21T11:00:00.123+00:00",
                attachments=(
                    Attached(
                        "document",
                        url="https://cdn.fbsbx.com/v/t59.2708-21/pay%20stubs%20October.pdf/pay%20stubs%20October.pdf"
                        "?_nc_cat=1&oh=abc",
                        filename="pay stubs October.pdf",
                    ),
                ),
            ),
        ),
    ),
    "messages__image.json": Expect(
        "processed",
        events=1,
        messages=(
            Stored(
                "m_Image0001",
                "image",
                MAYA,
                at="2024-11-21T11:00:00.123+00:00",
                attachments=(Attached("image", url=FB_CDN + "kitchen.jpg?_nc_cat=1&oh=abc&oe=6750A1B2"),),
            ),
        ),
    ),
    "messages__like_sticker.json": Expect(
        "processed",
        events=1,
        messages=(
            Stored(
                "m_Like0001",
                "sticker",
                MAYA,
                at="2024-11-21T11:00:00.123+00:00",
                attachments=(
                    Attached(
                        "sticker",
                        url="https://scontent.xx.fbcdn.net/v/t39.1997-6/851557_369239266556155_759568595_n.png?oh=1",
                    ),
                ),
                payload={"sticker_id": "369239263222822"},
            ),
        ),
    ),
    "messages__location.json": Expect(
        "processed",
        events=1,
        messages=(
            Stored(
                "m_Location0001",
                "location",
                MAYA,
                at="2024-11-21T11:00:00.123+00:00",
                payload={
                    "location": {
                        "latitude": 45.5017,
                        "longitude": -73.5673,
                        "name": "Maya's Location",
                        "url": "https://l.facebook.com/l.php?u=https%3A%2F%2Fwww.bing.com%2Fmaps%2Fdefault.aspx%3Fv%3D2"
                        "%26pc%3DFACEBK%26mid%3D8100%26where1%3D45.5017%252C%2B-73.5673",
                    }
                },
            ),
        ),
    ),
    "messages__quick_reply.json": Expect(
        "processed",
        events=1,
        messages=(
            Stored(
                "m_QuickReply0001",
                "interactive",
                MAYA,
                at="2024-11-21T11:00:00.123+00:00",
                text="Book a viewing",
                payload={"quick_reply": {"payload": "BOOK_VIEWING:listing-42"}},
            ),
        ),
    ),
    "messages__reply_to.json": Expect(
        "processed",
        events=1,
        seed=(Seed("m_OurProposal0001", MAYA),),
        messages=(
            ours("m_OurProposal0001"),
            Stored(
                "m_ReplyTo0001",
                "text",
                MAYA,
                at="2024-11-21T11:00:00.123+00:00",
                text="Yes, Saturday at 10 works for me",
                reply_to="m_OurProposal0001",
            ),
        ),
    ),
    "messages__several_attachments.json": Expect(
        "processed",
        events=1,
        messages=(
            Stored(
                "m_Several0001",
                "image",
                MAYA,
                at="2024-11-21T11:00:00.123+00:00",
                attachments=(
                    Attached("image", url=FB_CDN + "living-room.jpg?oh=1"),
                    Attached("image", url=FB_CDN + "bedroom.jpg?oh=2"),
                    Attached("video", url="https://video.xx.fbcdn.net/v/t42.3356-2/walkthrough.mp4?oh=3"),
                ),
            ),
        ),
    ),
    "messages__sticker.json": Expect(
        "processed",
        events=1,
        messages=(
            Stored(
                "m_Sticker0001",
                "sticker",
                MAYA,
                at="2024-11-21T11:00:00.123+00:00",
                # The same sticker as an `image` and a `sticker` attachment: one attachment.
                attachments=(Attached("sticker", url="https://scontent.xx.fbcdn.net/v/t39.1997-6/cat-wave.png?oh=1"),),
                payload={"sticker_id": "767226160478561"},
            ),
        ),
    ),
    "messages__text.json": Expect(
        "processed",
        events=1,
        messages=(
            Stored(
                "m_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789text",
                "text",
                MAYA,
                at="2024-11-21T11:00:00.123+00:00",
                text="Bonjour ! Is the 2-bedroom on Rue Sainte-Catherine still available? \U0001f3e0",
            ),
        ),
    ),
    "messages__unknown_attachment.json": Expect(
        "processed",
        events=1,
        messages=(
            Stored(
                "m_Unknown0001",
                "unsupported",
                MAYA,
                at="2024-11-21T11:00:00.123+00:00",
                payload={
                    "unsupported": [
                        {"type": "appointment_booking", "payload": {"appointment_id": "998877", "status": "confirmed"}}
                    ]
                },
            ),
        ),
    ),
    "messages__video.json": Expect(
        "processed",
        events=1,
        messages=(
            Stored(
                "m_Video0001",
                "video",
                MAYA,
                at="2024-11-21T11:00:00.123+00:00",
                attachments=(
                    Attached("video", url="https://video.xx.fbcdn.net/v/t42.3356-2/balcony.mp4?_nc_cat=1&oh=abc"),
                ),
            ),
        ),
    ),
    "messaging_postbacks__button.json": Expect(
        "processed",
        events=1,
        messages=(
            Stored(
                "m_Postback0001",
                "interactive",
                MAYA,
                at="2024-11-21T11:00:07.123+00:00",
                text="Book a viewing",
                payload={"postback": {"payload": "BOOK_VIEWING:listing-42", "title": "Book a viewing"}},
            ),
        ),
    ),
    "messaging_postbacks__get_started.json": Expect(
        "processed",
        events=1,
        messages=(
            Stored(
                # No mid (Get Started): one made of the sender and the time, so Meta's retries stay one message.
                "postback.6930418275610493.1732186807000",
                "interactive",
                JON,
                at="2024-11-21T11:00:07+00:00",  # "1732186807": seconds, as a string
                text="Get Started",
                payload={
                    "postback": {"payload": "GET_STARTED", "title": "Get Started"},
                    "referral": {"ref": "spring-campaign", "source": "SHORTLINK", "type": "OPEN_THREAD"},
                },
            ),
        ),
    ),
    "messaging_referrals__referral.json": Expect("ignored"),
    "standby__message.json": Expect(
        "processed",
        events=1,
        messages=(Stored("m_Standby0001", "text", MAYA, at="2024-11-21T11:00:00.123+00:00", text="Are pets allowed?"),),
    ),
    "unknown__event.json": Expect("ignored"),
}


def test_every_fixture_has_its_expectation():
    assert sorted(EXPECTED) == fixture_names("messenger")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_fixture_is_stored_as_expected(poster, messenger_account, name):
    check_webhook(poster, messenger_account, "messenger", name, EXPECTED[name])


def test_batch_delivery_stores_every_event(poster, messenger_account):
    body = fixture_bytes("messenger", "batch__two_entries_several_events.json")
    delivery = poster.meta("messenger", body)
    assert delivery.log.event_count == 5 and Message.objects.count() == 3


def test_echo_is_outbound_and_never_unread(poster, messenger_account):
    delivery = poster.meta("messenger", fixture_bytes("messenger", "message_echoes__text.json"))
    message = Message.objects.get()
    assert (message.direction, message.status, message.is_read) == (Direction.OUTBOUND, MessageStatus.SENT, True)
    assert message.conversation.unread_count == 0
    assert delivery.log.status == "processed"


def test_reaction_lands_on_the_target_message(poster, messenger_account):
    poster.meta("messenger", fixture_bytes("messenger", "messages__text.json"))
    target = Message.objects.get()
    react = json.loads(fixture_bytes("messenger", "message_reactions__react.json"))
    react["entry"][0]["messaging"][0]["reaction"]["mid"] = target.platform_message_id
    react["entry"][0]["messaging"][0]["sender"]["id"] = target.conversation.contact.external_id
    poster.meta("messenger", json.dumps(react).encode())
    target.refresh_from_db()
    assert len(target.reactions) == 1 and Message.objects.count() == 1


def test_wrong_signature_is_refused_and_only_the_rejection_is_logged(poster, messenger_account):
    delivery = poster.meta("messenger", fixture_bytes("messenger", "messages__text.json"), secret="not-the-secret")
    assert delivery.response.status_code == 403
    assert delivery.response.json()["code"] == "invalid_signature"
    assert Message.objects.count() == 0
    assert list(WebhookLog.objects.values_list("status", flat=True)) == ["rejected"]


def test_handshake(db, client, webhook_settings):
    ok = client.get(
        "/api/webhooks/messenger/",
        {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": META_VERIFY_TOKEN},
    )
    assert ok.status_code == 200 and ok.content == b"1158201444" and ok["Content-Type"].startswith("text/plain")
    bad = client.get(
        "/api/webhooks/messenger/", {"hub.mode": "subscribe", "hub.challenge": "1", "hub.verify_token": "nope"}
    )
    assert bad.status_code == 403


def test_per_account_verify_token_override(client, webhook_settings, messenger_account):
    messenger_account.verify_token = "agency-own-token"
    messenger_account.save()
    ok = client.get(
        "/api/webhooks/messenger/",
        {"hub.mode": "subscribe", "hub.challenge": "42", "hub.verify_token": "agency-own-token"},
    )
    assert ok.content == b"42"
