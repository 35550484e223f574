"""Instagram messaging webhook bodies (`object: instagram`) → normalized inbox events. Pure: no database.

A thin wrapper over `meta.messaging`, which Messenger shares. What is Instagram's own there: `story_mention`
attachments and replies to stories (`reply_to.story`) — CDN URLs that expire within about a day and whose media Meta
forbids storing, so they are marked in `payload["story"]` —, shared posts (`share`) and reels (`reel`, `ig_reel`),
the `like_heart`, unsends (`is_deleted` → MessageDeleted), `is_unsupported` content, echoes delivered under the
`messages` field, and `read` (messaging_seen) naming a `mid` rather than a watermark. Timestamps may be seconds.
"""

from __future__ import annotations

from switchboard.inbox.events import InboundEvent
from switchboard.meta import messaging
from switchboard.meta.messaging import iter_messaging, parse_messaging_event

OBJECT = "instagram"


def parse(payload: dict) -> list[tuple[str, InboundEvent]]:
    """Every event of an Instagram webhook body as (Instagram account id, event), in payload order.

    Raises ValueError when the body is not an Instagram (`object: instagram`) body or is malformed. Entries with
    `changes` (comments, mentions) carry no messaging events and give nothing here."""
    check_object(payload)
    return [
        (account_id, parsed)
        for account_id, event in iter_messaging(payload)
        for parsed in parse_event(event, account_id=account_id)
    ]


def parse_event(event: dict, *, account_id: str) -> list[InboundEvent]:
    """One `messaging[]` / `standby[]` event of the Instagram account `account_id` (an adapter's `parse`)."""
    return parse_messaging_event(event, business_id=account_id)


def check_object(payload: dict) -> None:
    messaging.check_object(payload, OBJECT, "an Instagram webhook body")
