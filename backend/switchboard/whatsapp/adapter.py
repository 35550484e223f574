"""WhatsApp adapters for the three providers: Cloud API (Meta), Twilio, and WhatsApp-Web bridges."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from twilio.request_validator import RequestValidator

from switchboard.inbox.events import InboundEvent
from switchboard.inbox.phones import normalize_phone
from switchboard.meta.adapter import MetaWebhookAdapter
from switchboard.platforms.models import Platform, PlatformAccount, Provider
from switchboard.platforms.registry import WebhookRejected
from switchboard.platforms.routing import accounts_by_external_id
from switchboard.whatsapp.parsers import bridge, cloud, twilio


class WhatsAppCloudAdapter(MetaWebhookAdapter):
    platform = Platform.WHATSAPP

    def route(self, request: HttpRequest, payload: Any) -> list[tuple[PlatformAccount, Any]]:
        if not isinstance(payload, dict) or payload.get("object") != "whatsapp_business_account":
            raise ValueError("expected object 'whatsapp_business_account'")
        changes = cloud.iter_changes(payload)
        accounts = accounts_by_external_id(self.platform, self.provider, (pid for pid, _ in changes))
        return [(accounts[pid], value) for pid, value in changes if pid in accounts]

    def parse(self, account: PlatformAccount, raw_event: Any) -> list[InboundEvent]:
        return cloud.parse_value(raw_event)


def public_url(request: HttpRequest) -> str:
    """The URL as the platform requested it. Behind a proxy it is rebuilt from PUBLIC_BASE_URL, or from
    X-Forwarded-Proto/Host when TRUST_FORWARDED_HEADERS says the proxy is ours."""
    if settings.PUBLIC_BASE_URL:
        return settings.PUBLIC_BASE_URL.rstrip("/") + request.get_full_path()
    if settings.TRUST_FORWARDED_HEADERS:
        proto = request.headers.get("X-Forwarded-Proto", request.scheme).split(",")[0].strip()
        host = request.headers.get("X-Forwarded-Host", request.get_host()).split(",")[0].strip()
        return f"{proto}://{host}{request.get_full_path()}"
    return request.build_absolute_uri()


class WhatsAppTwilioAdapter:
    platform = Platform.WHATSAPP
    provider = Provider.TWILIO

    def handshake(self, request: HttpRequest) -> HttpResponse | None:
        return None

    def acknowledgement(self) -> HttpResponse:
        """Twilio expects TwiML back; an empty <Response/> means: nothing to reply."""
        return HttpResponse('<?xml version="1.0" encoding="UTF-8"?><Response></Response>', content_type="text/xml")

    def route(self, request: HttpRequest, payload: Any) -> list[tuple[PlatformAccount, Any]]:
        if not isinstance(payload, dict):
            raise ValueError("expected Twilio's form-encoded parameters")
        to, account_sid = twilio.account_key(payload)
        number = normalize_phone(to)
        account = accounts_by_external_id(self.platform, self.provider, [number]).get(number)
        if account is None:
            return []
        expected_sid = account.credential("account_sid")
        if expected_sid and account_sid and not hmac.compare_digest(expected_sid, account_sid):
            return []  # the number is ours, but on another Twilio account: not this tenant's traffic
        return [(account, payload)]

    def verify(self, request: HttpRequest, account: PlatformAccount | None) -> None:
        if account is None:
            return  # no tenant, no auth token to check against: nothing will be processed (logged as ignored)
        auth_token = account.credential("auth_token")
        if not auth_token:
            raise WebhookRejected("The Twilio account has no auth token configured.", 403, signature=True)
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature:
            raise WebhookRejected("The X-Twilio-Signature header is missing.", 403, signature=True)
        params: Any = (
            request.POST
            if request.content_type == "application/x-www-form-urlencoded"
            else (request.body.decode("utf-8", errors="replace"))
        )
        # The reference validator: sorted POST params, with and without the default port, bodySHA256 for JSON.
        if not RequestValidator(auth_token).validate(public_url(request), params, signature):
            raise WebhookRejected("The X-Twilio-Signature signature is wrong.", 403, signature=True)

    def parse(self, account: PlatformAccount, raw_event: Any) -> list[InboundEvent]:
        return twilio.parse(raw_event)


class WhatsAppBridgeAdapter:
    """whatsapp-web.js / WAHA callbacks. The session names the account; a per-account secret authenticates it:
    WAHA's HMAC (`X-Webhook-Hmac`, SHA-512 of the body) or the shared secret in `X-Bridge-Secret` / `?secret=`."""

    platform = Platform.WHATSAPP
    provider = Provider.BRIDGE

    def handshake(self, request: HttpRequest) -> HttpResponse | None:
        return None

    @staticmethod
    def _session(request: HttpRequest, payload: Any) -> str:
        session = bridge.session_key(payload) if isinstance(payload, dict) else None
        return str(session or request.GET.get("session") or request.headers.get("X-Bridge-Session") or "")

    def route(self, request: HttpRequest, payload: Any) -> list[tuple[PlatformAccount, Any]]:
        if not isinstance(payload, dict):
            raise ValueError("expected a JSON object")
        session = self._session(request, payload)
        if not session:
            raise ValueError("the callback names no bridge session (payload 'session' or ?session=)")
        account = accounts_by_external_id(self.platform, self.provider, [session]).get(session)
        return [(account, payload)] if account else []

    def verify(self, request: HttpRequest, account: PlatformAccount | None) -> None:
        if account is None:
            # Also an inactive account's bridge must prove itself before we acknowledge it.
            try:
                payload = json.loads(request.body)
            except ValueError:
                payload = None
            session = self._session(request, payload)
            account = accounts_by_external_id(self.platform, self.provider, [session], active_only=False).get(session)
        if account is None or not account.webhook_secret:
            raise WebhookRejected("Unknown bridge session, or no secret configured for it.", 403, signature=True)
        secret = account.webhook_secret
        mac = request.headers.get("X-Webhook-Hmac")
        if mac:
            expected = hmac.new(secret.encode(), request.body, hashlib.sha512).hexdigest()
            if hmac.compare_digest(expected, mac.strip().lower()):
                return
            raise WebhookRejected("The X-Webhook-Hmac signature is wrong.", 403, signature=True)
        supplied = request.headers.get("X-Bridge-Secret") or request.GET.get("secret") or ""
        if not supplied or not hmac.compare_digest(supplied.encode(), secret.encode()):
            raise WebhookRejected("The bridge secret is missing or wrong.", 403, signature=True)

    def parse(self, account: PlatformAccount, raw_event: Any) -> list[InboundEvent]:
        return bridge.parse(raw_event)
