"""Fetching WhatsApp media for each provider. `fetch_media(attachment)` is what the WhatsApp adapters expose as
their `fetch_media` (the adapter protocol), so the inbox's media task reaches it through the registry.

* Cloud (Meta): the webhook carries a media id. `GET /{media-id}` with the account's token gives a URL valid for
  about five minutes, which is fetched with the same bearer. A 404 on that URL means it expired: ask for a new one.
* Twilio: every `MediaUrl{N}` is fetched with basic auth (AccountSid:AuthToken). The URL answers with a redirect to
  the file on Twilio's CDN; the redirect is followed (and checked) by the safe fetcher, which drops the credentials
  when the redirect leaves Twilio's API host. Credentials are only ever sent to Twilio's own hosts.
* Bridges (whatsapp-web.js, WAHA): the callback carries the media URL, relative or absolute, on the bridge's host
  (`credentials.base_url`); it is fetched with the bridge's API key. The bridge host is allowed in addition to
  `MEDIA_ALLOWED_HOSTS`, under the same address rules (no private networks).

Every download goes through `inbox.media.media_fetch`: allow list, address checks on each redirect hop, size limit.
"""

from __future__ import annotations

import base64
from urllib.parse import urljoin, urlsplit

from django.conf import settings

from switchboard.inbox.media import (
    Fetched,
    MediaFailed,
    MediaNotFound,
    MediaPolicy,
    MediaRejected,
    MediaTransientError,
    media_fetch,
)
from switchboard.inbox.models import Attachment
from switchboard.meta.graph import GraphClient, GraphError
from switchboard.platforms.models import PlatformAccount, Provider


def fetch_media(attachment: Attachment) -> Fetched:
    account = attachment.message.platform_account
    if account.provider == Provider.TWILIO:
        return fetch_twilio_media(attachment, account)
    if account.provider == Provider.BRIDGE:
        return fetch_bridge_media(attachment, account)
    return fetch_cloud_media(attachment, account)


# --- Cloud API ----------------------------------------------------------------------------------------------------
def _graph_failure(exc: GraphError) -> MediaFailed | MediaTransientError:
    if exc.transient:
        return MediaTransientError(f"Graph API: {exc}", status=exc.status)
    reason = f"Graph API: {exc}"
    if exc.needs_reconnect:
        reason += " — the account's access token is invalid or expired; reconnect the account"
    return MediaFailed(reason, status=exc.status)


def fetch_cloud_media(attachment: Attachment, account: PlatformAccount) -> Fetched:
    try:
        client = GraphClient(account.credential("access_token"))
    except GraphError as exc:
        raise _graph_failure(exc) from exc
    if not attachment.media_id:
        if attachment.source_url:  # some webhooks carry a URL instead of an id
            return client.media_download(attachment.source_url)
        raise MediaFailed("the webhook carried neither a media id nor a URL")

    def download_fresh_url() -> Fetched:
        try:
            media = client.media_get(attachment.media_id, phone_number_id=account.external_id)
        except GraphError as exc:
            raise _graph_failure(exc) from exc
        return client.media_download(media.url)

    # The URL Graph hands out lives for minutes; one 404 (expired) earns exactly one fresh lookup.
    try:
        return download_fresh_url()
    except MediaNotFound:
        return download_fresh_url()


# --- Twilio -------------------------------------------------------------------------------------------------------
def _is_twilio_host(host: str) -> bool:
    host = host.lower().rstrip(".")
    api_host = (urlsplit(settings.TWILIO_API_BASE).hostname or "").lower()
    return host == api_host or host == "twilio.com" or host.endswith(".twilio.com")


def twilio_auth_header(account: PlatformAccount) -> str:
    sid, token = account.credential("account_sid"), account.credential("auth_token")
    if not sid or not token:
        return ""
    return "Basic " + base64.b64encode(f"{sid}:{token}".encode()).decode()


def fetch_twilio_media(attachment: Attachment, account: PlatformAccount) -> Fetched:
    url = attachment.source_url
    if not url:
        raise MediaFailed("Twilio sent no MediaUrl for this attachment")
    headers = {}
    authorization = twilio_auth_header(account)
    # The account's auth token is a master credential: it goes to Twilio's API host only, whatever the URL says.
    if authorization and _is_twilio_host(urlsplit(url).hostname or ""):
        headers["Authorization"] = authorization
    return media_fetch(url, headers=headers)


# --- bridges ------------------------------------------------------------------------------------------------------
def fetch_bridge_media(attachment: Attachment, account: PlatformAccount) -> Fetched:
    base_url = account.credential("base_url")
    url = attachment.source_url
    if not url:
        raise MediaFailed("the bridge announced media but sent no download URL")
    if base_url and not urlsplit(url).scheme:
        url = urljoin(base_url.rstrip("/") + "/", url.lstrip("/"))
    bridge_host = (urlsplit(base_url).hostname or "").lower() if base_url else ""
    host = (urlsplit(url).hostname or "").lower()
    if not host:
        raise MediaRejected("the bridge's media URL names no host")
    headers = {}
    api_key = account.credential("api_key")
    if api_key and bridge_host and host == bridge_host:
        headers["X-Api-Key"] = api_key
    return media_fetch(url, headers=headers, policy=MediaPolicy.from_settings(extra_hosts=[bridge_host]))
