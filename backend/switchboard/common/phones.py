"""Phone numbers in one form (E.164), so one person is one contact however a platform writes the number."""

from __future__ import annotations

import re

import phonenumbers

_PREFIXES = ("whatsapp:", "tel:")
_SUFFIXES = ("@c.us", "@s.whatsapp.net")


def normalize_phone(raw: str, default_region: str | None = None) -> str:
    """'+1 (415) 523-8886', 'whatsapp:+14155238886', '14155238886', '14155238886@c.us' → '+14155238886'.
    Returns '' when the value is not a possible phone number (a username, a business-scoped id)."""
    value = (raw or "").strip()
    lowered = value.lower()
    for prefix in _PREFIXES:
        if lowered.startswith(prefix):
            value = value[len(prefix) :]
    for suffix in _SUFFIXES:
        if value.lower().endswith(suffix):
            value = value[: -len(suffix)]
    digits = re.sub(r"[\s().\-]", "", value)
    if not re.fullmatch(r"\+?\d{6,17}", digits):
        return ""
    # WhatsApp writes international numbers without '+': read them as international unless a region is given.
    candidate = digits if digits.startswith("+") or default_region else "+" + digits
    try:
        number = phonenumbers.parse(candidate, default_region)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_possible_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
