"""Every WhatsApp Cloud API fixture through the real endpoint, signed as Meta signs it, against what it must store.

EXPECTED is written from the fixtures themselves (the Zulip way), not from the parser: a parser bug fails here.
Phone numbers are stored in E.164 (`14155550101` → `+14155550101`), so one person is one contact."""

from __future__ import annotations

import pytest

from switchboard.webhooks.testing import Attached, Expect, Seed, Stored, check_webhook, fixture_names

MARIA = "+14155550101"
JON = "+14155550177"
SAM = "US.13491208655302741918"  # a business-scoped user: no phone number
AT = "2026-01-01T10:00:00+00:00"  # "1767261600", the time of most fixtures

# Messages the business sent, named by the customers' replies, reactions and the status callbacks.
OURS_1 = "wamid.HBgLMTU1NTA3ODM4ODEVAgARGBJBQUJCQ0NERERFRUZGMDAwMQA="
OURS_2 = "wamid.HBgLMTU1NTA3ODM4ODEVAgARGBJBQUJCQ0NERERFRUZGMDAwMgA="
OURS_3 = "wamid.HBgLMTU1NTA3ODM4ODEVAgARGBJBQUJCQ0NERERFRUZGMDAwMwA="
OURS_4 = "wamid.HBgLMTU1NTA3ODM4ODEVAgARGBJBQUJCQ0NERERFRUZGMDAwNAA="
OURS_5 = "wamid.HBgLMTU1NTA3ODM4ODEVAgARGBJBQUJCQ0NERERFRUZGMDAwNQA="
OURS_TO_MARIA = "wamid.HBgLMTQxNTU1NTAxMDEVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"
OURS_TO_JON = "wamid.HBgLMTQxNTU1NTAxNzcVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTgA"


def maria(wamid: str, kind: str, at: str = AT, **fields) -> Stored:
    """A message from Maria Lopez, named in the delivery's `contacts`."""
    return Stored(wamid, kind, MARIA, at=at, name="Maria Lopez", phone=MARIA, **fields)


def ours(wamid: str, status: str = "sent", contact: str = MARIA, **fields) -> Stored:
    """A message the business sent (seeded before the delivery), as it is after it."""
    phone = "" if contact == SAM else contact
    return Stored(
        wamid, fields.pop("kind", "text"), contact, direction="outbound", status=status, phone=phone, **fields
    )


def sent_to_maria(wamid: str = OURS_TO_MARIA, status: str = "sent", **fields) -> Seed:
    return Seed(wamid, MARIA, status=status, phone=MARIA, **fields)


EXPECTED: dict[str, Expect] = {
    "cloud__audio__voice.json": Expect(
        "processed",
        events=1,
        messages=(
            maria(
                "wamid.HBgLMTQxNTU1NTAxMDEVAgASGBQzQUYxMDAwMDAwMDAwMDAwOAA=",
                "audio",
                attachments=(Attached("audio", mime_type="audio/ogg; codecs=opus", media_id="2049135352190372"),),
                payload={"voice": True},
            ),
        ),
    ),
    "cloud__batch__two_entries_messages_and_statuses.json": Expect(
        # Two entries; three messages and a status in one value, a template update (not messages), two statuses.
        "processed",
        events=6,
        seed=(sent_to_maria(), Seed(OURS_TO_JON, JON, phone=JON)),
        messages=(
            maria(
                "wamid.HBgLMTQxNTU1NTAxMDEVAgASGBQzQUYyMDAwMDAwMDAwMDAwMQA=",
                "text",
                text="First question: pets allowed?",
            ),
            Stored(
                "wamid.HBgLMTQxNTU1NTAxNzcVAgASGBQzQUYyMDAwMDAwMDAwMDAwMgA=",
                "text",
                JON,
                at="2026-01-01T10:00:05+00:00",
                text="Hello from Jon",
                name="Jon Park",
                phone=JON,
            ),
            maria(
                "wamid.HBgLMTQxNTU1NTAxMDEVAgASGBQzQUYyMDAwMDAwMDAwMDAwMwA=",
                "image",
                at="2026-01-01T10:00:10+00:00",
                attachments=(Attached("image", mime_type="image/png", media_id="880162245008001"),),
            ),
            ours(OURS_TO_MARIA, status="read", name="Maria Lopez"),  # delivered, then read
            ours(
                OURS_TO_JON,
                status="failed",
                contact=JON,
                name="Jon Park",
                error_code="131026",
                error_message="Message undeliverable: Message Undeliverable.",
            ),
        ),
    ),
    "cloud__button__quick_reply.json": Expect(
        # A template's quick-reply button; the template is not stored here, so the reply names it unlinked.
        "processed",
        events=1,
        messages=(
            maria(
                "wamid.HBgLMTQxNTU1NTAxMDEVAgASGBQzQUYxMDAwMDAwMDAwMDAxNgA=",
                "interactive",
                text="Confirm",
                reply_to=OURS_4,
                payload={"type": "button", "payload": "CONFIRM_VIEWING_42", "title": "Confirm"},
            ),
        ),
    ),
    "cloud__contacts__vcard.json": Expect(
        "processed",
        events=1,
        messages=(
            maria(
                "wamid.HBgLMTQxNTU1NTAxMDEVAgASGBQzQUYxMDAwMDAwMDAwMDAxMgA=",
                "contacts",
                payload={
                    "contacts": [
                        {
                            "name": {"formatted_name": "Jon Park", "first_name": "Jon", "last_name": "Park"},
                            "phones": [{"phone": "+1 415-555-0177", "wa_id": "14155550177", "type": "CELL"}],
                            "emails": [{"email": "jon.park@example.com", "type": "WORK"}],
                            "org": {"company": "Park Relocations"},
                        }
                    ]
                },
            ),
        ),
    ),
    "cloud__document__filename.json": Expect(
        "processed",
        events=1,
        messages=(
            maria(
                "wamid.HBgLMTQxNTU1NTAxMDEVAgASGBQzQUYxMDAwMDAwMDAwMDAwOQA=",
                "document",
                text="Signed lease",  # the caption is the text too
                attachments=(
                    Attached(
                        "document",
                        mime_type="application/pdf",
                        media_id="933874025280119",
                        filename="lease-calle-mayor-12.pdf",
                        caption="Signed lease",
                    ),
                ),
            ),
        ),
    ),
    # A value with only Meta's `errors`: nothing to store.
    "cloud__errors__rate_limit.json": Expect("ignored"),
    "cloud__image__caption.json": Expect(
        "processed",
        events=1,
        messages=(
            maria(
                "wamid.HBgLMTQxNTU1NTAxMDEVAgASGBQzQUYxMDAwMDAwMDAwMDAwNgA=",
                "image",
                text="The damp patch in the bedroom",
                attachments=(
                    Attached(
                        "image",
                        mime_type="image/jpeg",
                        media_id="1479537139650973",
                        caption="The damp patch in the bedroom",
                    ),
                ),
            ),
        ),
    ),
    "cloud__interactive__button_reply.json": Expect(
        # The buttons message is ours and stored: the reply is linked to it.
        "processed",
        events=1,
        seed=(sent_to_maria(OURS_3, kind="interactive", text="Would you like to book a viewing?"),),
        messages=(
            maria(
                "wamid.HBgLMTQxNTU1NTAxMDEVAgASGBQzQUYxMDAwMDAwMDAwMDAxMwA=",
                "interactive",
                text="Book a viewing",
                reply_to=OURS_3,
                payload={"type": "button_reply", "id": "book-viewing", "title": "Book a viewing"},
            ),
            ours(OURS_3, kind="interactive", text="Would you like to book a viewing?", name="Maria Lopez"),
        ),
    ),
    "cloud__interactive__list_reply.json": Expect(
        "processed",
        events=1,
        messages=(
            maria(
                "wamid.HBgLMTQxNTU1NTAxMDEVAgASGBQzQUYxMDAwMDAwMDAwMDAxNAA=",
                "interactive",
                text="Up to 1,500 EUR",
                reply_to=OURS_3,
                payload={
                    "type": "list_reply",
                    "id": "budget-1500",
                    "title": "Up to 1,500 EUR",
                    "description": "Monthly rent, bills excluded",
                },
            ),
        ),
    ),
    "cloud__interactive__nfm_reply.json": Expect(
        # A Flow's answers: response_json is a JSON string, kept as data.
        "processed",
        events=1,
        messages=(
            maria(
                "wamid.HBgLMTQxNTU1NTAxMDEVAgASGBQzQUYxMDAwMDAwMDAwMDAxNQA=",
                "interactive",
                text="Sent",
                reply_to=OURS_3,
                payload={
                    "type": "nfm_reply",
                    "name": "flow",
                    "body": "Sent",
                    "response": {"flow_token": "viewing-42", "date": "2026-01-10", "slot": "11:00"},
                },
            ),
        ),
    ),
    "cloud__location__named.json": Expect(
        "processed",
        events=1,
        messages=(
            maria(
                "wamid.HBgLMTQxNTU1NTAxMDEVAgASGBQzQUYxMDAwMDAwMDAwMDAxMQA=",
                "location",
                payload={
                    "latitude": 40.4153,
                    "longitude": -3.7074,
                    "name": "Plaza Mayor",
                    "address": "Plaza Mayor, 28012 Madrid, Spain",
                    "url": "https://maps.example.invalid/plaza-mayor",
                },
            ),
        ),
    ),
    "cloud__message__business_scoped_from.json": Expect(
        # `from` holds the business-scoped user id: the contact is that id, with no phone number.
        "processed",
        events=1,
        messages=(
            Stored(
                "wamid.HBgLMTQxNTU1NTAxMDEVAgASGBQzQUYxMDAwMDAwMDAwMDAyNgA=",
                "text",
                SAM,
                at=AT,
                text="Is parking included?",
                name="Sam Rivera",
                username="samrivera",
            ),
        ),
    ),
    "cloud__message__business_scoped_user.json": Expect(
        # No `from` at all, only `from_user_id`.
        "processed",
        events=1,
        messages=(
            Stored(
                "wamid.HBgLMTQxNTU1NTAxMDEVAgASGBQzQUYxMDAwMDAwMDAwMDAyNQA=",
                "text",
                SAM,
                at=AT,
                text="Hi, I'm messaging with my username",
                name="Sam Rivera",
                username="samrivera",
            ),
        ),
    ),
    # A Cloud API group message: a group is not a one-to-one contact.
    "cloud__message__group.json": Expect("ignored"),
    "cloud__message__no_contacts.json": Expect(
        "processed",
        events=1,
        messages=(
            Stored(
                "wamid.HBgLMTQxNTU1NTAxMDEVAgASGBQzQUYxMDAwMDAwMDAwMDAyNAA=",
                "text",
                MARIA,  # no profile name without `contacts`
                at=AT,
                text="Sent without a contacts block",
                phone=MARIA,
            ),
        ),
    ),
    "cloud__order__products.json": Expect(
        "processed",
        events=1,
        messages=(
            maria(
                "wamid.HBgLMTQxNTU1NTAxMDEVAgASGBQzQUYxMDAwMDAwMDAwMDAxOQA=",
                "interactive",
                text="Both parking spots please",
                payload={
                    "type": "order",
                    "catalog_id": "194836987003835",
                    "product_items": [
                        {"product_retailer_id": "parking-a1", "quantity": 1, "item_price": 95, "currency": "EUR"},
                        {"product_retailer_id": "parking-a2", "quantity": 1, "item_price": 110.5, "currency": "EUR"},
                    ],
                },
            ),
        ),
    ),
    "cloud__reaction__added.json": Expect(
        # On the target message, never a bubble of its own.
        "processed",
        events=1,
        seed=(sent_to_maria(OURS_5),),
        messages=(ours(OURS_5, reactions=(("\U0001f44d", "contact"),)),),
    ),
    "cloud__reaction__removed.json": Expect(
        # No emoji: the reaction was taken off.
        "processed",
        events=1,
        seed=(sent_to_maria(OURS_5, reactions=(("\U0001f44d", "contact"),)),),
        messages=(ours(OURS_5),),
    ),
    "cloud__request_welcome__first_open.json": Expect(
        "processed",
        events=1,
        messages=(
            maria(
                "wamid.HBgLMTQxNTU1NTAxMDEVAgASGBQzQUYxMDAwMDAwMDAwMDAyMQA=",
                "system",
                payload={"type": "request_welcome"},
            ),
        ),
    ),
    "cloud__status__business_scoped_recipient.json": Expect(
        # Only recipient_user_id: we wrote to the user's BSUID.
        "processed",
        events=1,
        seed=(Seed(OURS_TO_MARIA, SAM),),
        messages=(ours(OURS_TO_MARIA, status="delivered", contact=SAM),),
    ),
    "cloud__status__deleted.json": Expect(
        # Legacy `deleted`: the customer deleted the message they sent.
        "processed",
        events=1,
        seed=(
            Seed(
                "wamid.HBgLMTQxNTU1NTAxMDEVAgASGBQzQUYxMDAwMDAwMDAwMDAwMQA=",
                MARIA,
                direction="inbound",
                status="received",
                text="Hola! Is the flat on Calle Mayor still available?",
                phone=MARIA,
            ),
        ),
        messages=(
            Stored(
                "wamid.HBgLMTQxNTU1NTAxMDEVAgASGBQzQUYxMDAwMDAwMDAwMDAwMQA=",
                "text",
                MARIA,
                phone=MARIA,
                is_deleted=True,
                payload={"deleted": True},
            ),
        ),
    ),
    "cloud__status__delivered_without_pricing.json": Expect(
        "processed", events=1, seed=(sent_to_maria(),), messages=(ours(OURS_TO_MARIA, status="delivered"),)
    ),
    "cloud__status__failed.json": Expect(
        "processed",
        events=1,
        seed=(sent_to_maria(),),
        messages=(
            ours(
                OURS_TO_MARIA,
                status="failed",
                error_code="131047",
                error_message="Re-engagement message: Message failed to send because more than 24 hours have passed "
                "since the customer last replied to this number.",
            ),
        ),
    ),
    "cloud__status__played.json": Expect(
        # A played voice note was seen.
        "processed",
        events=1,
        seed=(sent_to_maria(status="delivered"),),
        messages=(ours(OURS_TO_MARIA, status="read"),),
    ),
    "cloud__status__read.json": Expect(
        "processed", events=1, seed=(sent_to_maria(),), messages=(ours(OURS_TO_MARIA, status="read"),)
    ),
    "cloud__status__sent.json": Expect(
        "processed",
        events=1,
        seed=(sent_to_maria(status="sending"),),
        messages=(ours(OURS_TO_MARIA, status="sent"),),
    ),
    "cloud__sticker__animated.json": Expect(
        "processed",
        events=1,
        messages=(
            maria(
                "wamid.HBgLMTQxNTU1NTAxMDEVAgASGBQzQUYxMDAwMDAwMDAwMDAxMAA=",
                "sticker",
                attachments=(Attached("sticker", mime_type="image/webp", media_id="1050542673478452"),),
                payload={"animated": True},
            ),
        ),
    ),
    "cloud__system__user_changed_number.json": Expect(
        "processed",
        events=1,
        messages=(
            Stored(
                "wamid.HBgLMTQxNTU1NTAxMDEVAgASGBQzQUYxMDAwMDAwMDAwMDAyMAA=",
                "system",
                MARIA,  # the old number, as `from` says; no `contacts`, so no name
                at=AT,
                text="User Maria Lopez changed from 14155550101 to 14155550199",
                phone=MARIA,
                payload={"type": "system"},
            ),
        ),
    ),
    "cloud__text__basic.json": Expect(
        "processed",
        events=1,
        messages=(
            maria(
                "wamid.HBgLMTQxNTU1NTAxMDEVAgASGBQzQUYxMDAwMDAwMDAwMDAwMQA=",
                "text",
                text="Hola! Is the flat on Calle Mayor still available?",
            ),
        ),
    ),
    "cloud__text__click_to_whatsapp_ad.json": Expect(
        "processed",
        events=1,
        messages=(
            maria(
                "wamid.HBgLMTQxNTU1NTAxMDEVAgASGBQzQUYxMDAwMDAwMDAwMDAwNQA=",
                "text",
                text="Hi, I saw your ad about the studio",
                payload={
                    "referral": {
                        "source_url": "https://fb.me/3cr4Wqqkv",
                        "source_id": "120212345678900123",
                        "source_type": "ad",
                        "headline": "Bright studio near Retiro",
                        "body": "Available from March",
                        "media_type": "image",
                        "image_url": "https://scontent.example.invalid/ad-studio.jpg",
                        "ctwa_clid": "ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLMNDBH0CD3qpjd0HR4irJ6LEkR7JwFF4XvnO2E4Nx0-",
                    }
                },
            ),
        ),
    ),
    "cloud__text__forwarded.json": Expect(
        "processed",
        events=1,
        messages=(
            maria(
                "wamid.HBgLMTQxNTU1NTAxMDEVAgASGBQzQUYxMDAwMDAwMDAwMDAwMwA=",
                "text",
                text="Look at this listing my friend sent",
                payload={"forwarded": True, "frequently_forwarded": True},
            ),
        ),
    ),
    "cloud__text__referred_product.json": Expect(
        "processed",
        events=1,
        messages=(
            maria(
                "wamid.HBgLMTQxNTU1NTAxMDEVAgASGBQzQUYxMDAwMDAwMDAwMDAwNAA=",
                "text",
                text="Does this one have a terrace?",
                reply_to=OURS_2,
                payload={
                    "referred_product": {"catalog_id": "194836987003835", "product_retailer_id": "flat-calle-mayor-12"}
                },
            ),
        ),
    ),
    "cloud__text__reply.json": Expect(
        "processed",
        events=1,
        seed=(sent_to_maria(OURS_1, text="Would Saturday at 11 suit you?"),),
        messages=(
            maria(
                "wamid.HBgLMTQxNTU1NTAxMDEVAgASGBQzQUYxMDAwMDAwMDAwMDAwMgA=",
                "text",
                text="Yes, Saturday at 11 works for me",
                reply_to=OURS_1,
            ),
            ours(OURS_1, text="Would Saturday at 11 suit you?", name="Maria Lopez"),
        ),
    ),
    "cloud__unknown__future_type.json": Expect(
        "processed",
        events=1,
        messages=(
            maria(
                "wamid.HBgLMTQxNTU1NTAxMDEVAgASGBQzQUYxMDAwMDAwMDAwMDAyMwA=",
                "unsupported",
                payload={"type": "hologram"},
            ),
        ),
    ),
    "cloud__unsupported__poll.json": Expect(
        "processed",
        events=1,
        messages=(
            maria(
                "wamid.HBgLMTQxNTU1NTAxMDEVAgASGBQzQUYxMDAwMDAwMDAwMDAyMgA=",
                "unsupported",
                payload={"type": "unsupported", "unsupported_type": "poll_creation"},
            ),
        ),
    ),
    "cloud__message__phone_and_business_scoped.json": Expect(
        # The number and the business-scoped user id together: the contact is the number (its ids are kept with it,
        # see test_contact_identities.py), named and with the username.
        "processed",
        events=1,
        messages=(
            maria(
                "wamid.HBgLMTQxNTU1NTAxMDEVAgASGBQzQUYxMDAwMDAwMDAwMDAzMAA=",
                "text",
                text="Can I visit on Saturday?",
                username="maria.lopez",
            ),
        ),
    ),
    "cloud__message__malformed_user_id.json": Expect(
        # A malformed user id beside a valid number: the number is the sender, the bad id is dropped.
        "processed",
        events=1,
        messages=(
            maria(
                "wamid.HBgLMTQxNTU1NTAxMDEVAgASGBQzQUYxMDAwMDAwMDAwMDAzMQA=", "text", text="Is the deposit refundable?"
            ),
        ),
    ),
    "cloud__voice__legacy_voice_note.json": Expect(
        # The older API's `type: voice`: an audio attachment marked as a voice note, not "unsupported".
        "processed",
        events=1,
        messages=(
            maria(
                "wamid.HBgLMTQxNTU1NTAxMDEVAgASGBQzQUYxMDAwMDAwMDAwMDAzMgA=",
                "audio",
                attachments=(Attached("audio", mime_type="audio/ogg; codecs=opus", media_id="3157209442011187"),),
                payload={"voice": True},
            ),
        ),
    ),
    "cloud__video__basic.json": Expect(
        "processed",
        events=1,
        messages=(
            maria(
                "wamid.HBgLMTQxNTU1NTAxMDEVAgASGBQzQUYxMDAwMDAwMDAwMDAwNwA=",
                "video",
                attachments=(
                    Attached(
                        "video",
                        mime_type="video/mp4",
                        media_id="1684902485644195",
                        url="https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1684902485644195"
                        "&ext=1767261600",
                    ),
                ),
            ),
        ),
    ),
}


def test_every_cloud_fixture_has_its_expectation():
    malformed = fixture_names("whatsapp", prefix="cloud__malformed__")
    assert sorted(EXPECTED) == [n for n in fixture_names("whatsapp", prefix="cloud__") if n not in malformed]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_cloud_fixture_is_stored_as_expected(poster, wa_cloud_account, name):
    check_webhook(poster, wa_cloud_account, "whatsapp", name, EXPECTED[name])
