"""Which adapter serves which webhook endpoint. `WebhookLog.platform` stores the endpoint name, so a stored
delivery can always be replayed through the adapter that received it. Platform apps register their endpoints in
their AppConfig.ready() (`platforms.registry.register_endpoint`); this module only looks them up."""

from __future__ import annotations

from django.urls import reverse

from switchboard.platforms.registry import PlatformAdapter, endpoint_adapter, registered_endpoints


def endpoint_names() -> list[str]:
    return sorted(registered_endpoints())


def adapter_for_endpoint(endpoint: str) -> PlatformAdapter:
    return endpoint_adapter(endpoint)


def endpoint_path(endpoint: str) -> str:
    """The URL path of an endpoint (every endpoint's URL is named `webhook-<endpoint>`)."""
    return reverse(f"webhook-{endpoint}")
