"""A small Graph API client: what Instagram, Messenger and WhatsApp Cloud share.

* Base URL and version come from settings (`GRAPH_API_BASE`, `GRAPH_API_VERSION`) so tests point them at 127.0.0.1.
* Every call carries the account's bearer token (never in the query string, where it would reach access logs).
* Meta's JSON error envelope `{"error": {"message", "type", "code", "error_subcode", "fbtrace_id", ...}}` becomes
  a `GraphError` that says whether retrying can help (`transient`) and whether the account must be reconnected
  (`needs_reconnect`, code 190 and friends), and keeps the answer's `Retry-After` (`retry_after`, seconds) so the
  send's next attempt never comes sooner. The transient codes are one table, `TRANSIENT_CODE_TITLES`, which
  docs/outbound.md shows.
* Media: `media_get(media_id)` looks up a WhatsApp media object (its short-lived `url`, `mime_type`, `sha256`,
  `file_size`); `media_download(url)` fetches that URL with the same bearer through the SSRF-safe fetcher of
  `inbox.media` (allow list, address checks on every redirect hop, size limit while streaming).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings

from switchboard.common.http import retry_after_seconds
from switchboard.inbox.media import Fetched, media_fetch

# Codes Meta documents as "try again later" — the one table of transient Graph codes. The code reads it and
# docs/outbound.md shows it (meta/tests/test_transient_table.py fails when the two differ): code → Meta's title.
# Not here, on purpose: 368 ("temporarily blocked for policies violations": a block of hours or days, which a
# backoff of seconds cannot outlast — the message fails at once with a sentence saying so, and the agent retries
# later) and 133005 (a two-step verification PIN mismatch: a registration error, wrong until someone fixes it).
TRANSIENT_CODE_TITLES: dict[int, str] = {
    1: "API Unknown: possibly a temporary issue due to downtime",
    2: "API Service: temporary issue due to downtime",
    4: "API Too Many Calls: application rate limit",
    17: "API User Too Many Calls: user rate limit",
    32: "Page-level rate limit",
    341: "Application limit reached",
    613: "Calls to this API have exceeded the rate limit",
    80001: "Business use case rate limit: Pages",
    80002: "Business use case rate limit: Instagram",
    80003: "Business use case rate limit: Custom Audience",
    80004: "Business use case rate limit: Ads management",
    80005: "Business use case rate limit: LeadGen",
    80006: "Business use case rate limit: Messenger",
    80007: "Rate limit: WhatsApp Business Account",
    80008: "Business use case rate limit: WhatsApp Business Management",
    80009: "Business use case rate limit: Catalog Management",
    80014: "Business use case rate limit: Catalog Batch",
    130429: "Rate limit hit: Cloud API message throughput",
    131000: "Something went wrong (unknown error, try again)",
    131016: "Service unavailable",
    131056: "Pair rate limit hit: too many messages to the same number",
    133004: "Server temporarily unavailable",
}
TRANSIENT_CODES = frozenset(TRANSIENT_CODE_TITLES)
# The token is invalid, expired, or lost its permissions: no retry helps, the account must be reconnected.
RECONNECT_CODES = frozenset({102, 190, 463, 467})
DEFAULT_TIMEOUT = (5, 30)  # (connect, read) seconds


class GraphError(Exception):
    """A failed Graph API call, with Meta's own classification fields."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        subcode: int | None = None,
        type: str = "",
        fbtrace_id: str = "",
        transient: bool = False,
        needs_reconnect: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.subcode = subcode
        self.type = type
        self.fbtrace_id = fbtrace_id
        self.transient = transient
        self.needs_reconnect = needs_reconnect
        self.retry_after = retry_after  # seconds, from the answer's Retry-After header: never retry sooner

    def __str__(self) -> str:
        parts = [self.message]
        if self.code is not None:
            parts.append(f"code {self.code}" + (f"/{self.subcode}" if self.subcode else ""))
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.fbtrace_id:
            parts.append(f"fbtrace_id {self.fbtrace_id}")
        return " · ".join(parts)

    @classmethod
    def from_response(cls, response: requests.Response) -> GraphError:
        """Parse Meta's envelope; a body that is not the envelope (a proxy's HTML 502) still classifies by status.
        A `Retry-After` header (seconds) is kept, whatever the body: the send's next attempt waits at least that."""
        status = response.status_code
        retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        try:
            body = response.json()
        except ValueError:
            body = None
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict):
            return cls(
                f"Graph API answered HTTP {status}",
                status=status,
                transient=status >= 500 or status in (408, 429),
                retry_after=retry_after,
            )
        code = _as_int(error.get("code"))
        subcode = _as_int(error.get("error_subcode"))
        needs_reconnect = code in RECONNECT_CODES
        transient = not needs_reconnect and (
            bool(error.get("is_transient")) or code in TRANSIENT_CODES or status >= 500 or status == 429
        )
        return cls(
            str(error.get("error_user_msg") or error.get("message") or f"Graph API answered HTTP {status}"),
            status=status,
            code=code,
            subcode=subcode,
            type=str(error.get("type") or ""),
            fbtrace_id=str(error.get("fbtrace_id") or ""),
            transient=transient,
            needs_reconnect=needs_reconnect,
            retry_after=retry_after,
        )


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class MediaObject:
    """WhatsApp Cloud `GET /{media-id}`: the URL is valid for about five minutes and needs the same bearer."""

    id: str
    url: str
    mime_type: str = ""
    sha256: str = ""
    file_size: int | None = None


class GraphClient:
    """`GraphClient(access_token)`; one instance per account and job (it holds a requests session)."""

    def __init__(
        self,
        access_token: str,
        *,
        base_url: str | None = None,
        version: str | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        session: requests.Session | None = None,
    ) -> None:
        if not access_token:
            raise GraphError("The account has no access token.", code=190, needs_reconnect=True)
        self.access_token = access_token
        self.base_url = (base_url or settings.GRAPH_API_BASE).rstrip("/")
        self.version = (version or settings.GRAPH_API_VERSION).strip("/")
        self.timeout = timeout
        self.session = session or requests.Session()

    def url(self, path: str) -> str:
        return f"{self.base_url}/{self.version}/{path.lstrip('/')}"

    def request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.access_token}", **kwargs.pop("headers", {})}
        try:
            # Graph itself never redirects API calls; refusing redirects keeps the bearer on Meta's host.
            response = self.session.request(
                method, self.url(path), headers=headers, timeout=self.timeout, allow_redirects=False, **kwargs
            )
        except requests.Timeout as exc:
            raise GraphError(f"Graph API timed out: {exc}", transient=True) from exc
        except requests.ConnectionError as exc:
            raise GraphError(f"Graph API unreachable: {exc}", transient=True) from exc
        if response.status_code >= 300:
            raise GraphError.from_response(response)
        try:
            body = response.json()
        except ValueError as exc:
            raise GraphError("Graph API answered with a body that is not JSON", status=response.status_code) from exc
        if isinstance(body, dict) and isinstance(body.get("error"), dict):  # an error envelope with a 200
            raise GraphError.from_response(response)
        return body if isinstance(body, dict) else {"data": body}

    def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.request("GET", path, params=params or {})

    # --- media ----------------------------------------------------------------------------------------------------
    def media_get(self, media_id: str, *, phone_number_id: str = "") -> MediaObject:
        """Look a media id up. `phone_number_id` makes Meta check the media belongs to that number."""
        if not media_id or "/" in media_id or "?" in media_id:
            raise GraphError(f"Not a media id: {media_id!r}")
        body = self.get(media_id, {"phone_number_id": phone_number_id} if phone_number_id else None)
        url = body.get("url")
        if not isinstance(url, str) or not url:
            raise GraphError(f"The media object {media_id} has no download URL")
        return MediaObject(
            id=str(body.get("id") or media_id),
            url=url,
            mime_type=str(body.get("mime_type") or ""),
            sha256=str(body.get("sha256") or ""),
            file_size=_as_int(body.get("file_size")),
        )

    def media_download(self, url: str) -> Fetched:
        """Download a media URL with the bearer, through the SSRF-safe fetcher (returns `inbox.media.Fetched`)."""
        return media_fetch(url, headers={"Authorization": f"Bearer {self.access_token}"})
