"""Registration is limited per client IP, every attempt counted (successes, duplicates and weak passwords alike)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from switchboard.accounts.models import User

pytestmark = pytest.mark.django_db

REGISTER = "/api/accounts/register/"
STRONG = "plum-Orchard-47-lantern"


@pytest.fixture(autouse=True)
def _limit(settings):
    settings.REGISTRATION_RATE_LIMIT = 3
    settings.REGISTRATION_RATE_WINDOW_SECONDS = 600


def register(email: str, ip: str, password: str = STRONG, **extra):
    body = {"email": email, "password": password, "organization_name": "Agency"}
    return APIClient().post(REGISTER, body, format="json", REMOTE_ADDR=ip, **extra)


def test_the_fourth_sign_up_from_one_address_is_429(make_user):
    make_user(email="taken@example.com")
    assert register("one@example.com", "192.0.2.20").status_code == 201
    assert register("taken@example.com", "192.0.2.20").status_code == 400  # probing an address counts too
    assert register("two@example.com", "192.0.2.20", password="short").status_code == 400
    response = register("three@example.com", "192.0.2.20")
    assert response.status_code == 429, response.content
    body = response.json()
    assert body["code"] == "too_many_signups"
    assert body["detail"].startswith("Too many sign-up attempts from this address.")
    assert 1 <= int(response["Retry-After"]) <= 600
    assert not User.objects.filter(email="three@example.com").exists()
    # another address is not affected
    assert register("three@example.com", "192.0.2.21").status_code == 201


def test_malformed_requests_do_not_use_up_the_limit():
    for _ in range(5):
        assert APIClient().post(REGISTER, {"email": "x"}, format="json", REMOTE_ADDR="192.0.2.30").status_code == 400
    assert register("ok@example.com", "192.0.2.30").status_code == 201


def test_behind_a_trusted_proxy_the_forwarded_client_is_limited(settings):
    settings.TRUST_FORWARDED_HEADERS = True
    for n in range(3):
        assert register(f"p{n}@example.com", "10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.40").status_code == 201
    assert register("p9@example.com", "10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.40").status_code == 429
    # another client behind the same proxy
    assert register("q@example.com", "10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.41").status_code == 201
