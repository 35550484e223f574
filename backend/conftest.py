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
    # Webhook fixtures name real vendor hosts: nothing is downloaded in tests unless a test turns this on.
    settings.MEDIA_AUTO_DOWNLOAD = False
    # The assistant's fake vendors listen on 127.0.0.1 (the address guard's own tests turn these back).
    settings.AI_ALLOW_PRIVATE_BASE_URL, settings.AI_ALLOWED_HOSTS = True, []
    # Tasks queued without a worker run inline in the test's thread, delayed ones only when a test calls
    # inprocess.run_delayed(): deterministic (switchboard/inbox/inprocess.py; the server uses threads).
    settings.INPROCESS_TASK_THREADS = 0
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed, tests only
    settings.SECURE_SSL_REDIRECT = False
    # Templates (admin pages) render without a collectstatic manifest.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _celery_in_process(request):
    """Tasks run in-process in tests, as under the embedded default, even when REDIS_URL (CI) gives Celery a real
    broker; tests marked `live` talk to a real worker instead."""
    if "live" in request.keywords:
        yield
        return
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


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
        extra.setdefault("display_name", f"{platform} {n}")
        return PlatformAccount.objects.create(
            organization=org, platform=platform, provider=provider, external_id=external_id or f"10000{n}", **extra
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


@pytest.fixture
def webhook_settings(settings):
    from switchboard.webhooks import testing

    settings.META_APP_SECRET = testing.META_APP_SECRET
    settings.META_VERIFY_TOKEN = testing.META_VERIFY_TOKEN
    settings.PUBLIC_BASE_URL = ""
    settings.TRUST_FORWARDED_HEADERS = False
    return settings


@pytest.fixture
def poster(db, client, django_capture_on_commit_callbacks, webhook_settings):
    from switchboard.webhooks.testing import WebhookPoster

    return WebhookPoster(client, django_capture_on_commit_callbacks)


@pytest.fixture
def wa_cloud_account(make_account, org, owner):
    """The WhatsApp Cloud number every cloud fixture is addressed to."""
    return make_account(org, Platform.WHATSAPP, Provider.META, external_id="106540352242922")


@pytest.fixture
def twilio_account(make_account, org, owner):
    from switchboard.webhooks import testing

    return make_account(
        org,
        Platform.WHATSAPP,
        Provider.TWILIO,
        external_id="+14155238886",
        credentials={"account_sid": testing.TWILIO_ACCOUNT_SID, "auth_token": testing.TWILIO_AUTH_TOKEN},
    )


@pytest.fixture
def bridge_account(make_account, org, owner):
    from switchboard.webhooks import testing

    return make_account(
        org,
        Platform.WHATSAPP,
        Provider.BRIDGE,
        external_id="agency-main",
        webhook_secret=testing.BRIDGE_SECRET,
        credentials={"base_url": "http://127.0.0.1:3000", "api_key": "bridge-key"},
    )


@pytest.fixture
def messenger_account(make_account, org, owner):
    return make_account(org, Platform.MESSENGER, Provider.META, external_id="109876543210987")


@pytest.fixture
def instagram_account(make_account, org, owner):
    return make_account(org, Platform.INSTAGRAM, Provider.META, external_id="17841400000000001")


@pytest.fixture
def fake_vendor(settings):
    """A fake Graph API / Twilio on 127.0.0.1 (tests/fakes/vendor.py); GRAPH_API_BASE and TWILIO_API_BASE point at
    it for the test."""
    from tests.fakes import FakeVendor

    with FakeVendor() as vendor:
        settings.GRAPH_API_BASE = vendor.url
        settings.TWILIO_API_BASE = vendor.url
        yield vendor


@pytest.fixture
def celery_eager():
    """Tasks run in-process and their exceptions surface, whatever REDIS_URL made the suite's Celery default."""
    from config.celery import app

    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield app
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous
