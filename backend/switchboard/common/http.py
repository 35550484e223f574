"""Facts about a request that more than one app needs, decided once."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The client's address. Behind our own proxy (TRUST_FORWARDED_HEADERS) it is the last X-Forwarded-For entry —
    the one the proxy appended, which a client cannot forge; otherwise REMOTE_ADDR."""
    if settings.TRUST_FORWARDED_HEADERS:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip() or None
    return request.META.get("REMOTE_ADDR") or None


def retry_after_seconds(value: str | None) -> float | None:
    """A `Retry-After` header's delay in seconds (never negative), or None when absent or not a number of seconds
    (the HTTP-date form is not used by the vendors we call)."""
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
