"""Every Instagram fixture through the real endpoint, signed as Meta signs it, against what it must store.

EXPECTED is written from the fixtures themselves (the Zulip way), not from the parser: a parser bug fails here."""

from __future__ import annotations

import json

import pytest

from switchboard.inbox.models import Message
from switchboard.webhooks.testing import Attached, Expect, Seed, Stored, check_webhook, fixture_bytes, fixture_names

IGSID = "1389246571038265"  # the customer most fixtures come from
IGSID2 = "1520947368125573"  # the one who tapped an ice breaker
CDN = "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id="
AT = "2024-11-21T12:00:00.456+00:00"  # 1732190400456 ms, the time of most fixtures


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
    "messaging_referral__ig_me.json": Expect("ignored"),
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
