"""Accounts test helpers (the shared fixtures are in backend/conftest.py)."""

from __future__ import annotations

import pytest

from conftest import client_for
from switchboard.accounts.models import Role

PASSWORD = "correct-horse-battery"  # what backend/conftest.py's make_user sets


@pytest.fixture
def org_admin(make_user, org):
    """An admin (not owner) of `org`. Not named admin_user: that is pytest-django's superuser fixture."""
    return make_user(org, Role.ADMIN)


@pytest.fixture
def org_admin_client(org_admin):
    return client_for(org_admin)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """The production hasher is deliberately slow (about a second per login here); these tests log in a lot."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
