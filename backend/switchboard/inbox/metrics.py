"""Prometheus metrics of the inbox itself (exposed at /metrics with the webhook ones)."""

from prometheus_client import Counter

MESSAGES_INGESTED = Counter("messages_ingested_total", "Messages stored, by platform and kind.", ["platform", "kind"])
