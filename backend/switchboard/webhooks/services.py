"""Replaying stored deliveries (the admin action and `manage.py replay_webhooks` both come here)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from switchboard.webhooks.endpoints import adapter_for_endpoint
from switchboard.webhooks.models import WebhookLog
from switchboard.webhooks.pipeline import DeliveryResult, replay_webhook


def webhook_replay(*, log: WebhookLog) -> DeliveryResult:
    return replay_webhook(log, adapter_for_endpoint(log.platform))


def webhook_replay_many(*, logs: Iterable[WebhookLog]) -> Counter[str]:
    """Replay each delivery in its own transaction; returns how many ended in each status."""
    return Counter(webhook_replay(log=log).status for log in logs)
