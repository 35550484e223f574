"""Messenger webhook bodies (`object: page`) → normalized inbox events. Pure: no database.

A thin wrapper over `meta.messaging`, which Instagram shares. What is Messenger's own there: postbacks (buttons,
Get Started, persistent menu), `fallback` link shares and `template` echoes (our listing cards), stickers as images
with a `sticker_id`, `delivery` receipts with `mids` (Instagram has none), and referrals, which are ignored.
"""

from __future__ import annotations

from switchboard.inbox.events import InboundEvent
from switchboard.meta import messaging
from switchboard.meta.messaging import iter_messaging, parse_messaging_event

OBJECT = "page"


def parse(payload: dict) -> list[tuple[str, InboundEvent]]:
    """Every event of a Messenger webhook body as (page id, event), in payload order.

    Raises ValueError when the body is not a Messenger (`object: page`) body or is malformed."""
    check_object(payload)
    return [
        (page_id, parsed)
        for page_id, event in iter_messaging(payload)
        for parsed in parse_event(event, page_id=page_id)
    ]


def parse_event(event: dict, *, page_id: str) -> list[InboundEvent]:
    """One `messaging[]` / `standby[]` event of the page `page_id` (what an adapter's `parse` receives)."""
    return parse_messaging_event(event, business_id=page_id)


def check_object(payload: dict) -> None:
    messaging.check_object(payload, OBJECT, "a Messenger webhook body")
