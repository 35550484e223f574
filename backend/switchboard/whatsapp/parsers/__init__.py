"""Pure WhatsApp payload parsers, one module per provider: `cloud` (Meta's Cloud API), `twilio` (Twilio's
form-encoded webhooks) and `bridge` (whatsapp-web.js style and WAHA callbacks).

Each turns a provider payload into `inbox.events` — no database, no Django models, no network — so they are
tested without the database and the adapters stay thin. Conventions shared by all three:

* unknown message types never raise: they become `InboundMessage(kind="unsupported")` with the raw fragment;
* a structurally broken payload (not an object, a message without its id) raises `ValueError`, which the webhook
  pipeline answers with a 400;
* timestamps become aware UTC datetimes through `meta.timestamps.parse_timestamp`, the rule Messenger and Instagram
  use too: seconds or milliseconds by magnitude (message bodies carry seconds, WAHA envelopes milliseconds).

The helpers below are shared by the three modules (the submodules are not imported here, so importing one of them
never drags in the others).
"""

from __future__ import annotations

import math
import re
from typing import Any

from switchboard.inbox.models import MessageKind

# A phone number as WhatsApp ids and Twilio addresses carry it: digits, optionally after `+`. Business-scoped user ids
# (`US.13491208655302741918`) and usernames do not match.
PHONE = re.compile(r"\+?\d{5,20}")

# A business-scoped user id as Meta documents it: a two-letter country code, a period, then up to 128 letters and
# digits (`US.13491208655302741918`); a parent BSUID has `ENT.` after the country (`US.ENT.11815799212886844830`).
USER_ID = re.compile(r"[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}")


def user_id_or_empty(value: Any) -> str:
    """The value when it is a well-formed business-scoped user id, else '' (a malformed id is never trusted)."""
    text = as_str(value).strip()
    return text if USER_ID.fullmatch(text) else ""


def as_str(value: Any) -> str:
    """A payload scalar as text; missing, null and structured values become ''. Numbers keep their digits
    (WhatsApp sometimes sends ids and codes as numbers)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int | float):
        return str(value)
    return ""


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_float(value: Any) -> float | str:
    """Coordinates arrive as numbers (Cloud) or strings (Twilio, bridges): a float when they parse, else as sent."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return as_str(value)
    return number if math.isfinite(number) else as_str(value)


def kind_for_mime(mime_type: str) -> str:
    """The attachment kind a MIME type stands for; anything that is not image, video or audio is a document."""
    major = mime_type.split("/", 1)[0].strip().lower()
    return {
        "image": MessageKind.IMAGE,
        "video": MessageKind.VIDEO,
        "audio": MessageKind.AUDIO,
    }.get(major, MessageKind.DOCUMENT)


def compact(mapping: dict[str, Any]) -> dict[str, Any]:
    """Drop the keys whose value is empty, so payloads carry only what the platform said."""
    return {key: value for key, value in mapping.items() if value not in (None, "", [], {})}
