"""Business hours: is an agency open at a given moment, in its own time zone.

`AssistantSettings.business_hours` is `{"mon": [["09:00", "18:00"]], "sat": [["10:00", "13:00"]], …}` (keys mon…sun,
each a list of [start, end] in HH:MM, end exclusive; "24:00" is the end of the day; a day without a key is closed).
The API validates the shape (assistant/api/); this module reads whatever is stored leniently — a malformed interval
is ignored rather than failing a webhook — and an unknown time zone counts as UTC.
"""

from __future__ import annotations

from datetime import datetime, time, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
END_OF_DAY = "24:00"


def zone(name: str) -> tzinfo:
    """The IANA zone `name`, UTC when it is blank or unknown."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_time(time_zone: str, at: datetime | None = None) -> datetime:
    """`at` (default now) in the agency's time zone."""
    return (at or timezone.now()).astimezone(zone(time_zone))


def _minutes(value: Any) -> int | None:
    """Minutes since midnight of 'HH:MM' ('24:00' is 1440); None when it is no time."""
    if not isinstance(value, str):
        return None
    if value.strip() == END_OF_DAY:
        return 24 * 60
    try:
        parsed = time.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed.hour * 60 + parsed.minute


def intervals(business_hours: Any, day: str) -> list[tuple[int, int]]:
    """The day's open intervals as (start, end) minutes, the malformed ones left out."""
    if not isinstance(business_hours, dict):
        return []
    found: list[tuple[int, int]] = []
    for pair in business_hours.get(day) or []:
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            continue
        start, end = _minutes(pair[0]), _minutes(pair[1])
        if start is not None and end is not None and start < end:
            found.append((start, end))
    return found


def is_open(business_hours: Any, time_zone: str, at: datetime | None = None) -> bool:
    """Whether `at` (default now) falls within the business hours, read in `time_zone`."""
    local = local_time(time_zone, at)
    minute = local.hour * 60 + local.minute
    return any(start <= minute < end for start, end in intervals(business_hours, DAYS[local.weekday()]))
