"""What the three Meta webhooks share: X-Hub-Signature-256 with the app secret and the hub.challenge handshake."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from switchboard.meta.handshake import handshake_response
from switchboard.meta.signature import signature_is_valid
from switchboard.platforms.models import PlatformAccount, Provider
from switchboard.platforms.registry import WebhookRejected


class MetaWebhookAdapter:
    """Base for WhatsApp Cloud, Messenger and Instagram. The secret belongs to the Meta app: the global
    META_APP_SECRET, or an account's own override when the agency connected it through its own app."""

    platform: str = ""
    provider: str = Provider.META
    signature_header = "X-Hub-Signature-256"

    def verify(self, request: HttpRequest, account: PlatformAccount | None) -> None:
        secrets = [s for s in ((account.webhook_secret if account else ""), settings.META_APP_SECRET) if s]
        if not secrets:
            raise WebhookRejected("No Meta app secret is configured: set META_APP_SECRET.", 403, signature=True)
        header = request.headers.get(self.signature_header)
        if not header:
            raise WebhookRejected(f"The {self.signature_header} header is missing.", 403, signature=True)
        if not any(signature_is_valid(secret, request.body, header) for secret in secrets):
            raise WebhookRejected(f"The {self.signature_header} signature is wrong.", 403, signature=True)

    def handshake(self, request: HttpRequest) -> HttpResponse | None:
        overrides = PlatformAccount.objects.filter(platform=self.platform, provider=self.provider).exclude(
            verify_token=""
        )
        tokens = [settings.META_VERIFY_TOKEN, *overrides.values_list("verify_token", flat=True)]
        return handshake_response(request, [t for t in tokens if t])
