"""A tenant's connected channel: an Instagram account, a Facebook Page or a WhatsApp number."""

from __future__ import annotations

from django.db import models

from switchboard.accounts.tenancy import TenantModel
from switchboard.common.fields import EncryptedJSONField, EncryptedTextField


class Platform(models.TextChoices):
    INSTAGRAM = "instagram", "Instagram"
    MESSENGER = "messenger", "Facebook Messenger"
    WHATSAPP = "whatsapp", "WhatsApp"


class Provider(models.TextChoices):
    META = "meta", "Meta Graph API"
    TWILIO = "twilio", "Twilio"
    BRIDGE = "bridge", "WhatsApp-Web bridge"
    # Everything local: sends succeed without a vendor, for trying the product and for tests (docs/platforms.md).
    SANDBOX = "sandbox", "Sandbox (local, no vendor)"


class PlatformAccount(TenantModel):
    """How inbound traffic finds its tenant: `external_id` is the id the platform puts in every payload
    (WhatsApp Cloud `phone_number_id`, the Page id, the Instagram account id, the Twilio WhatsApp number in
    E.164, the bridge session name). It is unique per (platform, provider) across all tenants."""

    platform = models.CharField(max_length=16, choices=Platform.choices)
    provider = models.CharField(max_length=16, choices=Provider.choices, default=Provider.META)
    display_name = models.CharField(max_length=150)
    external_id = models.CharField(max_length=128, help_text="Id the platform sends in webhooks.")
    business_account_id = models.CharField(
        max_length=128, blank=True, help_text="WhatsApp Business Account id, or the Instagram user id of a Page."
    )
    phone_number = models.CharField(max_length=32, blank=True, help_text="E.164, for WhatsApp numbers.")
    credentials = EncryptedJSONField(
        blank=True,
        default=dict,
        help_text="Encrypted: access_token (Meta), account_sid + auth_token (Twilio), base_url + api_key (bridge).",
    )
    webhook_secret = EncryptedTextField(
        blank=True, default="", help_text="Encrypted: Meta app secret override, or the bridge's shared secret."
    )
    verify_token = models.CharField(max_length=128, blank=True, help_text="Meta handshake token override.")
    settings = models.JSONField(
        default=dict, blank=True, help_text="send_read_receipts (bool), rate_limit_per_second (int)."
    )
    is_active = models.BooleanField(default=True)
    needs_reconnect = models.BooleanField(default=False, help_text="Set when the platform rejects our token.")
    last_error = models.TextField(blank=True)
    last_sync_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["platform", "display_name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "provider", "external_id"], name="platformaccount_unique_external_id"
            )
        ]
        indexes = [models.Index(fields=["organization", "platform"], name="platformaccount_org_platform")]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} · {self.display_name}"

    def credential(self, name: str, default: str = "") -> str:
        return str(self.credentials.get(name) or default)

    @classmethod
    def secret_fields(cls, prefix: str = "") -> list[str]:
        """The encrypted columns, for `.defer()` wherever a query loads accounts without using their secrets:
        decrypting them costs time on every row, and with a wrong FIELD_ENCRYPTION_KEY it fails the whole query.
        `prefix` is the relation path, e.g. "platform_account" gives "platform_account__credentials"."""
        return [
            f"{prefix}__{field.name}" if prefix else field.name
            for field in cls._meta.concrete_fields
            if isinstance(field, EncryptedJSONField | EncryptedTextField)
        ]
