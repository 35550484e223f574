"""Reconnecting an account (issue 14): saving credentials that validate clears `needs_reconnect` — also the same
ones saved again (the owner fixed them at the platform's side, e.g. restored the Twilio account or renewed the
app's access) — through the API and the admin; afterwards a send goes through again (fake vendor on 127.0.0.1)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from switchboard.accounts.models import User
from switchboard.inbox.models import Message
from switchboard.inbox.tests.outbound_support import conversation_for, send
from switchboard.platforms import services
from switchboard.platforms.models import Platform, PlatformAccount, Provider
from tests.fakes import cloud_sent

TOKEN = "EAAG-the-same-token-again-777"
CLOUD_MESSAGES = r"/v21\.0/106540352242922/messages"


def detail(account: PlatformAccount) -> str:
    return f"/api/platforms/accounts/{account.pk}/"


def refused(account: PlatformAccount) -> PlatformAccount:
    """As a send answered 190 leaves it."""
    PlatformAccount.objects.filter(pk=account.pk).update(
        needs_reconnect=True, last_error="The account's access token expired or was revoked: reconnect the account."
    )
    account.refresh_from_db()
    return account


@pytest.fixture
def cloud(make_account, org):
    return make_account(org, external_id="106540352242922", credentials={"access_token": TOKEN})


@pytest.mark.usefixtures("celery_eager")
def test_saving_the_same_credentials_again_clears_needs_reconnect_and_sending_works(
    owner_client, agent_client, cloud, fake_vendor, settings, django_capture_on_commit_callbacks
):
    settings.PUBLIC_BASE_URL = ""
    refused(cloud)
    conversation = conversation_for(cloud)
    blocked = send(agent_client, django_capture_on_commit_callbacks, conversation, {"text": "hello?"})
    assert (blocked.response.status_code, blocked.response.json()["code"]) == (409, "account_needs_reconnect")

    response = owner_client.patch(detail(cloud), {"credentials": {"access_token": TOKEN}}, format="json")

    assert response.status_code == 200, response.content
    assert (response.json()["needs_reconnect"], response.json()["last_error"]) == (False, "")
    assert TOKEN not in response.content.decode()
    cloud.refresh_from_db()
    assert (cloud.needs_reconnect, cloud.last_error, cloud.credentials) == (False, "", {"access_token": TOKEN})

    fake_vendor.on("POST", CLOUD_MESSAGES, cloud_sent("wamid.BACK"))
    sent = send(agent_client, django_capture_on_commit_callbacks, conversation, {"text": "we are back"})
    assert sent.response.status_code == 201
    assert Message.objects.get(pk=sent.response.json()["id"]).status == "sent"
    [request] = fake_vendor.requests("POST", CLOUD_MESSAGES)
    assert request.headers["authorization"] == f"Bearer {TOKEN}"


def test_new_credentials_still_clear_it(owner_client, cloud):
    refused(cloud)
    response = owner_client.patch(detail(cloud), {"credentials": {"access_token": "EAAG-fresh"}}, format="json")
    assert response.status_code == 200 and response.json()["needs_reconnect"] is False


@pytest.mark.parametrize(
    "body",
    [
        {"display_name": "Renamed"},  # no credentials given: nothing says they work now
        {"credentials": {}},
    ],
)
def test_without_credentials_the_flag_stays(owner_client, cloud, body):
    refused(cloud)
    response = owner_client.patch(detail(cloud), body, format="json")
    assert response.status_code == 200, response.content
    cloud.refresh_from_db()
    assert cloud.needs_reconnect is True and "reconnect" in cloud.last_error


def test_an_explicit_flag_wins_over_the_credentials(cloud, owner):
    """The admin's checkbox, when changed, is what the owner says: kept even with credentials saved."""
    services.platform_account_update(
        account=refused(cloud), by=owner, credentials={"access_token": TOKEN}, needs_reconnect=True
    )
    cloud.refresh_from_db()
    assert cloud.needs_reconnect is True


def test_credentials_that_do_not_validate_change_nothing(owner_client, make_account, org):
    twilio = refused(make_account(org, Platform.WHATSAPP, Provider.TWILIO, external_id="+14155238886",
                                  credentials={"account_sid": "AC1", "auth_token": "tok"}))  # fmt: skip
    response = owner_client.patch(
        detail(twilio), {"credentials": {"auth_token": "tok", "account_sid": None}}, format="json"
    )
    assert response.status_code == 400 and "account_sid" in json.dumps(response.json())
    twilio.refresh_from_db()
    assert twilio.needs_reconnect is True and twilio.credentials == {"account_sid": "AC1", "auth_token": "tok"}


def test_the_admin_form_with_the_same_token_clears_it(db, cloud):
    refused(cloud)
    browser = Client()
    browser.force_login(User.objects.create_superuser("root@example.com", "correct-horse-battery"))
    form = {
        "display_name": cloud.display_name,
        "is_active": "on",
        "needs_reconnect": "on",  # still ticked, as the page showed it: unchanged, so the credentials decide
        "external_id": cloud.external_id,
        "business_account_id": "",
        "phone_number": "",
        "settings": "{}",
        "access_token": TOKEN,
    }
    response = browser.post(f"/admin/platforms/platformaccount/{cloud.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    cloud.refresh_from_db()
    assert (cloud.needs_reconnect, cloud.last_error, cloud.credentials) == (False, "", {"access_token": TOKEN})

    # Saved again without entering a secret: nothing was re-validated, so a refused account stays marked.
    refused(cloud)
    response = browser.post(f"/admin/platforms/platformaccount/{cloud.pk}/change/", form | {"access_token": ""})
    assert response.status_code == 302
    cloud.refresh_from_db()
    assert cloud.needs_reconnect is True
