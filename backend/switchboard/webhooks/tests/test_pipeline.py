"""The one pipeline: stored raw before acknowledged, verified before trusted, replayable, never a duplicate."""

from __future__ import annotations

import json
import threading
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import close_old_connections
from django.test import Client
from prometheus_client import REGISTRY

from switchboard.inbox.models import Message
from switchboard.meta import messaging
from switchboard.webhooks.models import WebhookLog, WebhookStatus
from switchboard.webhooks.testing import fixture_bytes, meta_signature

TEXT = "messages__text.json"


def body(name: str = TEXT) -> bytes:
    return fixture_bytes("messenger", name)


def test_raw_body_is_stored_exactly_and_secrets_redacted(poster, messenger_account):
    raw = body()
    delivery = poster.meta("messenger", raw)
    log = delivery.log
    assert log.body.encode() == raw
    assert log.status == WebhookStatus.PROCESSED and log.event_count == 1
    assert log.processing_time_ms is not None and log.processed_at is not None
    assert log.account_id == messenger_account.pk
    assert meta_signature(raw) not in json.dumps(log.headers)
    assert log.headers["X-Hub-Signature-256"].startswith("[signature")


def test_missing_signature_is_refused(poster, messenger_account):
    delivery = poster.post("messenger", body(), "application/json")
    assert delivery.response.status_code == 403
    assert delivery.log.status == WebhookStatus.REJECTED and "missing" in delivery.log.error
    assert Message.objects.count() == 0


def test_without_any_app_secret_everything_is_refused(poster, messenger_account, settings):
    settings.META_APP_SECRET = ""
    delivery = poster.meta("messenger", body())
    assert delivery.response.status_code == 403 and Message.objects.count() == 0


def test_account_secret_override_verifies(poster, messenger_account, settings):
    messenger_account.webhook_secret = "agency-app-secret"
    messenger_account.save()
    settings.META_APP_SECRET = ""
    delivery = poster.meta("messenger", body(), secret="agency-app-secret")
    assert delivery.response.status_code == 200 and Message.objects.count() == 1


# --- authentic but unparseable: acknowledged, kept failed, replayable, counted ----------------------------------------


def unparseable(stage: str, platform: str = "messenger") -> float:
    return REGISTRY.get_sample_value("webhook_unparseable_total", {"platform": platform, "stage": stage}) or 0.0


def test_a_body_that_is_not_json_with_a_valid_signature_is_acknowledged_and_kept_failed(poster, messenger_account):
    before = unparseable("body")
    delivery = poster.meta("messenger", b'{"object": "page", "entry": [')
    # 200: Meta would otherwise resend the same bytes for 36 hours.
    assert (delivery.response.status_code, delivery.response.json()) == (200, {"status": "failed"})
    log = delivery.log
    assert log.status == WebhookStatus.FAILED and log.error.startswith("Undecodable body: ")
    # The accounts our app secret speaks for: a replay after the fix processes their parts.
    assert log.verified_accounts == [messenger_account.pk]
    assert unparseable("body") - before == 1
    assert Message.objects.count() == 0


def test_an_unparseable_body_is_not_proven_for_an_account_with_its_own_app_secret(
    poster, messenger_account, make_account, org
):
    own_app = make_account(org, messenger_account.platform, external_id="555000111222333", webhook_secret="own-app")
    delivery = poster.meta("messenger", b"{not json")
    assert delivery.response.status_code == 200
    assert delivery.log.verified_accounts == [messenger_account.pk]
    assert own_app.pk not in delivery.log.verified_accounts


def test_malformed_json_with_a_wrong_signature_is_403_first(poster, messenger_account):
    delivery = poster.meta("messenger", b"{not json", secret="wrong")
    assert delivery.response.status_code == 403
    assert delivery.log.status == WebhookStatus.REJECTED


def test_an_unsigned_malformed_body_is_still_refused(poster, messenger_account):
    delivery = poster.post("messenger", b'{"object": "page"}', "application/json")
    assert delivery.response.status_code == 403 and delivery.log.status == WebhookStatus.REJECTED


def test_wrong_object_with_a_valid_signature_is_kept_failed(poster, messenger_account):
    delivery = poster.meta("messenger", json.dumps({"object": "instagram", "entry": []}).encode())
    assert delivery.response.status_code == 200
    assert delivery.log.status == WebhookStatus.FAILED and "Messenger" in delivery.log.error


def test_a_body_that_cannot_be_routed_is_replayed_after_the_fix(poster, messenger_account):
    raw = json.loads(body())
    del raw["entry"][0]["id"]  # the page id: nothing can be routed without it
    delivery = poster.meta("messenger", json.dumps(raw).encode())
    log = delivery.log
    assert (delivery.response.status_code, log.status) == (200, WebhookStatus.FAILED)
    assert "has messaging events but no 'id'" in log.error
    call_command("replay_webhooks", "--status", "failed")
    log.refresh_from_db()
    assert (log.status, log.attempts) == (WebhookStatus.FAILED, 2)  # not fixed yet: still failed, still kept

    original = messaging.iter_messaging

    def fixed(payload):  # the fix: an entry without its id is the Page the account is
        for entry in payload["entry"]:
            entry.setdefault("id", messenger_account.external_id)
        return original(payload)

    with mock.patch("switchboard.meta.messaging_adapter.iter_messaging", fixed):
        call_command("replay_webhooks", "--status", "failed")
    log.refresh_from_db()
    assert (log.status, log.event_count, log.error) == (WebhookStatus.PROCESSED, 1, "")
    assert Message.objects.count() == 1


def test_an_event_that_lacks_a_required_field_fails_alone_and_is_replayed_after_the_fix(poster, messenger_account):
    raw = json.loads(body())
    good = raw["entry"][0]["messaging"][0]
    bad = json.loads(json.dumps(good))
    bad["message"] = {"text": "a message without its mid"}
    raw["entry"][0]["messaging"].append(bad)
    before = unparseable("event")
    delivery = poster.meta("messenger", json.dumps(raw).encode())
    log = delivery.log
    assert (delivery.response.status_code, delivery.response.json()) == (200, {"status": "failed"})
    # The part that parses is stored at once; the delivery stays failed for the other.
    assert Message.objects.count() == 1 and "message.created" in delivery.event_names
    assert (log.status, log.event_count, log.verified_accounts) == (WebhookStatus.FAILED, 1, [messenger_account.pk])
    assert log.error == (
        "Malformed payload: 'message.mid' is missing. (1 of 2 parts could not be parsed; the others were processed)"
    )
    assert unparseable("event") - before == 1

    def fixed(raw_event, *, business_id):
        message = raw_event.get("message", {})
        if "mid" not in message:
            raw_event = {**raw_event, "message": {**message, "mid": "m_GivenByTheFix"}}
        return messaging.parse_messaging_event(raw_event, business_id=business_id)

    with mock.patch("switchboard.meta.messaging_adapter.parse_messaging_event", fixed):
        call_command("replay_webhooks", "--status", "failed")
    log.refresh_from_db()
    assert (log.status, log.error) == (WebhookStatus.PROCESSED, "")
    assert sorted(Message.objects.values_list("text", flat=True)) == [
        "Bonjour ! Is the 2-bedroom on Rue Sainte-Catherine still available? \U0001f3e0",
        "a message without its mid",
    ]


def test_an_endpoint_that_does_not_acknowledge_unparseable_deliveries_still_answers_400(poster, twilio_account):
    delivery = poster.twilio(fixture_bytes("whatsapp", "twilio__malformed__no_message_sid.txt").strip())
    assert delivery.response.status_code == 400
    assert delivery.log.status == WebhookStatus.REJECTED


def test_oversize_body_is_413(poster, messenger_account, settings):
    settings.WEBHOOK_MAX_BODY_BYTES = 100
    delivery = poster.meta("messenger", body())
    assert delivery.response.status_code == 413
    assert delivery.log.status == WebhookStatus.REJECTED


def test_unconnected_account_is_acknowledged_as_ignored(poster):
    delivery = poster.meta("messenger", body())
    assert delivery.response.status_code == 200
    assert delivery.log.status == WebhookStatus.IGNORED


def test_inactive_account_is_ignored(poster, messenger_account):
    messenger_account.is_active = False
    messenger_account.save()
    assert poster.meta("messenger", body()).log.status == WebhookStatus.IGNORED
    assert Message.objects.count() == 0


def test_retried_delivery_is_a_duplicate(poster, messenger_account):
    poster.meta("messenger", body())
    again = poster.meta("messenger", body())
    assert again.response.status_code == 200 and again.log.status == WebhookStatus.DUPLICATE
    assert Message.objects.count() == 1 and again.events == []


def test_get_without_handshake_is_405(db, client):
    assert client.get("/api/webhooks/messenger/").status_code == 405


def test_invalid_signatures_are_rate_limited_per_ip_but_valid_traffic_is_not(poster, messenger_account, settings):
    settings.INVALID_SIGNATURE_RATE_LIMIT = 3
    for _ in range(3):
        assert poster.meta("messenger", body(), secret="wrong").response.status_code == 403
    logs_before = WebhookLog.objects.count()
    limited = poster.meta("messenger", body(), secret="wrong")
    assert limited.response.status_code == 429
    assert WebhookLog.objects.count() == logs_before  # nothing stored for a flood of bad signatures
    valid = poster.meta("messenger", body())
    assert valid.response.status_code == 200 and Message.objects.count() == 1


def test_failed_processing_is_kept_and_replayed_by_command(poster, messenger_account):
    with mock.patch(
        "switchboard.inbox.services.ingest.MessageService.handle", side_effect=RuntimeError("database hiccup")
    ):
        delivery = poster.meta("messenger", body())
    assert delivery.response.status_code == 200  # stored: we own the retry, the platform need not
    log = delivery.log
    assert log.status == WebhookStatus.FAILED and "database hiccup" in log.error
    assert Message.objects.count() == 0
    call_command("replay_webhooks", "--status", "failed")
    log.refresh_from_db()
    assert (log.status, log.attempts) == (WebhookStatus.PROCESSED, 2)
    assert Message.objects.count() == 1


def test_admin_replay_action(admin_client, poster, messenger_account):
    with mock.patch("switchboard.inbox.services.ingest.MessageService.handle", side_effect=RuntimeError("boom")):
        log = poster.meta("messenger", body()).log
    response = admin_client.post(
        "/admin/webhooks/webhooklog/", {"action": "replay", "_selected_action": [log.pk]}, follow=True
    )
    assert response.status_code == 200
    log.refresh_from_db()
    assert log.status == WebhookStatus.PROCESSED and Message.objects.count() == 1


def test_rejected_deliveries_never_replay(poster, messenger_account):
    log = poster.meta("messenger", body(), secret="wrong").log
    call_command("replay_webhooks", "--id", str(log.pk), "--status", "failed")
    log.refresh_from_db()
    assert log.status == WebhookStatus.REJECTED and Message.objects.count() == 0


def test_metrics_count_requests_signature_errors_and_messages(poster, messenger_account):
    def value(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    before = (
        value("webhook_requests_total", platform="messenger", status="processed"),
        value("webhook_signature_errors_total", platform="messenger"),
        value("messages_ingested_total", platform="messenger", kind="text"),
    )
    poster.meta("messenger", body())
    poster.meta("messenger", body(), secret="wrong")
    after = (
        value("webhook_requests_total", platform="messenger", status="processed"),
        value("webhook_signature_errors_total", platform="messenger"),
        value("messages_ingested_total", platform="messenger", kind="text"),
    )
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1, 1]


@pytest.mark.django_db(transaction=True)
def test_same_delivery_posted_ten_times_concurrently_is_stored_once(
    require_postgres, webhook_settings, make_org, make_account
):
    from switchboard.platforms.models import Platform

    make_account(make_org(), Platform.MESSENGER, external_id="109876543210987")
    raw = body()
    barrier = threading.Barrier(10)
    statuses: list[int] = []

    def post() -> None:
        try:
            barrier.wait()
            response = Client().post(
                "/api/webhooks/messenger/",
                raw,
                content_type="application/json",
                headers={"X-Hub-Signature-256": meta_signature(raw)},
            )
            statuses.append(response.status_code)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=post) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 10
    assert Message.objects.count() == 1
    logs = list(WebhookLog.objects.values_list("status", flat=True))
    assert sorted(logs) == ["duplicate"] * 9 + ["processed"]
