"""Webhook endpoints: unauthenticated (platforms sign their deliveries instead), CSRF-exempt, synchronous."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from switchboard.webhooks.endpoints import adapter_for_endpoint, endpoint_names
from switchboard.webhooks.pipeline import receive_webhook


def webhook_endpoint(endpoint: str) -> Callable[[HttpRequest], HttpResponse]:
    if endpoint not in endpoint_names():
        raise ValueError(f"Unknown webhook endpoint {endpoint}")

    @csrf_exempt
    def view(request: HttpRequest) -> HttpResponse:
        return receive_webhook(request, adapter_for_endpoint(endpoint), endpoint)

    view.__name__ = f"{endpoint}_webhook"
    return view
