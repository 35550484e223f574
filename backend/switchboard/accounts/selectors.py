"""Accounts reads."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from switchboard.accounts.models import Membership, Organization, Role, User
from switchboard.accounts.tenancy import NoOrganization, resolve_membership


@dataclass(frozen=True)
class Profile:
    """The current user, every organization they belong to, and the one this request acts for."""

    user: User
    memberships: list[Membership]
    organization: Organization | None
    role: Role | None


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
    )
