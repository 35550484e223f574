"""The adapter protocol: how `inbox` and `webhooks` reach a platform without importing a platform app.

Each platform app registers one adapter per (platform, provider) in its AppConfig.ready(). Lookups go through
`get_adapter(platform, provider)` or `adapter_for(account)`.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from switchboard.inbox.events import InboundEvent
    from switchboard.inbox.models import Message
    from switchboard.platforms.delivery import Delivery
    from switchboard.platforms.models import PlatformAccount


class WebhookRejected(Exception):
    """The delivery is refused: wrong signature (403), malformed body (400), too large (413)."""

    def __init__(self, message: str, status_code: int = 403, *, signature: bool = False) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.signature = signature


@dataclass(frozen=True)
class SendResult:
    """The outcome of adapter.send (and of mark_read). `transient` errors are retried with backoff; permanent ones
    never. `error_message` is a sentence an agent understands (never a library's exception text); `error_detail` is
    the technical detail for developers (the exception, the vendor's own message and trace id); `error_code` the
    vendor's own code (e.g. "131047", "21211", "http_503"). `retry_after` is the vendor's Retry-After in seconds,
    when it sent one."""

    platform_message_id: str = ""
    ok: bool = True
    error_code: str = ""
    error_message: str = ""
    transient: bool = False
    needs_reconnect: bool = False
    retry_after: float | None = None
    error_detail: str = ""

    @classmethod
    def failure(
        cls,
        code: str,
        message: str,
        *,
        transient: bool = False,
        needs_reconnect: bool = False,
        retry_after: float | None = None,
        detail: str = "",
    ) -> SendResult:
        return cls(
            ok=False,
            error_code=str(code)[:32],
            error_message=message,
            transient=transient,
            needs_reconnect=needs_reconnect,
            retry_after=retry_after,
            error_detail=detail,
        )


# A listing card whose listing was deleted before the send task ran (inbox/sendable.py `listing_card` is None).
LISTING_GONE = SendResult.failure("listing_missing", "The listing of this card no longer exists.")


def send_in_parts(parts: Sequence[Callable[[], SendResult]], *, what: str = "") -> SendResult:
    """Send one of our messages that the platform takes as several (a card: its cover, then its other photos). The
    first part's answer is the message's: its failure is the message's, retried whole (nothing was sent). Once it is
    accepted the others follow; one of them failing loses only that part — logged, and said in the `error_detail` of
    the sent message, never sent twice by retrying the whole."""
    first = parts[0]()
    if not first.ok or len(parts) == 1:
        return first
    missed = []
    for number, part in enumerate(parts[1:], start=2):
        result = part()
        if not result.ok:
            missed.append(f"part {number}: {result.error_code} ({result.error_detail or result.error_message})")
    if not missed:
        return first
    detail = f"{len(missed)} of the {len(parts)} messages after the first were not sent: " + "; ".join(missed)
    logger.warning("%s: %s", what or "send", detail)
    return dataclasses.replace(first, error_detail=detail)


class PlatformError(Exception):
    """A vendor call outside sending that failed (history, health checks), its answer classified like a send:
    `result.needs_reconnect` when the credentials are refused, `result.transient` when later may work."""

    def __init__(self, result: SendResult) -> None:
        super().__init__(result.error_message)
        self.result = result


class PlatformAdapter(Protocol):
    """What the webhook pipeline, the outbound pipeline and the sync jobs need of a platform.

    Inbound: `verify`, `handshake`, `route`, `parse`. verify and route take a frozen `Delivery` (platforms/delivery.py),
    built from the request live and from the stored log on replay; `handshake` answers Meta's GET with the request.
    Outbound and sync (docs/outbound.md):
    * `send(message) -> SendResult` — deliver one stored outbound `Message` (its account, conversation and contact
      are loaded); never raises for a vendor error, it classifies it (transient / permanent / needs reconnect).
    * `mark_read(message) -> SendResult` — tell the customer an inbound message was read (WhatsApp Cloud `read`
      status, Messenger / Instagram `mark_seen`); optional: adapters without it send no read receipts.
    * `fetch_media(attachment) -> inbox.media.Fetched | bytes` — optional: download a pending attachment through
      `inbox.media.media_fetch` (allow list, address checks, size limit); without it the media task fetches the
      attachment's `source_url` unauthenticated (Messenger / Instagram CDN URLs). docs/media.md.
    * `fetch_history(account, since) -> Iterable[InboundEvent]` — what the platform holds since `since` (None:
      everything it keeps), as the same events the parsers produce, each conversation oldest first. Raises
      `PlatformError` when the account cannot be read.
    * `check_health(account) -> dict` — optional: a cheap authenticated call that proves the credentials work
      (raises `PlatformError`).
    """

    # Read-only members: an adapter names them with the Platform / Provider choice (a str).
    @property
    def platform(self) -> str: ...

    @property
    def provider(self) -> str: ...

    def verify(self, delivery: Delivery, account: PlatformAccount | None) -> None:
        """Raise WebhookRejected(signature=True) unless the delivery is authentic for `account` (None: the delivery
        names no connected account; check it against the platform-wide secret, if any)."""

    def handshake(self, request: HttpRequest) -> HttpResponse | None:
        """Answer a subscription handshake (Meta's GET hub.challenge), or None."""

    def route(self, delivery: Delivery, payload: Any) -> list[tuple[PlatformAccount, Any]]:
        """The active connected accounts the delivery is for, each with its part of the payload."""

    def parse(self, account: PlatformAccount, raw_event: Any) -> list[InboundEvent]:
        """Normalized events from one routed part (pure; ValueError when malformed)."""

    def send(self, message: Message) -> SendResult:
        """Send one outbound message; the vendor's answer classified."""

    def fetch_history(self, account: PlatformAccount, since: datetime | None) -> Iterable[InboundEvent]:
        """The account's messages since `since`, as inbound events (sync jobs)."""


_ADAPTERS: dict[tuple[str, str], PlatformAdapter] = {}
# Webhook endpoints: the name (stored as WebhookLog.platform) → the adapter whose inbound half (handshake, route,
# verify, parse, acknowledgement) serves it. Usually the account adapter of that (platform, provider); the sandbox
# endpoints speak a Meta format but route to sandbox accounts only.
_ENDPOINTS: dict[str, PlatformAdapter] = {}


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


def register_endpoint(name: str, adapter: PlatformAdapter) -> PlatformAdapter:
    _ENDPOINTS[name] = adapter
    return adapter


def endpoint_adapter(name: str) -> PlatformAdapter:
    try:
        return _ENDPOINTS[name]
    except KeyError:
        raise LookupError(f"No webhook endpoint {name!r} is registered") from None


def endpoint_for(platform: str, provider: str) -> str:
    """The endpoint that receives deliveries for accounts of (platform, provider)."""
    for name, adapter in _ENDPOINTS.items():
        if (adapter.platform, adapter.provider) == (platform, provider):
            return name
    raise LookupError(f"No webhook endpoint receives {platform}/{provider} deliveries")


def registered_endpoints() -> dict[str, PlatformAdapter]:
    return dict(_ENDPOINTS)
