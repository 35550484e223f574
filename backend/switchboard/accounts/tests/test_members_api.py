"""Members of the current organization: who may list, add, change roles and remove; the owner rules; tenancy."""

from __future__ import annotations

import pytest

from conftest import client_for
from switchboard.accounts.models import Invitation, Membership, Role, User

pytestmark = pytest.mark.django_db

MEMBERS = "/api/accounts/members/"
INVITATIONS = "/api/accounts/invitations/"
ME = "/api/accounts/me/"


def member_url(membership: Membership) -> str:
    return f"{MEMBERS}{membership.pk}/"


def membership_of(user: User, org=None) -> Membership:
    return Membership.objects.get(user=user, **({"organization": org} if org else {}))


# --- list --------------------------------------------------------------------------------------------------------


def test_any_member_lists_the_members_of_their_organization_only(agent_client, owner, agent, make_org, make_user):
    other_org = make_org()
    make_user(other_org, Role.OWNER, email="elsewhere@example.com")
    response = agent_client.get(MEMBERS)
    assert response.status_code == 200
    rows = response.json()
    assert {row["email"] for row in rows} == {owner.email, agent.email}
    row = next(row for row in rows if row["email"] == owner.email)
    assert row["role"] == "owner"
    assert row["user_id"] == owner.pk


def test_any_member_reads_one_member(agent_client, owner):
    response = agent_client.get(member_url(membership_of(owner)))
    assert response.status_code == 200
    assert response.json()["email"] == owner.email


def test_a_user_without_organization_gets_403(make_user):
    response = client_for(make_user()).get(MEMBERS)
    assert response.status_code == 403
    assert response.json()["code"] == "no_organization"


# --- no adding without consent ----------------------------------------------------------------------------------


def test_members_cannot_be_added_directly_only_invited(owner_client, make_org, make_user):
    """Nobody joins without accepting an invitation (test_invitations_api.py): the old add-by-email is gone."""
    elsewhere = make_user(make_org(), Role.OWNER, email="freelancer@example.com")
    response = owner_client.post(MEMBERS, {"email": elsewhere.email, "role": "admin"}, format="json")
    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "POST" not allowed.', "code": "method_not_allowed"}
    assert Membership.objects.filter(user=elsewhere).count() == 1


# --- change role -------------------------------------------------------------------------------------------------


def test_agent_cannot_change_roles(agent_client, agent, org_admin):
    response = agent_client.patch(member_url(membership_of(agent)), {"role": "admin"}, format="json")
    assert response.status_code == 403
    response = agent_client.patch(member_url(membership_of(org_admin)), {"role": "agent"}, format="json")
    assert response.status_code == 403
    assert membership_of(agent).role == Role.AGENT
    assert membership_of(org_admin).role == Role.ADMIN


def test_admin_changes_agent_and_admin_roles(org_admin_client, agent):
    response = org_admin_client.patch(member_url(membership_of(agent)), {"role": "admin"}, format="json")
    assert response.status_code == 200
    assert response.json()["role"] == "admin"
    assert membership_of(agent).role == Role.ADMIN


def test_admin_cannot_promote_to_owner(org_admin_client, org_admin, agent):
    for membership in (membership_of(agent), membership_of(org_admin)):
        response = org_admin_client.patch(member_url(membership), {"role": "owner"}, format="json")
        assert response.status_code == 403
        assert response.json()["detail"] == "Only an owner can grant the owner role."
    assert membership_of(agent).role == Role.AGENT
    assert membership_of(org_admin).role == Role.ADMIN


def test_admin_cannot_demote_or_remove_an_owner(org_admin_client, owner, org, make_user):
    make_user(org, Role.OWNER)  # not the last owner: the refusal is about the actor's role
    response = org_admin_client.patch(member_url(membership_of(owner)), {"role": "agent"}, format="json")
    assert response.status_code == 403
    assert response.json()["detail"] == "Only an owner can revoke the owner role."
    response = org_admin_client.delete(member_url(membership_of(owner)))
    assert response.status_code == 403
    assert membership_of(owner).role == Role.OWNER


def test_owner_promotes_then_the_former_owner_can_be_demoted(owner_client, owner, org_admin):
    response = owner_client.patch(member_url(membership_of(org_admin)), {"role": "owner"}, format="json")
    assert response.status_code == 200
    assert membership_of(org_admin).role == Role.OWNER
    # two owners now: the first one may step down
    response = owner_client.patch(member_url(membership_of(owner)), {"role": "admin"}, format="json")
    assert response.status_code == 200
    assert membership_of(owner).role == Role.ADMIN


def test_last_owner_cannot_be_demoted(owner_client, owner):
    response = owner_client.patch(member_url(membership_of(owner)), {"role": "admin"}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "last_owner"
    assert "last owner" in body["detail"]
    assert membership_of(owner).role == Role.OWNER


# --- remove --------------------------------------------------------------------------------------------------------


def test_agent_cannot_remove(agent_client, owner, org_admin, agent):
    for membership in (membership_of(org_admin), membership_of(agent), membership_of(owner)):
        assert agent_client.delete(member_url(membership)).status_code == 403
    assert Membership.objects.count() == 3


def test_admin_removes_an_agent(org_admin_client, agent):
    response = org_admin_client.delete(member_url(membership_of(agent)))
    assert response.status_code == 204
    assert not Membership.objects.filter(user=agent).exists()
    assert User.objects.filter(pk=agent.pk).exists()  # the user stays; only the membership goes


def test_last_owner_cannot_be_removed(owner_client, owner, org, make_user):
    response = owner_client.delete(member_url(membership_of(owner)))
    assert response.status_code == 409
    assert response.json()["code"] == "last_owner"
    assert Membership.objects.filter(user=owner, organization=org).exists()
    # with a second owner the first one can leave
    make_user(org, Role.OWNER)
    assert owner_client.delete(member_url(membership_of(owner))).status_code == 204
    assert not Membership.objects.filter(user=owner).exists()


# --- tenancy -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_a_member_of_another_organization_is_404(owner_client, make_org, make_user, method):
    other = make_org()
    stranger = make_user(other, Role.AGENT)
    membership = membership_of(stranger)
    response = getattr(owner_client, method)(member_url(membership), {"role": "admin"}, format="json")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}
    assert Membership.objects.get(pk=membership.pk).role == Role.AGENT


def test_a_non_numeric_member_id_is_a_json_404(owner_client):
    response = owner_client.get(f"{MEMBERS}abc/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_x_organization_chooses_among_two_organizations(make_org, make_user):
    home = make_org("Home Agency")
    side = make_org("Side Agency")
    user = make_user(home, Role.OWNER)
    Membership.objects.create(user=user, organization=side, role=Role.AGENT)
    home_colleague = make_user(home, Role.AGENT)
    side_colleague = make_user(side, Role.OWNER)

    client = client_for(user)  # no header: the oldest membership
    me = client.get(ME).json()
    assert (me["organization"]["id"], me["role"]) == (home.pk, "owner")
    assert {m["organization"]["slug"] for m in me["memberships"]} == {home.slug, side.slug}

    # by id
    me = client.get(ME, HTTP_X_ORGANIZATION=str(side.pk)).json()
    assert (me["organization"]["id"], me["role"]) == (side.pk, "agent")
    emails = {row["email"] for row in client.get(MEMBERS, HTTP_X_ORGANIZATION=str(side.pk)).json()}
    assert emails == {user.email, side_colleague.email}
    # an agent there: cannot invite, even though the same user owns the other organization
    response = client.post(INVITATIONS, {"email": "n@example.com"}, format="json", HTTP_X_ORGANIZATION=str(side.pk))
    assert response.status_code == 403
    # a member of `home` is another tenant's row when acting for `side`
    response = client.get(member_url(membership_of(home_colleague)), HTTP_X_ORGANIZATION=str(side.pk))
    assert response.status_code == 404
    assert client.get(member_url(membership_of(home_colleague)), HTTP_X_ORGANIZATION=home.slug).status_code == 200

    # by slug
    emails = {row["email"] for row in client.get(MEMBERS, HTTP_X_ORGANIZATION=home.slug).json()}
    assert emails == {user.email, home_colleague.email}
    response = client.post(INVITATIONS, {"email": "n@example.com"}, format="json", HTTP_X_ORGANIZATION=home.slug)
    assert response.status_code == 201
    assert Invitation.objects.get(email="n@example.com").organization == home


@pytest.mark.parametrize("path", [ME, MEMBERS])
def test_an_unknown_x_organization_is_a_json_404(owner, make_org, path):
    not_mine = make_org()
    client = client_for(owner)
    for value in (str(not_mine.pk), not_mine.slug, "no-such-org", "999999"):
        response = client.get(path, HTTP_X_ORGANIZATION=value)
        assert response.status_code == 404, (path, value)
        assert response.json()["code"] == "unknown_organization"
        assert not_mine.name not in response.content.decode()
