"""Accounts services: everything that writes users, organizations, memberships and tokens.

Views parse input and call these; the rules (who may grant which role, the last owner, the login rate limit) are
enforced here so every caller — API, admin actions, management commands — gets them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.contrib.auth import authenticate
from django.contrib.auth.models import update_last_login
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify
from rest_framework import exceptions
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import RefreshToken

from switchboard.accounts.models import MANAGER_ROLES, Membership, Organization, Role, User
from switchboard.accounts.throttles import LoginRateLimiter
from switchboard.common.errors import Conflict

SLUG_MAX_LENGTH = Organization._meta.get_field("slug").max_length
DUPLICATE_EMAIL = "A user with this email address already exists."
INVALID_CREDENTIALS = "Invalid email or password."


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


@dataclass(frozen=True)
class MembershipAdded:
    membership: Membership
    # Set only when the user was created by this call: the one time it is ever shown (we send no email).
    temporary_password: str | None


class TooManyLoginAttempts(exceptions.Throttled):
    default_detail = "Too many login attempts."
    default_code = "too_many_login_attempts"


# --- tokens ------------------------------------------------------------------------------------------------------


def token_pair_issue(*, user: User) -> TokenPair:
    refresh = RefreshToken.for_user(user)  # also recorded as an outstanding token (blacklist app)
    if jwt_settings.UPDATE_LAST_LOGIN:
        update_last_login(None, user)
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh))


def token_blacklist(*, refresh: str) -> None:
    """Logout: the refresh token can never be used again. An invalid, expired or already blacklisted token is
    refused (401) like everywhere else a token is checked."""
    try:
        RefreshToken(refresh).blacklist()
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


@transaction.atomic
def user_register(*, email: str, password: str, full_name: str, organization_name: str) -> Registration:
    """A new user who owns a new organization, already logged in."""
    user_password_validate(password=password, email=email, full_name=full_name)
    user = _user_create(email=email, password=password, full_name=full_name)
    organization = organization_create(name=organization_name)
    membership = Membership.objects.create(user=user, organization=organization, role=Role.OWNER)
    return Registration(user=user, organization=organization, membership=membership, tokens=token_pair_issue(user=user))


def user_login(*, email: str, password: str, client_ip: str) -> Login:
    """Check the credentials under the login rate limit (per client IP and per email).

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
def membership_add(
    *, organization: Organization, email: str, role: str, by: User, full_name: str = ""
) -> MembershipAdded:
    """Give a user a role in the organization. An unknown email becomes a new user with a generated temporary
    password, returned once."""
    role = _validate_role(role)
    _lock_organization(organization)
    actor = _actor_membership(organization=organization, by=by)
    if role == Role.OWNER and actor.role != Role.OWNER:
        raise exceptions.PermissionDenied("Only an owner can grant the owner role.")

    email = email.strip().lower()
    temporary_password = None
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        temporary_password = secrets.token_urlsafe(12)
        try:
            user = _user_create(email=email, password=temporary_password, full_name=full_name)
        except exceptions.ValidationError:  # created concurrently by someone else: add that user
            user = User.objects.get(email__iexact=email)
            temporary_password = None

    if Membership.objects.filter(organization=organization, user=user).exists():
        raise Conflict(f"{user.email} is already a member of this organization.", code="already_member")
    membership = Membership.objects.create(organization=organization, user=user, role=role)
    return MembershipAdded(membership=membership, temporary_password=temporary_password)


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
