"""Routing of Messenger / Instagram deliveries: `entry[].id` is the Page or Instagram account id."""

from __future__ import annotations

from typing import Any

from switchboard.meta.messaging import iter_messaging
from switchboard.platforms.models import PlatformAccount, Provider
from switchboard.platforms.routing import accounts_by_external_id


def route_messaging(platform: str, payload: dict, provider: str = Provider.META) -> list[tuple[PlatformAccount, Any]]:
    """Every `messaging[]` / `standby[]` event of every entry, paired with the connected account it is for.
    The raw event keeps its entry id so the parser knows which side of the conversation is the business."""
    events = iter_messaging(payload)
    accounts = accounts_by_external_id(platform, provider, (entry_id for entry_id, _ in events))
    return [(accounts[entry_id], event) for entry_id, event in events if entry_id in accounts]
