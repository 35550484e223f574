"""Platform timestamps → aware UTC datetimes: the one rule of every inbound parser that is given a time (Messenger,
Instagram, WhatsApp Cloud, the WhatsApp-Web bridges; Twilio sends none). Pure.

Meta sends Unix seconds (WhatsApp, as strings) or milliseconds (Messenger / Instagram, some newer events in seconds);
whatsapp-web.js bridges send seconds in messages and milliseconds on WAHA envelopes. One number cannot say which
it is, its magnitude can: below 1e11 it is seconds (1e11 s is the year 5138), from 1e11 to 1e14 milliseconds (1e11 ms
is 1973, 1e14 ms the year 5138). Decimal arithmetic keeps milliseconds exact (a float would round some of them).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

_MS_FROM = Decimal(10**11)
_TOO_LARGE = Decimal(10**14)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_timestamp(value: Any, *, what: str = "timestamp") -> datetime:
    """`value` as an aware UTC datetime: Unix seconds or milliseconds (decided by magnitude), as a number or a
    numeric string; ISO 8601 strings are accepted too. Raises ValueError (naming `what`, e.g. "timestamp of message
    wamid.X") for anything else, zero, negative or beyond the year 5138."""
    if value is None or isinstance(value, bool):
        raise ValueError(f"Invalid {what}: {value!r}.")
    if isinstance(value, str):
        text = value.strip()
        try:
            number = Decimal(text)
        except InvalidOperation:
            try:
                parsed = datetime.fromisoformat(text)
            except ValueError:
                raise ValueError(f"Invalid {what}: {value!r}.") from None
            return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    else:
        raise ValueError(f"Invalid {what}: {value!r}.")
    if not number.is_finite() or number <= 0 or number >= _TOO_LARGE:
        raise ValueError(f"Invalid {what}: {value!r} is out of range.")
    seconds = number / 1000 if number >= _MS_FROM else number
    return _EPOCH + timedelta(microseconds=int((seconds * 1_000_000).to_integral_value()))
