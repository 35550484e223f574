"""The Django admin works for an email-login user model."""

from __future__ import annotations

import pytest

from switchboard.accounts.models import Membership, Role, User

pytestmark = pytest.mark.django_db


def test_changelists_search_and_filter(admin_client, org, owner, agent):
    response = admin_client.get("/admin/accounts/user/", {"q": owner.email})
    assert response.status_code == 200
    assert owner.email in response.content.decode()
    assert agent.email not in response.content.decode()
    assert admin_client.get("/admin/accounts/user/", {"q": owner.full_name}).status_code == 200
    assert admin_client.get("/admin/accounts/organization/").status_code == 200
    response = admin_client.get("/admin/accounts/membership/", {"role__exact": Role.AGENT})
    assert response.status_code == 200
    assert agent.email in response.content.decode()
    assert owner.email not in response.content.decode()


def test_change_pages_render(admin_client, org, owner):
    assert admin_client.get(f"/admin/accounts/user/{owner.pk}/change/").status_code == 200
    response = admin_client.get(f"/admin/accounts/organization/{org.pk}/change/")
    assert response.status_code == 200
    assert "memberships-TOTAL_FORMS" in response.content.decode()  # the Membership inline
    assert (
        admin_client.get(f"/admin/accounts/membership/{Membership.objects.get(user=owner).pk}/change/").status_code
        == 200
    )


def test_add_user_with_a_password(admin_client):
    assert admin_client.get("/admin/accounts/user/add/").status_code == 200
    response = admin_client.post(
        "/admin/accounts/user/add/",
        {
            "email": "Staff.Person@Example.com",
            "full_name": "Staff Person",
            "usable_password": "true",
            "password1": "plum-Orchard-47-lantern",
            "password2": "plum-Orchard-47-lantern",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(email="staff.person@example.com")
    assert user.check_password("plum-Orchard-47-lantern")
    assert user.full_name == "Staff Person"


def test_add_user_refuses_a_duplicate_email_in_any_case(admin_client, owner):
    response = admin_client.post(
        "/admin/accounts/user/add/",
        {
            "email": owner.email.upper(),
            "usable_password": "true",
            "password1": "plum-Orchard-47-lantern",
            "password2": "plum-Orchard-47-lantern",
        },
    )
    assert response.status_code == 200  # the form again, with the error
    assert "already exists" in response.content.decode()
    assert User.objects.filter(email__iexact=owner.email).count() == 1
