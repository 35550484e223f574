"""The Django admin never shows a usable credential: not a refresh JWT, not a platform secret (decrypted or not), not
an invitation code, not a password hash. Every registered admin page is walked with such secrets in the database."""

from __future__ import annotations

import hashlib

import pytest
from django.contrib import admin
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from switchboard.accounts.models import Invitation, InvitationStatus, Role
from switchboard.platforms.models import Platform, Provider

pytestmark = pytest.mark.django_db

INVITATION_CODE = "invitation-code-that-must-never-be-shown-0123456789abcdef"


@pytest.fixture
def secrets_in_the_database(org, owner, agent, make_account):
    """Every kind of credential the database holds, and the strings that must never appear on an admin page."""
    outstanding = RefreshToken.for_user(owner)
    revoked = RefreshToken.for_user(agent)
    revoked.blacklist()
    meta = make_account(
        org,
        Platform.WHATSAPP,
        Provider.META,
        credentials={"access_token": "EAAG-meta-access-token-SECRET"},
        webhook_secret="meta-app-secret-SECRET",
        verify_token="verify-token-SECRET",
    )
    make_account(
        org,
        Platform.WHATSAPP,
        Provider.TWILIO,
        external_id="+14155238886",
        credentials={"account_sid": "AC" + "1" * 32, "auth_token": "twilio-auth-token-SECRET"},
    )
    make_account(
        org,
        Platform.WHATSAPP,
        Provider.BRIDGE,
        external_id="agency-main",
        credentials={"base_url": "http://127.0.0.1:3000", "api_key": "bridge-api-key-SECRET"},
        webhook_secret="bridge-shared-secret-SECRET",
    )
    now = timezone.now()
    Invitation.objects.create(
        organization=org,
        email="invitee@example.com",
        role=Role.AGENT,
        token_hash=hashlib.sha256(INVITATION_CODE.encode()).hexdigest(),
        invited_by=owner,
        sent_at=now,
        expires_at=now + timezone.timedelta(days=7),
    )
    with connection.cursor() as cursor:  # the ciphertexts as stored: not usable without the key, still not shown
        cursor.execute("SELECT credentials, webhook_secret FROM platforms_platformaccount WHERE id = %s", [meta.pk])
        stored_credentials, stored_webhook_secret = cursor.fetchone()
    owner.refresh_from_db()
    return {
        "outstanding": outstanding,
        "revoked": revoked,
        "never_shown": [
            str(outstanding),
            str(revoked),
            "EAAG-meta-access-token-SECRET",
            "meta-app-secret-SECRET",
            "verify-token-SECRET",
            "twilio-auth-token-SECRET",
            "bridge-api-key-SECRET",
            "bridge-shared-secret-SECRET",
            stored_credentials,
            stored_webhook_secret,
            INVITATION_CODE,
            hashlib.sha256(INVITATION_CODE.encode()).hexdigest(),
            owner.password,  # the full encoded hash (Django shows a masked summary)
            owner.password.rsplit("$", 1)[-1],
        ],
    }


def admin_pages() -> list[str]:
    """The changelist, the add page where there is one, and the change page of up to three rows of every model."""
    pages = []
    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        pages.append(reverse("admin:{}_{}_changelist".format(*info)))
        for pk in model_admin.get_queryset(None).values_list("pk", flat=True)[:3]:
            pages.append(reverse("admin:{}_{}_change".format(*info), args=[pk]))
    return pages


def test_no_admin_page_shows_a_credential(admin_client, secrets_in_the_database):
    pages = admin_pages()
    assert "/admin/token_blacklist/outstandingtoken/" in pages
    assert "/admin/platforms/platformaccount/" in pages
    checked = 0
    for page in pages:
        response = admin_client.get(page)
        assert response.status_code == 200, page
        html = response.content.decode()
        for secret in secrets_in_the_database["never_shown"]:
            assert secret not in html, f"{page} shows a credential: {secret[:12]}…"
        checked += 1
    assert checked >= 20


def test_outstanding_tokens_show_jti_user_dates_and_fingerprint(admin_client, owner, secrets_in_the_database):
    token = secrets_in_the_database["outstanding"]
    row = OutstandingToken.objects.get(jti=token["jti"])
    fingerprint = hashlib.sha256(str(token).encode()).hexdigest()[:16]
    assert row.token == str(token)  # what simplejwt stores, and the admin must not show

    listing = admin_client.get("/admin/token_blacklist/outstandingtoken/").content.decode()
    assert token["jti"] in listing
    assert fingerprint in listing
    assert owner.email in listing

    page = admin_client.get(f"/admin/token_blacklist/outstandingtoken/{row.pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200
    assert token["jti"] in html and fingerprint in html
    assert str(token) not in html
    assert 'name="token"' not in html  # no form field holds it either
    # found by jti or by email
    assert (
        token["jti"]
        in admin_client.get("/admin/token_blacklist/outstandingtoken/", {"q": token["jti"]}).content.decode()
    )
    assert (
        fingerprint in admin_client.get("/admin/token_blacklist/outstandingtoken/", {"q": owner.email}).content.decode()
    )


def test_blacklisted_tokens_show_jti_and_fingerprint(admin_client, agent, secrets_in_the_database):
    revoked = secrets_in_the_database["revoked"]
    blacklisted = BlacklistedToken.objects.get(token__jti=revoked["jti"])
    fingerprint = hashlib.sha256(str(revoked).encode()).hexdigest()[:16]
    listing = admin_client.get("/admin/token_blacklist/blacklistedtoken/").content.decode()
    assert revoked["jti"] in listing and fingerprint in listing and agent.email in listing
    html = admin_client.get(f"/admin/token_blacklist/blacklistedtoken/{blacklisted.pk}/change/").content.decode()
    assert revoked["jti"] in html and fingerprint in html
    assert str(revoked) not in html


def test_token_pages_are_read_only(admin_client, secrets_in_the_database):
    row = OutstandingToken.objects.get(jti=secrets_in_the_database["outstanding"]["jti"])
    assert admin_client.get("/admin/token_blacklist/outstandingtoken/add/").status_code == 403
    assert (
        admin_client.post(f"/admin/token_blacklist/outstandingtoken/{row.pk}/change/", {"jti": "x"}).status_code == 403
    )
    assert (
        admin_client.post(f"/admin/token_blacklist/outstandingtoken/{row.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert OutstandingToken.objects.filter(pk=row.pk, jti=row.jti).exists()


def test_invitations_admin_lists_and_revokes_without_showing_the_code(admin_client, secrets_in_the_database):
    invitation = Invitation.objects.get(email="invitee@example.com")
    listing = admin_client.get("/admin/accounts/invitation/").content.decode()
    assert "invitee@example.com" in listing and "Pending" in listing
    assert admin_client.get("/admin/accounts/invitation/add/").status_code == 403
    response = admin_client.post(
        "/admin/accounts/invitation/",
        {"action": "revoke", "_selected_action": [invitation.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "1 invitation(s) revoked." in response.content.decode()
    invitation.refresh_from_db()
    assert (invitation.status, invitation.token_hash) == (InvitationStatus.REVOKED, None)
