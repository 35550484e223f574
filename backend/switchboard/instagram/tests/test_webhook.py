"""Every Instagram fixture through the real endpoint, signed as Meta signs it, against what it must store.

EXPECTED is written from the fixtures themselves (the Zulip way), not from the parser: a parser bug fails here."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from switchboard.inbox.models import Contact, Conversation, Message
from switchboard.webhooks.testing import Attached, Expect, Seed, Stored, check_webhook, fixture_bytes, fixture_names

IGSID = "1389246571038265"  # the customer most fixtures come from
IGSID2 = "1520947368125573"  # the one who tapped an ice breaker
CDN = "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id="
AT = "2024-11-21T12:00:00.456+00:00"  # 1732190400456 ms, the time of most fixtures
T = 1732190400456


def ms(value: int) -> datetime:
    return datetime.fromtimestamp(value // 1000, tz=UTC).replace(microsecond=(value % 1000) * 1000)


# The referrals of messages__referral_ad.json and messaging_referral__ig_me.json, as they are kept.
LOFT_AD = {
    "ref": "loft-ad",
    "ad_id": "120210000000000077",
    "source": "ADS",
    "type": "OPEN_THREAD",
    "ads_context_data": {
        "ad_title": "Lofts in Old Montreal",
        "photo_url": "https://scontent.cdninstagram.com/v/t51.2885-15/ad-loft-77.jpg?oh=7",
    },
    "at": "2024-11-21T12:00:01.456000+00:00",
}
IG_ME_LINK = {
    "ref": "loft-campaign",
    "source": "IGME_LINK",
    "type": "OPEN_THREAD",
    "at": "2024-11-21T12:00:11.456000+00:00",
}


def received(mid: str, kind: str, **fields) -> Stored:
    return Stored(mid, kind, IGSID, at=AT, **fields)


def ours(mid: str, status: str = "sent", **changes) -> Stored:
    """A message the business sent (seeded before the delivery), as it is after it."""
    return Stored(mid, "text", IGSID, direction="outbound", status=status, **changes)


EXPECTED: dict[str, Expect] = {
    "message_reactions__react.json": Expect(
        "processed",
        events=1,
        seed=(Seed("aWdfIGEcho0001", IGSID),),
        messages=(ours("aWdfIGEcho0001", reactions=(("\u2764\ufe0f", "contact"),)),),
    ),
    "message_reactions__unreact.json": Expect(
        "processed",
        events=1,
        seed=(Seed("aWdfIGEcho0001", IGSID, reactions=(("\u2764\ufe0f", "contact"),)),),
        messages=(ours("aWdfIGEcho0001"),),
    ),
    "messages__audio.json": Expect(
        "processed",
        events=1,
        messages=(
            received(
                "aWdfIGAudio0001",
                "audio",
                attachments=(Attached("audio", url=CDN + "17900000000000003&signature=AbC1"),),
            ),
        ),
    ),
    "messages__deleted.json": Expect(
        # The customer unsent their photo: the row stays, its content goes.
        "processed",
        events=1,
        seed=(Seed("aWdfIGImage0001", IGSID, direction="inbound", status="received", kind="image", text="Kitchen"),),
        messages=(Stored("aWdfIGImage0001", "image", IGSID, is_deleted=True, payload={"deleted": True}),),
    ),
    # An echo with nothing in it that is not one of ours: no message, and no contact (least of all the account).
    "messages__echo_empty.json": Expect("ignored", events=1),
    "messages__echo.json": Expect(
        "processed",
        events=1,
        messages=(
            Stored(
                "aWdfIGEcho0001",
                "text",
                IGSID,  # an echo: the customer is the recipient
                at="2024-11-21T12:00:05.456+00:00",
                text="Yes! Viewings on Saturday from 10am.",
                direction="outbound",
                status="sent",
                payload={"echo": True},
            ),
        ),
    ),
    "messages__file.json": Expect(
        "processed",
        events=1,
        messages=(
            received(
                "aWdfIGFile0001",
                "document",
                attachments=(
                    Attached(
                        "document",
                        url="https://cdn.fbsbx.com/v/t59.2708-21/lease-application.pdf/lease-application.pdf"
                        "?_nc_cat=1&oh=abc",
                        filename="lease-application.pdf",
                    ),
                ),
            ),
        ),
    ),
    "messages__ig_reel.json": Expect(
        "processed",
        events=1,
        messages=(
            received(
                "aWdfIGIgReel0001",
                "video",
                attachments=(
                    Attached(
                        "video",
                        url=CDN + "17900000000000008&signature=Reel2",
                        caption="Tour of the loft \U0001f3d9\ufe0f #montreal",
                    ),
                ),
                payload={
                    "shared": [
                        {
                            "type": "ig_reel",
                            "url": CDN + "17900000000000008&signature=Reel2",
                            "title": "Tour of the loft \U0001f3d9\ufe0f #montreal",
                            "id": "18030000000000008",
                        }
                    ]
                },
            ),
        ),
    ),
    "messages__image.json": Expect(
        "processed",
        events=1,
        messages=(
            received(
                "aWdfIGImage0001",
                "image",
                attachments=(Attached("image", url=CDN + "17900000000000001&signature=AbC1"),),
            ),
        ),
    ),
    "messages__like_heart.json": Expect(
        # No payload, nothing to download: the heart itself is the text.
        "processed",
        events=1,
        messages=(received("aWdfIGHeart0001", "sticker", text="\u2764\ufe0f", payload={"like_heart": True}),),
    ),
    # Addressed to another Instagram account than the one it was routed to: not this inbox's conversation.
    "messages__other_recipient.json": Expect("ignored"),
    "messages__quick_reply.json": Expect(
        "processed",
        events=1,
        messages=(
            received(
                "aWdfIGQuickReply0001",
                "interactive",
                text="Yes, book it",
                payload={"quick_reply": {"payload": "CONFIRM_VIEWING:listing-7"}},
            ),
        ),
    ),
    "messages__referral_ad.json": Expect(
        # A click-to-Instagram-Direct ad: the ad is said in the thread before the customer's words.
        "processed",
        events=2,
        messages=(
            Stored(
                "referral.aWdfIGFromAd0001",
                "system",
                IGSID,
                at="2024-11-21T12:00:01.456+00:00",
                text="Came from an ad: \u201cLofts in Old Montreal\u201d (ad 120210000000000077) \u00b7 ref loft-ad",
                payload={"type": "referral", "referral": LOFT_AD},
            ),
            Stored(
                "aWdfIGFromAd0001",
                "text",
                IGSID,
                at="2024-11-21T12:00:01.456+00:00",
                text="Is the loft in your ad still for rent?",
            ),
        ),
        attributes={IGSID: {"referral": LOFT_AD}},
    ),
    "messages__reel.json": Expect(
        "processed",
        events=1,
        messages=(
            received(
                "aWdfIGReel0001",
                "video",
                attachments=(Attached("video", url=CDN + "17900000000000007&signature=Reel1"),),
                payload={"shared": [{"type": "reel", "url": CDN + "17900000000000007&signature=Reel1", "title": ""}]},
            ),
        ),
    ),
    "messages__reply_to.json": Expect(
        "processed",
        events=1,
        seed=(Seed("aWdfIGOurListing0001", IGSID),),
        messages=(
            ours("aWdfIGOurListing0001"),
            received("aWdfIGReplyTo0001", "text", text="That price is per month?", reply_to="aWdfIGOurListing0001"),
        ),
    ),
    "messages__several_images.json": Expect(
        "processed",
        events=1,
        messages=(
            received(
                "aWdfIGSeveral0001",
                "image",
                attachments=(
                    Attached("image", url=CDN + "17900000000000011&signature=AbC1"),
                    Attached("image", url=CDN + "17900000000000012&signature=AbC2"),
                ),
            ),
        ),
    ),
    "messages__share.json": Expect(
        "processed",
        events=1,
        messages=(
            received(
                "aWdfIGShare0001",
                "image",
                attachments=(Attached("image", url=CDN + "17900000000000004&signature=Share1"),),
                payload={"shared": [{"type": "share", "url": CDN + "17900000000000004&signature=Share1", "title": ""}]},
            ),
        ),
    ),
    "messages__story_mention.json": Expect(
        # Story media is shown from its link, never stored (Meta policy): the attachment is rejected at once.
        "processed",
        events=1,
        messages=(
            received(
                "aWdfIGStoryMention0001",
                "image",
                attachments=(Attached("image", url=CDN + "17900000000000005&signature=Story1", status="rejected"),),
                payload={"story": {"type": "mention", "id": "", "url": CDN + "17900000000000005&signature=Story1"}},
            ),
        ),
    ),
    "messages__story_reply.json": Expect(
        "processed",
        events=1,
        messages=(
            received(
                "aWdfIGStoryReply0001",
                "text",
                text="Is this one still for rent?",
                attachments=(Attached("image", url=CDN + "17900000000000006&signature=Story2", status="rejected"),),
                payload={
                    "story": {
                        "type": "reply",
                        "id": "17999000000000006",
                        "url": CDN + "17900000000000006&signature=Story2",
                    }
                },
            ),
        ),
    ),
    "messages__text.json": Expect(
        "processed",
        events=1,
        messages=(
            received(
                "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAwMDAwMDAwMDAxOjM0MDI4MjM2Njg0MTcxMDMwMTI0NDI1OTQ0NzYyNDg3NjU4MDAxNjow",
                "text",
                text="Hola! \u00bfSigue disponible el loft? \U0001f60d",
            ),
        ),
    ),
    "messages__timestamp_seconds.json": Expect(
        "processed",
        events=1,
        messages=(
            Stored("aWdfIGSeconds0001", "text", IGSID, at="2024-11-21T12:00:07+00:00", text="Sent at 12:00:07 UTC"),
        ),
    ),
    "messages__unsupported.json": Expect(
        # Content the API cannot deliver still gets a bubble.
        "processed",
        events=1,
        messages=(received("aWdfIGUnsupported0001", "unsupported", payload={"is_unsupported": True}),),
    ),
    "messages__video.json": Expect(
        "processed",
        events=1,
        messages=(
            received(
                "aWdfIGVideo0001",
                "video",
                attachments=(Attached("video", url=CDN + "17900000000000002&signature=AbC1"),),
            ),
        ),
    ),
    "messaging_postbacks__icebreaker.json": Expect(
        "processed",
        events=1,
        messages=(
            Stored(
                "aWdfIGPostback0001",
                "interactive",
                IGSID2,
                at="2024-11-21T12:00:10+00:00",  # "1732190410": seconds, as a string
                text="What listings do you have?",
                payload={"postback": {"payload": "ICEBREAKER_LISTINGS", "title": "What listings do you have?"}},
            ),
        ),
    ),
    "messaging_referral__ig_me.json": Expect(
        # An ig.me link with a ref, into an existing thread.
        "processed",
        events=1,
        messages=(
            Stored(
                "referral.1389246571038265.1732190411456",  # no mid: the sender and the time
                "system",
                IGSID,
                at="2024-11-21T12:00:11.456+00:00",
                text="Came from a link \u00b7 ref loft-campaign",
                payload={"type": "referral", "referral": IG_ME_LINK},
            ),
        ),
        attributes={IGSID: {"referral": IG_ME_LINK}},
    ),
    "messaging_seen__read.json": Expect(
        # messaging_seen names the last message seen: it and everything before it was read.
        "processed",
        events=1,
        seed=(Seed("aWdfIGEcho0001", IGSID),),
        messages=(ours("aWdfIGEcho0001", status="read"),),
    ),
    "standby__message.json": Expect(
        "processed", events=1, messages=(received("aWdfIGStandby0001", "text", text="Hello from standby"),)
    ),
}


def test_every_fixture_has_its_expectation():
    assert sorted(EXPECTED) == fixture_names("instagram")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_fixture_is_stored_as_expected(poster, instagram_account, name):
    check_webhook(poster, instagram_account, "instagram", name, EXPECTED[name])


def test_unsend_deletes_the_earlier_message(poster, instagram_account):
    poster.meta("instagram", fixture_bytes("instagram", "messages__text.json"))
    original = Message.objects.get()
    deleted = json.loads(fixture_bytes("instagram", "messages__deleted.json"))
    deleted["entry"][0]["messaging"][0]["message"]["mid"] = original.platform_message_id
    deleted["entry"][0]["messaging"][0]["sender"]["id"] = original.conversation.contact.external_id
    delivery = poster.meta("instagram", json.dumps(deleted).encode())
    original.refresh_from_db()
    assert original.is_deleted and original.text == ""
    assert "message.updated" in delivery.event_names


def test_delivery_for_an_unconnected_account_is_acknowledged_and_ignored(poster):
    delivery = poster.meta("instagram", fixture_bytes("instagram", "messages__text.json"))
    assert delivery.response.status_code == 200
    assert delivery.log.status == "ignored" and Message.objects.count() == 0


def test_story_media_is_never_downloaded(poster, instagram_account, settings):
    settings.MEDIA_AUTO_DOWNLOAD = True
    from unittest import mock

    with mock.patch("switchboard.inbox.tasks.media.enqueue_attachment_downloads") as enqueue:
        poster.meta("instagram", fixture_bytes("instagram", "messages__story_mention.json"))
    attachment = Message.objects.get().attachments.get()
    assert attachment.status == "rejected" and "story" in attachment.error.lower()
    enqueue.assert_not_called()


# --- unsend: the preview and the unread count follow ---------------------------------------------------------------


def _text(mid: str, text: str, timestamp: int) -> bytes:
    body = json.loads(fixture_bytes("instagram", "messages__text.json"))
    event = body["entry"][0]["messaging"][0]
    event["timestamp"] = timestamp
    event["message"] = {"mid": mid, "text": text}
    return json.dumps(body).encode()


def _unsend(mid: str) -> bytes:
    body = json.loads(fixture_bytes("instagram", "messages__deleted.json"))
    body["entry"][0]["messaging"][0]["message"]["mid"] = mid
    return json.dumps(body).encode()


def _state() -> tuple[int, str]:
    conversation = Conversation.objects.get()
    return conversation.unread_count, conversation.last_message_preview


def test_unsending_the_only_message_leaves_message_deleted_and_nothing_unread(poster, instagram_account):
    poster.meta("instagram", fixture_bytes("instagram", "messages__text.json"))
    assert _state() == (1, "Hola! \u00bfSigue disponible el loft? \U0001f60d")
    delivery = poster.meta("instagram", _unsend(Message.objects.get().platform_message_id))
    assert _state() == (0, "Message deleted")
    [(_, _, conversation)] = [e for e in delivery.events if e[1] == "conversation.updated"]
    assert (conversation["unread_count"], conversation["last_message_preview"]) == (0, "Message deleted")
    assert Message.objects.get().is_read is True


def test_unsending_the_last_message_shows_the_one_before_and_counts_only_it(poster, instagram_account):
    poster.meta("instagram", _text("aWdfIG_first", "Is the loft still available?", T))
    poster.meta("instagram", _text("aWdfIG_second", "My number is 514 555 0199", T + 1000))
    assert _state() == (2, "My number is 514 555 0199")
    poster.meta("instagram", _unsend("aWdfIG_second"))
    assert _state() == (1, "Is the loft still available?")
    # The thread keeps its place in the inbox: the last activity is still the unsent message's time.
    assert Conversation.objects.get().last_message_at == ms(T + 1000)


def test_unsending_an_older_message_keeps_the_newer_preview(poster, instagram_account):
    poster.meta("instagram", _text("aWdfIG_first", "Is the loft still available?", T))
    poster.meta("instagram", _text("aWdfIG_second", "Viewing on Saturday?", T + 1000))
    poster.meta("instagram", _unsend("aWdfIG_first"))
    assert _state() == (1, "Viewing on Saturday?")


def test_unsending_skips_earlier_deleted_messages_for_the_preview(poster, instagram_account):
    poster.meta("instagram", _text("aWdfIG_first", "Is the loft still available?", T))
    poster.meta("instagram", _text("aWdfIG_second", "Oops, wrong chat", T + 1000))
    poster.meta("instagram", _text("aWdfIG_third", "Sorry, ignore that", T + 2000))
    poster.meta("instagram", _unsend("aWdfIG_second"))
    poster.meta("instagram", _unsend("aWdfIG_third"))
    assert _state() == (1, "Is the loft still available?")


def test_unsending_a_message_already_read_changes_no_count(poster, instagram_account):
    poster.meta("instagram", _text("aWdfIG_first", "Is the loft still available?", T))
    poster.meta("instagram", _text("aWdfIG_second", "Viewing on Saturday?", T + 1000))
    Message.objects.update(is_read=True)
    Conversation.objects.update(unread_count=0)
    poster.meta("instagram", _unsend("aWdfIG_second"))
    assert _state() == (0, "Is the loft still available?")


def test_a_retried_unsend_changes_nothing_more(poster, instagram_account):
    poster.meta("instagram", _text("aWdfIG_first", "Is the loft still available?", T))
    poster.meta("instagram", _text("aWdfIG_second", "Viewing on Saturday?", T + 1000))
    poster.meta("instagram", _unsend("aWdfIG_second"))
    again = poster.meta("instagram", _unsend("aWdfIG_second"))
    assert again.log.status == "duplicate" and again.events == []
    assert _state() == (1, "Is the loft still available?")


def test_an_empty_echo_creates_no_conversation(poster, instagram_account):
    poster.meta("instagram", fixture_bytes("instagram", "messages__echo_empty.json"))
    assert (Conversation.objects.count(), Contact.objects.count()) == (0, 0)
