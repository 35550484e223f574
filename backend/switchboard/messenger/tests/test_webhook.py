"""Every Messenger fixture through the real endpoint, signed as Meta signs it, against what it must store.

EXPECTED is written from the fixtures themselves (the Zulip way), not from the parser: a parser bug fails here."""

from __future__ import annotations

import json

import pytest

from switchboard.inbox.models import Contact, Conversation, Direction, Message, MessageStatus
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


def notice(mid: str, contact: str, at: str, text: str, **detail) -> Stored:
    """A referral or opt-in notice: a system line in the thread, its detail in the payload under its type."""
    ((name, value),) = detail.items()
    return Stored(mid, "system", contact, at=at, text=text, payload={"type": name, name: value})


# The ad of messages__referral_from_ad.json and messaging_referrals__ad_context.json.
SPRING_AD = "120210000000000042"
SPRING_AD_PHOTO = "https://scontent.xx.fbcdn.net/v/t45.1600-4/ad-loft-42.jpg?oh=5"
# The notification messages opt-in of messaging_optins__*.json, as it is kept.
WEEKLY_LISTINGS = {
    "type": "notification_messages",
    "payload": "NEW_LISTINGS:mile-end",
    "title": "New listings in Mile End",
    "token": "7429183652019384756",
    "frequency": "WEEKLY",
    "timezone": "America/Toronto",
    "token_expires_at": "2025-05-20T11:00:20+00:00",  # "1747738820000": milliseconds
}


EXPECTED: dict[str, Expect] = {
    "batch__two_entries_several_events.json": Expect(
        # Two entries; messaging and standby; a message, an image, a read, a reaction and an m.me link referral.
        "processed",
        events=6,
        seed=(Seed("m_Echo0001", MAYA),),
        messages=(
            Stored("m_Batch0001", "text", MAYA, at="2024-11-21T11:00:14.123+00:00", text="First question"),
            notice(
                "referral.7281946350172634.1732186816623",  # no mid: the sender and the time
                MAYA,
                "2024-11-21T11:00:16.623+00:00",
                "Came from a link \u00b7 ref newsletter-nov",
                referral={
                    "ref": "newsletter-nov",
                    "source": "SHORTLINK",
                    "type": "OPEN_THREAD",
                    "at": "2024-11-21T11:00:16.623000+00:00",
                },
            ),
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
        attributes={
            MAYA: {
                "referral": {
                    "ref": "newsletter-nov",
                    "source": "SHORTLINK",
                    "type": "OPEN_THREAD",
                    "at": "2024-11-21T11:00:16.623000+00:00",
                }
            },
            JON: {},
        },
    ),
    "message_deliveries__delivery.json": Expect(
        "processed",
        events=1,
        seed=(Seed("m_Echo0001", MAYA), Seed("m_EchoTemplate0001", MAYA)),
        messages=(ours("m_Echo0001", status="delivered"), ours("m_EchoTemplate0001", status="delivered")),
    ),
    # An echo with nothing in it, and no metadata of ours: no message, and no contact (least of all the Page).
    "message_echoes__empty.json": Expect("ignored", events=1),
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
    # Edits and unknown events are not stored (meta/messaging.py).
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
                text="\U0001f44d",  # the like button: a thumbs-up as well as the sticker
                payload={"sticker_id": "369239263222822"},
            ),
        ),
    ),
    "messages__like_sticker_large.json": Expect(
        # The like button's larger size, as a `sticker` attachment: 👍 too.
        "processed",
        events=1,
        messages=(
            Stored(
                "m_LikeLarge0001",
                "sticker",
                MAYA,
                at="2024-11-21T11:00:00.123+00:00",
                text="\U0001f44d",
                attachments=(
                    Attached(
                        "sticker",
                        url="https://scontent.xx.fbcdn.net/v/t39.1997-6/851587_369239346556147_162929011_n.png?oh=2",
                    ),
                ),
                payload={"sticker_id": "369239343222814"},
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
    # Addressed to another Page than the one it was routed to: not this inbox's conversation.
    "messages__other_recipient.json": Expect("ignored"),
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
    "messages__referral_from_ad.json": Expect(
        # A click-to-Messenger ad: the ad is said in the thread before the customer's first words.
        "processed",
        events=2,
        messages=(
            notice(
                "referral.m_FromAd0001",
                MAYA,
                "2024-11-21T11:00:01.123+00:00",
                f"Came from an ad: \u201cSpring lofts in Mile End\u201d (ad {SPRING_AD}) \u00b7 ref spring-lofts",
                referral={
                    "ref": "spring-lofts",
                    "ad_id": SPRING_AD,
                    "source": "ADS",
                    "type": "OPEN_THREAD",
                    "ads_context_data": {"ad_title": "Spring lofts in Mile End", "photo_url": SPRING_AD_PHOTO},
                    "at": "2024-11-21T11:00:01.123000+00:00",
                },
            ),
            Stored(
                "m_FromAd0001",
                "text",
                MAYA,
                at="2024-11-21T11:00:01.123+00:00",
                text="Hi! Is the loft from your ad still available?",
            ),
        ),
        attributes={
            MAYA: {
                "referral": {
                    "ref": "spring-lofts",
                    "ad_id": SPRING_AD,
                    "source": "ADS",
                    "type": "OPEN_THREAD",
                    "ads_context_data": {"ad_title": "Spring lofts in Mile End", "photo_url": SPRING_AD_PHOTO},
                    "at": "2024-11-21T11:00:01.123000+00:00",
                }
            }
        },
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
    # The checkbox plugin names the person by a user_ref only: nobody to answer, nothing stored.
    "messaging_optins__checkbox_user_ref.json": Expect("ignored"),
    "messaging_optins__notification_messages.json": Expect(
        "processed",
        events=1,
        messages=(
            notice(
                "optin.7281946350172634.1732186820000",
                MAYA,
                "2024-11-21T11:00:20+00:00",  # "1732186820": seconds, as a string
                "Opted in to weekly notification messages: New listings in Mile End",
                optin={**WEEKLY_LISTINGS, "token_status": "NOT_REFRESHED", "at": "2024-11-21T11:00:20+00:00"},
            ),
        ),
        attributes={
            MAYA: {"optin": {**WEEKLY_LISTINGS, "token_status": "NOT_REFRESHED", "at": "2024-11-21T11:00:20+00:00"}}
        },
    ),
    "messaging_optins__notification_stop.json": Expect(
        "processed",
        events=1,
        messages=(
            notice(
                "optin.7281946350172634.1732186830000",
                MAYA,
                "2024-11-21T11:00:30+00:00",
                "Stopped notification messages: New listings in Mile End",
                optin={**WEEKLY_LISTINGS, "status": "STOP_NOTIFICATIONS", "at": "2024-11-21T11:00:30+00:00"},
            ),
        ),
        attributes={
            MAYA: {"optin": {**WEEKLY_LISTINGS, "status": "STOP_NOTIFICATIONS", "at": "2024-11-21T11:00:30+00:00"}}
        },
    ),
    "messaging_optins__send_to_messenger.json": Expect(
        "processed",
        events=1,
        messages=(
            notice(
                "optin.7281946350172634.1732186825123",
                MAYA,
                "2024-11-21T11:00:25.123+00:00",
                "Opted in to messages \u00b7 ref listing-42-page",
                optin={"ref": "listing-42-page", "at": "2024-11-21T11:00:25.123000+00:00"},
            ),
        ),
        attributes={MAYA: {"optin": {"ref": "listing-42-page", "at": "2024-11-21T11:00:25.123000+00:00"}}},
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
        # Get Started from an m.me link (a new thread): the link is said before the tap.
        "processed",
        events=2,
        messages=(
            notice(
                "referral.postback.6930418275610493.1732186807000",
                JON,
                "2024-11-21T11:00:07+00:00",
                "Came from a link \u00b7 ref spring-campaign",
                referral={
                    "ref": "spring-campaign",
                    "source": "SHORTLINK",
                    "type": "OPEN_THREAD",
                    "at": "2024-11-21T11:00:07+00:00",
                },
            ),
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
        attributes={
            JON: {
                "referral": {
                    "ref": "spring-campaign",
                    "source": "SHORTLINK",
                    "type": "OPEN_THREAD",
                    "at": "2024-11-21T11:00:07+00:00",
                }
            }
        },
    ),
    "messaging_referrals__ad_context.json": Expect(
        "processed",
        events=1,
        messages=(
            notice(
                "referral.7281946350172634.1732186812123",
                MAYA,
                "2024-11-21T11:00:12.123+00:00",
                f"Came from an ad: \u201cSpring lofts in Mile End\u201d (ad {SPRING_AD}) \u00b7 ref spring-lofts",
                referral={
                    "ref": "spring-lofts",
                    "ad_id": SPRING_AD,
                    "source": "ADS",
                    "type": "OPEN_THREAD",
                    "ads_context_data": {
                        "ad_title": "Spring lofts in Mile End",
                        "photo_url": SPRING_AD_PHOTO,
                        "video_url": "https://scontent.xx.fbcdn.net/v/t15.5256-10/ad-loft-42-thumb.jpg?oh=6",
                        "post_id": "109876543210987_998877665544332",
                        "product_id": "5544332211",
                    },
                    "at": "2024-11-21T11:00:12.123000+00:00",
                },
            ),
        ),
    ),
    "messaging_referrals__chat_plugin.json": Expect(
        "processed",
        events=1,
        messages=(
            notice(
                "referral.7281946350172634.1732186813623",
                MAYA,
                "2024-11-21T11:00:13.623+00:00",
                "Came from the chat plugin on https://www.example.com/listings/42-rue-sainte-catherine"
                " \u00b7 ref site-listing-42",
                referral={
                    "ref": "site-listing-42",
                    "source": "CUSTOMER_CHAT_PLUGIN",
                    "type": "OPEN_THREAD",
                    "referer_uri": "https://www.example.com/listings/42-rue-sainte-catherine",
                    "at": "2024-11-21T11:00:13.623000+00:00",
                },
            ),
        ),
        attributes={
            MAYA: {
                "referral": {
                    "ref": "site-listing-42",
                    "source": "CUSTOMER_CHAT_PLUGIN",
                    "type": "OPEN_THREAD",
                    "referer_uri": "https://www.example.com/listings/42-rue-sainte-catherine",
                    "at": "2024-11-21T11:00:13.623000+00:00",
                }
            }
        },
    ),
    "messaging_referrals__referral.json": Expect(
        # messaging_referrals: a customer with a thread came back through an ad.
        "processed",
        events=1,
        messages=(
            notice(
                "referral.7281946350172634.1732186811123",
                MAYA,
                "2024-11-21T11:00:11.123+00:00",
                "Came from an ad (ad 6045246247433) \u00b7 ref listing-42",
                referral={
                    "ref": "listing-42",
                    "ad_id": "6045246247433",
                    "source": "ADS",
                    "type": "OPEN_THREAD",
                    "at": "2024-11-21T11:00:11.123000+00:00",
                },
            ),
        ),
        attributes={
            MAYA: {
                "referral": {
                    "ref": "listing-42",
                    "ad_id": "6045246247433",
                    "source": "ADS",
                    "type": "OPEN_THREAD",
                    "at": "2024-11-21T11:00:11.123000+00:00",
                }
            }
        },
    ),
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
    assert delivery.log.event_count == 6 and Message.objects.count() == 4


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


# --- referrals and opt-ins, beyond what their fixtures store ------------------------------------------------------


def test_a_notice_is_read_counts_no_unread_and_opens_no_reply_window(poster, messenger_account):
    poster.meta("messenger", fixture_bytes("messenger", "messaging_referrals__referral.json"))
    notice = Message.objects.get()
    conversation = notice.conversation
    assert (notice.direction, notice.is_read) == (Direction.INBOUND, True)
    assert (conversation.unread_count, conversation.last_inbound_at) == (0, None)
    assert conversation.last_message_preview == "Came from an ad (ad 6045246247433) \u00b7 ref listing-42"


def test_the_ad_is_said_before_the_first_message_which_alone_counts_as_unread(poster, messenger_account):
    poster.meta("messenger", fixture_bytes("messenger", "messages__referral_from_ad.json"))
    thread = list(Message.objects.order_by("timestamp", "id").values_list("kind", "is_read"))
    assert thread == [("system", True), ("text", False)]
    conversation = Conversation.objects.get()
    assert conversation.unread_count == 1
    assert conversation.last_message_preview == "Hi! Is the loft from your ad still available?"


def test_a_referral_replaces_the_older_one_and_keeps_every_other_attribute(poster, messenger_account):
    Contact.objects.create(
        organization=messenger_account.organization,
        platform_account=messenger_account,
        platform=messenger_account.platform,
        external_id=MAYA,
        attributes={"budget": "1800", "bedrooms": 2, "referral": {"ref": "an-older-link", "source": "SHORTLINK"}},
    )
    poster.meta("messenger", fixture_bytes("messenger", "messaging_referrals__referral.json"))
    assert Contact.objects.get().attributes == {
        "budget": "1800",
        "bedrooms": 2,
        "referral": {
            "ref": "listing-42",
            "ad_id": "6045246247433",
            "source": "ADS",
            "type": "OPEN_THREAD",
            "at": "2024-11-21T11:00:11.123000+00:00",
        },
    }


def test_a_retried_referral_is_one_notice(poster, messenger_account):
    body = fixture_bytes("messenger", "messaging_referrals__ad_context.json")
    poster.meta("messenger", body)
    again = poster.meta("messenger", body)
    assert again.log.status == "duplicate" and Message.objects.count() == 1


def test_the_referral_reaches_clients_on_the_conversation(poster, messenger_account, owner_client):
    delivery = poster.meta("messenger", fixture_bytes("messenger", "messaging_referrals__ad_context.json"))
    [item] = owner_client.get("/api/messages/conversations/").json()["results"]
    referral = item["contact"]["attributes"]["referral"]
    assert (referral["source"], referral["ad_id"], referral["ads_context_data"]["ad_title"]) == (
        "ADS",
        "120210000000000042",
        "Spring lofts in Mile End",
    )
    assert item["last_message_preview"].startswith("Came from an ad: \u201cSpring lofts in Mile End\u201d")
    [(_, _, created)] = [e for e in delivery.events if e[1] == "message.created"]
    assert (created["kind"], created["text"]) == ("system", item["last_message_preview"])
    [(_, _, updated)] = [e for e in delivery.events if e[1] == "conversation.updated"]
    assert updated["contact"]["attributes"]["referral"]["ref"] == "spring-lofts"


# --- echoes of our own sends ---------------------------------------------------------------------------------------


def _our_queued_message(account, text: str = "Hi Maya, yes it is! When would you like to visit?") -> Message:
    contact = Contact.objects.create(
        organization=account.organization, platform_account=account, platform=account.platform, external_id=MAYA
    )
    conversation = Conversation.objects.create(
        organization=account.organization, platform_account=account, platform=account.platform, contact=contact
    )
    return Message.objects.create(
        organization=account.organization,
        conversation=conversation,
        platform_account=account,
        direction=Direction.OUTBOUND,
        kind="text",
        text=text,
        status=MessageStatus.SENDING,
        is_read=True,
        timestamp=conversation.last_message_at,
    )


def _echo(name: str, **message_fields) -> bytes:
    body = json.loads(fixture_bytes("messenger", name))
    body["entry"][0]["messaging"][0]["message"].update(message_fields)
    return json.dumps(body).encode()


def test_an_echo_naming_our_send_in_its_metadata_confirms_it(poster, messenger_account):
    ours_ = _our_queued_message(messenger_account, text="a different text than the echo's")
    delivery = poster.meta("messenger", _echo("message_echoes__text.json", metadata=f"switchboard:msg:{ours_.pk}"))
    ours_.refresh_from_db()
    assert (ours_.platform_message_id, ours_.status) == ("m_Echo0001", MessageStatus.SENT)
    assert Message.objects.count() == 1 and delivery.event_names == ["message.updated"]


def test_an_empty_echo_naming_our_send_confirms_it_and_adds_nothing(poster, messenger_account):
    ours_ = _our_queued_message(messenger_account)
    delivery = poster.meta("messenger", _echo("message_echoes__empty.json", metadata=f"switchboard:msg:{ours_.pk}"))
    ours_.refresh_from_db()
    assert (ours_.platform_message_id, ours_.status) == ("m_EchoEmpty0001", MessageStatus.SENT)
    assert Message.objects.count() == 1 and Contact.objects.count() == 1
    assert delivery.log.status == "processed"


def test_an_echo_of_our_send_that_already_has_its_id_is_not_a_second_copy(poster, messenger_account):
    ours_ = _our_queued_message(messenger_account)
    Message.objects.filter(pk=ours_.pk).update(platform_message_id="m_FromTheSendApi", status=MessageStatus.SENT)
    delivery = poster.meta("messenger", _echo("message_echoes__text.json", metadata=f"switchboard:msg:{ours_.pk}"))
    assert list(Message.objects.values_list("platform_message_id", flat=True)) == ["m_FromTheSendApi"]
    assert delivery.log.status == "duplicate"


def test_an_echo_matches_our_send_by_its_mid(poster, messenger_account):
    ours_ = _our_queued_message(messenger_account)
    Message.objects.filter(pk=ours_.pk).update(platform_message_id="m_EchoEmpty0001")
    poster.meta("messenger", fixture_bytes("messenger", "message_echoes__empty.json"))
    ours_.refresh_from_db()
    assert ours_.status == MessageStatus.SENT and Message.objects.count() == 1


def test_metadata_naming_another_accounts_message_confirms_nothing(poster, messenger_account, make_account, make_org):
    elsewhere = make_account(make_org("Other agency"), messenger_account.platform, external_id="555000111222333")
    theirs = _our_queued_message(elsewhere)
    poster.meta("messenger", _echo("message_echoes__empty.json", metadata=f"switchboard:msg:{theirs.pk}"))
    theirs.refresh_from_db()
    assert (theirs.platform_message_id, theirs.status) == (None, MessageStatus.SENDING)
    assert Message.objects.filter(platform_account=messenger_account).count() == 0


def test_an_empty_echo_does_not_match_our_media_send_by_its_empty_text(poster, messenger_account):
    ours_ = _our_queued_message(messenger_account, text="")
    poster.meta("messenger", fixture_bytes("messenger", "message_echoes__empty.json"))
    ours_.refresh_from_db()
    assert (ours_.platform_message_id, ours_.status) == (None, MessageStatus.SENDING)
    assert Message.objects.count() == 1
