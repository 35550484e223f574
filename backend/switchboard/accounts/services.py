"""Accounts services: everything that writes users, organizations, memberships, invitations and tokens.

Views parse input and call these; the rules (who may grant which role, the last owner, the rate limits, who may
accept an invitation) are enforced here so every caller — API, admin actions, management commands — gets them.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import update_last_login
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from rest_framework import exceptions
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import RefreshToken

from switchboard.accounts.models import (
    MANAGER_ROLES,
    SLUG_MAX_LENGTH,
    Invitation,
    InvitationStatus,
    Membership,
    Organization,
    Role,
    User,
)
from switchboard.accounts.throttles import LoginRateLimiter, invitation_rate_limit, signup_rate_limit
from switchboard.common.errors import Conflict

logger = logging.getLogger(__name__)

DUPLICATE_EMAIL = "A user with this email address already exists."
INVALID_CREDENTIALS = "Invalid email or password."
INVITATION_CODE_INVALID = "This invitation code is invalid, already used or expired."
INVITATION_CODE_HAS_ACCOUNT = "This email address already has an account: log in and accept the invitation."


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


@dataclass(frozen=True)
class Registration:
    user: User
    organization: Organization
    membership: Membership
    tokens: TokenPair


@dataclass(frozen=True)
class Login:
    user: User
    tokens: TokenPair


class TooManyLoginAttempts(exceptions.Throttled):
    default_detail = "Too many login attempts."
    default_code = "too_many_login_attempts"


class TooManySignups(exceptions.Throttled):
    default_detail = "Too many sign-up attempts from this address."
    default_code = "too_many_signups"


class TooManyInvitations(exceptions.Throttled):
    default_detail = "This organization has sent too many invitations today."
    default_code = "too_many_invitations"


def _charge_signup(client_ip: str) -> None:
    """Sign-ups per client IP, counted before anything is checked: every attempt counts, so the limit also bounds
    how fast one address can probe which emails are registered."""
    limit = signup_rate_limit()
    wait = limit.charge(limit.key(client_ip))
    if wait is not None:
        raise TooManySignups(wait=wait)


# --- tokens ------------------------------------------------------------------------------------------------------


def token_pair_issue(*, user: User) -> TokenPair:
    refresh = RefreshToken.for_user(user)  # also recorded as an outstanding token (blacklist app)
    if jwt_settings.UPDATE_LAST_LOGIN:
        update_last_login(User, user)  # the receiver of user_logged_in (sender: the user model)
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh))


def token_blacklist(*, refresh: str) -> None:
    """Logout: the refresh token can never be used again. An invalid, expired or already blacklisted token is
    refused (401) like everywhere else a token is checked."""
    try:
        RefreshToken(refresh).blacklist()  # type: ignore[arg-type]  # simplejwt annotates the encoded token as Token
    except TokenError as error:
        raise InvalidToken(error.args[0]) from error


# --- users ---------------------------------------------------------------------------------------------------------


def _unique_slug(name: str) -> str:
    base = slugify(name)
    if base.isdigit():
        # X-Organization takes an id or a slug; an all-digit slug would be read as an id.
        base = f"org-{base}"
    base = base[: SLUG_MAX_LENGTH - 9].strip("-") or "organization"  # room for a "-<suffix>"
    slug, n = base, 1
    while Organization.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}" if n < 20 else f"{base}-{secrets.token_hex(4)}"
    return slug


def organization_create(*, name: str) -> Organization:
    """An organization with a unique slug derived from its name. Two concurrent creations of the same name both
    succeed: the loser of the unique-slug race retries with the next free slug."""
    for _ in range(5):
        try:
            with transaction.atomic():
                return Organization.objects.create(name=name, slug=_unique_slug(name))
        except IntegrityError:
            continue
    with transaction.atomic():
        return Organization.objects.create(name=name, slug=f"{_unique_slug(name)[:50]}-{secrets.token_hex(4)}")


def _user_create(*, email: str, password: str | None, full_name: str) -> User:
    email = email.strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise exceptions.ValidationError({"email": [DUPLICATE_EMAIL]})
    try:
        with transaction.atomic():
            return User.objects.create_user(email, password, full_name=full_name)
    except IntegrityError as error:  # registered concurrently
        raise exceptions.ValidationError({"email": [DUPLICATE_EMAIL]}) from error


def user_password_validate(*, password: str, email: str, full_name: str = "") -> None:
    """Django's AUTH_PASSWORD_VALIDATORS, with the user's own attributes (similarity to email and name)."""
    try:
        validate_password(password, user=User(email=email, full_name=full_name))
    except DjangoValidationError as error:
        raise exceptions.ValidationError({"password": list(error.messages)}) from error


def user_register(*, email: str, password: str, full_name: str, organization_name: str, client_ip: str) -> Registration:
    """A new user who owns a new organization, already logged in. Limited per client IP (REGISTRATION_RATE_LIMIT)."""
    _charge_signup(client_ip)
    user_password_validate(password=password, email=email, full_name=full_name)
    with transaction.atomic():
        user = _user_create(email=email, password=password, full_name=full_name)
        organization = organization_create(name=organization_name)
        membership = Membership.objects.create(user=user, organization=organization, role=Role.OWNER)
        tokens = token_pair_issue(user=user)
    return Registration(user=user, organization=organization, membership=membership, tokens=tokens)


def user_login(*, email: str, password: str, client_ip: str) -> Login:
    """Check the credentials under the login rate limits: per account (LOGIN_RATE_LIMIT) and, much higher, per client
    IP (LOGIN_IP_RATE_LIMIT), so one account's failures never lock out everyone behind the same address.

    Every attempt is counted before the password is checked (so parallel guesses cannot overshoot the limit) and a
    blocked attempt is refused without checking the password at all (so a correct guess is not revealed by the
    answer). A *successful* login is then taken back off the counters: successes do not count. Counting them would
    lock out an agency whose staff all log in from one office IP (one NAT address) within a window, while adding
    nothing against guessing: only failures are guesses. A success does not reset the counters either — otherwise
    an attacker holding one valid account could log into it between guesses to keep an IP's counter at zero.
    """
    limiter = LoginRateLimiter()
    attempt = limiter.charge(ip=client_ip, email=email)
    if attempt.blocked:
        raise TooManyLoginAttempts(wait=attempt.retry_after)
    # ModelBackend: case-insensitive email (User.objects.get_by_natural_key), refuses inactive users (same answer
    # as a wrong password), and runs the hasher for unknown emails too so timing does not reveal which exist.
    user = authenticate(None, email=email.strip(), password=password)
    if user is None:
        raise exceptions.AuthenticationFailed(INVALID_CREDENTIALS, code="invalid_credentials")
    limiter.refund(attempt)
    return Login(user=user, tokens=token_pair_issue(user=user))


def user_update(*, user: User, full_name: str) -> User:
    user.full_name = full_name
    user.save(update_fields=["full_name"])
    return user


# --- memberships ------------------------------------------------------------------------------------------------


def _lock_organization(organization: Organization) -> None:
    """Serialize membership changes of one organization (the last-owner rule reads, then writes)."""
    Organization.objects.select_for_update().filter(pk=organization.pk).first()


def _actor_membership(*, organization: Organization, by: User) -> Membership:
    membership = Membership.objects.filter(organization=organization, user=by).first()
    if membership is None or membership.role not in MANAGER_ROLES:
        raise exceptions.PermissionDenied("Only owners and admins of the organization may manage members.")
    return membership


def _other_owners_exist(membership: Membership) -> bool:
    return (
        Membership.objects.filter(organization_id=membership.organization_id, role=Role.OWNER)
        .exclude(pk=membership.pk)
        .exists()
    )


def _validate_role(role: str) -> Role:
    if role not in Role.values:
        raise exceptions.ValidationError({"role": [f'"{role}" is not a valid role.']})
    return Role(role)


@transaction.atomic
def membership_change_role(*, membership: Membership, role: str, by: User) -> Membership:
    role = _validate_role(role)
    organization = membership.organization
    _lock_organization(organization)
    membership.refresh_from_db()
    actor = _actor_membership(organization=organization, by=by)
    if role == membership.role:
        return membership
    if Role.OWNER in (role, membership.role) and actor.role != Role.OWNER:
        verb = "grant" if role == Role.OWNER else "revoke"
        raise exceptions.PermissionDenied(f"Only an owner can {verb} the owner role.")
    if membership.role == Role.OWNER and not _other_owners_exist(membership):
        raise Conflict(
            "This is the organization's last owner and cannot be demoted: make another member an owner first.",
            code="last_owner",
        )
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, by: User) -> None:
    organization = membership.organization
    _lock_organization(organization)
    membership.refresh_from_db()
    actor = _actor_membership(organization=organization, by=by)
    if membership.role == Role.OWNER:
        if actor.role != Role.OWNER:
            raise exceptions.PermissionDenied("Only an owner can remove an owner.")
        if not _other_owners_exist(membership):
            raise Conflict(
                "This is the organization's last owner and cannot be removed: make another member an owner first.",
                code="last_owner",
            )
    membership.delete()


# --- invitations ---------------------------------------------------------------------------------------------------
#
# Nobody becomes a member without consent: an owner or admin invites an email address, and the person who owns it
# accepts (or declines) from their own account. The inviter's answer is the same whether or not the address has an
# account — nothing here looks users up before the email is sent. The emailed code is stored as a SHA-256 digest
# only; for an address without an account it is also what sets the first password (invitation_password_set).


def _invitation_code() -> tuple[str, str]:
    code = secrets.token_urlsafe(32)
    return code, _invitation_code_digest(code)


def _invitation_code_digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _invitation_expiry(now: datetime) -> datetime:
    return now + timedelta(days=settings.INVITATION_TTL_DAYS)


def _charge_invitation_email(organization: Organization) -> None:
    limit = invitation_rate_limit()
    wait = limit.charge(limit.key(str(organization.pk)))
    if wait is not None:
        raise TooManyInvitations(wait=wait)


def _check_may_grant(actor: Membership, role: str, verb: str) -> None:
    if role == Role.OWNER and actor.role != Role.OWNER:
        raise exceptions.PermissionDenied(f"Only an owner can {verb} an owner.")


def _invitation_email(invitation: Invitation, code: str) -> tuple[str, str]:
    """Subject and text. Which one the invitee gets depends on whether their address has an account they can log
    into; only the invitee ever sees the difference."""
    organization = invitation.organization
    inviter = invitation.invited_by
    who = (inviter.full_name or inviter.email) if inviter else "An administrator"
    expires = invitation.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    # One line whatever the names hold: a line break in a header would make Django refuse to send (BadHeaderError).
    subject = " ".join(f"{who} invited you to {organization.name} on Switchboard".split())
    intro = f"{who} invited you to join {organization.name} on Switchboard as {invitation.get_role_display().lower()}."
    user = User.objects.filter(email=invitation.email).first()
    if user is not None and user.has_usable_password():
        body = (
            f"{intro}\n\nLog in to Switchboard with this email address and accept the invitation under your "
            f"invitations (GET /api/accounts/me/invitations/). It expires on {expires}.\n"
        )
    else:
        body = (
            f"{intro}\n\nTo create your account, choose a password with this code (it works once, until {expires}):"
            f"\n\n    {code}\n\n"
            "(POST /api/accounts/password/set/ with the code as `token` and your `password`.) Then accept the "
            "invitation under your invitations.\n"
        )
    return subject, body + "\nIf you did not expect this invitation, ignore this email: nothing happens without you.\n"


def _send_invitation_on_commit(invitation: Invitation, code: str) -> None:
    invitation_id = invitation.pk

    def send() -> None:
        # After commit, so that a rolled-back invitation never reaches anyone. A mail server failure does not undo
        # the invitation: it is logged, and the inviter resends it.
        try:
            sent = Invitation.objects.select_related("organization", "invited_by").get(pk=invitation_id)
            subject, body = _invitation_email(sent, code)
            send_mail(subject, body, None, [sent.email])
        except Exception:
            logger.exception("invitation %s: the email could not be sent", invitation_id)

    transaction.on_commit(send)


def _lock_invitation(invitation: Invitation) -> Invitation:
    _lock_organization(invitation.organization)
    return Invitation.objects.select_related("organization").get(pk=invitation.pk)


def invitation_create(*, organization: Organization, email: str, role: str, by: User) -> Invitation:
    """Invite an email address to a role. The same answer whether or not the address has an account; 409 only for
    what the inviter can see anyway (already a member, an invitation still pending)."""
    role = _validate_role(role)
    email = User.objects.normalize_email(email).strip().lower()
    with transaction.atomic():
        _lock_organization(organization)
        actor = _actor_membership(organization=organization, by=by)
        _check_may_grant(actor, role, "invite")
        if Membership.objects.filter(organization=organization, user__email=email).exists():
            raise Conflict(f"{email} is already a member of this organization.", code="already_member")
        pending = Invitation.objects.filter(organization=organization, email=email, status=InvitationStatus.PENDING)
        previous = pending.first()
        if previous is not None and not previous.is_expired:
            raise Conflict(f"An invitation to {email} is already pending: resend or revoke it.", code="already_invited")
        _charge_invitation_email(organization)
        if previous is not None:  # expired: it makes room for the new one
            pending.update(status=InvitationStatus.EXPIRED, token_hash=None)
        code, digest = _invitation_code()
        now = timezone.now()
        invitation = Invitation.objects.create(
            organization=organization,
            email=email,
            role=role,
            token_hash=digest,
            invited_by=by,
            sent_at=now,
            expires_at=_invitation_expiry(now),
        )
        _send_invitation_on_commit(invitation, code)
    return invitation


def invitation_resend(*, invitation: Invitation, by: User) -> Invitation:
    """A new code (the old one stops working) and a new expiry, sent again, on the resender's authority."""
    with transaction.atomic():
        invitation = _lock_invitation(invitation)
        actor = _actor_membership(organization=invitation.organization, by=by)
        _check_may_grant(actor, invitation.role, "invite")
        if invitation.status != InvitationStatus.PENDING:
            raise Conflict(f"This invitation is {invitation.status}: invite again instead.", code="not_pending")
        if Membership.objects.filter(organization=invitation.organization, user__email=invitation.email).exists():
            raise Conflict(f"{invitation.email} is already a member of this organization.", code="already_member")
        _charge_invitation_email(invitation.organization)
        code, digest = _invitation_code()
        now = timezone.now()
        invitation.token_hash = digest
        invitation.invited_by = by
        invitation.sent_at = now
        invitation.expires_at = _invitation_expiry(now)
        invitation.save(update_fields=["token_hash", "invited_by", "sent_at", "expires_at"])
        _send_invitation_on_commit(invitation, code)
    return invitation


def invitation_revoke(*, invitation: Invitation, by: User, as_staff: bool = False) -> Invitation:
    """Withdraw a pending (or expired) invitation; its code stops working at once. `as_staff`: the Django admin (the
    platform's operators, who are not members of the organization) may revoke any invitation."""
    with transaction.atomic():
        invitation = _lock_invitation(invitation)
        if not as_staff:
            actor = _actor_membership(organization=invitation.organization, by=by)
            _check_may_grant(actor, invitation.role, "revoke the invitation of")
        if invitation.status != InvitationStatus.PENDING:
            raise Conflict(f"This invitation is already {invitation.status}.", code="not_pending")
        _close_invitation(invitation, InvitationStatus.REVOKED, by=by)
    return invitation


def _close_invitation(invitation: Invitation, status: str, *, by: User) -> None:
    invitation.status = status
    invitation.token_hash = None
    invitation.responded_by = by
    invitation.responded_at = timezone.now()
    invitation.save(update_fields=["status", "token_hash", "responded_by", "responded_at"])


def _invitation_for_invitee(invitation: Invitation, user: User) -> Invitation:
    """Re-read under the organization lock: still pending, still addressed to this user (else 404, like any row
    that is not theirs)."""
    invitation = _lock_invitation(invitation)
    if invitation.status != InvitationStatus.PENDING or invitation.email != user.email.lower():
        raise Invitation.DoesNotExist("No pending invitation for you with this id.")
    return invitation


def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    """The invitee joins with the invited role — if the invitation has not expired and its inviter may still grant
    that role (an admin demoted or removed since cannot have their invitations carry on)."""
    with transaction.atomic():
        invitation = _invitation_for_invitee(invitation, user)
        if invitation.is_expired:
            raise Conflict("This invitation has expired: ask for a new one.", code="invitation_expired")
        inviter = (
            Membership.objects.filter(organization=invitation.organization, user_id=invitation.invited_by_id).first()
            if invitation.invited_by_id is not None  # the inviter's account was deleted
            else None
        )
        if (
            inviter is None
            or inviter.role not in MANAGER_ROLES
            or (invitation.role == Role.OWNER and inviter.role != Role.OWNER)
        ):
            raise Conflict(
                "Whoever invited you can no longer grant this role: ask for a new invitation.",
                code="invitation_no_longer_valid",
            )
        if Membership.objects.filter(organization=invitation.organization, user=user).exists():
            raise Conflict("You are already a member of this organization.", code="already_member")
        membership = Membership.objects.create(organization=invitation.organization, user=user, role=invitation.role)
        _close_invitation(invitation, InvitationStatus.ACCEPTED, by=user)
    return membership


def invitation_decline(*, invitation: Invitation, user: User) -> Invitation:
    with transaction.atomic():
        invitation = _invitation_for_invitee(invitation, user)
        _close_invitation(invitation, InvitationStatus.DECLINED, by=user)
    return invitation


def invitation_password_set(*, token: str, password: str, full_name: str, client_ip: str) -> Login:
    """For an invited address without an account (or with one that has no password): the emailed code creates the
    account with this password and logs it in. It does not accept the invitation — that stays the invitee's
    explicit step. The code works once; limited per client IP like registration."""
    _charge_signup(client_ip)
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update()
            .filter(token_hash=_invitation_code_digest(token), status=InvitationStatus.PENDING)
            .first()
        )
        if invitation is None or invitation.is_expired:
            raise exceptions.ValidationError({"token": [INVITATION_CODE_INVALID]})
        user = User.objects.filter(email=invitation.email).first()
        if user is not None and not user.is_active:
            raise exceptions.ValidationError({"token": [INVITATION_CODE_INVALID]})
        if user is not None and user.has_usable_password():
            raise exceptions.ValidationError({"token": [INVITATION_CODE_HAS_ACCOUNT]})
        user_password_validate(password=password, email=invitation.email, full_name=full_name or "")
        if user is None:
            try:
                user = _user_create(email=invitation.email, password=password, full_name=full_name or "")
            except exceptions.ValidationError as error:  # registered concurrently: that account must log in
                raise exceptions.ValidationError({"token": [INVITATION_CODE_HAS_ACCOUNT]}) from error
        else:
            user.set_password(password)
            user.full_name = full_name or user.full_name
            user.save(update_fields=["password", "full_name"])
        invitation.token_hash = None  # used
        invitation.save(update_fields=["token_hash"])
        tokens = token_pair_issue(user=user)
    return Login(user=user, tokens=tokens)
