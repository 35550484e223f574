"""/api/platforms/accounts/: connect, change, disconnect; secrets go in and never come out."""

from __future__ import annotations

import json

import pytest

from conftest import client_for
from switchboard.accounts.models import Role
from switchboard.inbox.models import Conversation
from switchboard.inbox.tests.conftest import create_conversation
from switchboard.platforms.models import Platform, PlatformAccount, Provider

URL = "/api/platforms/accounts/"

SECRETS = ("EAAG-secret-access-token-1234", "twilio-auth-token-9876", "bridge-api-key-5555", "hook-secret-4242")

ACCOUNT_KEYS = {
    "id",
    "platform",
    "provider",
    "display_name",
    "external_id",
    "business_account_id",
    "phone_number",
    "settings",
    "is_active",
    "needs_reconnect",
    "last_error",
    "last_sync_at",
    "has_credentials",
    "credential_keys",
    "has_webhook_secret",
    "has_verify_token",
    "webhook_url",
    "created_at",
    "updated_at",
}


def detail(pk: int) -> str:
    return f"{URL}{pk}/"


def assert_no_secrets(response) -> None:
    """No secret value anywhere in the answer, and no account object carrying a secret field."""
    body = response.content.decode()
    for secret in [*SECRETS, "verify-me", "token-"]:
        assert secret not in body, f"a secret leaked: {secret}"
    if not body or response.status_code >= 400:
        return
    data = response.json()
    for item in data if isinstance(data, list) else [data]:
        assert not {"credentials", "webhook_secret", "verify_token"} & set(item), item


def meta_body(**overrides) -> dict:
    return {
        "platform": "whatsapp",
        "provider": "meta",
        "display_name": "Sales line",
        "external_id": "106540352242922",
        "business_account_id": "102290129340398",
        "credentials": {"access_token": SECRETS[0]},
        "webhook_secret": SECRETS[3],
        "verify_token": "verify-me",
        **overrides,
    }


def errors_of(response) -> dict:
    assert response.status_code == 400, response.content
    return response.json()["errors"]


# --- connecting -------------------------------------------------------------------------------------------------------
def test_owner_connects_a_meta_account(owner_client, org):
    response = owner_client.post(URL, meta_body(), format="json")

    assert response.status_code == 201, response.content
    assert_no_secrets(response)
    data = response.json()
    assert set(data) == ACCOUNT_KEYS
    assert data["has_credentials"] is True and data["credential_keys"] == ["access_token"]
    assert data["has_webhook_secret"] is True and data["has_verify_token"] is True
    account = PlatformAccount.objects.get(pk=data["id"])
    assert account.organization == org
    assert account.credentials == {"access_token": SECRETS[0]}
    assert account.webhook_secret == SECRETS[3] and account.verify_token == "verify-me"


def test_admins_connect_too(make_user, org):
    admin = make_user(org, Role.ADMIN)
    assert client_for(admin).post(URL, meta_body(), format="json").status_code == 201


def test_twilio_number_is_stored_in_e164(owner_client):
    response = owner_client.post(
        URL,
        {
            "platform": "whatsapp",
            "provider": "twilio",
            "display_name": "Twilio",
            "external_id": "whatsapp:+1 (415) 523-8886",
            "credentials": {"account_sid": "AC123", "auth_token": SECRETS[1]},
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert_no_secrets(response)
    assert response.json()["external_id"] == "+14155238886"
    assert response.json()["credential_keys"] == ["account_sid", "auth_token"]


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        (meta_body(credentials={}), "credentials", "access_token"),
        (meta_body(credentials={"access_token": ""}), "credentials", "access_token"),
        (meta_body(credentials={"access_token": "x", "acces_token": "y"}), "credentials", "acces_token"),
        (
            meta_body(provider="twilio", external_id="+14155238886", credentials={"account_sid": "AC1"}),
            "credentials",
            "auth_token",
        ),
        (
            meta_body(provider="twilio", external_id="+14155238886", credentials={}),
            "credentials",
            "account_sid",
        ),
        (
            meta_body(provider="bridge", external_id="agency-main", credentials={"api_key": "k"}),
            "credentials",
            "base_url",
        ),
        (
            meta_body(provider="bridge", external_id="agency-main", credentials={"base_url": "ftp://x"}),
            "credentials",
            "base_url",
        ),
        (meta_body(platform="instagram", provider="twilio"), "provider", "meta"),
        (meta_body(provider="twilio", credentials={"account_sid": "A", "auth_token": "B"}), "external_id", "E.164"),
        (meta_body(external_id="not-a-number"), "external_id", "numeric"),
        (meta_body(platform="telegram"), "platform", ""),
        (meta_body(display_name=""), "display_name", ""),
        (meta_body(settings={"rate_limit_per_second": 0}), "settings", "rate_limit_per_second"),
        (meta_body(settings={"send_read_receipts": "yes"}), "settings", "send_read_receipts"),
    ],
)
def test_invalid_input_is_a_400_naming_the_field(owner_client, body, field, words):
    response = owner_client.post(URL, body, format="json")
    errors = errors_of(response)
    assert field in errors, errors
    assert words in json.dumps(errors[field]), errors
    assert_no_secrets(response)
    assert not PlatformAccount.objects.exists()


def test_bridge_api_key_is_optional(owner_client):
    body = meta_body(provider="bridge", external_id="agency-main", credentials={"base_url": "http://127.0.0.1:3000"})
    assert owner_client.post(URL, body, format="json").status_code == 201


def test_an_external_id_connected_anywhere_is_a_400_naming_external_id(owner_client, make_org, make_account):
    make_account(make_org(), Platform.WHATSAPP, Provider.META, external_id="106540352242922")

    errors = errors_of(owner_client.post(URL, meta_body(), format="json"))

    assert list(errors) == ["external_id"]
    assert "already connected" in errors["external_id"][0]
    # the same id on another provider is another account
    other = meta_body(provider="bridge", external_id="106540352242922", credentials={"base_url": "https://b.example"})
    assert owner_client.post(URL, other, format="json").status_code == 201


# --- reading ----------------------------------------------------------------------------------------------------------
def test_agents_read_without_secrets_but_cannot_write(agent_client, make_account, org):
    account = make_account(
        org, credentials={"access_token": SECRETS[0]}, webhook_secret=SECRETS[3], verify_token="verify-me"
    )

    listed = agent_client.get(URL)
    assert listed.status_code == 200
    assert [a["id"] for a in listed.json()] == [account.pk]
    assert_no_secrets(listed)
    one = agent_client.get(detail(account.pk))
    assert one.status_code == 200
    assert_no_secrets(one)

    assert agent_client.post(URL, meta_body(external_id="999"), format="json").status_code == 403
    assert agent_client.patch(detail(account.pk), {"display_name": "Mine"}, format="json").status_code == 403
    assert agent_client.delete(detail(account.pk)).status_code == 403
    assert PlatformAccount.objects.count() == 1 and PlatformAccount.objects.get().is_active


def test_list_filters(owner_client, make_account, org):
    wa = make_account(org, Platform.WHATSAPP)
    ig = make_account(org, Platform.INSTAGRAM)
    off = make_account(org, Platform.WHATSAPP, Provider.BRIDGE, external_id="old-session", is_active=False)

    def listed(**params) -> list[int]:
        response = owner_client.get(URL, params)
        assert response.status_code == 200
        return sorted(a["id"] for a in response.json())

    assert listed() == sorted([wa.pk, ig.pk, off.pk])
    assert listed(platform="instagram") == [ig.pk]
    assert listed(provider="bridge") == [off.pk]
    assert listed(is_active="true") == sorted([wa.pk, ig.pk])


# --- changing ---------------------------------------------------------------------------------------------------------
def test_patch_merges_credentials_and_clears_needs_reconnect(owner_client, make_account, org):
    account = make_account(
        org,
        Platform.WHATSAPP,
        Provider.TWILIO,
        external_id="+14155238886",
        credentials={"account_sid": "AC1", "auth_token": "old-token"},
        needs_reconnect=True,
        last_error="20003 Authenticate",
    )

    response = owner_client.patch(
        detail(account.pk), {"credentials": {"auth_token": SECRETS[1]}, "display_name": "Renamed"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert_no_secrets(response)
    data = response.json()
    assert (data["display_name"], data["needs_reconnect"], data["last_error"]) == ("Renamed", False, "")
    account.refresh_from_db()
    assert account.credentials == {"account_sid": "AC1", "auth_token": SECRETS[1]}


def test_patch_cannot_remove_a_required_credential(owner_client, make_account, org):
    account = make_account(org)
    errors = errors_of(owner_client.patch(detail(account.pk), {"credentials": {"access_token": None}}, format="json"))
    assert "access_token" in errors["credentials"][0]


def test_patch_ignores_platform_and_provider(owner_client, make_account, org):
    account = make_account(org, Platform.WHATSAPP)
    response = owner_client.patch(detail(account.pk), {"platform": "instagram", "provider": "twilio"}, format="json")
    assert response.status_code == 200
    assert (response.json()["platform"], response.json()["provider"]) == ("whatsapp", "meta")


def test_patch_to_a_taken_external_id_is_a_400(owner_client, make_account, org):
    make_account(org, external_id="111")
    account = make_account(org, external_id="222")
    errors = errors_of(owner_client.patch(detail(account.pk), {"external_id": "111"}, format="json"))
    assert list(errors) == ["external_id"]


# --- disconnecting ----------------------------------------------------------------------------------------------------
def test_delete_disconnects_and_forgets_secrets_but_keeps_history(owner_client, make_account, org):
    account = make_account(org, credentials={"access_token": SECRETS[0]}, webhook_secret=SECRETS[3])
    conversation = create_conversation(account)

    assert owner_client.delete(detail(account.pk)).status_code == 204

    account.refresh_from_db()
    assert (account.is_active, account.credentials, account.webhook_secret) == (False, {}, "")
    assert Conversation.objects.filter(pk=conversation.pk).exists()
    data = owner_client.get(detail(account.pk)).json()
    assert (data["is_active"], data["has_credentials"], data["credential_keys"]) == (False, False, [])

    # renaming a disconnected account needs no credentials; reconnecting does
    assert owner_client.patch(detail(account.pk), {"display_name": "Old line"}, format="json").status_code == 200
    assert "credentials" in errors_of(owner_client.patch(detail(account.pk), {"is_active": True}, format="json"))
    reconnect = {"is_active": True, "credentials": {"access_token": "new-token"}}
    assert owner_client.patch(detail(account.pk), reconnect, format="json").json()["is_active"] is True


# --- tenancy ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("method", "body"), [("get", None), ("patch", {"display_name": "Stolen"}), ("delete", None)])
def test_another_tenants_account_is_404(owner_client, make_org, make_account, method, body):
    theirs = make_account(make_org(), credentials={"access_token": SECRETS[0]})

    response = getattr(owner_client, method)(detail(theirs.pk), body, format="json")

    assert response.status_code == 404
    assert_no_secrets(response)
    theirs.refresh_from_db()
    assert theirs.is_active and theirs.display_name != "Stolen"


def test_list_shows_only_the_callers_accounts(owner_client, make_org, make_account, org):
    mine = make_account(org)
    make_account(make_org())
    assert [a["id"] for a in owner_client.get(URL).json()] == [mine.pk]


def test_requires_authentication_and_membership(api_client, make_user):
    assert api_client.get(URL).status_code == 401
    loner = make_user()  # no organization
    assert client_for(loner).get(URL).status_code == 403
