"""WhatsApp adapters for the three providers: Cloud API (Meta), Twilio, and WhatsApp-Web bridges.

Inbound: route / verify / parse (parsers/). Outbound and sync: send / mark_read / fetch_history / check_health, with
the vendor calls in twilio_api.py, bridge_api.py and cloud_api.py (on meta's Graph client). For the API's account
pages: `list_templates(account)` (Cloud API, Twilio: the approved templates, meta/templates.py's shape) and
`check_connection(account)` (the connection test, where the sync's `check_health` is not the same call: Twilio and
bridges), both raising PlatformError with the vendor's answer classified.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from twilio.request_validator import RequestValidator

from switchboard.common.ids import parse_id
from switchboard.common.phones import normalize_phone
from switchboard.inbox import sendable
from switchboard.inbox.events import InboundEvent
from switchboard.inbox.models import Contact, Direction, Message, MessageKind
from switchboard.meta import messages as graph_messages
from switchboard.meta.adapter import MetaWebhookAdapter
from switchboard.meta.graph import GraphClient, GraphError
from switchboard.platforms.delivery import FORM, Delivery
from switchboard.platforms.models import Platform, PlatformAccount, Provider
from switchboard.platforms.registry import LISTING_GONE, PlatformError, SendResult, WebhookRejected, send_in_parts
from switchboard.platforms.routing import accounts_by_external_id
from switchboard.whatsapp import bridge_api, cards, cloud_api, twilio_api
from switchboard.whatsapp import media as whatsapp_media
from switchboard.whatsapp.parsers import bridge, cloud, twilio


def _status_url_account_id(path: str) -> int | None:
    """The account id of a Twilio status-callback URL (`/api/webhooks/twilio/<account id>/status/`), else None (a
    number out of the id range included)."""
    try:
        match = resolve(path)
    except Resolver404:
        return None
    if match.url_name != "webhook-twilio-status":
        return None
    return parse_id(match.kwargs.get("account_id"))  # an id out of range names no account (never a 500)


def _recipient_number(contact: Contact) -> str:
    """Who a WhatsApp message goes to: the E.164 number, else the business-scoped user id (`US.…`)."""
    return contact.phone_number or _user_id(contact)


def _user_id(contact: Contact) -> str:
    ids = contact.platform_ids if isinstance(contact.platform_ids, dict) else {}
    return str(ids.get("user_id") or ids.get("parent_user_id") or contact.external_id)


def _cloud_recipient(contact: Contact) -> tuple[str, str]:
    """The Cloud API's addressing, (to, recipient): `to` with the phone number when we know it (Meta's advice:
    phone-number fields then keep appearing in webhooks), else `recipient` with the business-scoped user id."""
    phone = contact.phone_number or normalize_phone(contact.external_id)
    if phone:
        return phone.lstrip("+"), ""
    return "", _user_id(contact)


class WhatsAppCloudAdapter(MetaWebhookAdapter):
    platform = Platform.WHATSAPP
    # An authentic body that cannot be parsed is answered 200 and kept `failed`, replayable (webhooks/pipeline.py):
    # a 400 makes Meta retry the same bytes for up to 7 days.
    acknowledge_unparseable = True
    # Media id → Graph lookup → download with the bearer (a 404 on the short-lived URL asks Graph again).
    fetch_media = staticmethod(whatsapp_media.fetch_media)

    def route(self, delivery: Delivery, payload: Any) -> list[tuple[PlatformAccount, Any]]:
        if not isinstance(payload, dict) or payload.get("object") != "whatsapp_business_account":
            raise ValueError("expected object 'whatsapp_business_account'")
        changes = cloud.iter_changes(payload)
        accounts = accounts_by_external_id(self.platform, self.provider, (pid for pid, _ in changes))
        return [(accounts[pid], value) for pid, value in changes if pid in accounts]

    def parse(self, account: PlatformAccount, raw_event: Any) -> list[InboundEvent]:
        return cloud.parse_value(raw_event)

    def business_ids(self, payload: Any) -> list[str]:
        return [phone_number_id for phone_number_id, _ in cloud.iter_changes(payload)]

    # --- outbound: POST /{phone-number-id}/messages ---------------------------------------------------------------
    def send(self, message: Message) -> SendResult:
        account = message.platform_account
        to, recipient = _cloud_recipient(message.conversation.contact)
        try:
            graph = GraphClient(account.credential("access_token"))
        except GraphError as exc:
            return graph_messages.classify(exc)
        content = sendable.content_of(message)
        if content.is_listing:
            card = sendable.listing_card(message)
            if card is None:
                return LISTING_GONE
            card_body = cards.cloud_card(card, to=to, recipient=recipient)
            return graph_messages.graph_post(graph, f"{account.external_id}/messages", card_body)
        if content.template is not None:
            typed = cloud_api.cloud_template(content.template)
        elif content.attachment is not None:
            attachment = content.attachment
            try:
                # Uploaded to Meta and sent by id: no public link to our media is needed.
                media_id = cloud_api.cloud_upload(
                    graph,
                    account.external_id,
                    data=sendable.media_bytes(attachment),
                    mime_type=attachment.mime_type,
                    filename=attachment.filename,
                )
            except sendable.MediaUnavailable as exc:
                return SendResult.failure("media_unavailable", str(exc))
            except GraphError as exc:
                return graph_messages.classify(exc)
            typed = cloud_api.cloud_media(attachment.kind, media_id, caption=message.text, filename=attachment.filename)
        else:
            typed = cloud_api.cloud_text(message.text)
        body = cloud_api.cloud_body(to=to, recipient=recipient, content=typed, reply_to=message.reply_to_platform_id)
        return graph_messages.graph_post(graph, f"{account.external_id}/messages", body)

    def mark_read(self, message: Message) -> SendResult:
        account = message.platform_account
        try:
            graph = GraphClient(account.credential("access_token"))
        except GraphError as exc:
            return graph_messages.classify(exc)
        body = cloud_api.cloud_read_body(message.platform_message_id or "")
        return graph_messages.graph_call(graph, "POST", f"{account.external_id}/messages", json=body)

    def fetch_history(self, account: PlatformAccount, since: datetime | None) -> Iterable[InboundEvent]:
        return []  # the Cloud API keeps no message history: webhooks are the only source

    def check_health(self, account: PlatformAccount) -> dict[str, Any]:
        """The phone number's own record (`GET /{phone-number-id}`): proves the token still works."""
        fields = ("display_phone_number", "verified_name", "quality_rating", "name_status")
        try:
            number = GraphClient(account.credential("access_token")).get(
                account.external_id, {"fields": ",".join(fields)}
            )
        except GraphError as exc:
            raise PlatformError(graph_messages.classify(exc)) from exc
        return {"ok": True, **{key: number[key] for key in fields if key in number}}

    def list_templates(self, account: PlatformAccount) -> list[dict[str, Any]]:
        """The WhatsApp Business Account's approved templates (`business_account_id`)."""
        try:
            graph = GraphClient(account.credential("access_token"))
            return cloud_api.cloud_templates(graph, account.business_account_id)
        except GraphError as exc:
            raise PlatformError(graph_messages.classify(exc)) from exc


class WhatsAppTwilioAdapter:
    platform = Platform.WHATSAPP
    provider = Provider.TWILIO
    # MediaUrlN with basic auth (AccountSid:AuthToken); the redirect to the CDN is followed and checked.
    fetch_media = staticmethod(whatsapp_media.fetch_media)

    delivery_content_type = "application/x-www-form-urlencoded"

    def handshake(self, request: HttpRequest) -> HttpResponse | None:
        return None

    def sign_delivery(self, account: PlatformAccount, body: bytes, url: str) -> dict[str, str]:
        """X-Twilio-Signature as Twilio computes it for a POST of `body` to `url` (send_webhook_fixture)."""
        auth_token = account.credential("auth_token")
        if not auth_token:
            raise ValueError("The Twilio account has no auth_token credential to sign with.")
        params = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        return {"X-Twilio-Signature": RequestValidator(auth_token).compute_signature(url, params)}

    def readdress(self, account: PlatformAccount, body: bytes) -> bytes:
        """Our number (`To`, or `From` on status callbacks) and AccountSid become the account's."""
        params = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        ours = "From" if twilio.is_status_callback(dict(params)) else "To"
        sid = account.credential("account_sid")
        replaced = [
            (name, twilio_api.twilio_address(account.external_id) if name == ours else (sid or value))
            if name in (ours, "AccountSid")
            else (name, value)
            for name, value in params
        ]
        return urlencode(replaced).encode()

    def acknowledgement(self) -> HttpResponse:
        """Twilio expects TwiML back; an empty <Response/> means: nothing to reply."""
        return HttpResponse('<?xml version="1.0" encoding="UTF-8"?><Response></Response>', content_type="text/xml")

    def route(self, delivery: Delivery, payload: Any) -> list[tuple[PlatformAccount, Any]]:
        """An inbound message: the account whose number is `To`. A status callback: the account its URL names
        (`/api/webhooks/twilio/<account id>/status/`, the StatusCallback our sends give), else the account whose
        number is `From`, else the account that sent the message with that MessageSid — trimmed callbacks carry
        no `From`, and a Messaging Service may send from a number of its pool. Always with the AccountSid, when
        given, matching the account's; the signature is then checked against that account's auth token."""
        if not isinstance(payload, dict):
            raise ValueError("expected Twilio's form-encoded parameters")
        ours, account_sid = twilio.account_key(payload)
        if not twilio.is_status_callback(payload):
            return self._routed(self._by_number(ours), account_sid, payload)
        status_url_account = _status_url_account_id(delivery.path)
        if status_url_account is not None:
            account = PlatformAccount.objects.filter(
                pk=status_url_account, platform=self.platform, provider=self.provider, is_active=True
            ).first()
            return self._routed(account, account_sid, payload)
        by_number = self._routed(self._by_number(ours), account_sid, payload)
        if by_number:
            return by_number
        sid = twilio.message_sid(payload)
        if not sid:
            raise ValueError("the Twilio status callback has no MessageSid")
        senders = PlatformAccount.objects.filter(
            platform=self.platform,
            provider=self.provider,
            is_active=True,
            pk__in=Message.objects.filter(
                platform_account__in=PlatformAccount.objects.filter(
                    platform=self.platform, provider=self.provider, is_active=True
                ),
                platform_message_id=sid,
                direction=Direction.OUTBOUND,
            ).values("platform_account_id"),
        )
        return [pair for account in senders for pair in self._routed(account, account_sid, payload)]

    def _by_number(self, number: str) -> PlatformAccount | None:
        normalized = normalize_phone(number)
        return accounts_by_external_id(self.platform, self.provider, [normalized]).get(normalized)

    @staticmethod
    def _routed(account: PlatformAccount | None, account_sid: str, payload: Any) -> list[tuple[PlatformAccount, Any]]:
        if account is None:
            return []
        expected_sid = account.credential("account_sid")
        if expected_sid and account_sid and not hmac.compare_digest(expected_sid, account_sid):
            return []  # the number is ours, but on another Twilio account: not this tenant's traffic
        return [(account, payload)]

    def verify(self, delivery: Delivery, account: PlatformAccount | None) -> None:
        if account is None:
            return  # no tenant, no auth token to check against: nothing will be processed (logged as ignored)
        auth_token = account.credential("auth_token")
        if not auth_token:
            raise WebhookRejected("The Twilio account has no auth token configured.", 403, signature=True)
        signature = delivery.header("X-Twilio-Signature")
        if not signature:
            raise WebhookRejected("The X-Twilio-Signature header is missing.", 403, signature=True)
        params: Any = (
            delivery.form if delivery.content_type == FORM else delivery.body.decode("utf-8", errors="replace")
        )
        # The reference validator: sorted POST params, with and without the default port, bodySHA256 for JSON.
        if not RequestValidator(auth_token).validate(delivery.url, params, signature):
            raise WebhookRejected("The X-Twilio-Signature signature is wrong.", 403, signature=True)

    def parse(self, account: PlatformAccount, raw_event: Any) -> list[InboundEvent]:
        return twilio.parse(raw_event)

    # --- outbound: the Messages API --------------------------------------------------------------------------------
    def send(self, message: Message) -> SendResult:
        account = message.platform_account
        form: dict[str, Any] = {"To": twilio_api.twilio_address(_recipient_number(message.conversation.contact))}
        content = sendable.content_of(message)
        if content.template is not None:
            # Twilio sends approved WhatsApp templates as Content Templates: the template name is the Content SID.
            form["ContentSid"] = content.template["name"]
            variables = twilio_api.twilio_content_variables(content.template)
            if variables:
                form["ContentVariables"] = json.dumps(variables)
        elif content.is_listing:
            card = sendable.listing_card(message)
            if card is None:
                return LISTING_GONE
            return send_in_parts(
                [
                    functools.partial(twilio_api.twilio_send, account, {**form, **part})
                    for part in cards.twilio_card(card)
                ],
                what=f"Twilio card of message {message.pk}",
            )
        elif content.attachment is not None:
            try:
                form["MediaUrl"] = [sendable.media_public_url(content.attachment)]
            except sendable.MediaUnavailable as exc:
                return SendResult.failure("media_unavailable", str(exc))
            if message.text:
                form["Body"] = message.text
        else:
            form["Body"] = message.text
        return twilio_api.twilio_send(account, form)

    def fetch_history(self, account: PlatformAccount, since: datetime | None) -> Iterable[InboundEvent]:
        try:
            yield from twilio_api.twilio_history(account, since)
        except twilio_api.TwilioError as exc:
            raise PlatformError(exc.result) from exc

    def check_connection(self, account: PlatformAccount) -> dict[str, Any]:
        """`GET Accounts/{sid}.json`: the Account SID and auth token work, and the account is active."""
        try:
            return twilio_api.twilio_account_check(account)
        except twilio_api.TwilioError as exc:
            raise PlatformError(exc.result) from exc

    def list_templates(self, account: PlatformAccount) -> list[dict[str, Any]]:
        """The Content API templates WhatsApp approved; `name` is the Content SID a template send takes."""
        try:
            return twilio_api.twilio_templates(account)
        except twilio_api.TwilioError as exc:
            raise PlatformError(exc.result) from exc


class WhatsAppBridgeAdapter:
    """whatsapp-web.js / WAHA callbacks. The session names the account; a per-account secret authenticates it:
    WAHA's HMAC (`X-Webhook-Hmac`, SHA-512 of the body) or the shared secret in `X-Bridge-Secret` / `?secret=`."""

    platform = Platform.WHATSAPP
    provider = Provider.BRIDGE
    # The callback's media URL on the bridge's host (credentials.base_url), with its API key.
    fetch_media = staticmethod(whatsapp_media.fetch_media)

    delivery_content_type = "application/json"

    def handshake(self, request: HttpRequest) -> HttpResponse | None:
        return None

    def sign_delivery(self, account: PlatformAccount, body: bytes, url: str) -> dict[str, str]:
        """WAHA's X-Webhook-Hmac (hex HMAC-SHA512 of the body with the session's secret)."""
        if not account.webhook_secret:
            raise ValueError("The bridge account has no webhook_secret to sign with.")
        return {"X-Webhook-Hmac": hmac.new(account.webhook_secret.encode(), body, hashlib.sha512).hexdigest()}

    def readdress(self, account: PlatformAccount, body: bytes) -> bytes:
        payload = json.loads(body)
        key = next((k for k in ("session", "sessionId", "clientId") if k in payload), "session")
        return json.dumps({**payload, key: account.external_id}).encode()

    @staticmethod
    def _session(delivery: Delivery, payload: Any) -> str:
        session = bridge.session_key(payload) if isinstance(payload, dict) else None
        return str(session or delivery.query.get("session") or delivery.header("X-Bridge-Session") or "")

    def route(self, delivery: Delivery, payload: Any) -> list[tuple[PlatformAccount, Any]]:
        if not isinstance(payload, dict):
            raise ValueError("expected a JSON object")
        session = self._session(delivery, payload)
        if not session:
            raise ValueError("the callback names no bridge session (payload 'session' or ?session=)")
        account = accounts_by_external_id(self.platform, self.provider, [session]).get(session)
        return [(account, payload)] if account else []

    def verify(self, delivery: Delivery, account: PlatformAccount | None) -> None:
        if account is None:
            # Also an inactive account's bridge must prove itself before we acknowledge it.
            try:
                payload = delivery.payload  # decoded once, shared with route
            except ValueError:
                payload = None
            session = self._session(delivery, payload)
            account = accounts_by_external_id(self.platform, self.provider, [session], active_only=False).get(session)
        if account is None or not account.webhook_secret:
            raise WebhookRejected("Unknown bridge session, or no secret configured for it.", 403, signature=True)
        secret = account.webhook_secret
        mac = delivery.header("X-Webhook-Hmac")
        if mac:
            expected = hmac.new(secret.encode(), delivery.body, hashlib.sha512).hexdigest()
            if hmac.compare_digest(expected, mac.strip().lower()):
                return
            raise WebhookRejected("The X-Webhook-Hmac signature is wrong.", 403, signature=True)
        supplied = delivery.header("X-Bridge-Secret") or delivery.query.get("secret") or ""
        if not supplied or not hmac.compare_digest(supplied.encode(), secret.encode()):
            raise WebhookRejected("The bridge secret is missing or wrong.", 403, signature=True)

    def parse(self, account: PlatformAccount, raw_event: Any) -> list[InboundEvent]:
        return bridge.parse(raw_event)

    # --- outbound: the bridge's HTTP API (WAHA) ---------------------------------------------------------------------
    def send(self, message: Message) -> SendResult:
        account = message.platform_account
        chat_id = bridge_api.bridge_chat_id(message.conversation.contact.external_id)
        content = sendable.content_of(message)
        if content.is_template:
            return SendResult.failure("unsupported", "Templates are for WhatsApp Business API numbers; send text.")
        if content.is_listing:
            card = sendable.listing_card(message)
            if card is None:
                return LISTING_GONE
            calls = cards.bridge_card(card, chat_id=chat_id)
            return send_in_parts(
                [functools.partial(bridge_api.bridge_post, account, endpoint, body) for endpoint, body in calls],
                what=f"bridge card of message {message.pk}",
            )
        if content.attachment is not None:
            attachment = content.attachment
            try:
                data = sendable.media_bytes(attachment)
            except sendable.MediaUnavailable as exc:
                return SendResult.failure("media_unavailable", str(exc))
            endpoint = bridge_api.BRIDGE_MEDIA_ENDPOINTS.get(attachment.kind, "sendFile")
            body: dict[str, Any] = {
                "chatId": chat_id,
                "file": bridge_api.bridge_file(data, mime_type=attachment.mime_type, filename=attachment.filename),
            }
            if message.text and attachment.kind != MessageKind.AUDIO:
                body["caption"] = message.text
            return bridge_api.bridge_post(account, endpoint, body)
        body = {"chatId": chat_id, "text": message.text}
        if message.reply_to_platform_id:
            body["reply_to"] = message.reply_to_platform_id
        return bridge_api.bridge_post(account, "sendText", body)

    def mark_read(self, message: Message) -> SendResult:
        chat_id = bridge_api.bridge_chat_id(message.conversation.contact.external_id)
        return bridge_api.bridge_post(message.platform_account, "sendSeen", {"chatId": chat_id})

    def fetch_history(self, account: PlatformAccount, since: datetime | None) -> Iterable[InboundEvent]:
        return []  # the phone is the history: a bridge delivers everything through its callbacks

    def check_health(self, account: PlatformAccount) -> dict[str, Any]:
        return bridge_api.bridge_health(account)

    def check_connection(self, account: PlatformAccount) -> dict[str, Any]:
        """The session's state, with a refused API key classified (needs_reconnect) as a send's would be."""
        try:
            return bridge_api.bridge_connection(account)
        except bridge_api.BridgeError as exc:
            raise PlatformError(exc.result) from exc
