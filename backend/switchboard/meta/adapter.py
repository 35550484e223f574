"""What the three Meta webhooks share: X-Hub-Signature-256 with the app secret and the hub.challenge handshake."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from switchboard.meta.handshake import handshake_response
from switchboard.meta.messaging import iter_messaging
from switchboard.meta.signature import compute_signature, signature_is_valid
from switchboard.platforms.delivery import Delivery
from switchboard.platforms.models import PlatformAccount, Provider
from switchboard.platforms.registry import WebhookRejected


class MetaWebhookAdapter:
    """Base for WhatsApp Cloud, Messenger and Instagram. The secret belongs to the Meta app that signs the account's
    deliveries: an account with its own `webhook_secret` (the agency's own app) accepts only that secret; an account
    without one accepts only the global META_APP_SECRET (our app). A delivery that names no connected account is
    checked against META_APP_SECRET."""

    platform: str = ""
    provider: str = Provider.META
    signature_header = "X-Hub-Signature-256"
    delivery_content_type = "application/json"

    def __init__(self, provider: str = Provider.META) -> None:
        # provider=sandbox: the same format routed to sandbox accounts, which have no Meta app behind them and so
        # accept only their own secret.
        self.provider = provider

    def _secret_for(self, account: PlatformAccount | None) -> str:
        own_secret = account.webhook_secret if account else ""
        if self.provider != Provider.META:
            return own_secret
        # Never both: a tenant's own app secret must not also let our app (or any tenant using it) speak for it.
        return own_secret or settings.META_APP_SECRET

    def verify(self, delivery: Delivery, account: PlatformAccount | None) -> None:
        own_secret = account.webhook_secret if account else ""
        secret = self._secret_for(account)
        if not secret:
            if self.provider != Provider.META:
                raise WebhookRejected("The sandbox account has no webhook_secret.", 403, signature=True)
            raise WebhookRejected("No Meta app secret is configured: set META_APP_SECRET.", 403, signature=True)
        header = delivery.header(self.signature_header)
        if not header:
            raise WebhookRejected(f"The {self.signature_header} header is missing.", 403, signature=True)
        if not signature_is_valid(secret, delivery.body, header):
            whose = "the account's own app secret" if own_secret else "META_APP_SECRET"
            raise WebhookRejected(
                f"The {self.signature_header} signature is wrong (checked against {whose}).", 403, signature=True
            )

    def accounts_proven_by(self, delivery: Delivery) -> list[PlatformAccount]:
        """The accounts a delivery whose body cannot be routed is proven for (the pipeline stores them as the log's
        `verified_accounts`, so a replay after the fix processes their parts and no others). A valid signature
        under META_APP_SECRET speaks for every active account of this platform that takes that secret, i.e. has none
        of its own; an account with its own app secret is never proven by ours. Sandbox accounts have no
        platform-wide secret: none."""
        if self.provider != Provider.META or not settings.META_APP_SECRET:
            return []
        if not signature_is_valid(settings.META_APP_SECRET, delivery.body, delivery.header(self.signature_header)):
            return []
        accounts = PlatformAccount.objects.filter(platform=self.platform, provider=self.provider, is_active=True)
        return [account for account in accounts.order_by("pk") if not account.webhook_secret]

    def sign_delivery(self, account: PlatformAccount, body: bytes, url: str) -> dict[str, str]:
        """The headers Meta would send with `body` for `account` (send_webhook_fixture)."""
        secret = self._secret_for(account)
        if not secret:
            raise ValueError("No secret to sign with: set META_APP_SECRET or the account's webhook_secret.")
        return {self.signature_header: compute_signature(secret, body)}

    def readdress(self, account: PlatformAccount, body: bytes) -> bytes:
        """`body` with the business id(s) it is addressed to replaced by the account's `external_id`."""
        payload = json.loads(body)
        return json.dumps(replace_ids(payload, set(self.business_ids(payload)), account.external_id)).encode()

    def business_ids(self, payload: Any) -> list[str]:
        """The ids a delivery is routed by (Page / Instagram account ids; WhatsApp overrides it)."""
        return [entry_id for entry_id, _ in iter_messaging(payload)]

    def handshake(self, request: HttpRequest) -> HttpResponse | None:
        overrides = PlatformAccount.objects.filter(platform=self.platform, provider=self.provider).exclude(
            verify_token=""
        )
        tokens = [settings.META_VERIFY_TOKEN, *overrides.values_list("verify_token", flat=True)]
        return handshake_response(request, [t for t in tokens if t])


def replace_ids(value: Any, old_ids: set[str], new_id: str) -> Any:
    """A copy of a JSON value with every string (or integer) equal to one of `old_ids` replaced by `new_id`."""
    if isinstance(value, dict):
        return {key: replace_ids(item, old_ids, new_id) for key, item in value.items()}
    if isinstance(value, list):
        return [replace_ids(item, old_ids, new_id) for item in value]
    if isinstance(value, str | int) and not isinstance(value, bool) and str(value) in old_ids:
        return new_id
    return value
