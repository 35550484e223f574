"""Twilio's error codes in the sentences an agent reads — one table for the send path (twilio_api.twilio_classify)
and for failures Twilio reports later in a status callback (parsers/twilio.py), so a code reads the same wherever
it is met. Data only: the pure parsers import it without the HTTP client."""

from __future__ import annotations

TWILIO_TRANSIENT_CODES = frozenset({20429, 20500, 20503, 30001, 63018})
TWILIO_RECONNECT_CODES = frozenset({20003})  # authentication failed: a wrong Account SID or auth token
TWILIO_SENTENCES: dict[int, str] = {
    21211: "The customer's number is not a valid phone number.",
    21408: "This Twilio account is not allowed to send to the customer's country.",
    21610: "The customer has opted out (replied STOP) and cannot be messaged.",
    21612: "Twilio cannot deliver from this number to the customer's number.",
    21614: "The customer's number cannot receive this message (not a mobile or WhatsApp number).",
    21606: "The sending number is not a valid WhatsApp sender for this Twilio account.",
    21656: "The template variables are not valid for this template.",
    30003: "The customer's phone could not be reached (switched off or out of coverage).",
    30005: "The customer's number is unknown or no longer in service.",
    30006: "The customer's number is a landline or its carrier cannot be reached.",
    30007: "The message was filtered by the carrier or by WhatsApp and not delivered.",
    30008: "The message could not be delivered for a reason Twilio did not name.",
    63016: (
        "More than 24 hours have passed since the customer last wrote, so WhatsApp only allows an approved "
        "template message."
    ),
    63007: "Twilio could not find this WhatsApp sender on the account.",
    63003: "The customer's number is not on WhatsApp.",
    63024: "The customer's number is not a valid WhatsApp recipient.",
    63032: "The customer has chosen not to receive messages from this business.",
    63049: "WhatsApp chose not to deliver this marketing message to the customer.",
    20003: "Twilio refused the account's credentials: reconnect the account.",
}


def twilio_code(value: object) -> int | None:
    """A Twilio error code as a number ('63016', 63016), or None when it is none."""
    text = str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else ""
    return int(text) if text.isdigit() else None


def delivery_failure_sentence(code: object) -> str:
    """Why Twilio could not deliver a message it had accepted (a status callback's `ErrorCode`)."""
    number = twilio_code(code)
    if number is None:
        return "Twilio could not deliver this message."
    return TWILIO_SENTENCES.get(number) or f"Twilio could not deliver this message (error {number})."
