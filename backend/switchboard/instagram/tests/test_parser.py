"""Instagram messaging webhook bodies (tests/fixtures/*.json) → normalized events. Pure: no database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from switchboard.inbox.events import InboundMessage, MessageDeleted, Reaction, ReadReceipt
from switchboard.inbox.models import MessageKind, MessageStatus
from switchboard.instagram.parser import INSTAGRAM
from switchboard.meta.messaging import parse_messaging_event
from switchboard.webhooks.testing import load_fixture, unused_fixtures

IG = "17841400000000001"
IGSID = "1389246571038265"
IGSID2 = "1520947368125573"
CDN = "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id="
parse = INSTAGRAM.parse  # every event of a body, as (entry id, event)


def ms(value: int) -> datetime:
    return datetime.fromtimestamp(value // 1000, tz=UTC).replace(microsecond=(value % 1000) * 1000)


T = 1732190400456
AT = ms(T)


def load(name: str) -> dict:
    return load_fixture("instagram", name)


def only_event(name: str):
    parsed = parse(load(name))
    assert len(parsed) == 1, parsed
    entry_id, event = parsed[0]
    assert entry_id == IG
    return event


def only_message(name: str) -> InboundMessage:
    event = only_event(name)
    assert isinstance(event, InboundMessage)
    assert event.is_echo is (name == "messages__echo")
    return event


# --- messages -----------------------------------------------------------------------------------------------------


def test_text_message():
    message = only_message("messages__text")
    assert message.platform_message_id.startswith("aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAwMDAwMDAwMDAx")
    assert message.kind == MessageKind.TEXT
    assert message.text == "Hola! ¿Sigue disponible el loft? 😍"
    assert message.contact.external_id == IGSID
    assert message.timestamp == AT
    assert message.attachments == ()


@pytest.mark.parametrize(
    ("fixture", "kind", "url"),
    [
        ("messages__image", MessageKind.IMAGE, CDN + "17900000000000001&signature=AbC1"),
        ("messages__video", MessageKind.VIDEO, CDN + "17900000000000002&signature=AbC1"),
        ("messages__audio", MessageKind.AUDIO, CDN + "17900000000000003&signature=AbC1"),
    ],
)
def test_single_media_attachment(fixture, kind, url):
    message = only_message(fixture)
    assert message.kind == kind
    assert [(a.kind, a.url) for a in message.attachments] == [(kind, url)]


def test_file_attachment_is_a_document():
    message = only_message("messages__file")
    assert message.kind == MessageKind.DOCUMENT
    (attachment,) = message.attachments
    assert attachment.kind == MessageKind.DOCUMENT
    assert attachment.filename == "lease-application.pdf"


def test_several_images_in_one_message_are_all_kept():
    message = only_message("messages__several_images")
    assert [(a.kind, a.url) for a in message.attachments] == [
        (MessageKind.IMAGE, CDN + "17900000000000011&signature=AbC1"),
        (MessageKind.IMAGE, CDN + "17900000000000012&signature=AbC2"),
    ]


def test_share_is_the_shared_media_with_its_url():
    message = only_message("messages__share")
    assert message.kind == MessageKind.IMAGE
    assert [(a.kind, a.url) for a in message.attachments] == [
        (MessageKind.IMAGE, CDN + "17900000000000004&signature=Share1")
    ]
    assert message.payload["shared"] == [
        {"type": "share", "url": CDN + "17900000000000004&signature=Share1", "title": ""}
    ]


def test_story_mention_is_an_attachment_marked_as_a_story():
    message = only_message("messages__story_mention")
    url = CDN + "17900000000000005&signature=Story1"
    assert message.kind == MessageKind.IMAGE
    assert [(a.kind, a.url) for a in message.attachments] == [(MessageKind.IMAGE, url)]
    # Story media must not be stored (Meta policy) and its URL expires: the payload says it is a story.
    assert message.payload["story"] == {"type": "mention", "id": "", "url": url}


def test_story_reply_is_text_with_the_story_attached_and_marked():
    message = only_message("messages__story_reply")
    url = CDN + "17900000000000006&signature=Story2"
    assert message.kind == MessageKind.TEXT
    assert message.text == "Is this one still for rent?"
    assert [(a.kind, a.url) for a in message.attachments] == [(MessageKind.IMAGE, url)]
    assert message.payload["story"] == {"type": "reply", "id": "17999000000000006", "url": url}
    assert message.reply_to_platform_id == ""


def test_reel_is_a_video():
    message = only_message("messages__reel")
    assert message.kind == MessageKind.VIDEO
    assert [(a.kind, a.url) for a in message.attachments] == [
        (MessageKind.VIDEO, CDN + "17900000000000007&signature=Reel1")
    ]
    assert message.payload["shared"][0]["type"] == "reel"


def test_ig_reel_is_a_video_with_its_title_and_reel_id():
    message = only_message("messages__ig_reel")
    assert message.kind == MessageKind.VIDEO
    (attachment,) = message.attachments
    assert (attachment.kind, attachment.url) == (MessageKind.VIDEO, CDN + "17900000000000008&signature=Reel2")
    assert attachment.caption == "Tour of the loft 🏙️ #montreal"
    assert message.payload["shared"] == [
        {
            "type": "ig_reel",
            "url": CDN + "17900000000000008&signature=Reel2",
            "title": "Tour of the loft 🏙️ #montreal",
            "id": "18030000000000008",
        }
    ]


def test_like_heart_has_no_url_so_it_is_a_heart_sticker_without_attachment():
    message = only_message("messages__like_heart")
    assert message.kind == MessageKind.STICKER
    assert message.attachments == ()
    assert message.text == "❤️"
    assert message.payload["like_heart"] is True


def test_quick_reply_keeps_text_and_puts_the_payload_in_payload():
    message = only_message("messages__quick_reply")
    assert message.kind == MessageKind.INTERACTIVE
    assert message.text == "Yes, book it"
    assert message.payload["quick_reply"] == {"payload": "CONFIRM_VIEWING:listing-7"}


def test_reply_to_names_the_quoted_message():
    message = only_message("messages__reply_to")
    assert message.reply_to_platform_id == "aWdfIGOurListing0001"
    assert message.attachments == ()


def test_unsupported_content_is_kept_as_an_unsupported_message():
    message = only_message("messages__unsupported")
    assert message.kind == MessageKind.UNSUPPORTED
    assert message.payload["is_unsupported"] is True
    assert message.platform_message_id == "aWdfIGUnsupported0001"


def test_timestamp_in_seconds():
    message = only_message("messages__timestamp_seconds")
    assert message.timestamp == datetime(2024, 11, 21, 12, 0, 7, tzinfo=UTC)


# --- echo and unsend ----------------------------------------------------------------------------------------------


def test_echo_is_the_business_own_message_and_the_contact_is_the_recipient():
    message = only_message("messages__echo")
    assert message.is_echo is True
    assert message.contact.external_id == IGSID  # the sender is the Instagram account itself
    assert message.text == "Yes! Viewings on Saturday from 10am."
    assert message.timestamp == ms(T + 5000)


def test_unsend_is_a_deletion_of_the_earlier_message():
    event = only_event("messages__deleted")
    assert isinstance(event, MessageDeleted)
    assert event.platform_message_id == "aWdfIGImage0001"
    assert event.contact.external_id == IGSID
    assert event.timestamp == ms(T + 6000)


# --- reactions, reads, postbacks ----------------------------------------------------------------------------------


def test_reaction_targets_the_reacted_message():
    reaction = only_event("message_reactions__react")
    assert isinstance(reaction, Reaction)
    assert reaction.target_platform_message_id == "aWdfIGEcho0001"
    assert reaction.emoji == "❤️"
    assert reaction.removed is False
    assert reaction.from_business is False
    assert reaction.contact.external_id == IGSID


def test_unreact_removes_the_reaction():
    reaction = only_event("message_reactions__unreact")
    assert isinstance(reaction, Reaction)
    assert reaction.target_platform_message_id == "aWdfIGEcho0001"
    assert reaction.removed is True
    assert reaction.emoji == ""


def test_seen_names_the_last_message_read_and_reads_up_to_its_time():
    receipt = only_event("messaging_seen__read")
    assert isinstance(receipt, ReadReceipt)
    assert receipt.status == MessageStatus.READ
    assert receipt.platform_message_ids == ("aWdfIGEcho0001",)
    assert receipt.timestamp == ms(T + 9000)
    assert receipt.watermark == receipt.timestamp  # no watermark: everything before the customer looked was seen
    assert receipt.contact.external_id == IGSID


def test_icebreaker_postback_with_a_timestamp_string_in_seconds():
    message = only_message("messaging_postbacks__icebreaker")
    assert message.platform_message_id == "aWdfIGPostback0001"
    assert message.kind == MessageKind.INTERACTIVE
    assert message.text == "What listings do you have?"
    assert message.payload["postback"] == {"payload": "ICEBREAKER_LISTINGS", "title": "What listings do you have?"}
    assert message.contact.external_id == IGSID2
    assert message.timestamp == datetime(2024, 11, 21, 12, 0, 10, tzinfo=UTC)


def test_standby_events_are_parsed_like_messaging_events():
    message = only_message("standby__message")
    assert message.platform_message_id == "aWdfIGStandby0001"
    assert message.text == "Hello from standby"


def test_ig_me_referral_is_a_notice_for_the_contact():
    notice = only_event("messaging_referral__ig_me")
    assert isinstance(notice, InboundMessage)
    assert (notice.kind, notice.is_notice, notice.text) == (
        MessageKind.SYSTEM,
        True,
        "Came from a link · ref loft-campaign",
    )
    assert notice.contact_attributes["referral"]["source"] == "IGME_LINK"
    assert notice.contact.external_id == IGSID


def test_a_message_from_an_ad_comes_after_the_ad_notice():
    notice, message = [event for _, event in parse(load("messages__referral_ad"))]
    assert (notice.platform_message_id, notice.is_notice) == ("referral.aWdfIGFromAd0001", True)
    assert notice.contact_attributes["referral"]["ads_context_data"]["ad_title"] == "Lofts in Old Montreal"
    assert (message.platform_message_id, message.kind) == ("aWdfIGFromAd0001", MessageKind.TEXT)


def test_an_empty_echo_is_passed_on_with_the_customer_as_contact():
    ((_, echo),) = parse(load("messages__echo_empty"))
    assert (echo.is_echo, echo.text, echo.attachments, echo.contact.external_id) == (True, "", (), IGSID)


def test_a_message_to_another_account_gives_nothing():
    assert parse(load("messages__other_recipient")) == []


# --- the wrapper --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("obj", ["page", "whatsapp_business_account", "", None])
def test_a_body_for_another_object_is_rejected(obj):
    payload = load("messages__text")
    payload["object"] = obj
    with pytest.raises(ValueError, match="Instagram"):
        parse(payload)


def test_comment_changes_carry_no_messaging_events():
    payload = {"object": "instagram", "entry": [{"id": IG, "time": T, "changes": [{"field": "comments", "value": {}}]}]}
    assert parse(payload) == []


def test_parse_messaging_event_is_the_per_event_form_of_parse():
    payload = load("messages__echo")
    raw = payload["entry"][0]["messaging"][0]
    assert parse_messaging_event(raw, business_id=IG) == [event for _, event in parse(payload)]


# --- fixtures ------------------------------------------------------------------------------------------------------


def test_every_fixture_is_used_by_a_test():
    unused = unused_fixtures("instagram")
    assert not unused, f"Fixtures used by no test: {unused}"
