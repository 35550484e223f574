"""The shared Messenger / Instagram messaging parser on hand-made events: the edges fixtures do not cover
(timestamps, malformed structure, lenient ignoring, business-sent events without the echo flag)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from switchboard.inbox.events import InboundMessage, MessageDeleted, Reaction, ReadReceipt
from switchboard.inbox.models import MessageKind, MessageStatus
from switchboard.meta.messaging import iter_messaging, parse_messaging_event
from switchboard.meta.timestamps import parse_timestamp

PAGE = "109876543210987"
PSID = "7281946350172634"
TS = 1732186800123
AT = datetime(2024, 11, 21, 11, 0, 0, 123000, tzinfo=UTC)


def event(sender: str = PSID, recipient: str = PAGE, timestamp=TS, **fields) -> dict:
    return {"sender": {"id": sender}, "recipient": {"id": recipient}, "timestamp": timestamp, **fields}


def parse_one(raw: dict):
    events = parse_messaging_event(raw, business_id=PAGE)
    assert len(events) == 1
    return events[0]


# --- timestamps ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1732186800123, AT),  # milliseconds
        ("1732186800123", AT),  # milliseconds as a string
        (1732186800, datetime(2024, 11, 21, 11, 0, tzinfo=UTC)),  # seconds
        ("1732186800", datetime(2024, 11, 21, 11, 0, tzinfo=UTC)),  # seconds as a string
        (1732186800.5, datetime(2024, 11, 21, 11, 0, 0, 500000, tzinfo=UTC)),  # fractional seconds
        ("2024-11-21T11:00:00+0000", datetime(2024, 11, 21, 11, 0, tzinfo=UTC)),  # ISO 8601
        ("2024-11-21T12:00:00+01:00", datetime(2024, 11, 21, 11, 0, tzinfo=UTC)),
    ],
)
def test_timestamps_in_milliseconds_or_seconds_are_decided_by_magnitude(value, expected):
    parsed = parse_timestamp(value)
    assert parsed == expected
    assert parsed.tzinfo is not None


def test_millisecond_timestamps_keep_millisecond_precision_exactly():
    assert parse_timestamp(1458692752478).microsecond == 478000


def test_magnitude_boundary():
    # 1e11 is the first value read as milliseconds (1973); just below it is seconds (the year 5138).
    assert parse_timestamp(10**11) == datetime(1973, 3, 3, 9, 46, 40, tzinfo=UTC)
    assert parse_timestamp(10**11 - 1).year == 5138


@pytest.mark.parametrize("value", [None, True, "", "soon", 0, -5, 10**14, float("nan"), "inf", [1], {"ms": 1}])
def test_invalid_timestamps_raise_value_error(value):
    with pytest.raises(ValueError):
        parse_timestamp(value)


# --- iter_messaging -----------------------------------------------------------------------------------------------


def test_iter_messaging_yields_every_event_of_every_entry_from_messaging_and_standby_in_order():
    a, b, c, d = (event(timestamp=TS + i) for i in range(4))
    payload = {
        "object": "page",
        "entry": [
            {"id": PAGE, "time": TS, "messaging": [a, b], "standby": [c]},
            {"id": 17841400000000001, "time": TS, "standby": [d]},
            {"id": PAGE, "time": TS, "changes": [{"field": "feed", "value": {}}]},
        ],
    }
    assert iter_messaging(payload) == [(PAGE, a), (PAGE, b), (PAGE, c), ("17841400000000001", d)]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([], "JSON object"),
        ({"object": "page"}, "'entry' list"),
        ({"object": "page", "entry": {"id": PAGE}}, "'entry' list"),
        ({"object": "page", "entry": ["x"]}, r"entry\[0\] must be an object"),
        ({"object": "page", "entry": [{"id": PAGE, "messaging": {}}]}, r"entry\[0\].messaging must be a list"),
        ({"object": "page", "entry": [{"messaging": [{}]}]}, r"entry\[0\] has messaging events but no 'id'"),
    ],
)
def test_iter_messaging_rejects_malformed_bodies(payload, message):
    with pytest.raises(ValueError, match=message):
        iter_messaging(payload)


# --- malformed and ignored events ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("text", "must be an object"),
        ({"recipient": {"id": PAGE}, "timestamp": TS, "message": {"mid": "m_1"}}, "no 'sender'"),
        ({"sender": {}, "recipient": {"id": PAGE}, "timestamp": TS, "message": {"mid": "m_1"}}, "'sender' has no 'id'"),
        ({"sender": {"id": PSID}, "timestamp": TS, "message": {"mid": "m_1"}}, "no 'recipient'"),
        (event(message={"text": "no id"}), r"'message.mid' is missing"),
        (event(message="hello"), "'message' must be an object"),
        (event(timestamp=None, message={"mid": "m_1"}), "no 'timestamp'"),
        (event(timestamp="yesterday", message={"mid": "m_1"}), "Invalid timestamp"),
        (event(message={"mid": "m_1", "attachments": "image"}), "attachments' must be a list"),
        (event(reaction={"action": "react", "emoji": "x"}), r"'reaction.mid' is missing"),
        (event(delivery={"mids": ["m_1"]}), "watermark' is missing"),
        (event(delivery={"mids": "m_1", "watermark": TS}), "mids' must be a list"),
        (event(postback="tap"), "'postback' must be an object"),
        (event(read=[TS]), "'read' must be an object"),
    ],
)
def test_malformed_events_raise_value_error_with_a_clear_message(raw, message):
    with pytest.raises(ValueError, match=message):
        parse_messaging_event(raw, business_id=PAGE)


@pytest.mark.parametrize(
    "raw",
    [
        event(pass_thread_control={"new_owner_app_id": "123", "metadata": ""}),
        {"brand_new": "shape"},  # an ignored event is ignored even when it lacks sender and recipient
        {"sender": {"user_ref": "plugin-guest"}, "recipient": {"id": PAGE}, "timestamp": TS, "message": {"mid": "m_1"}},
        # The checkbox plugin's opt-in: a user_ref and no sender at all.
        {"recipient": {"id": PAGE}, "timestamp": TS, "optin": {"ref": "x", "user_ref": "guest"}},
        event(referral="not an object"),
        event(referral={}),  # nothing in it to say where they came from
        event(optin=["not", "an", "object"]),
    ],
)
def test_events_the_inbox_does_not_use_give_nothing(raw):
    assert parse_messaging_event(raw, business_id=PAGE) == []


# --- whose event it is --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        event(recipient="110000000000001", message={"mid": "m_1", "text": "to another page"}),
        event(sender="110000000000001", recipient=PSID, message={"mid": "m_1", "is_echo": True, "text": "x"}),
        event(recipient="110000000000001", reaction={"mid": "m_9", "action": "react", "emoji": "👍"}),
        event(recipient="110000000000001", read={"watermark": TS}),
        event(recipient="110000000000001", referral={"ref": "x", "source": "ADS", "ad_id": "1"}),
        event(sender=PAGE, recipient=PAGE, message={"mid": "m_1", "is_echo": True, "text": "the page to itself"}),
    ],
)
def test_an_event_the_routed_business_is_not_a_party_of_gives_nothing(raw):
    assert parse_messaging_event(raw, business_id=PAGE) == []


def test_an_echo_whose_recipient_is_the_business_names_the_other_side_never_the_business():
    parsed = parse_one(event(sender=PSID, recipient=PAGE, message={"mid": "m_1", "is_echo": True, "text": "odd"}))
    assert parsed.is_echo is True
    assert parsed.contact.external_id == PSID


def test_an_echo_with_nothing_in_it_is_passed_on_for_matching_our_own_send():
    parsed = parse_one(
        event(sender=PAGE, recipient=PSID, message={"mid": "m_1", "is_echo": True, "metadata": "switchboard:msg:7"})
    )
    assert (parsed.is_echo, parsed.text, parsed.attachments) == (True, "", ())
    assert parsed.payload == {"metadata": "switchboard:msg:7"}
    assert parsed.contact.external_id == PSID


# --- messages -----------------------------------------------------------------------------------------------------


def test_business_sent_message_without_echo_flag_is_still_an_echo_with_the_recipient_as_contact():
    parsed = parse_one(event(sender=PAGE, recipient=PSID, message={"mid": "m_1", "text": "sent from the page"}))
    assert isinstance(parsed, InboundMessage)
    assert parsed.is_echo is True
    assert parsed.contact.external_id == PSID


def test_ids_given_as_numbers_become_strings():
    raw = {
        "sender": {"id": 7281946350172634},
        "recipient": {"id": int(PAGE)},
        "timestamp": TS,
        "message": {"mid": "m_1", "text": "hi"},
    }
    parsed = parse_one(raw)
    assert parsed.contact.external_id == PSID
    assert parsed.is_echo is False


def test_deleted_echo_names_the_recipient_as_contact():
    parsed = parse_one(event(sender=PAGE, recipient=PSID, message={"mid": "m_1", "is_deleted": True, "is_echo": True}))
    assert isinstance(parsed, MessageDeleted)
    assert parsed.contact.external_id == PSID


def test_media_attachment_without_url_is_kept_as_unsupported_with_its_raw_fragment():
    fragment = {"type": "image", "payload": {}}
    parsed = parse_one(event(message={"mid": "m_1", "attachments": [fragment]}))
    assert parsed.kind == MessageKind.UNSUPPORTED
    assert parsed.attachments == ()
    assert parsed.payload["unsupported"] == [fragment]


def test_text_with_an_unknown_attachment_stays_text_and_keeps_the_fragment():
    fragment = {"type": "poll", "payload": {"question": "?"}}
    parsed = parse_one(event(message={"mid": "m_1", "text": "see this", "attachments": [fragment]}))
    assert parsed.kind == MessageKind.TEXT
    assert parsed.text == "see this"
    assert parsed.payload["unsupported"] == [fragment]


def test_known_media_wins_over_unknown_attachments_for_the_message_kind():
    unknown = {"type": "poll", "payload": {}}
    video = {"type": "video", "payload": {"url": "https://video.example/v.mp4"}}
    parsed = parse_one(event(message={"mid": "m_1", "attachments": [unknown, video]}))
    assert parsed.kind == MessageKind.VIDEO
    assert [(a.kind, a.url) for a in parsed.attachments] == [(MessageKind.VIDEO, "https://video.example/v.mp4")]
    assert parsed.payload["unsupported"] == [unknown]


def test_empty_message_is_kept_as_unsupported_rather_than_dropped():
    parsed = parse_one(event(message={"mid": "m_1"}))
    assert parsed.kind == MessageKind.UNSUPPORTED
    assert parsed.text == ""


def test_single_attachment_object_instead_of_a_list_is_accepted():
    parsed = parse_one(
        event(message={"mid": "m_1", "attachments": {"type": "audio", "payload": {"url": "https://a/b.mp4"}}})
    )
    assert parsed.kind == MessageKind.AUDIO
    assert len(parsed.attachments) == 1


@pytest.mark.parametrize("sticker_id", [369239263222822, "369239343222814", 369239383222810])
def test_the_like_button_in_each_size_is_a_thumbs_up_sticker(sticker_id):
    sticker = {"type": "sticker", "payload": {"url": "https://scontent/like.png", "sticker_id": sticker_id}}
    parsed = parse_one(event(message={"mid": "m_1", "attachments": [sticker]}))
    assert (parsed.kind, parsed.text, parsed.payload["sticker_id"]) == (MessageKind.STICKER, "👍", str(sticker_id))
    assert [a.kind for a in parsed.attachments] == [MessageKind.STICKER]


def test_another_sticker_has_no_text():
    sticker = {"type": "image", "payload": {"url": "https://scontent/cat.png", "sticker_id": 767226160478561}}
    parsed = parse_one(event(message={"mid": "m_1", "attachments": [sticker]}))
    assert (parsed.kind, parsed.text) == (MessageKind.STICKER, "")


# --- referrals and opt-ins ----------------------------------------------------------------------------------------


def test_a_referral_is_a_read_notice_with_the_referral_for_the_contact():
    parsed = parse_one(event(referral={"ref": "spring", "source": "SHORTLINK", "type": "OPEN_THREAD"}))
    assert isinstance(parsed, InboundMessage)
    referral = {"ref": "spring", "source": "SHORTLINK", "type": "OPEN_THREAD", "at": "2024-11-21T11:00:00.123000+00:00"}
    assert (parsed.platform_message_id, parsed.kind, parsed.is_notice) == (f"referral.{PSID}.{TS}", "system", True)
    assert parsed.text == "Came from a link · ref spring"
    assert parsed.payload == {"type": "referral", "referral": referral}
    assert parsed.contact_attributes == {"referral": referral}
    assert parsed.contact.external_id == PSID


@pytest.mark.parametrize(
    ("referral", "text"),
    [
        ({"source": "ADS", "ad_id": 6045246247433}, "Came from an ad (ad 6045246247433)"),
        ({"source": "ADS", "ads_context_data": {"ad_title": "Lofts"}}, "Came from an ad: “Lofts”"),
        ({"source": "CUSTOMER_CHAT_PLUGIN"}, "Came from the chat plugin"),
        ({"source": "IGME-SOURCE-LINK", "ref": "bio"}, "Came from a link · ref bio"),
        ({"source": "SOME_NEW_SOURCE"}, "Came from some new source"),
        ({"ref": "only-a-ref"}, "Came from a referral · ref only-a-ref"),
    ],
)
def test_a_referral_says_where_the_customer_came_from(referral, text):
    assert parse_one(event(referral=referral)).text == text


def test_a_referral_beside_a_postback_or_a_message_comes_first_as_its_own_notice():
    referral = {"ref": "r", "source": "ADS", "ad_id": "42", "type": "OPEN_THREAD"}
    for raw, mid in (
        (event(postback={"mid": "m_P", "title": "Get Started", "payload": "GO", "referral": referral}), "m_P"),
        (event(message={"mid": "m_M", "text": "hello", "referral": referral}), "m_M"),
    ):
        notice, tapped = parse_messaging_event(raw, business_id=PAGE)
        assert (notice.platform_message_id, notice.kind, notice.is_notice) == (f"referral.{mid}", "system", True)
        assert notice.contact_attributes["referral"]["ad_id"] == "42"
        assert (tapped.platform_message_id, tapped.is_notice, tapped.contact_attributes) == (mid, False, {})


def test_an_echo_carrying_a_referral_gives_no_notice():
    raw = event(
        sender=PAGE, recipient=PSID, message={"mid": "m_1", "is_echo": True, "text": "x", "referral": {"ref": "r"}}
    )
    assert [type(e).__name__ for e in parse_messaging_event(raw, business_id=PAGE)] == ["InboundMessage"]


@pytest.mark.parametrize(
    ("optin", "text"),
    [
        (
            {"type": "notification_messages", "notification_messages_frequency": "DAILY"},
            "Opted in to daily notification messages",
        ),
        (
            {"type": "notification_messages", "notification_messages_status": "RESUME_NOTIFICATIONS", "title": "Deals"},
            "Resumed notification messages: Deals",
        ),
        (
            {"type": "one_time_notif_req", "one_time_notif_token": "t1", "title": "Price drop"},
            "Asked to be notified once: Price drop",
        ),
        ({}, "Opted in to messages"),
    ],
)
def test_an_optin_says_what_the_customer_opted_in_to(optin, text):
    assert parse_one(event(optin=optin)).text == text


def test_an_optin_keeps_its_token_and_an_odd_expiry_is_left_out():
    parsed = parse_one(
        event(optin={"type": "one_time_notif_req", "one_time_notif_token": "t1", "token_expiry_timestamp": "never"})
    )
    assert parsed.contact_attributes == {
        "optin": {"type": "one_time_notif_req", "token": "t1", "at": "2024-11-21T11:00:00.123000+00:00"}
    }
    assert parsed.platform_message_id == f"optin.{PSID}.{TS}"

    raw = event(
        message={
            "mid": "m_1",
            "sticker_id": 369239263222822,
            "attachments": [{"type": "video", "payload": {"url": "https://v/x.mp4"}}],
        }
    )
    parsed = parse_one(raw)
    assert parsed.kind == MessageKind.VIDEO
    assert "sticker_id" not in parsed.payload


def test_file_without_a_name_in_its_url_has_no_filename():
    parsed = parse_one(
        event(message={"mid": "m_1", "attachments": [{"type": "file", "payload": {"url": "https://cdn/x/"}}]})
    )
    assert parsed.attachments[0].kind == MessageKind.DOCUMENT
    assert parsed.attachments[0].filename == ""


def test_content_fields_of_odd_types_become_empty_text_not_errors():
    parsed = parse_one(event(message={"mid": "m_1", "text": {"oops": 1}, "quick_reply": "x", "reply_to": "m_0"}))
    assert parsed.text == ""
    assert parsed.reply_to_platform_id == ""
    assert "quick_reply" not in parsed.payload


# --- reactions and receipts ---------------------------------------------------------------------------------------


def test_reaction_by_the_business_is_marked_and_names_the_customer_as_contact():
    parsed = parse_one(event(sender=PAGE, recipient=PSID, reaction={"mid": "m_9", "action": "react", "emoji": "👍"}))
    assert isinstance(parsed, Reaction)
    assert parsed.from_business is True
    assert parsed.contact.external_id == PSID


def test_reaction_without_emoji_uses_the_reaction_name():
    parsed = parse_one(event(reaction={"mid": "m_9", "action": "react", "reaction": "like"}))
    assert parsed.emoji == "👍"
    assert parsed.removed is False


def test_reaction_without_action_is_a_react():
    parsed = parse_one(event(reaction={"mid": "m_9", "emoji": "😮"}))
    assert parsed.removed is False
    assert parsed.emoji == "😮"


@pytest.mark.parametrize(
    "reaction",
    [
        {"mid": "m_9", "action": "react", "reaction": "other"},  # nothing to show: never applied as a removal
        {"mid": "m_9", "action": "edit", "emoji": "👍"},
    ],
)
def test_reactions_that_cannot_be_applied_give_nothing(reaction):
    assert parse_messaging_event(event(reaction=reaction), business_id=PAGE) == []


def test_read_with_neither_watermark_nor_mid_reads_up_to_the_event_time():
    parsed = parse_one(event(read={}))
    assert isinstance(parsed, ReadReceipt)
    assert parsed.status == MessageStatus.READ
    assert parsed.watermark == AT
    assert parsed.platform_message_ids == ()


def test_read_with_watermark_and_no_timestamp_uses_the_watermark_as_time():
    parsed = parse_one(event(timestamp=None, read={"watermark": TS}))
    assert parsed.timestamp == parsed.watermark == AT
