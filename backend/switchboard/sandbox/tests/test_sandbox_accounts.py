"""Any agency can connect a sandbox account on any platform (no credentials); the simulated customer is off until
the account's settings switch it on."""

from __future__ import annotations

import pytest

from switchboard.platforms.models import Platform, PlatformAccount, Provider
from switchboard.platforms.registry import adapter_for
from switchboard.sandbox import simulation

URL = "/api/platforms/accounts/"


@pytest.mark.parametrize("platform", [Platform.WHATSAPP, Platform.MESSENGER, Platform.INSTAGRAM])
def test_an_owner_connects_a_sandbox_account_on_every_platform(owner_client, platform):
    body = {"platform": platform, "provider": "sandbox", "display_name": "Try-out", "external_id": f"try-{platform}"}

    response = owner_client.post(URL, body, format="json")

    assert response.status_code == 201, response.content
    account = PlatformAccount.objects.get(pk=response.json()["id"])
    assert (account.provider, account.credentials, account.settings) == (Provider.SANDBOX, {}, {})
    assert simulation.simulates_replies(account) is False  # off by default for a new tenant
    assert adapter_for(account).check_health(account) == {"ok": True, "sandbox": True, "simulate_replies": False}


def test_the_simulated_customer_is_switched_on_in_the_settings(owner_client):
    body = {"platform": "messenger", "provider": "sandbox", "display_name": "Try-out", "external_id": "try-page",
            "settings": {"simulate_replies": True}}  # fmt: skip
    account = PlatformAccount.objects.get(pk=owner_client.post(URL, body, format="json").json()["id"])
    assert simulation.simulates_replies(account) is True

    refused = owner_client.patch(f"{URL}{account.pk}/", {"settings": {"simulate_replies": "yes"}}, format="json")
    assert refused.status_code == 400
    assert "'simulate_replies' must be true or false." in str(refused.json())


def test_a_sandbox_account_takes_no_credentials(owner_client):
    body = {"platform": "whatsapp", "provider": "sandbox", "display_name": "Try-out", "external_id": "try-wa",
            "credentials": {"access_token": "EAAG-real-token"}}  # fmt: skip
    response = owner_client.post(URL, body, format="json")
    assert response.status_code == 400
    assert "'access_token' is not a credential of the sandbox provider" in str(response.json())
