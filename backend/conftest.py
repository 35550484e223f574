"""Shared fixtures: organizations, members, authenticated API clients, platform accounts."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable

import pytest
from django.conf import settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from switchboard.accounts.models import Membership, Organization, Role, User
from switchboard.platforms.models import Platform, PlatformAccount, Provider

_counter = itertools.count(1)

IN_CI = os.environ.get("CI") == "true"


def uses_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def uses_redis() -> bool:
    return bool(settings.REDIS_URL)


@pytest.fixture
def require_postgres() -> None:
    """Tests that prove behaviour only PostgreSQL shows. Under CI they can never be skipped."""
    if not uses_postgres():
        if IN_CI:
            pytest.fail("CI=true but the suite is not running on PostgreSQL")
        pytest.skip("needs PostgreSQL: set DATABASE_URL (CI always does)")


@pytest.fixture
def require_redis() -> None:
    if not uses_redis():
        if IN_CI:
            pytest.fail("CI=true but REDIS_URL is not set")
        pytest.skip("needs Redis: set REDIS_URL (CI always does)")


@pytest.fixture(autouse=True)
def _isolated_settings(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def make_org(db) -> Callable[..., Organization]:
    def make(name: str | None = None) -> Organization:
        n = next(_counter)
        return Organization.objects.create(name=name or f"Agency {n}", slug=f"agency-{n}")

    return make


@pytest.fixture
def make_user(db) -> Callable[..., User]:
    def make(org: Organization | None = None, role: str = Role.AGENT, email: str | None = None) -> User:
        n = next(_counter)
        user = User.objects.create_user(email or f"user{n}@example.com", "correct-horse-battery", full_name=f"User {n}")
        if org is not None:
            Membership.objects.create(user=user, organization=org, role=role)
        return user

    return make


@pytest.fixture
def make_account(db) -> Callable[..., PlatformAccount]:
    def make(
        org: Organization,
        platform: str = Platform.WHATSAPP,
        provider: str = Provider.META,
        external_id: str | None = None,
        **extra,
    ) -> PlatformAccount:
        n = next(_counter)
        extra.setdefault("credentials", {"access_token": f"token-{n}"})
        return PlatformAccount.objects.create(
            organization=org,
            platform=platform,
            provider=provider,
            display_name=f"{platform} {n}",
            external_id=external_id or f"10000{n}",
            **extra,
        )

    return make


def client_for(user: User, organization: Organization | None = None) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    if organization is not None:
        client.defaults["HTTP_X_ORGANIZATION"] = str(organization.pk)
    return client


@pytest.fixture
def org(make_org) -> Organization:
    return make_org("Acme Realty")


@pytest.fixture
def owner(make_user, org) -> User:
    return make_user(org, Role.OWNER)


@pytest.fixture
def agent(make_user, org) -> User:
    return make_user(org, Role.AGENT)


@pytest.fixture
def owner_client(owner) -> APIClient:
    return client_for(owner)


@pytest.fixture
def agent_client(agent) -> APIClient:
    return client_for(agent)


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()
