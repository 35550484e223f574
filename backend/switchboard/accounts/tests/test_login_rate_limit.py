"""The login rate limits: per account (any address) and, much higher, per client IP (any account); failures only;
shared through the cache."""

from __future__ import annotations

import time

import pytest
from django.core.cache import caches
from rest_framework.test import APIClient

from switchboard.accounts.tests.conftest import PASSWORD
from switchboard.accounts.throttles import LoginRateLimiter

pytestmark = pytest.mark.django_db

LOGIN = "/api/accounts/login/"
LIMIT = 3  # per account
IP_LIMIT = 7  # per client IP
WINDOW = 120


@pytest.fixture(autouse=True)
def _limit(settings):
    settings.LOGIN_RATE_LIMIT = LIMIT
    settings.LOGIN_IP_RATE_LIMIT = IP_LIMIT
    settings.LOGIN_RATE_WINDOW_SECONDS = WINDOW


def login(email: str, password: str, ip: str, **extra):
    return APIClient().post(LOGIN, {"email": email, "password": password}, format="json", REMOTE_ADDR=ip, **extra)


def assert_throttled(response, window: int = WINDOW) -> None:
    assert response.status_code == 429, response.content
    body = response.json()
    assert body["code"] == "too_many_login_attempts"
    assert body["detail"].startswith("Too many login attempts.")
    assert 1 <= int(response["Retry-After"]) <= window


def test_per_email_limit_holds_across_ips(make_user):
    make_user(email="victim@example.com")
    make_user(email="bystander@example.com")
    for n in range(LIMIT):
        assert login("victim@example.com", "guess", f"198.51.100.{n}").status_code == 401
    # from yet another IP, and even with the right password (a blocked attempt never reveals a correct guess)
    assert_throttled(login("VICTIM@example.com", PASSWORD, "198.51.100.99"))
    # a different email from another IP is not affected
    assert login("bystander@example.com", PASSWORD, "203.0.113.7").status_code == 200


def test_one_accounts_failures_do_not_lock_out_colleagues_behind_the_same_ip(make_user):
    """An office behind one NAT address: one person locking their own account leaves everyone else able to log in."""
    make_user(email="typo@example.com")
    colleagues = [make_user(email=f"colleague{n}@example.com") for n in range(4)]
    for _ in range(LIMIT):
        assert login("typo@example.com", "wrong", "192.0.2.10").status_code == 401
    assert_throttled(login("typo@example.com", PASSWORD, "192.0.2.10"))
    for colleague in colleagues:
        assert login(colleague.email, PASSWORD, "192.0.2.10").status_code == 200


def test_per_ip_limit_holds_across_emails(make_user):
    make_user(email="a@example.com")
    make_user(email="b@example.com")
    for n in range(IP_LIMIT):
        # one guess per account: no account reaches its own limit, the address reaches its limit
        assert login(f"nobody{n}@example.com", "guess", "192.0.2.1").status_code == 401
    assert_throttled(login("a@example.com", PASSWORD, "192.0.2.1"))
    # the same account from another address is fine: only that IP is limited
    assert login("a@example.com", PASSWORD, "192.0.2.2").status_code == 200
    assert login("b@example.com", PASSWORD, "192.0.2.3").status_code == 200


def test_the_default_ip_limit_is_ten_times_the_account_limit():
    from django.conf import settings as django_settings

    from config import settings as defaults

    assert (defaults.LOGIN_RATE_LIMIT, defaults.LOGIN_IP_RATE_LIMIT) == (10, 100)
    assert django_settings.LOGIN_IP_RATE_LIMIT == IP_LIMIT  # (this module's override)


def test_successful_logins_do_not_count(make_user):
    make_user(email="busy@example.com")
    for _ in range(LIMIT * 2):  # a whole office behind one address logging in
        assert login("busy@example.com", PASSWORD, "192.0.2.50").status_code == 200
    for _ in range(LIMIT):
        assert login("busy@example.com", "typo", "192.0.2.50").status_code == 401
    assert_throttled(login("busy@example.com", PASSWORD, "192.0.2.50"))


def test_a_success_does_not_reset_the_failures(make_user):
    make_user(email="mine@example.com")
    for n in range(IP_LIMIT - 1):
        assert login(f"other{n}@example.com", "guess", "192.0.2.60").status_code == 401
    assert login("mine@example.com", PASSWORD, "192.0.2.60").status_code == 200
    assert login("other99@example.com", "guess", "192.0.2.60").status_code == 401
    assert_throttled(login("other100@example.com", "guess", "192.0.2.60"))


def test_the_window_ends(settings, make_user):
    settings.LOGIN_RATE_WINDOW_SECONDS = 2
    make_user(email="later@example.com")
    for _ in range(LIMIT):
        assert login("later@example.com", "guess", "192.0.2.70").status_code == 401
    assert_throttled(login("later@example.com", PASSWORD, "192.0.2.70"), window=2)
    time.sleep(2.2)
    assert login("later@example.com", PASSWORD, "192.0.2.70").status_code == 200


def test_forwarded_for_is_used_only_behind_a_trusted_proxy(settings, make_user):
    make_user(email="x@example.com")
    # Untrusted: X-Forwarded-For is ignored, every attempt counts against REMOTE_ADDR.
    settings.TRUST_FORWARDED_HEADERS = False
    for n in range(IP_LIMIT):
        login(f"n{n}@example.com", "guess", "10.0.0.1", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
    assert_throttled(login("x@example.com", PASSWORD, "10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.200"))
    # Trusted (behind nginx, all requests from 10.0.0.1): the client is the address the proxy appended last;
    # a value the client put in front of it cannot change its identity.
    settings.TRUST_FORWARDED_HEADERS = True
    assert login("x@example.com", PASSWORD, "10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5").status_code == 200
    for n in range(IP_LIMIT):
        login(f"m{n}@example.com", "guess", "10.0.0.1", HTTP_X_FORWARDED_FOR=f"1.1.1.{n}, 198.51.100.9")
    assert_throttled(login("x@example.com", PASSWORD, "10.0.0.1", HTTP_X_FORWARDED_FOR="9.9.9.9, 198.51.100.9"))
    assert login("x@example.com", PASSWORD, "10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.10").status_code == 200


def test_parallel_attempts_cannot_overshoot():
    """Counting happens before the password check, atomically: of many attempts, exactly `limit` get through."""
    limiter = LoginRateLimiter(account_limit=LIMIT, ip_limit=IP_LIMIT, window=WINDOW)
    across_accounts = [limiter.charge(ip="192.0.2.80", email=f"u{n}@example.com") for n in range(IP_LIMIT + 5)]
    assert [r.blocked for r in across_accounts] == [False] * IP_LIMIT + [True] * 5
    one_account = [limiter.charge(ip=f"198.51.100.{n}", email="one@example.com") for n in range(LIMIT + 5)]
    assert [r.blocked for r in one_account] == [False] * LIMIT + [True] * 5


def test_counters_live_in_the_shared_cache(require_redis):
    """With Redis another process (here: another, independent cache client) sees the same counters."""
    limiter = LoginRateLimiter(account_limit=LIMIT, ip_limit=IP_LIMIT, window=WINDOW)
    for _ in range(LIMIT):
        attempt = limiter.charge(ip="192.0.2.90", email="shared@example.com")
    other_process_cache = caches.create_connection("default")
    assert other_process_cache.get(attempt.keys[0]) == LIMIT
    assert other_process_cache.get(attempt.keys[1]) == LIMIT
