"""What the three Meta webhooks share: X-Hub-Signature-256 with the app secret and the hub.challenge handshake."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from switchboard.meta.handshake import handshake_response
from switchboard.meta.signature import signature_is_valid
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

    def verify(self, request: HttpRequest, account: PlatformAccount | None) -> None:
        own_secret = account.webhook_secret if account else ""
        # Never both: a tenant's own app secret must not also let our app (or any tenant using it) speak for it.
        secret = own_secret or settings.META_APP_SECRET
        if not secret:
            raise WebhookRejected("No Meta app secret is configured: set META_APP_SECRET.", 403, signature=True)
        header = request.headers.get(self.signature_header)
        if not header:
            raise WebhookRejected(f"The {self.signature_header} header is missing.", 403, signature=True)
        if not signature_is_valid(secret, request.body, header):
            whose = "the account's own app secret" if own_secret else "META_APP_SECRET"
            raise WebhookRejected(
                f"The {self.signature_header} signature is wrong (checked against {whose}).", 403, signature=True
            )

    def handshake(self, request: HttpRequest) -> HttpResponse | None:
        overrides = PlatformAccount.objects.filter(platform=self.platform, provider=self.provider).exclude(
            verify_token=""
        )
        tokens = [settings.META_VERIFY_TOKEN, *overrides.values_list("verify_token", flat=True)]
        return handshake_response(request, [t for t in tokens if t])
