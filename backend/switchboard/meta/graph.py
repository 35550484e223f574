"""A small Graph API client: what Instagram, Messenger and WhatsApp Cloud share.

* Base URL and version come from settings (`GRAPH_API_BASE`, `GRAPH_API_VERSION`) so tests point them at 127.0.0.1.
* Every call carries the account's bearer token (never in the query string, where it would reach access logs).
* Meta's JSON error envelope `{"error": {"message", "type", "code", "error_subcode", "fbtrace_id", ...}}` becomes
  a `GraphError` that says whether retrying can help (`transient`) and whether the account must be reconnected
  (`needs_reconnect`, code 190 and friends). Sending messages extends this client in the outbound issue.
* Media: `media_get(media_id)` looks up a WhatsApp media object (its short-lived `url`, `mime_type`, `sha256`,
  `file_size`); `media_download(url)` fetches that URL with the same bearer through the SSRF-safe fetcher of
  `inbox.media` (allow list, address checks on every redirect hop, size limit while streaming).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings

from switchboard.inbox.media import Fetched, media_fetch

# Codes Meta documents as "try again later": API / app / user / page rate limits, temporary outages, and the
# WhatsApp Cloud throughput and service errors.
TRANSIENT_CODES = frozenset(
    {1, 2, 4, 17, 32, 341, 613}
    | set(range(80000, 80015))  # business-use-case rate limits (pages, Instagram, WhatsApp Business accounts)
    | {130429, 131000, 131016, 131056, 133004}
)
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
        """Parse Meta's envelope; a body that is not the envelope (a proxy's HTML 502) still classifies by status."""
        status = response.status_code
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
