"""The membership rules hold in the services themselves, whoever calls them."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection
from rest_framework.exceptions import PermissionDenied

from switchboard.accounts import services
from switchboard.accounts.models import Invitation, Membership, Role
from switchboard.common.errors import Conflict


@pytest.mark.django_db
def test_services_refuse_actors_who_do_not_manage_the_organization(org, owner, agent, make_org, make_user):
    foreign_owner = make_user(make_org(), Role.OWNER)
    target = Membership.objects.get(user=agent)
    for actor in (agent, foreign_owner):
        with pytest.raises(PermissionDenied):
            services.invitation_create(organization=org, email="x@example.com", role=Role.AGENT, by=actor)
        with pytest.raises(PermissionDenied):
            services.membership_change_role(membership=target, role=Role.ADMIN, by=actor)
        with pytest.raises(PermissionDenied):
            services.membership_remove(membership=target, by=actor)
    assert Membership.objects.get(pk=target.pk).role == Role.AGENT
    assert not Invitation.objects.filter(email="x@example.com").exists()


@pytest.mark.django_db
def test_change_role_reads_the_current_role_not_a_stale_instance(org, owner, make_user):
    second = make_user(org, Role.OWNER)
    stale = Membership.objects.get(user=owner)
    services.membership_change_role(membership=Membership.objects.get(user=second), role=Role.AGENT, by=owner)
    # `stale` was loaded while two owners existed; it is still the last owner now
    with pytest.raises(Conflict):
        services.membership_remove(membership=stale, by=owner)


@pytest.mark.django_db(transaction=True)
def test_two_owners_stepping_down_at_once_leave_one_owner(require_postgres, make_org, make_user, monkeypatch):
    org = make_org()
    first, second = make_user(org, Role.OWNER), make_user(org, Role.OWNER)
    # Widen the window between "another owner exists" and the write, so without the organization lock both
    # demotions would pass the check.
    real_check = services._other_owners_exist

    def slow_check(membership):
        result = real_check(membership)
        time.sleep(0.3)
        return result

    monkeypatch.setattr(services, "_other_owners_exist", slow_check)
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def step_down(owner):
        try:
            start.wait()
            services.membership_change_role(membership=Membership.objects.get(user=owner), role=Role.ADMIN, by=owner)
            outcomes.append("demoted")
        except Conflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=step_down, args=(owner,)) for owner in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(outcomes) == ["conflict", "demoted"]
    assert Membership.objects.filter(organization=org, role=Role.OWNER).count() == 1


def test_unicode_digits_in_x_organization_are_a_404_not_a_crash(make_org, make_user):
    from conftest import client_for

    org = make_org()
    response = client_for(make_user(org), None).get("/api/accounts/me/", HTTP_X_ORGANIZATION="²")
    assert response.status_code == 404 and response.json()["code"] == "unknown_organization"
