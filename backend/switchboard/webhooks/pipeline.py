"""The one webhook pipeline every platform endpoint runs: route → verify → log → parse → process → respond.

The raw delivery is committed as a `WebhookLog` before it is acknowledged, so whatever a platform delivered can be
inspected and replayed. Signatures are checked before the body is trusted, **for every account a delivery names**:
one delivery may hold parts for several accounts (Meta batches entries and changes), and a part is processed only
when the signature is valid for its own account. Parts the signature does not cover are refused and recorded on the
log (`refused_accounts`) — never processed, never broadcast. Which accounts a delivery proved is stored with it
(`verified_accounts`), and a replay processes those and no others: the signature itself is not stored.
A delivery with no connected account is acknowledged (200, `ignored`) so the platform stops retrying; processing runs
in one transaction per delivery.

An authentic delivery that cannot be parsed (a valid signature on a body that is not JSON, or that lacks a field the
parser needs) is refused 400 — unless its adapter sets `acknowledge_unparseable` (WhatsApp Cloud, Messenger,
Instagram): then it is answered 200 and stored `failed` with the reason, so the platform stops resending the same
bytes and a replay after the fix processes it; `webhook_unparseable_total` counts them. Parts that parse are
processed at once; a body that cannot be routed at all is kept for the accounts its signature proves
(`adapter.accounts_proven_by`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from switchboard.common.http import client_ip
from switchboard.inbox.services.ingest import MessageService, Outcome
from switchboard.platforms.delivery import Delivery
from switchboard.platforms.registry import PlatformAdapter, WebhookRejected
from switchboard.webhooks.metrics import (
    WEBHOOK_PROCESSING_SECONDS,
    WEBHOOK_REFUSED_ACCOUNTS,
    WEBHOOK_REQUESTS,
    WEBHOOK_SIGNATURE_ERRORS,
    WEBHOOK_UNPARSEABLE,
)
from switchboard.webhooks.models import WebhookLog, WebhookStatus

logger = logging.getLogger(__name__)

# Headers that carry secrets are stored redacted; signatures are kept as a fingerprint of their shape only.
_REDACTED_HEADERS = {"authorization", "cookie", "x-bridge-secret", "x-api-key", "proxy-authorization"}
_SIGNATURE_HEADERS = {"x-hub-signature-256", "x-hub-signature", "x-twilio-signature", "x-webhook-hmac"}
_REDACTED_QUERY_PARAMS = {"secret", "token", "api_key", "hub.verify_token"}
_INVALID_SIGNATURE_WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Authenticated:
    """What verification let through: the routed (account, part) pairs whose account the signature proves, and the
    accounts it does not prove (`{"account_id", "organization_id", "external_id", "reason"}` each)."""

    routed: list[tuple[Any, Any]]
    refused: list[dict[str, Any]]

    @property
    def verified_account_ids(self) -> list[int]:
        return list(dict.fromkeys(account.pk for account, _ in self.routed))


@dataclass(frozen=True)
class DeliveryResult:
    status: str
    event_count: int
    error: str = ""
    unparsed_parts: int = 0  # parts that could not be parsed (acknowledged adapters only; the rest was processed)


class Unparseable(Exception):
    """An authentic delivery whose body cannot be routed, from an adapter that acknowledges such deliveries: it is
    stored `failed` for the accounts its signature proves, and answered 200."""

    def __init__(self, reason: str, accounts: list[Any]) -> None:
        super().__init__(reason)
        self.accounts = accounts


def acknowledges_unparseable(adapter: PlatformAdapter) -> bool:
    return bool(getattr(adapter, "acknowledge_unparseable", False))


def redact_headers(request: HttpRequest) -> dict[str, str]:
    headers = {}
    for name, value in request.headers.items():
        lowered = name.lower()
        if lowered in _REDACTED_HEADERS:
            headers[name] = "[redacted]"
        elif lowered in _SIGNATURE_HEADERS:
            headers[name] = f"[signature, {len(value)} chars]"
        else:
            headers[name] = value
    return headers


def redact_query(query_string: str) -> str:
    pairs = parse_qsl(query_string, keep_blank_values=True)
    if not any(name in _REDACTED_QUERY_PARAMS for name, _ in pairs):
        return query_string
    return urlencode([(name, "[redacted]" if name in _REDACTED_QUERY_PARAMS else value) for name, value in pairs])


def decode_body(delivery: Delivery) -> Any:
    """JSON or form body → Python data. Raises WebhookRejected(400) when it is neither."""
    try:
        return delivery.payload
    except ValueError as exc:
        raise WebhookRejected(str(exc), 400) from exc


# --- invalid-signature rate limit (per client IP; valid traffic is never limited) -----------------------------------
def _invalid_key(ip: str | None) -> str:
    return f"webhook:badsig:{ip or 'unknown'}"


def _note_invalid_signature(ip: str | None) -> None:
    key = _invalid_key(ip)
    cache.add(key, 0, timeout=_INVALID_SIGNATURE_WINDOW_SECONDS)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=_INVALID_SIGNATURE_WINDOW_SECONDS)


def _over_invalid_limit(ip: str | None) -> bool:
    return (cache.get(_invalid_key(ip)) or 0) >= settings.INVALID_SIGNATURE_RATE_LIMIT


# --- the pipeline ------------------------------------------------------------------------------------------------
def receive_webhook(request: HttpRequest, adapter: PlatformAdapter, endpoint: str) -> HttpResponse:
    started = time.perf_counter()
    if request.method == "GET":
        response = adapter.handshake(request)
        return response or JsonResponse(
            {"detail": "Send deliveries with POST.", "code": "method_not_allowed"}, status=405
        )
    if request.method != "POST":
        return JsonResponse({"detail": "Send deliveries with POST.", "code": "method_not_allowed"}, status=405)

    ip = client_ip(request)
    try:
        too_large = len(request.body) > settings.WEBHOOK_MAX_BODY_BYTES
    except RequestDataTooBig:
        too_large = True
    if too_large:
        _finish_log(
            _start_log(request, endpoint, ip, b""), WebhookStatus.REJECTED, error="Body exceeds the size limit."
        )
        return _count(endpoint, WebhookStatus.REJECTED, started, _error(413, "The body exceeds the size limit."))

    delivery = Delivery.from_request(request)
    try:
        authenticated = _authenticate(delivery, adapter)
    except Unparseable as unparseable:
        # Authentic, but nothing in it can be routed: kept for the accounts the signature proves, acknowledged so
        # the platform does not resend the same bytes for days.
        log = _start_log(
            request, endpoint, ip, request.body, Authenticated([(a, None) for a in unparseable.accounts], [])
        )
        if len(unparseable.accounts) == 1:
            log.account_id, log.organization_id = unparseable.accounts[0].pk, unparseable.accounts[0].organization_id
        _finish_log(log, WebhookStatus.FAILED, error=str(unparseable), started=started)
        WEBHOOK_UNPARSEABLE.labels(platform=endpoint, stage="body").inc()
        logger.warning("webhook %s: authentic but unparseable, stored failed: %s", log.pk, unparseable)
        return _count(endpoint, WebhookStatus.FAILED, started, _acknowledge(adapter, WebhookStatus.FAILED))
    except WebhookRejected as rejection:
        if rejection.signature:
            WEBHOOK_SIGNATURE_ERRORS.labels(platform=endpoint).inc()
            # An IP that keeps sending bad signatures is answered without storing anything more.
            if _over_invalid_limit(ip):
                return _count(endpoint, "rate_limited", started, _error(429, "Too many invalid signatures."))
            _note_invalid_signature(ip)
        log = _start_log(request, endpoint, ip, request.body)
        _finish_log(log, WebhookStatus.REJECTED, error=str(rejection), started=started)
        return _count(endpoint, WebhookStatus.REJECTED, started, _error(rejection.status_code, str(rejection)))
    except Exception:
        # Routing itself broke (a bug, or the database): keep the raw delivery for inspection; the 500 makes the
        # platform retry. It is never replayed, since no account was proven.
        _finish_log(
            _start_log(request, endpoint, ip, request.body),
            WebhookStatus.FAILED,
            error="The delivery could not be routed and verified.",
            started=started,
        )
        raise

    log = _start_log(request, endpoint, ip, request.body, authenticated)
    if authenticated.refused:
        WEBHOOK_REFUSED_ACCOUNTS.labels(platform=endpoint).inc(len(authenticated.refused))
        logger.warning(
            "webhook %s: %d part(s) refused, the signature does not cover accounts %s",
            log.pk,
            len(authenticated.refused),
            [refusal["account_id"] for refusal in authenticated.refused],
        )
    routed = authenticated.routed
    result = process_routed(log, adapter, routed, started=started)
    if result.status == WebhookStatus.REJECTED:
        return _count(endpoint, result.status, started, _error(400, result.error))
    if result.unparsed_parts:
        WEBHOOK_UNPARSEABLE.labels(platform=endpoint, stage="event").inc()
    return _count(endpoint, result.status, started, _acknowledge(adapter, result.status))


def _acknowledge(adapter: PlatformAdapter, status: str) -> HttpResponse:
    acknowledgement = getattr(adapter, "acknowledgement", None)
    return acknowledgement() if acknowledgement else JsonResponse({"status": status})


def _authenticate(delivery: Delivery, adapter: PlatformAdapter) -> Authenticated:
    """Route, then verify the signature for each routed account on its own. Parts whose account the signature does
    not prove are refused; when it proves none of them (or, with nothing routed, fails the platform-wide secret),
    the whole delivery is rejected (403)."""
    routed = _route(delivery, adapter)
    if not routed:
        adapter.verify(delivery, None)
        return Authenticated([], [])
    proven: set[int] = set()
    refused: dict[int, dict[str, Any]] = {}
    first_rejection: WebhookRejected | None = None
    for account, _ in routed:
        if account.pk in proven or account.pk in refused:
            continue
        try:
            adapter.verify(delivery, account)
        except WebhookRejected as rejection:
            first_rejection = first_rejection or rejection
            refused[account.pk] = {
                "account_id": account.pk,
                "organization_id": account.organization_id,
                "external_id": account.external_id,
                "reason": str(rejection),
            }
        else:
            proven.add(account.pk)
    if not proven:
        assert first_rejection is not None  # every routed account was refused
        raise first_rejection
    return Authenticated([(account, part) for account, part in routed if account.pk in proven], list(refused.values()))


def _route(delivery: Delivery, adapter: PlatformAdapter) -> list[tuple[Any, Any]]:
    """Decode and route. A body that does not decode is still checked against the signature first (403 before
    400), so nobody learns anything about our parser without the secret."""
    try:
        payload = decode_body(delivery)
    except WebhookRejected as rejection:
        adapter.verify(delivery, None)
        _unparseable(delivery, adapter, f"Undecodable body: {rejection}")
        raise
    try:
        return adapter.route(delivery, payload)
    except ValueError as exc:
        adapter.verify(delivery, None)
        _unparseable(delivery, adapter, f"Malformed payload: {exc}")
        raise WebhookRejected(f"Malformed payload: {exc}", 400) from exc


def _unparseable(delivery: Delivery, adapter: PlatformAdapter, reason: str) -> None:
    """Raise Unparseable for an adapter that acknowledges authentic unparseable deliveries (the signature was just
    verified); return for the others, which refuse them 400."""
    if not acknowledges_unparseable(adapter):
        return
    proven_by = getattr(adapter, "accounts_proven_by", None)
    raise Unparseable(reason, list(proven_by(delivery)) if proven_by else [])


def process_routed(
    log: WebhookLog, adapter: PlatformAdapter, routed: list[tuple[Any, Any]], *, started: float | None = None
) -> DeliveryResult:
    """Parse and process a verified delivery in one transaction, and record how it ended on the log."""
    started = started if started is not None else time.perf_counter()
    if not routed:
        _finish_log(
            log,
            WebhookStatus.IGNORED,
            error="No active connected account for this delivery.",
            started=started,
        )
        return DeliveryResult(WebhookStatus.IGNORED, 0)
    parsed: list[tuple[Any, list[Any]]] = []
    unparsed: list[str] = []
    for account, raw_event in routed:
        try:
            parsed.append((account, adapter.parse(account, raw_event)))
        except (ValueError, KeyError, TypeError) as exc:
            if not acknowledges_unparseable(adapter):
                _finish_log(log, WebhookStatus.REJECTED, error=f"Malformed payload: {exc}", started=started)
                return DeliveryResult(WebhookStatus.REJECTED, 0, f"Malformed payload: {exc}")
            unparsed.append(str(exc))
    # An acknowledged adapter's parts that parse are processed now; the delivery stays failed for the others.
    unparsed_error = (
        f"Malformed payload: {unparsed[0]} ({len(unparsed)} of {len(routed)} parts could not be parsed; "
        "the others were processed)"
        if unparsed
        else ""
    )

    first = routed[0][0]
    log.account_id, log.organization_id = first.pk, first.organization_id
    outcomes: list[Outcome] = []
    try:
        with transaction.atomic():
            services: dict[int, MessageService] = {}
            for account, events in parsed:
                service = services.setdefault(account.pk, MessageService(account))
                outcomes.extend(service.handle(event) for event in events)
            for service in services.values():
                service.flush()
            # The log's final state commits with the messages: one commit (one fsync) less per delivery.
            status = WebhookStatus.FAILED if unparsed else _delivery_status(outcomes)
            _finish_log(log, status, event_count=len(outcomes), error=unparsed_error, started=started)
    except Exception as exc:
        logger.exception("webhook %s failed", log.pk)
        _finish_log(log, WebhookStatus.FAILED, error=f"{type(exc).__name__}: {exc}", started=started)
        return DeliveryResult(WebhookStatus.FAILED, 0, str(exc), unparsed_parts=len(unparsed))
    if unparsed:
        logger.warning("webhook %s: %s", log.pk, unparsed_error)
    return DeliveryResult(status, len(outcomes), unparsed_error, unparsed_parts=len(unparsed))


def _delivery_status(outcomes: list[Outcome]) -> str:
    if any(o in (Outcome.CREATED, Outcome.UPDATED) for o in outcomes):
        return WebhookStatus.PROCESSED
    if any(o == Outcome.DUPLICATE for o in outcomes):
        return WebhookStatus.DUPLICATE
    return WebhookStatus.IGNORED


def _start_log(
    request: HttpRequest, endpoint: str, ip: str | None, body: bytes, authenticated: Authenticated | None = None
) -> WebhookLog:
    return WebhookLog.objects.create(
        platform=endpoint,
        verified_accounts=authenticated.verified_account_ids if authenticated else [],
        refused_accounts=authenticated.refused if authenticated else [],
        method=request.method or "",
        path=request.path[:500],
        query_string=redact_query(request.META.get("QUERY_STRING", "")),
        headers=redact_headers(request),
        body=body.decode("utf-8", errors="replace"),
        remote_addr=ip,
    )


def _finish_log(
    log: WebhookLog, status: str, *, event_count: int = 0, error: str = "", started: float | None = None
) -> None:
    log.status = status
    log.event_count = event_count
    log.error = error[:5000]
    log.processed_at = timezone.now()
    if started is not None:
        log.processing_time_ms = round((time.perf_counter() - started) * 1000, 3)
    log.save(
        update_fields=[
            "status",
            "event_count",
            "error",
            "processed_at",
            "processing_time_ms",
            "account",
            "organization",
        ]
    )


def _error(status: int, detail: str) -> JsonResponse:
    codes = {400: "malformed", 403: "invalid_signature", 413: "too_large", 429: "rate_limited"}
    return JsonResponse({"detail": detail, "code": codes.get(status, "rejected")}, status=status)


def _count(endpoint: str, status: str, started: float, response: HttpResponse) -> HttpResponse:
    WEBHOOK_REQUESTS.labels(platform=endpoint, status=status).inc()
    WEBHOOK_PROCESSING_SECONDS.labels(platform=endpoint).observe(time.perf_counter() - started)
    return response


# --- replay ------------------------------------------------------------------------------------------------------
def delivery_from_log(log: WebhookLog) -> Delivery:
    """The delivery a stored log came in as, for replay (headers and query as stored, i.e. redacted: replays route
    and parse, they never verify)."""
    headers = dict(log.headers)
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "application/json")
    return Delivery(
        method=log.method or "POST",
        path=log.path,
        url=log.path + (f"?{log.query_string}" if log.query_string else ""),
        body=log.body.encode("utf-8"),
        content_type=content_type.split(";")[0].strip(),
        headers=headers,
        query=dict(parse_qsl(log.query_string, keep_blank_values=True)),
        client_ip=log.remote_addr,
    )


def replay_webhook(log: WebhookLog, adapter: PlatformAdapter) -> DeliveryResult:
    """Process a stored delivery again, as the first pass would have: only the parts of the accounts its signature
    proved when it arrived (`verified_accounts`). Rejected deliveries never replay; parts refused then, or accounts
    connected since, are never processed by a replay."""
    if log.status == WebhookStatus.REJECTED:
        return DeliveryResult(WebhookStatus.REJECTED, 0, "Rejected deliveries are never replayed.")
    delivery = delivery_from_log(log)
    WebhookLog.objects.filter(pk=log.pk).update(attempts=log.attempts + 1)
    log.attempts += 1
    try:
        routed = adapter.route(delivery, decode_body(delivery))
    except (WebhookRejected, ValueError) as exc:
        _finish_log(log, WebhookStatus.FAILED, error=f"Replay could not route: {exc}")
        return DeliveryResult(WebhookStatus.FAILED, 0, str(exc))
    proven = set(log.verified_accounts or [])
    return process_routed(log, adapter, [(account, part) for account, part in routed if account.pk in proven])
