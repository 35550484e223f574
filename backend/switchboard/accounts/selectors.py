"""Accounts reads."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from switchboard.accounts.models import Invitation, InvitationStatus, Membership, Organization, Role, User
from switchboard.accounts.tenancy import NoOrganization, resolve_membership


@dataclass(frozen=True)
class Profile:
    """The current user, every organization they belong to, and the one this request acts for."""

    user: User
    memberships: list[Membership]
    organization: Organization | None
    role: Role | None
    invitations: list[Invitation]


def membership_list() -> QuerySet[Membership]:
    """Every membership with its user; the tenancy mixin scopes it to the request's organization."""
    return Membership.objects.select_related("user", "organization")


def user_profile_get(*, user: User, organization_header: str | None) -> Profile:
    """Raises UnknownOrganization (404) when X-Organization names an organization the user is not a member of.
    A user without any membership still has a profile, with no current organization."""
    try:
        current = resolve_membership(user, organization_header)
    except NoOrganization:
        current = None
    memberships = list(Membership.objects.filter(user=user).select_related("organization").order_by("created_at", "id"))
    return Profile(
        user=user,
        memberships=memberships,
        organization=current.organization if current else None,
        role=Role(current.role) if current else None,
        invitations=list(invitations_pending_for(user=user)),
    )


# --- invitations ---------------------------------------------------------------------------------------------------


def invitation_list() -> QuerySet[Invitation]:
    """Every invitation with who sent and who answered it; the tenancy mixin scopes it to the organization."""
    return Invitation.objects.select_related("invited_by", "responded_by")


def invitation_filter_status(queryset: QuerySet[Invitation], status: str) -> QuerySet[Invitation]:
    """By the status the API shows: a pending invitation past its expiry is `expired`, not `pending`."""
    now = timezone.now()
    if status == InvitationStatus.PENDING:
        return queryset.filter(status=InvitationStatus.PENDING, expires_at__gt=now)
    if status == InvitationStatus.EXPIRED:
        return queryset.filter(
            Q(status=InvitationStatus.EXPIRED) | Q(status=InvitationStatus.PENDING, expires_at__lte=now)
        )
    return queryset.filter(status=status)


def invitations_addressed_to(*, user: User) -> QuerySet[Invitation]:
    """Open invitations to the user's email address, expired ones included (accepting one says it expired).
    Invitations are matched by address: stored lower-cased, as user emails are."""
    return Invitation.objects.filter(email=user.email.lower(), status=InvitationStatus.PENDING).select_related(
        "organization", "invited_by"
    )


def invitations_pending_for(*, user: User) -> QuerySet[Invitation]:
    """What the user can still accept, oldest first."""
    return invitations_addressed_to(user=user).filter(expires_at__gt=timezone.now()).order_by("created_at", "id")
