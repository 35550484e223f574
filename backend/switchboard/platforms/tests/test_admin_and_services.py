"""PlatformAccount admin (write-only secrets, saves through the services) and the services' own edges."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from switchboard.accounts.models import User
from switchboard.platforms import services
from switchboard.platforms.models import Platform, PlatformAccount, Provider

ADD = "/admin/platforms/platformaccount/add/"
LIST = "/admin/platforms/platformaccount/"
TOKEN = "EAAG-admin-secret-token-31337"


def change_url(account: PlatformAccount) -> str:
    return f"/admin/platforms/platformaccount/{account.pk}/change/"


@pytest.fixture
def browser(db) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root@example.com", "correct-horse-battery"))
    return client


def form_data(account: PlatformAccount | None = None, **overrides) -> dict:
    data = {
        "display_name": account.display_name if account else "Sales line",
        "is_active": "on",
        "external_id": account.external_id if account else "106540352242922",
        "business_account_id": "",
        "phone_number": "",
        "settings": "{}",
    }
    if account is None:
        data |= {"platform": "whatsapp", "provider": "meta"}
    return data | overrides


def test_admin_connects_an_account_through_the_service(browser, org):
    response = browser.post(ADD, form_data(organization=org.pk, access_token=TOKEN, new_webhook_secret="hook"))

    assert response.status_code == 302, response.content.decode()[:3000]
    account = PlatformAccount.objects.get()
    assert (account.organization, account.credentials, account.webhook_secret) == (org, {"access_token": TOKEN}, "hook")


def test_admin_refuses_missing_credentials_with_a_form_error(browser, org):
    response = browser.post(ADD, form_data(organization=org.pk))
    assert response.status_code == 200
    assert "requires" in response.content.decode() and "access_token" in response.content.decode()
    assert not PlatformAccount.objects.exists()


def test_admin_refuses_a_duplicate_external_id(browser, org, make_account):
    make_account(org, external_id="106540352242922")
    response = browser.post(ADD, form_data(organization=org.pk, access_token=TOKEN))
    assert response.status_code == 200
    assert "already connected" in response.content.decode()
    assert PlatformAccount.objects.count() == 1


def test_change_page_never_shows_secrets_and_blank_keeps_them(browser, org, make_account):
    account = make_account(
        org,
        Platform.WHATSAPP,
        Provider.BRIDGE,
        external_id="agency-main",
        credentials={"base_url": "http://127.0.0.1:3000", "api_key": "bridge-key-secret"},
        webhook_secret="bridge-shared-secret",
        verify_token="verify-secret",
    )

    page = browser.get(change_url(account)).content.decode()
    for secret in ("bridge-key-secret", "bridge-shared-secret", "verify-secret"):
        assert secret not in page
    assert "api_key, base_url" in page  # which credentials are set

    response = browser.post(change_url(account), form_data(account, display_name="Renamed"))
    assert response.status_code == 302, response.content.decode()[:3000]
    account.refresh_from_db()
    assert account.display_name == "Renamed"
    assert account.credentials == {"base_url": "http://127.0.0.1:3000", "api_key": "bridge-key-secret"}
    assert (account.webhook_secret, account.verify_token) == ("bridge-shared-secret", "verify-secret")
    assert account.organization == org and account.provider == Provider.BRIDGE


def test_change_replaces_only_the_secrets_entered(browser, org, make_account):
    account = make_account(
        org,
        Platform.WHATSAPP,
        Provider.TWILIO,
        external_id="+14155238886",
        credentials={"account_sid": "AC1", "auth_token": "old"},
        needs_reconnect=True,
    )
    response = browser.post(change_url(account), form_data(account, auth_token="new-token", needs_reconnect="on"))
    assert response.status_code == 302, response.content.decode()[:3000]
    account.refresh_from_db()
    assert account.credentials == {"account_sid": "AC1", "auth_token": "new-token"}


def test_clear_secrets(browser, org, make_account):
    account = make_account(org, credentials={"access_token": "old"}, webhook_secret="s", verify_token="v")
    response = browser.post(change_url(account), form_data(account, clear_secrets="on", access_token="fresh"))
    assert response.status_code == 302, response.content.decode()[:3000]
    account.refresh_from_db()
    assert (account.credentials, account.webhook_secret, account.verify_token) == ({"access_token": "fresh"}, "", "")


def test_changelist_filters(browser, org, make_account):
    make_account(org)
    for query in (
        "",
        "?platform__exact=whatsapp",
        "?provider__exact=meta",
        f"?organization__id__exact={org.pk}",
        "?is_active__exact=1",
        "?needs_reconnect__exact=0",
    ):
        response = browser.get(LIST + query)
        assert response.status_code == 200, query
        assert "token-" not in response.content.decode()


# --- services ---------------------------------------------------------------------------------------------------------
def test_a_concurrent_duplicate_loses_on_the_constraint_with_a_field_error(org, owner, make_account):
    make_account(org, external_id="555")
    with (
        mock.patch.object(services, "_external_id_taken", side_effect=[False, True]),
        pytest.raises(ValidationError) as caught,
    ):
        services.platform_account_create(
            organization=org,
            by=owner,
            platform=Platform.WHATSAPP,
            display_name="Twin",
            external_id="555",
            credentials={"access_token": "t"},
        )
    assert list(caught.value.message_dict) == ["external_id"]


def test_update_refuses_fields_that_cannot_change(org, owner, make_account):
    account = make_account(org)
    with pytest.raises(ValidationError) as caught:
        services.platform_account_update(account=account, by=owner, provider=Provider.TWILIO)
    assert list(caught.value.message_dict) == ["provider"]


def test_an_unchanged_legacy_external_id_does_not_block_other_changes(org, owner, make_account):
    account = make_account(org, external_id="legacy id with spaces")
    services.platform_account_update(account=account, by=owner, display_name="Still editable")
    account.refresh_from_db()
    assert (account.display_name, account.external_id) == ("Still editable", "legacy id with spaces")
