"""The adapter protocol: how `inbox` and `webhooks` reach a platform without importing a platform app.

Each platform app registers one adapter per (platform, provider) in its AppConfig.ready(). Lookups go through
`get_adapter(platform, provider)` or `adapter_for(account)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from django.http import HttpRequest, HttpResponse

if TYPE_CHECKING:
    from switchboard.inbox.events import InboundEvent
    from switchboard.platforms.models import PlatformAccount


class WebhookRejected(Exception):
    """The delivery is refused: wrong signature (403), malformed body (400), too large (413)."""

    def __init__(self, message: str, status_code: int = 403, *, signature: bool = False) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.signature = signature


@dataclass(frozen=True)
class SendResult:
    """The outcome of adapter.send. `transient` errors are retried with backoff; permanent ones never."""

    platform_message_id: str = ""
    ok: bool = True
    error_code: str = ""
    error_message: str = ""
    transient: bool = False
    needs_reconnect: bool = False


class PlatformAdapter(Protocol):
    """What the webhook pipeline needs of a platform. Outbound sending, history sync and media download extend
    this protocol in their own issues (see docs/architecture.md)."""

    platform: str
    provider: str

    def verify(self, request: HttpRequest, account: PlatformAccount | None) -> None:
        """Raise WebhookRejected(signature=True) unless the delivery is authentic."""

    def handshake(self, request: HttpRequest) -> HttpResponse | None:
        """Answer a subscription handshake (Meta's GET hub.challenge), or None."""

    def route(self, request: HttpRequest, payload: Any) -> list[tuple[PlatformAccount, Any]]:
        """The active connected accounts the delivery is for, each with its part of the payload."""

    def parse(self, account: PlatformAccount, raw_event: Any) -> list[InboundEvent]:
        """Normalized events from one routed part (pure; ValueError when malformed)."""


_ADAPTERS: dict[tuple[str, str], PlatformAdapter] = {}


def register(adapter: PlatformAdapter) -> PlatformAdapter:
    _ADAPTERS[(adapter.platform, adapter.provider)] = adapter
    return adapter


def get_adapter(platform: str, provider: str) -> PlatformAdapter:
    try:
        return _ADAPTERS[(platform, provider)]
    except KeyError:
        raise LookupError(f"No adapter registered for {platform}/{provider}") from None


def adapter_for(account: PlatformAccount) -> PlatformAdapter:
    return get_adapter(account.platform, account.provider)


def registered() -> dict[tuple[str, str], PlatformAdapter]:
    return dict(_ADAPTERS)
