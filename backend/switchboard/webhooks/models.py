"""Every delivery a platform makes is stored raw before it is acknowledged, so nothing accepted is lost."""

from __future__ import annotations

from django.db import models

from switchboard.accounts.models import Organization
from switchboard.platforms.models import PlatformAccount


class WebhookStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PROCESSED = "processed", "Processed"
    DUPLICATE = "duplicate", "Duplicate"
    IGNORED = "ignored", "Ignored"
    REJECTED = "rejected", "Rejected"
    FAILED = "failed", "Failed"


class WebhookLog(models.Model):
    """Not a TenantModel: the tenant is known only after routing, and rejected deliveries have none."""

    platform = models.CharField(max_length=32, help_text="Endpoint: whatsapp, messenger, instagram, twilio, bridge.")
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    account = models.ForeignKey(PlatformAccount, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=500)
    query_string = models.TextField(blank=True)
    headers = models.JSONField(default=dict, help_text="Request headers, secrets redacted.")
    body = models.TextField(blank=True, help_text="The raw body exactly as received (UTF-8).")
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=WebhookStatus.choices, default=WebhookStatus.PENDING)
    event_count = models.PositiveIntegerField(default=0)
    processing_time_ms = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True)
    verified_accounts = models.JSONField(
        default=list, blank=True, help_text="Ids of the accounts the signature proved; replays process only these."
    )
    refused_accounts = models.JSONField(
        default=list,
        blank=True,
        help_text="Parts refused because the signature does not cover their account: account, tenant, reason.",
    )
    attempts = models.PositiveIntegerField(default=1)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["status", "received_at"], name="webhooklog_status"),
            models.Index(fields=["platform", "-received_at"], name="webhooklog_platform"),
        ]

    def __str__(self) -> str:
        return f"{self.platform} {self.method} #{self.pk} ({self.status})"
