"""Sandbox accounts receive the platforms' own formats on endpoints of their own, checked only against their own
secret, and never share routing with real Meta accounts (issue 9, within issue 8's secret rule)."""

from __future__ import annotations

import json

import pytest

from switchboard.inbox.models import Message
from switchboard.platforms.models import Platform, Provider
from switchboard.webhooks.testing import META_APP_SECRET, fixture_bytes, meta_signature

SANDBOX_SECRET = "sandbox-account-secret"


@pytest.mark.parametrize(
    ("platform", "app", "fixture", "external_id"),
    [
        (Platform.WHATSAPP, "whatsapp", "cloud__text__basic.json", "106540352242922"),
        (Platform.MESSENGER, "messenger", "messages__text.json", "109876543210987"),
    ],
)
def test_sandbox_account_receives_its_own_signed_delivery(
    poster, make_account, org, platform, app, fixture, external_id
):
    account = make_account(org, platform, Provider.SANDBOX, external_id=external_id, webhook_secret=SANDBOX_SECRET)
    body = fixture_bytes(app, fixture)
    delivery = poster.post(
        f"sandbox-{app}", body, "application/json", path=f"/api/webhooks/sandbox/{app}/",
        X_Hub_Signature_256=meta_signature(body, SANDBOX_SECRET),
    )  # fmt: skip

    assert delivery.response.status_code == 200, delivery.response.content
    assert delivery.log.platform == f"sandbox-{app}" and delivery.log.verified_accounts == [account.pk]
    assert Message.objects.get().platform_account_id == account.pk


def test_sandbox_account_never_accepts_the_global_secret(poster, make_account, org):
    make_account(org, Platform.WHATSAPP, Provider.SANDBOX, external_id="106540352242922")  # no secret of its own
    body = fixture_bytes("whatsapp", "cloud__text__basic.json")
    delivery = poster.post(
        "sandbox-whatsapp", body, "application/json", path="/api/webhooks/sandbox/whatsapp/",
        X_Hub_Signature_256=meta_signature(body, META_APP_SECRET),
    )  # fmt: skip

    assert delivery.response.status_code == 403
    assert delivery.response.json()["detail"] == "The sandbox account has no webhook_secret."
    assert Message.objects.count() == 0


def test_a_sandbox_account_with_a_real_ones_id_never_gets_its_traffic(poster, make_account, make_org, org):
    """Tenant B creates a sandbox account with tenant A's real Page id: Meta's deliveries still go to A only."""
    real = make_account(org, Platform.MESSENGER, Provider.META, external_id="109876543210987")
    make_account(make_org("B"), Platform.MESSENGER, Provider.SANDBOX, external_id="109876543210987")
    delivery = poster.meta("messenger", fixture_bytes("messenger", "messages__text.json"))

    assert delivery.response.status_code == 200
    assert list(Message.objects.values_list("platform_account_id", flat=True)) == [real.pk]


def test_readdress_points_a_fixture_at_the_account(make_account, org):
    from switchboard.webhooks.endpoints import adapter_for_endpoint

    account = make_account(org, Platform.MESSENGER, Provider.SANDBOX, external_id="555")
    body = adapter_for_endpoint("sandbox-messenger").readdress(
        account, fixture_bytes("messenger", "messages__text.json")
    )
    event = json.loads(body)["entry"][0]["messaging"][0]
    assert json.loads(body)["entry"][0]["id"] == "555"
    assert (event["recipient"]["id"], event["sender"]["id"]) == ("555", "7281946350172634")
