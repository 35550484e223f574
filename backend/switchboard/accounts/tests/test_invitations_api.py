"""Invitations: nobody becomes a member without accepting; the inviter learns nothing about whether an address has an
account; codes are emailed, stored hashed, work once, expire and can be revoked; the role rules and tenancy hold."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from conftest import client_for
from switchboard.accounts.models import Invitation, InvitationStatus, Membership, Role, User
from switchboard.accounts.tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

INVITATIONS = "/api/accounts/invitations/"
MY_INVITATIONS = "/api/accounts/me/invitations/"
ME = "/api/accounts/me/"
MEMBERS = "/api/accounts/members/"
PASSWORD_SET = "/api/accounts/password/set/"
LOGIN = "/api/accounts/login/"
STRONG = "plum-Orchard-47-lantern"


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    """Run a request and the on-commit callbacks it queued (the invitation email is sent after commit)."""

    def run(call, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return call(*args, **kwargs)

    return run


@pytest.fixture
def invite(send, owner_client):
    def make(email: str, role: str = "agent", client: APIClient | None = None):
        return send((client or owner_client).post, INVITATIONS, {"email": email, "role": role}, format="json")

    return make


def code_in(message) -> str:
    found = re.search(r"^    (\S{40,})$", message.body, re.MULTILINE)
    assert found, message.body
    return found.group(1)


def set_password(code: str, password: str = STRONG, full_name: str = "New Agent", ip: str = "203.0.113.9"):
    body = {"token": code, "password": password, "full_name": full_name}
    return APIClient().post(PASSWORD_SET, body, format="json", REMOTE_ADDR=ip)


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


# --- inviting ----------------------------------------------------------------------------------------------------


def test_an_invitation_to_a_new_address_is_emailed_with_a_code_and_creates_nobody(invite, org, owner):
    response = invite("New.Agent@Example.com", "agent")
    assert response.status_code == 201, response.content
    body = response.json()
    invitation = Invitation.objects.get()
    assert body == {
        "id": invitation.pk,
        "email": "new.agent@example.com",
        "role": "agent",
        "status": "pending",
        "invited_by": {"id": owner.pk, "email": owner.email, "full_name": owner.full_name},
        "responded_by": None,
        "created_at": body["created_at"],
        "sent_at": body["sent_at"],
        "expires_at": body["expires_at"],
        "responded_at": None,
    }
    assert parse(body["expires_at"]) - parse(body["sent_at"]) == timedelta(days=7)
    assert not User.objects.filter(email="new.agent@example.com").exists()
    assert not Membership.objects.filter(user__email="new.agent@example.com").exists()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new.agent@example.com"]
    assert message.subject == f"{owner.full_name} invited you to Acme Realty on Switchboard"
    code = code_in(message)
    assert len(code) == 43  # 32 random bytes
    # only the digest is stored; the code is in no answer
    assert invitation.token_hash == hashlib.sha256(code.encode()).hexdigest()
    assert code not in response.content.decode()


def test_the_answer_is_the_same_whether_or_not_the_address_has_an_account(invite, make_org, make_user):
    make_user(make_org(), Role.OWNER, email="has-account@example.com")
    known = invite("has-account@example.com").json()
    unknown = invite("no-account@example.com").json()
    varying = {"id", "email", "created_at", "sent_at", "expires_at"}
    assert {k: v for k, v in known.items() if k not in varying} == {
        k: v for k, v in unknown.items() if k not in varying
    }
    assert known.keys() == unknown.keys()
    # only the invitee sees the difference: someone with an account logs in, someone new gets a code
    to_known, to_unknown = mail.outbox
    assert "Log in to Switchboard with this email address" in to_known.body
    assert not re.search(r"^    \S{40,}$", to_known.body, re.MULTILINE)
    assert "choose a password with this code" in to_unknown.body


def test_inviting_a_member_or_a_pending_address_is_409(invite, agent):
    response = invite(agent.email.upper())
    assert response.status_code == 409
    assert response.json() == {
        "detail": f"{agent.email} is already a member of this organization.",
        "code": "already_member",
    }
    assert invite("twice@example.com").status_code == 201
    response = invite("twice@example.com", "admin")
    assert response.status_code == 409
    assert response.json()["code"] == "already_invited"
    assert Invitation.objects.filter(email="twice@example.com").count() == 1
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [({"email": "not-an-email"}, "email"), ({"email": "a@example.com", "role": "superuser"}, "role"), ({}, "email")],
)
def test_invalid_invitations_are_400(owner_client, body, field):
    response = owner_client.post(INVITATIONS, body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field in response.json()["errors"]
    assert not Invitation.objects.exists()


def test_names_with_line_breaks_still_give_a_one_line_subject(invite, org, owner):
    org.name = "Acme\r\nBcc: everyone@example.com"
    org.save()
    assert invite("x@example.com").status_code == 201
    assert mail.outbox[0].subject == f"{owner.full_name} invited you to Acme Bcc: everyone@example.com on Switchboard"
    assert mail.outbox[0].to == ["x@example.com"] and mail.outbox[0].bcc == []


def test_a_mail_server_failure_keeps_the_invitation_and_answers_201(invite, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr("switchboard.accounts.services.send_mail", broken)
    response = invite("later@example.com")
    assert response.status_code == 201
    assert Invitation.objects.get().status == InvitationStatus.PENDING
    assert f"invitation {response.json()['id']}: the email could not be sent" in caplog.text


# --- roles -------------------------------------------------------------------------------------------------------


def test_agents_neither_list_nor_invite(agent_client):
    assert agent_client.get(INVITATIONS).status_code == 403
    response = agent_client.post(INVITATIONS, {"email": "friend@example.com"}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert not Invitation.objects.exists()


def test_only_an_owner_invites_an_owner(invite, org_admin_client, owner_client):
    response = invite("boss@example.com", "owner", client=org_admin_client)
    assert response.status_code == 403
    assert response.json()["detail"] == "Only an owner can invite an owner."
    assert invite("helper@example.com", "admin", client=org_admin_client).status_code == 201
    assert invite("boss@example.com", "owner", client=owner_client).status_code == 201
    assert sorted(Invitation.objects.values_list("email", "role")) == [
        ("boss@example.com", "owner"),
        ("helper@example.com", "admin"),
    ]


def test_only_an_owner_revokes_or_resends_an_owner_invitation(invite, org_admin_client, owner_client):
    invitation_id = invite("boss@example.com", "owner").json()["id"]
    for action in ("revoke", "resend"):
        response = org_admin_client.post(f"{INVITATIONS}{invitation_id}/{action}/")
        assert response.status_code == 403, action
    assert owner_client.post(f"{INVITATIONS}{invitation_id}/revoke/").json()["status"] == "revoked"


def test_an_invitation_whose_inviter_lost_the_right_cannot_be_accepted(invite, org, org_admin, make_user, owner_client):
    invitee = make_user(email="invitee@example.com")
    invitation_id = invite("invitee@example.com", "admin", client=client_for(org_admin)).json()["id"]
    membership = Membership.objects.get(user=org_admin, organization=org)
    assert owner_client.patch(f"{MEMBERS}{membership.pk}/", {"role": "agent"}, format="json").status_code == 200
    response = client_for(invitee).post(f"{MY_INVITATIONS}{invitation_id}/accept/")
    assert response.status_code == 409
    assert response.json()["code"] == "invitation_no_longer_valid"
    assert not Membership.objects.filter(user=invitee).exists()


# --- the new user's way in: code → password → accept -------------------------------------------------------------


def test_new_address_sets_a_password_then_accepts(invite, org, owner):
    invitation_id = invite("fresh@example.com", "admin").json()["id"]
    code = code_in(mail.outbox[0])

    response = set_password(code, full_name="Fresh Person")
    assert response.status_code == 200, response.content
    body = response.json()
    user = User.objects.get(email="fresh@example.com")
    assert body["user"] == {
        "id": user.pk,
        "email": "fresh@example.com",
        "full_name": "Fresh Person",
        "date_joined": body["user"]["date_joined"],
    }
    assert user.check_password(STRONG)
    # setting a password does not make anyone a member: accepting does
    assert not Membership.objects.filter(user=user).exists()

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    me = client.get(ME).json()
    assert me["memberships"] == []
    assert me["organization"] is None
    assert me["invitations"] == [
        {
            "id": invitation_id,
            "organization": {"id": org.pk, "name": "Acme Realty", "slug": org.slug},
            "role": "admin",
            "invited_by": {"email": owner.email, "full_name": owner.full_name},
            "created_at": me["invitations"][0]["created_at"],
            "expires_at": me["invitations"][0]["expires_at"],
        }
    ]
    assert client.get(MY_INVITATIONS).json() == me["invitations"]

    response = client.post(f"{MY_INVITATIONS}{invitation_id}/accept/")
    assert response.status_code == 200, response.content
    assert response.json() == {"organization": {"id": org.pk, "name": "Acme Realty", "slug": org.slug}, "role": "admin"}
    assert Membership.objects.get(user=user, organization=org).role == Role.ADMIN
    me = client.get(ME).json()
    assert (me["organization"]["id"], me["role"], me["invitations"]) == (org.pk, "admin", [])
    invitation = Invitation.objects.get(pk=invitation_id)
    assert (invitation.status, invitation.responded_by, invitation.token_hash) == ("accepted", user, None)

    # the code worked once
    response = set_password(code, password="another-Long-passphrase-9")
    assert response.status_code == 400
    assert response.json()["errors"] == {"token": ["This invitation code is invalid, already used or expired."]}
    user.refresh_from_db()
    assert user.check_password(STRONG)


def test_a_weak_password_is_refused_and_the_code_stays_usable(invite):
    invite("fresh@example.com")
    code = code_in(mail.outbox[0])
    response = set_password(code, password="password123")
    assert response.status_code == 400
    assert "password" in response.json()["errors"]
    assert not User.objects.filter(email="fresh@example.com").exists()
    assert set_password(code).status_code == 200


def test_a_code_cannot_take_over_an_account_that_has_a_password(invite, make_user):
    """Someone registered the address after the invitation was sent: the code must not reset their password."""
    invite("later-registered@example.com")
    code = code_in(mail.outbox[0])
    user = make_user(email="later-registered@example.com")
    response = set_password(code, password="attacker-Chosen-77-pass")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "token": ["This email address already has an account: log in and accept the invitation."]
    }
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


@pytest.mark.parametrize("token", ["", "x" * 129, "not-a-real-code-but-long-enough-to-look-like-one-0123456789"])
def test_bad_codes_are_400(token):
    response = set_password(token)
    assert response.status_code == 400
    assert "token" in response.json()["errors"]


# --- an existing user's way in: log in → accept or decline -------------------------------------------------------


def test_existing_user_sees_accepts_and_keeps_their_password_and_name(invite, org, make_org, make_user):
    freelancer = make_user(make_org(), Role.OWNER, email="freelancer@example.com")
    invitation_id = invite("FREELANCER@example.com", "agent").json()["id"]
    client = client_for(freelancer)
    assert [row["id"] for row in client.get(ME).json()["invitations"]] == [invitation_id]
    assert client.post(f"{MY_INVITATIONS}{invitation_id}/accept/").status_code == 200
    assert Membership.objects.get(user=freelancer, organization=org).role == Role.AGENT
    freelancer.refresh_from_db()
    assert freelancer.check_password(PASSWORD)
    assert freelancer.full_name.startswith("User ")


def test_declining_leaves_no_membership_and_closes_the_invitation(invite, owner_client, make_user):
    someone = make_user(email="someone@example.com")
    invitation_id = invite("someone@example.com").json()["id"]
    client = client_for(someone)
    assert client.post(f"{MY_INVITATIONS}{invitation_id}/decline/").status_code == 204
    assert not Membership.objects.filter(user=someone).exists()
    assert client.get(ME).json()["invitations"] == []
    assert client.post(f"{MY_INVITATIONS}{invitation_id}/accept/").status_code == 404
    row = owner_client.get(f"{INVITATIONS}{invitation_id}/").json()
    assert (row["status"], row["responded_by"]["email"]) == ("declined", "someone@example.com")


@pytest.mark.parametrize("action", ["accept", "decline"])
def test_an_invitation_to_someone_else_is_404(invite, make_user, action):
    make_user(email="invitee@example.com")
    bystander = make_user(email="bystander@example.com")
    invitation_id = invite("invitee@example.com").json()["id"]
    client = client_for(bystander)
    assert client.get(ME).json()["invitations"] == []
    for pk in (invitation_id, 999999, "abc"):
        response = client.post(f"{MY_INVITATIONS}{pk}/{action}/")
        assert response.status_code == 404, pk
        assert response.json() == {"detail": "Not found.", "code": "not_found"}
    assert Invitation.objects.get(pk=invitation_id).status == InvitationStatus.PENDING
    assert not Membership.objects.filter(user=bystander).exists()


def test_accepting_requires_authentication(invite):
    invitation_id = invite("x@example.com").json()["id"]
    assert APIClient().post(f"{MY_INVITATIONS}{invitation_id}/accept/").status_code == 401


# --- expiry, revoke, resend --------------------------------------------------------------------------------------


def test_an_expired_invitation_can_be_neither_accepted_nor_used_and_can_be_replaced(invite, owner_client, make_user):
    user = make_user(email="slow@example.com")
    invite("slow@example.com")
    invite("new-slow@example.com")
    code = code_in(mail.outbox[1])
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    slow = Invitation.objects.get(email="slow@example.com")

    client = client_for(user)
    assert client.get(ME).json()["invitations"] == []
    response = client.post(f"{MY_INVITATIONS}{slow.pk}/accept/")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "This invitation has expired: ask for a new one.",
        "code": "invitation_expired",
    }
    assert set_password(code).status_code == 400

    listed = owner_client.get(INVITATIONS, {"status": "expired"}).json()
    assert sorted(row["email"] for row in listed) == ["new-slow@example.com", "slow@example.com"]
    assert owner_client.get(INVITATIONS, {"status": "pending"}).json() == []

    # a new invitation to the same address replaces the expired one
    response = invite("slow@example.com")
    assert response.status_code == 201
    slow.refresh_from_db()
    assert slow.status == InvitationStatus.EXPIRED
    assert client.post(f"{MY_INVITATIONS}{response.json()['id']}/accept/").status_code == 200


def test_revoking_kills_the_code_at_once(invite, owner_client, make_user):
    invitation_id = invite("revoked@example.com").json()["id"]
    code = code_in(mail.outbox[0])
    response = owner_client.post(f"{INVITATIONS}{invitation_id}/revoke/")
    assert response.status_code == 200
    assert response.json()["status"] == "revoked"
    assert set_password(code).status_code == 400
    assert not User.objects.filter(email="revoked@example.com").exists()
    invitee = make_user(email="revoked@example.com")
    assert client_for(invitee).post(f"{MY_INVITATIONS}{invitation_id}/accept/").status_code == 404
    response = owner_client.post(f"{INVITATIONS}{invitation_id}/revoke/")
    assert response.status_code == 409
    assert response.json() == {"detail": "This invitation is already revoked.", "code": "not_pending"}
    response = owner_client.post(f"{INVITATIONS}{invitation_id}/resend/")
    assert response.status_code == 409
    assert response.json() == {"detail": "This invitation is revoked: invite again instead.", "code": "not_pending"}


def test_resending_issues_a_new_code_and_expiry(invite, send, owner_client, org_admin, org_admin_client):
    invitation_id = invite("resend@example.com").json()["id"]
    first_code = code_in(mail.outbox[0])
    Invitation.objects.filter(pk=invitation_id).update(expires_at=timezone.now() - timedelta(days=1))
    response = send(org_admin_client.post, f"{INVITATIONS}{invitation_id}/resend/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "pending"
    assert body["invited_by"]["id"] == org_admin.pk  # the resender vouches for it now
    assert parse(body["expires_at"]) > timezone.now() + timedelta(days=6)
    second_code = code_in(mail.outbox[1])
    assert second_code != first_code
    assert set_password(first_code).status_code == 400
    assert set_password(second_code).status_code == 200


def test_the_list_is_newest_first_and_filters_by_status(invite, owner_client):
    for email in ("a@example.com", "b@example.com", "c@example.com"):
        invite(email)
    owner_client.post(f"{INVITATIONS}{Invitation.objects.get(email='b@example.com').pk}/revoke/")
    assert [row["email"] for row in owner_client.get(INVITATIONS).json()] == [
        "c@example.com",
        "b@example.com",
        "a@example.com",
    ]
    assert [row["email"] for row in owner_client.get(INVITATIONS, {"status": "revoked"}).json()] == ["b@example.com"]
    response = owner_client.get(INVITATIONS, {"status": "bogus"})
    assert response.status_code == 400
    assert "status" in response.json()["errors"]


# --- tenancy -------------------------------------------------------------------------------------------------------


def test_another_organizations_invitation_is_404(invite, make_org, make_user, owner_client, send):
    other_org = make_org()
    other_owner = make_user(other_org, Role.OWNER)
    theirs = invite("theirs@example.com", client=client_for(other_owner)).json()["id"]
    for method, path in (
        ("get", f"{INVITATIONS}{theirs}/"),
        ("post", f"{INVITATIONS}{theirs}/revoke/"),
        ("post", f"{INVITATIONS}{theirs}/resend/"),
    ):
        response = getattr(owner_client, method)(path)
        assert response.status_code == 404, path
        assert response.json() == {"detail": "Not found.", "code": "not_found"}
    assert owner_client.get(INVITATIONS).json() == []
    assert Invitation.objects.get(pk=theirs).status == InvitationStatus.PENDING
    assert owner_client.get(f"{INVITATIONS}abc/").status_code == 404


def test_x_organization_scopes_invitations(make_org, make_user, send):
    home, side = make_org("Home"), make_org("Side")
    user = make_user(home, Role.OWNER)
    Membership.objects.create(user=user, organization=side, role=Role.OWNER)
    client = client_for(user)
    send(client.post, INVITATIONS, {"email": "n@example.com"}, format="json", HTTP_X_ORGANIZATION=side.slug)
    assert Invitation.objects.get().organization == side
    assert client.get(INVITATIONS, HTTP_X_ORGANIZATION=home.slug).json() == []
    assert [row["email"] for row in client.get(INVITATIONS, HTTP_X_ORGANIZATION=side.slug).json()] == ["n@example.com"]


# --- rate limits -------------------------------------------------------------------------------------------------


def test_invitation_emails_are_limited_per_organization(settings, invite, make_org, make_user):
    settings.INVITATION_RATE_LIMIT = 2
    assert invite("one@example.com").status_code == 201
    assert invite("two@example.com").status_code == 201
    response = invite("three@example.com")
    assert response.status_code == 429
    assert response.json()["code"] == "too_many_invitations"
    assert 1 <= int(response["Retry-After"]) <= 24 * 3600
    assert not Invitation.objects.filter(email="three@example.com").exists()
    assert len(mail.outbox) == 2
    other_owner = make_user(make_org(), Role.OWNER)
    assert invite("three@example.com", client=client_for(other_owner)).status_code == 201


def test_set_password_shares_the_sign_up_limit_per_ip(settings, invite):
    settings.REGISTRATION_RATE_LIMIT = 2
    for _ in range(2):
        assert set_password("wrong-code-" + "x" * 40, ip="198.51.100.7").status_code == 400
    invite("fresh@example.com")
    response = set_password(code_in(mail.outbox[0]), ip="198.51.100.7")
    assert response.status_code == 429
    assert response.json()["code"] == "too_many_signups"
    assert set_password(code_in(mail.outbox[0]), ip="198.51.100.8").status_code == 200
