"""Register → login → me → refresh → logout, and the ways each one refuses."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import RefreshToken

from switchboard.accounts.models import Membership, Organization, Role, User
from switchboard.accounts.tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

REGISTER = "/api/accounts/register/"
LOGIN = "/api/accounts/login/"
REFRESH = "/api/accounts/token/refresh/"
LOGOUT = "/api/accounts/logout/"
ME = "/api/accounts/me/"
STRONG = "plum-Orchard-47-lantern"


def register(client: APIClient, **overrides):
    body = {
        "email": "Maria@Example.com",
        "password": STRONG,
        "full_name": "Maria Lopez",
        "organization_name": "Sunset Realty",
        **overrides,
    }
    return client.post(REGISTER, body, format="json")


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def test_register_login_me_refresh_logout(api_client):
    response = register(api_client)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["user"]["email"] == "maria@example.com"
    assert body["organization"]["name"] == "Sunset Realty"
    assert body["organization"]["slug"] == "sunset-realty"
    assert body["role"] == Role.OWNER
    user = User.objects.get(email="maria@example.com")
    assert user.check_password(STRONG)
    assert Membership.objects.get(user=user).role == Role.OWNER
    # the registration tokens work right away
    assert bearer(body["access"]).get(ME).status_code == 200

    # login: the email is case-insensitive
    response = api_client.post(LOGIN, {"email": "MARIA@example.COM", "password": STRONG}, format="json")
    assert response.status_code == 200, response.content
    tokens = response.json()
    assert tokens["user"]["id"] == user.pk
    user.refresh_from_db()
    assert user.last_login is not None

    me = bearer(tokens["access"]).get(ME)
    assert me.status_code == 200
    me = me.json()
    org = Organization.objects.get(slug="sunset-realty")
    assert me["email"] == "maria@example.com"
    assert me["memberships"] == [{"organization": {"id": org.pk, "name": org.name, "slug": org.slug}, "role": "owner"}]
    assert me["organization"]["id"] == org.pk
    assert me["role"] == "owner"

    # refresh rotates: a new pair, and the refresh token just used is dead
    response = api_client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json")
    assert response.status_code == 200, response.content
    rotated = response.json()
    assert rotated["refresh"] != tokens["refresh"]
    assert bearer(rotated["access"]).get(ME).status_code == 200
    reused = api_client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json")
    assert reused.status_code == 401
    assert reused.json()["code"] == "token_not_valid"

    # logout blacklists the refresh token; refreshing with it afterwards fails
    response = api_client.post(LOGOUT, {"refresh": rotated["refresh"]}, format="json")
    assert response.status_code == 204
    jti = RefreshToken(rotated["refresh"], verify=False)["jti"]
    assert BlacklistedToken.objects.filter(token__jti=jti).exists()
    response = api_client.post(REFRESH, {"refresh": rotated["refresh"]}, format="json")
    assert response.status_code == 401
    assert response.json() == {"detail": "Token is blacklisted", "code": "token_not_valid"}


def test_register_duplicate_email_is_400_naming_the_field(api_client, make_user):
    make_user(email="taken@example.com")
    response = register(api_client, email="TAKEN@example.com")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert "email" in body["errors"]
    assert body["detail"].startswith("Invalid input. email:")
    assert User.objects.filter(email__iexact="taken@example.com").count() == 1
    assert not Organization.objects.filter(name="Sunset Realty").exists()


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("short1", "too short"),
        ("password123", "too common"),
        ("48301927365", "entirely numeric"),
        ("maria@example.com", "too similar"),
    ],
)
def test_register_runs_the_password_validators(api_client, password, why):
    response = register(api_client, password=password)
    assert response.status_code == 400
    messages = response.json()["errors"]["password"]
    assert messages
    if why:
        assert any(why in message for message in messages), messages
    assert not User.objects.filter(email="maria@example.com").exists()


def test_register_missing_fields(api_client):
    response = api_client.post(REGISTER, {"email": "a@example.com"}, format="json")
    assert response.status_code == 400
    assert {"password", "organization_name"} <= set(response.json()["errors"])


def test_register_derives_unique_slugs(api_client):
    assert register(api_client, email="a@example.com").json()["organization"]["slug"] == "sunset-realty"
    assert register(api_client, email="b@example.com").json()["organization"]["slug"] == "sunset-realty-2"
    assert register(api_client, email="c@example.com").json()["organization"]["slug"] == "sunset-realty-3"
    # an all-digit slug would be read by X-Organization as an id; a name without latin letters still gets one
    assert register(api_client, email="d@example.com", organization_name="2024").json()["organization"]["slug"] == (
        "org-2024"
    )
    slug = register(api_client, email="e@example.com", organization_name="Агентство").json()["organization"]["slug"]
    assert slug == "organization"
    long_digits = register(api_client, email="f@example.com", organization_name="9" * 150).json()["organization"]
    assert long_digits["slug"].startswith("org-99") and len(long_digits["slug"]) <= 60
    assert register(api_client, email="g@example.com", organization_name="9" * 150).status_code == 201


def test_login_wrong_password_unknown_email_and_inactive_user_answer_alike(api_client, make_user):
    user = make_user(email="sam@example.com")
    wrong = api_client.post(LOGIN, {"email": "sam@example.com", "password": "nope"}, format="json")
    unknown = api_client.post(LOGIN, {"email": "nobody@example.com", "password": PASSWORD}, format="json")
    user.is_active = False
    user.save()
    inactive = api_client.post(LOGIN, {"email": "sam@example.com", "password": PASSWORD}, format="json")
    for response in (wrong, unknown, inactive):
        assert response.status_code == 401
        assert response.json() == {"detail": "Invalid email or password.", "code": "invalid_credentials"}
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_login_ignores_a_stale_authorization_header(make_user):
    make_user(email="sam@example.com")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    response = client.post(LOGIN, {"email": "sam@example.com", "password": PASSWORD}, format="json")
    assert response.status_code == 200


def test_logout_refuses_invalid_tokens(api_client, make_user):
    response = api_client.post(LOGOUT, {"refresh": "garbage"}, format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"
    # an access token is not a refresh token
    access = str(RefreshToken.for_user(make_user()).access_token)
    assert api_client.post(LOGOUT, {"refresh": access}, format="json").status_code == 401
    response = api_client.post(LOGOUT, {}, format="json")
    assert response.status_code == 400
    assert "refresh" in response.json()["errors"]


def test_logout_twice_is_refused(api_client, make_user):
    refresh = str(RefreshToken.for_user(make_user()))
    assert api_client.post(LOGOUT, {"refresh": refresh}, format="json").status_code == 204
    assert api_client.post(LOGOUT, {"refresh": refresh}, format="json").status_code == 401


def test_refresh_for_a_deleted_or_deactivated_user_is_401(api_client, make_user):
    gone, inactive = make_user(), make_user()
    gone_refresh, inactive_refresh = str(RefreshToken.for_user(gone)), str(RefreshToken.for_user(inactive))
    gone.delete()
    inactive.is_active = False
    inactive.save()
    for refresh in (gone_refresh, inactive_refresh):
        response = api_client.post(REFRESH, {"refresh": refresh}, format="json")
        assert response.status_code == 401
        assert response.json()["code"] == "no_active_account"


def test_me_requires_authentication(api_client):
    response = api_client.get(ME)
    assert response.status_code == 401
    assert response.json()["detail"]


def test_me_patch_full_name(owner_client, owner):
    response = owner_client.patch(ME, {"full_name": "Renamed Person", "email": "hijack@example.com"}, format="json")
    assert response.status_code == 200
    assert response.json()["full_name"] == "Renamed Person"
    owner.refresh_from_db()
    assert owner.full_name == "Renamed Person"
    assert owner.email != "hijack@example.com"  # only the name can be changed here


def test_me_without_any_organization(make_user):
    from conftest import client_for

    response = client_for(make_user()).get(ME)
    assert response.status_code == 200
    body = response.json()
    assert body["memberships"] == []
    assert body["organization"] is None
    assert body["role"] is None
