"""Origin checking for WebSockets that also serves mobile clients."""

from __future__ import annotations

from typing import Any
from urllib.parse import ParseResult

from channels.security.websocket import OriginValidator
from django.conf import settings


class BrowserOriginValidator(OriginValidator):
    """Browsers always send Origin: it must name one of ALLOWED_HOSTS (cross-site WebSocket hijacking is the
    threat). Native and server clients send none and authenticate with their JWT alone, so a missing Origin
    is allowed — unlike channels' AllowedHostsOriginValidator, which would shut every mobile client out."""

    def valid_origin(self, parsed_origin: ParseResult | None) -> bool:
        if parsed_origin is None:
            return True
        return super().valid_origin(parsed_origin)


def browser_origin_validator(application: Any) -> BrowserOriginValidator:
    allowed_hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed_hosts:
        allowed_hosts = ["localhost", "127.0.0.1", "[::1]"]
    return BrowserOriginValidator(application, allowed_hosts)
