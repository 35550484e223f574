"""Twilio's WhatsApp: the Messages API for sending and history, the Content API for approved templates.

* Sending: `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` (form: To, From or MessagingServiceSid, Body,
  MediaUrl…, ContentSid + ContentVariables for templates) with basic auth.
* History: the Messages list (`GET …/Messages.json?To=…` and `?From=…`, newest first, `next_page_uri` to the next
  page). Twilio's error body is `{"code", "message", "more_info", "status"}`.
* Templates: `GET https://content.twilio.com/v1/ContentAndApprovals`; the connection test reads `Accounts/{sid}.json`.

Every failure becomes a `SendResult` (platforms/registry.py): transient ones are retried by the send task, permanent
ones carry a sentence an agent understands (the code → sentence table is twilio_errors.py, shared with the status
callbacks). The sentence never quotes an exception or the vendor's own message; those go to `error_detail` (and
the log) for developers.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings
from django.urls import reverse

from switchboard.common.http import retry_after_seconds
from switchboard.inbox.events import ContactProfile, InboundEvent, InboundMessage
from switchboard.inbox.models import MessageKind
from switchboard.meta.templates import parameter_count, template
from switchboard.platforms.models import PlatformAccount
from switchboard.platforms.registry import SendResult
from switchboard.whatsapp.parsers import as_dict
from switchboard.whatsapp.parsers import twilio as twilio_parser
from switchboard.whatsapp.twilio_errors import (
    TWILIO_RECONNECT_CODES,
    TWILIO_SENTENCES,
    TWILIO_TRANSIENT_CODES,
    twilio_code,
)

logger = logging.getLogger(__name__)

TIMEOUT = (5, 30)  # (connect, read) seconds

# --- Twilio -----------------------------------------------------------------------------------------------------------
TWILIO_API_VERSION = "2010-04-01"


def twilio_address(number_or_id: str) -> str:
    value = number_or_id.strip()
    if value.lower().startswith("whatsapp:"):
        return value
    return f"whatsapp:{value}"


def twilio_auth(account: PlatformAccount) -> tuple[str, str]:
    return account.credential("account_sid"), account.credential("auth_token")


def twilio_messages_url(account: PlatformAccount) -> str:
    sid = account.credential("account_sid")
    return f"{settings.TWILIO_API_BASE.rstrip('/')}/{TWILIO_API_VERSION}/Accounts/{sid}/Messages.json"


def twilio_classify(response: requests.Response | None, exc: Exception | None = None) -> SendResult:
    """Twilio's answer (or a network error) as a SendResult."""
    if response is None:
        return SendResult.failure(
            "network",
            "Twilio could not be reached (a network problem or a timeout).",
            transient=True,
            detail=f"Twilio request failed: {type(exc).__name__}: {exc}",
        )
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = {}
    code = twilio_code(body.get("code")) if isinstance(body, dict) else None
    vendor_message = str(body.get("message") or "") if isinstance(body, dict) else ""
    more_info = str(body.get("more_info") or "") if isinstance(body, dict) else ""
    detail = " · ".join(
        part
        for part in (f"Twilio answered HTTP {status}", f"code {code}" if code else "", vendor_message, more_info)
        if part
    )
    retry_after = retry_after_seconds(response.headers.get("Retry-After"))
    if code in TWILIO_RECONNECT_CODES or status == 401:
        return SendResult.failure(
            str(code or "http_401"),
            TWILIO_SENTENCES[20003],
            needs_reconnect=True,
            retry_after=retry_after,
            detail=detail,
        )
    if code in TWILIO_TRANSIENT_CODES or status == 429 or status >= 500:
        return SendResult.failure(
            str(code or f"http_{status}"),
            "Twilio is busy or unreachable right now.",
            transient=True,
            retry_after=retry_after,
            detail=detail,
        )
    sentence = TWILIO_SENTENCES.get(code or 0) or (
        f"Twilio refused this message (error {code})." if code else f"Twilio refused this message (HTTP {status})."
    )
    return SendResult.failure(str(code or f"http_{status}"), sentence, detail=detail)


def twilio_status_callback_url(account: PlatformAccount) -> str:
    """`PUBLIC_BASE_URL` + `/api/webhooks/twilio/<account id>/status/`: where Twilio reports this account's sends."""
    path = reverse("webhook-twilio-status", kwargs={"account_id": account.pk})
    return str(settings.PUBLIC_BASE_URL).rstrip("/") + path


def twilio_send(account: PlatformAccount, form: dict[str, Any]) -> SendResult:
    """POST one message to the Messages API; the Message SID or the classified error."""
    form = dict(form)
    service_sid = account.credential("messaging_service_sid")
    if service_sid:
        form.setdefault("MessagingServiceSid", service_sid)
    else:
        form.setdefault("From", twilio_address(account.phone_number or account.external_id))
    if settings.PUBLIC_BASE_URL:
        # Statuses come back even when the sender's console configuration names no callback, to a URL that names
        # the account: a callback without From / To (trimmed, forwarded) still reaches it. Twilio signs this URL.
        form.setdefault("StatusCallback", twilio_status_callback_url(account))
    try:
        response = requests.post(
            twilio_messages_url(account), data=form, auth=twilio_auth(account), timeout=TIMEOUT, allow_redirects=False
        )
    except requests.RequestException as exc:
        return twilio_classify(None, exc)
    if response.status_code >= 300:
        return twilio_classify(response)
    try:
        sid = response.json().get("sid")
    except ValueError:
        sid = None
    return SendResult(platform_message_id=str(sid)) if sid else SendResult(ok=True)


def twilio_content_variables(template: dict[str, Any]) -> dict[str, str]:
    """Cloud-style template components → Twilio ContentVariables {"1": …, "2": …} (body parameters, in order)."""
    variables: dict[str, str] = {}
    for component in template.get("components") or []:
        if not isinstance(component, dict) or component.get("type", "body") != "body":
            continue
        for parameter in component.get("parameters") or []:
            if isinstance(parameter, dict):
                variables[str(len(variables) + 1)] = str(parameter.get("text", ""))
    return variables


class TwilioError(Exception):
    def __init__(self, result: SendResult) -> None:
        super().__init__(result.error_message)
        self.result = result


def _twilio_get(account: PlatformAccount, url: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    try:
        response = requests.get(url, params=params, auth=twilio_auth(account), timeout=TIMEOUT, allow_redirects=False)
    except requests.RequestException as exc:
        raise TwilioError(twilio_classify(None, exc)) from exc
    if response.status_code >= 300:
        raise TwilioError(twilio_classify(response))
    try:
        body = response.json()
    except ValueError as exc:
        raise TwilioError(
            SendResult.failure(
                "invalid_json",
                "Twilio answered in a way Switchboard did not expect.",
                detail=f"Twilio answered HTTP {response.status_code} with a body that is not JSON: {exc}",
            )
        ) from exc
    return body if isinstance(body, dict) else {}


def twilio_account_check(account: PlatformAccount) -> dict[str, Any]:
    """The connection test: `GET /2010-04-01/Accounts/{AccountSid}.json` with the account's credentials. Raises
    TwilioError (a refused auth token: needs_reconnect)."""
    sid, token = twilio_auth(account)
    if not sid or not token:
        raise TwilioError(
            SendResult.failure(
                "no_credentials",
                TWILIO_SENTENCES[20003],
                needs_reconnect=True,
                detail="the account has no account_sid or auth_token credential",
            )
        )
    body = _twilio_get(account, f"{settings.TWILIO_API_BASE.rstrip('/')}/{TWILIO_API_VERSION}/Accounts/{sid}.json")
    status = str(body.get("status") or "")
    name = str(body.get("friendly_name") or "")
    if status and status != "active":
        return {"ok": False, "status": status, "error": f"the Twilio account is {status}"}
    return {
        "ok": True,
        "status": status,
        "friendly_name": name,
        "detail": f"Connected to the Twilio account {name or sid}.",
    }


# --- Twilio Content API: the account's approved WhatsApp templates -------------------------------------------------
TWILIO_DEFAULT_API_BASE = "https://api.twilio.com"
TWILIO_DEFAULT_CONTENT_BASE = "https://content.twilio.com"


def twilio_content_base() -> str:
    """The Content API has a host of its own: TWILIO_CONTENT_API_BASE when set; else Twilio's, unless
    TWILIO_API_BASE points somewhere else than Twilio (a test server, a proxy), which then serves both — so a setup
    that keeps the Messages API off the internet keeps the Content API off it too."""
    configured = str(getattr(settings, "TWILIO_CONTENT_API_BASE", "") or "").rstrip("/")
    if configured:
        return configured
    api_base = str(settings.TWILIO_API_BASE or TWILIO_DEFAULT_API_BASE).rstrip("/")
    return TWILIO_DEFAULT_CONTENT_BASE if api_base == TWILIO_DEFAULT_API_BASE else api_base


TWILIO_CONTENT_PAGE_SIZE = 500  # Twilio's recommended maximum (answers are capped at 1 MB)
TWILIO_CONTENT_MAX_PAGES = 10


def _twilio_approval(item: dict[str, Any]) -> dict[str, Any]:
    """`approval_requests` of a ContentAndApprovals item: flat (`{"status", "category", "name", …}`, as Twilio's
    spec shows it) or keyed by channel (`{"whatsapp": {…}}`, as the single-content endpoint answers)."""
    approval = item.get("approval_requests")
    if isinstance(approval, list):
        approval = next((entry for entry in approval if isinstance(entry, dict)), None)
    if not isinstance(approval, dict):
        return {}
    if isinstance(approval.get("whatsapp"), dict):
        return approval["whatsapp"]
    return approval


def _twilio_template_body(types: Any) -> str:
    if not isinstance(types, dict):
        return ""
    preferred = types.get("twilio/text")
    candidates = [preferred, *types.values()] if isinstance(preferred, dict) else list(types.values())
    for value in candidates:
        if isinstance(value, dict) and isinstance(value.get("body"), str) and value["body"]:
            return value["body"]
    return ""


def twilio_template(item: Any) -> dict[str, Any] | None:
    """One ContentAndApprovals item as a template, or None unless WhatsApp approved it. Its `name` is the Content
    SID (`HX…`): what a template send on Twilio names (`ContentSid`)."""
    if not isinstance(item, dict) or not str(item.get("sid") or "").startswith("HX"):
        return None
    approval = _twilio_approval(item)
    status = str(approval.get("status") or "")
    if status.lower() != "approved":
        return None
    body = _twilio_template_body(item.get("types"))
    result = template(
        name=str(item["sid"]),
        display_name=str(item.get("friendly_name") or approval.get("name") or item["sid"]),
        language=str(item.get("language") or ""),
        category=str(approval.get("category") or ""),
        status=status,
        body=body,
    )
    variables = item.get("variables")
    if not parameter_count(body) and isinstance(variables, dict):
        result["parameter_count"] = len(variables)
    return result


def twilio_templates(account: PlatformAccount) -> list[dict[str, Any]]:
    """`GET https://content.twilio.com/v1/ContentAndApprovals`, following `meta.next_page_url` (only on the
    Content API's own host: the credentials never go anywhere else). Raises TwilioError."""
    base = twilio_content_base()
    url: str | None = f"{base}/v1/ContentAndApprovals"
    params: dict[str, Any] | None = {"PageSize": TWILIO_CONTENT_PAGE_SIZE}
    found: list[dict[str, Any]] = []
    for _ in range(TWILIO_CONTENT_MAX_PAGES):
        if url is None:
            break
        page = _twilio_get(account, url, params)
        params = None  # the next page's URL carries every parameter
        contents = page.get("contents")
        for item in contents if isinstance(contents, list) else []:
            parsed = twilio_template(item)
            if parsed is not None:
                found.append(parsed)
        meta = as_dict(page.get("meta"))
        url = _same_origin(base, meta.get("next_page_url"))
    return found


def _same_origin(base: str, url: Any) -> str | None:
    """`url` when it is on `base`'s scheme and host (else None): a next-page link is followed, never a redirect of
    the credentials elsewhere."""
    if not isinstance(url, str) or not url:
        return None
    wanted, given = urlsplit(base), urlsplit(urljoin(base + "/", url))
    if (given.scheme, given.netloc) != (wanted.scheme, wanted.netloc):
        return None
    return given.geturl()


def twilio_history(account: PlatformAccount, since: datetime | None, *, page_size: int = 100) -> Iterator[InboundEvent]:
    """Messages to and from the account's number since `since`, as events: inbound ones as the webhook would have
    delivered them, ours as echoes plus their current status. Each direction is walked newest first to the end or
    to `since`; the events are yielded oldest first."""
    ours = twilio_address(account.phone_number or account.external_id)
    collected: list[tuple[datetime, list[InboundEvent]]] = []
    for direction_param in ("To", "From"):
        first_page: dict[str, Any] = {direction_param: ours, "PageSize": page_size}
        if since is not None:
            # Twilio filters by day (GMT); the exact cut is made below.
            first_page["DateSent>"] = (since - timedelta(days=1)).strftime("%Y-%m-%d")
        params: dict[str, Any] | None = first_page
        url: str | None = twilio_messages_url(account)
        while url:
            page = _twilio_get(account, url, params)
            params = None  # the next_page_uri carries every parameter
            for item in page.get("messages") or []:
                if not isinstance(item, dict):
                    continue
                sent = _twilio_time(item.get("date_sent") or item.get("date_created"))
                if since is not None and sent is not None and sent < since:
                    url = None
                    break
                events = _twilio_events(account, item, sent)
                if events:
                    collected.append((sent or _EPOCH, events))
            else:
                next_uri = page.get("next_page_uri")
                url = urljoin(settings.TWILIO_API_BASE.rstrip("/") + "/", next_uri.lstrip("/")) if next_uri else None
    collected.sort(key=lambda pair: pair[0])
    for _, events in collected:
        yield from events


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _twilio_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(str(value))
    except (TypeError, ValueError):
        return None


def _twilio_media_urls(account: PlatformAccount, item: dict[str, Any]) -> list[tuple[str, str]]:
    """(MediaUrl, content type) of every media item of a listed message (its Media subresource)."""
    try:
        count = int(item.get("num_media") or 0)
    except ValueError:
        count = 0
    media_uri = ((item.get("subresource_uris") or {}).get("media")) if isinstance(item, dict) else None
    if not count or not media_uri:
        return []
    base = settings.TWILIO_API_BASE.rstrip("/")
    listing = _twilio_get(account, base + media_uri)
    found = []
    for media in listing.get("media_list") or []:
        uri = str(media.get("uri") or "")
        if uri:
            # The webhook's MediaUrl is the media resource without `.json`: the same URL the media task fetches.
            found.append((base + uri.removesuffix(".json"), str(media.get("content_type") or "")))
    return found


def _twilio_events(account: PlatformAccount, item: dict[str, Any], sent: datetime | None) -> list[InboundEvent]:
    sid = str(item.get("sid") or "")
    if not sid:
        return []
    at = sent or datetime.now(UTC)
    direction = str(item.get("direction") or "")
    if direction == "inbound":
        params: dict[str, str] = {
            "MessageSid": sid,
            "AccountSid": str(item.get("account_sid") or ""),
            "From": str(item.get("from") or ""),
            "To": str(item.get("to") or ""),
            "Body": str(item.get("body") or ""),
        }
        for index, (url, content_type) in enumerate(_twilio_media_urls(account, item)):
            params[f"MediaUrl{index}"] = url
            params[f"MediaContentType{index}"] = content_type
        params["NumMedia"] = str(sum(1 for key in params if key.startswith("MediaUrl")))
        return twilio_parser.parse(params, now=at)
    # Ours (sent through the API or from the console): an echo, so it is never taken for the customer's, plus where
    # it got to — statuses that reached no webhook catch up here.
    customer = twilio_parser.strip_prefix(str(item.get("to") or ""))
    if not customer:
        return []
    events: list[InboundEvent] = [
        InboundMessage(
            platform_message_id=sid,
            contact=ContactProfile(external_id=customer, phone_number=customer if customer.startswith("+") else ""),
            timestamp=at,
            kind=MessageKind.TEXT,
            text=str(item.get("body") or ""),
            is_echo=True,
            raw=item,
        )
    ]
    status_params = {
        "MessageSid": sid,
        "MessageStatus": str(item.get("status") or ""),
        "ErrorCode": str(item.get("error_code") or ""),
        "ErrorMessage": str(item.get("error_message") or ""),
        "From": str(item.get("from") or ""),
        "To": str(item.get("to") or ""),
    }
    if twilio_parser.is_status_callback(status_params):
        events.extend(twilio_parser.parse(status_params, now=at))
    return events
