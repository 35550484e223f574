"""Which adapter serves which webhook endpoint. `WebhookLog.platform` stores the endpoint name, so a stored
delivery can always be replayed through the adapter that received it."""

from __future__ import annotations

from switchboard.platforms.models import Platform, Provider
from switchboard.platforms.registry import PlatformAdapter, get_adapter

ENDPOINTS: dict[str, tuple[str, str]] = {
    "whatsapp": (Platform.WHATSAPP, Provider.META),
    "messenger": (Platform.MESSENGER, Provider.META),
    "instagram": (Platform.INSTAGRAM, Provider.META),
    "twilio": (Platform.WHATSAPP, Provider.TWILIO),
    "bridge": (Platform.WHATSAPP, Provider.BRIDGE),
}


def adapter_for_endpoint(endpoint: str) -> PlatformAdapter:
    platform, provider = ENDPOINTS[endpoint]
    return get_adapter(platform, provider)
