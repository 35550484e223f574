"""Every Twilio WhatsApp fixture through the real endpoint, signed as Twilio signs it, against what it must store.

EXPECTED is written from the fixtures themselves (the Zulip way), not from the parser: a parser bug fails here.
Twilio sends no time with a message or a status: a message is stamped when it arrives (ARRIVAL)."""

from __future__ import annotations

import pytest

from switchboard.webhooks.testing import ARRIVAL, Attached, Expect, Seed, Stored, check_webhook, fixture_names

MARIA = "+14155550101"
SAM = "US.13491208655302741918"  # a username user: no phone number
MEDIA = "https://api.twilio.com/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Messages/"
OURS = "SMe8f90a1b2c3d4e5f60718293a4b5c6d7"  # the message of ours every status callback is about
WINDOW_CLOSED = (
    "More than 24 hours have passed since the customer last wrote, so WhatsApp only allows an approved template "
    "message."
)


def maria(sid: str, kind: str, **fields) -> Stored:
    return Stored(sid, kind, MARIA, at=ARRIVAL, name="Maria Lopez", phone=MARIA, **fields)


def ours(status: str, sid: str = OURS, **fields) -> Stored:
    """A message the business sent (seeded before the delivery), as it is after it."""
    return Stored(sid, "text", MARIA, direction="outbound", status=status, phone=MARIA, **fields)


def sent_to_maria(status: str = "sent", sid: str = OURS, **fields) -> Seed:
    return Seed(sid, MARIA, status=status, phone=MARIA, **fields)


EXPECTED: dict[str, Expect] = {
    "twilio__button__quick_reply.txt": Expect(
        "processed",
        events=1,
        messages=(
            maria(
                "SM8293a4b5c6d7e8f90a1b2c3d4e5f6071",
                "interactive",
                text="Confirm",
                reply_to="MM8f7e6d5c4b3a29180716f5e4d3c2b1a0",
                payload={"type": "button", "title": "Confirm", "payload": "CONFIRM_VIEWING_42"},
            ),
        ),
    ),
    "twilio__button__text_without_body.txt": Expect(
        # An empty Body: the button the customer tapped (ButtonText) is the message text.
        "processed",
        events=1,
        messages=(
            maria(
                "SMa0b1c2d3e4f5061728394a5b6c7d8e9f",
                "interactive",
                text="Yes, book it",
                payload={"type": "button", "title": "Yes, book it", "payload": "BOOK_VIEWING_42"},
            ),
        ),
    ),
    "twilio__contacts__vcard.txt": Expect(
        # The vCard itself is the media.
        "processed",
        events=1,
        messages=(
            maria(
                "MM718293a4b5c6d7e8f90a1b2c3d4e5f60",
                "contacts",
                attachments=(
                    Attached(
                        "document",
                        mime_type="text/vcard",
                        url=MEDIA + "MM718293a4b5c6d7e8f90a1b2c3d4e5f60/Media/ME718293a4b5c6d7e8f90a1b2c3d4e5f60",
                    ),
                ),
            ),
        ),
    ),
    "twilio__interactive__button_reply.txt": Expect(
        "processed",
        events=1,
        messages=(
            maria(
                "SM93a4b5c6d7e8f90a1b2c3d4e5f607182",
                "interactive",
                text="Book a viewing",
                payload={"type": "interactive", "title": "Book a viewing", "payload": "book-viewing"},
            ),
        ),
    ),
    "twilio__location__pin.txt": Expect(
        "processed",
        events=1,
        messages=(
            maria(
                "SM60718293a4b5c6d7e8f90a1b2c3d4e5f",
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
    "twilio__media__image_caption.txt": Expect(
        "processed",
        events=1,
        messages=(
            maria(
                "MM2c3d4e5f60718293a4b5c6d7e8f90a1b",
                "image",
                text="The damp patch in the bedroom",
                attachments=(
                    Attached(
                        "image",
                        mime_type="image/jpeg",
                        url=MEDIA + "MM2c3d4e5f60718293a4b5c6d7e8f90a1b/Media/ME0c3d4e5f60718293a4b5c6d7e8f90a1b",
                    ),
                ),
            ),
        ),
    ),
    "twilio__media__sticker.txt": Expect(
        # Only MessageType says sticker; image/webp alone would read as an image.
        "processed",
        events=1,
        messages=(
            maria(
                "MM4e5f60718293a4b5c6d7e8f90a1b2c3d",
                "sticker",
                attachments=(
                    Attached(
                        "sticker",
                        mime_type="image/webp",
                        url=MEDIA + "MM4e5f60718293a4b5c6d7e8f90a1b2c3d/Media/ME4e5f60718293a4b5c6d7e8f90a1b2c3d",
                    ),
                ),
            ),
        ),
    ),
    "twilio__media__three_images.txt": Expect(
        "processed",
        events=1,
        messages=(
            maria(
                "MM3d4e5f60718293a4b5c6d7e8f90a1b2c",
                "image",
                attachments=(
                    Attached(
                        "image",
                        mime_type="image/jpeg",
                        url=MEDIA + "MM3d4e5f60718293a4b5c6d7e8f90a1b2c/Media/ME1d4e5f60718293a4b5c6d7e8f90a1b2c",
                    ),
                    Attached(
                        "image",
                        mime_type="image/png",
                        url=MEDIA + "MM3d4e5f60718293a4b5c6d7e8f90a1b2c/Media/ME2d4e5f60718293a4b5c6d7e8f90a1b2c",
                    ),
                    Attached(
                        "image",
                        mime_type="image/jpeg",
                        url=MEDIA + "MM3d4e5f60718293a4b5c6d7e8f90a1b2c/Media/ME3d4e5f60718293a4b5c6d7e8f90a1b2c",
                    ),
                ),
            ),
        ),
    ),
    "twilio__media__voice_note.txt": Expect(
        "processed",
        events=1,
        messages=(
            maria(
                "MM5f60718293a4b5c6d7e8f90a1b2c3d4e",
                "audio",
                attachments=(
                    Attached(
                        "audio",
                        mime_type="audio/ogg",
                        url=MEDIA + "MM5f60718293a4b5c6d7e8f90a1b2c3d4e/Media/ME5f60718293a4b5c6d7e8f90a1b2c3d4e",
                    ),
                ),
            ),
        ),
    ),
    "twilio__message__business_scoped_user.txt": Expect(
        "processed",
        events=1,
        messages=(
            Stored(
                "SMc6d7e8f90a1b2c3d4e5f60718293a4b5",
                "text",
                SAM,
                at=ARRIVAL,
                text="Hi, I'm messaging with my username",
                name="Sam Rivera",
            ),
        ),
    ),
    "twilio__message__phone_and_external_user_id.txt": Expect(
        # A phone From with the business-scoped ExternalUserId: the contact is the number (the id is kept with it).
        "processed",
        events=1,
        messages=(maria("SMf1a2b3c4d5e6f708192a3b4c5d6e7f80", "text", text="Can I visit on Saturday?"),),
    ),
    "twilio__message__forwarded.txt": Expect(
        "processed",
        events=1,
        messages=(
            maria(
                "SMb5c6d7e8f90a1b2c3d4e5f60718293a4",
                "text",
                text="Look at this listing my friend sent",
                payload={"forwarded": True},
            ),
        ),
    ),
    "twilio__message__unknown_type.txt": Expect(
        # No body, no media, an unknown MessageType: kept as unsupported, not an empty text bubble.
        "processed",
        events=1,
        messages=(maria("SMd7e8f90a1b2c3d4e5f60718293a4b5c6", "unsupported", payload={"type": "unknown"}),),
    ),
    "twilio__referral__click_to_whatsapp_ad.txt": Expect(
        "processed",
        events=1,
        messages=(
            maria(
                "SMa4b5c6d7e8f90a1b2c3d4e5f60718293",
                "text",
                text="Hi, I saw your ad about the studio",
                payload={
                    "referral": {
                        "body": "Available from March",
                        "headline": "Bright studio near Retiro",
                        "source_id": "120212345678900123",
                        "source_type": "ad",
                        "source_url": "https://fb.me/3cr4Wqqkv",
                        "media_id": "1203456789012345",
                        "media_content_type": "image/jpeg",
                        "media_url": MEDIA
                        + "SMa4b5c6d7e8f90a1b2c3d4e5f60718293/Media/MEa4b5c6d7e8f90a1b2c3d4e5f60718293",
                        "ctwa_clid": "ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLMNDBH0CD3qpjd0HR4irJ6LEkR7JwFF4Xv",
                    }
                },
            ),
        ),
    ),
    "twilio__status__delivered.txt": Expect(
        "processed", events=1, seed=(sent_to_maria(),), messages=(ours("delivered"),)
    ),
    "twilio__status__failed.txt": Expect(
        "processed",
        events=1,
        seed=(sent_to_maria(),),
        messages=(
            ours(
                "failed",
                error_code="63016",
                error_message=WINDOW_CLOSED,
            ),
        ),
    ),
    "twilio__status__failed_without_addresses.txt": Expect(
        # A trimmed callback (no From / To): routed by the MessageSid of our own message; the code's sentence.
        "processed",
        events=1,
        seed=(sent_to_maria(),),
        messages=(ours("failed", error_code="63016", error_message=WINDOW_CLOSED),),
    ),
    "twilio__status__queued.txt": Expect(
        # Our send task queued it already: nothing moves.
        "duplicate",
        events=1,
        seed=(sent_to_maria("queued"),),
        messages=(ours("queued"),),
    ),
    "twilio__status__read.txt": Expect("processed", events=1, seed=(sent_to_maria(),), messages=(ours("read"),)),
    "twilio__status__sending.txt": Expect(
        "processed", events=1, seed=(sent_to_maria("queued"),), messages=(ours("sending"),)
    ),
    "twilio__status__sent.txt": Expect(
        "processed", events=1, seed=(sent_to_maria("sending"),), messages=(ours("sent"),)
    ),
    "twilio__status__undelivered.txt": Expect(
        # Undelivered is a failure; Twilio sent only the code, which reads as the send path's sentence.
        "processed",
        events=1,
        seed=(sent_to_maria(),),
        messages=(
            ours(
                "failed", error_code="63024", error_message="The customer's number is not a valid WhatsApp recipient."
            ),
        ),
    ),
    "twilio__text__basic.txt": Expect(
        "processed",
        events=1,
        messages=(
            maria("SM0a1b2c3d4e5f60718293a4b5c6d7e8f9", "text", text="Hi! Is the flat on Calle Mayor still available?"),
        ),
    ),
    "twilio__text__reply.txt": Expect(
        "processed",
        events=1,
        seed=(sent_to_maria(sid="SM9f8e7d6c5b4a39281706f5e4d3c2b1a0", text="Saturday at 11?"),),
        messages=(
            maria(
                "SM1b2c3d4e5f60718293a4b5c6d7e8f90a",
                "text",
                text="Saturday works",
                reply_to="SM9f8e7d6c5b4a39281706f5e4d3c2b1a0",
            ),
            ours("sent", sid="SM9f8e7d6c5b4a39281706f5e4d3c2b1a0", text="Saturday at 11?", name="Maria Lopez"),
        ),
    ),
}


def test_every_twilio_fixture_has_its_expectation():
    malformed = fixture_names("whatsapp", ".txt", prefix="twilio__malformed__")
    assert sorted(EXPECTED) == [n for n in fixture_names("whatsapp", ".txt", prefix="twilio__") if n not in malformed]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_twilio_fixture_is_stored_as_expected(poster, twilio_account, name):
    delivery = check_webhook(poster, twilio_account, "whatsapp", name, EXPECTED[name])
    assert delivery.response["Content-Type"].startswith("text/xml")  # Twilio wants TwiML back
