"""Prometheus metrics for the inbound path (exposed at /metrics, token-protected)."""

from prometheus_client import Counter, Histogram

WEBHOOK_REQUESTS = Counter(
    "webhook_requests_total", "Webhook deliveries by endpoint and final status.", ["platform", "status"]
)
WEBHOOK_SIGNATURE_ERRORS = Counter(
    "webhook_signature_errors_total", "Deliveries refused for a missing or wrong signature.", ["platform"]
)
WEBHOOK_REFUSED_ACCOUNTS = Counter(
    "webhook_refused_accounts_total",
    "Accounts named in a delivery whose signature does not cover them (their parts are never processed).",
    ["platform"],
)
WEBHOOK_UNPARSEABLE = Counter(
    "webhook_unparseable_total",
    "Authentic deliveries that could not be parsed (a body that is not JSON, or an event that lacks a required "
    "field): answered 200 and stored failed, for a replay after the fix. stage: body (nothing in it could be "
    "routed) or event (some of its parts; the others were processed).",
    ["platform", "stage"],
)
WEBHOOK_PROCESSING_SECONDS = Histogram(
    "webhook_processing_seconds",
    "Time from receiving a delivery to answering it.",
    ["platform"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
