"""Tenancy is decided here, and only here.

* `TenantModel` — the abstract base of every tenant-owned row: a non-null, indexed `organization` and the
  `for_organization(org)` queryset method.
* `resolve_membership(user, header)` — which organization a request acts for (the `X-Organization` header picks
  one when the user belongs to several; otherwise the oldest membership).
* `TenantScopedViewMixin` — the one mixin every API view uses. It owns `get_queryset` / `get_object` (subclasses
  supply `scoped_queryset()`); overriding the owners is refused at class creation, so a view cannot forget the
  filter. Missing and other-tenant objects both answer 404.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar, cast

from django.db import models
from django.http import Http404, HttpRequest
from rest_framework import exceptions, permissions
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request

from switchboard.accounts.models import Membership, Organization, User
from switchboard.common.ids import is_id  # ASCII digits within the id range

ORGANIZATION_HEADER = "HTTP_X_ORGANIZATION"
_M = TypeVar("_M", bound=models.Model)
_SLUG = re.compile(r"[-a-zA-Z0-9_]{1,100}")


def organization_id_of(organization: Organization | int) -> int:
    return organization if isinstance(organization, int) else organization.pk


def ensure_owned(organization: Organization | int, obj: TenantModel) -> int:
    """Services are called with rows the caller already scoped; a row of another tenant is a bug, never a write.
    Raises the model's DoesNotExist (a 404 in the API); returns the organization id."""
    organization_id = organization_id_of(organization)
    if obj.organization_id != organization_id:
        raise type(obj).DoesNotExist(f"{type(obj).__name__} {obj.pk} is not in organization {organization_id}.")
    return organization_id


class TenantQuerySet(models.QuerySet[_M]):
    def for_organization(self, organization: Organization | int) -> Self:
        return self.filter(organization_id=organization_id_of(organization))


TenantManager = models.Manager.from_queryset(TenantQuerySet)


class TenantModel(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", db_index=True)

    objects = TenantManager()

    class Meta:
        abstract = True


class NoOrganization(exceptions.PermissionDenied):
    default_detail = "You are not a member of any organization."
    default_code = "no_organization"


class UnknownOrganization(exceptions.NotFound):
    default_detail = "The organization named in X-Organization was not found among your memberships."
    default_code = "unknown_organization"


def resolve_membership(user: User, header_value: str | None) -> Membership:
    """The membership a request acts through. Raises NoOrganization / UnknownOrganization."""
    memberships = Membership.objects.filter(user=user).select_related("organization")
    if header_value:
        header_value = header_value.strip()
        membership = None
        # An id out of range (9223372036854775808) is no id, and a value that is no slug either is never looked up
        # (NUL or other control characters would reach PostgreSQL): both answer 404 like an unknown organization.
        if is_id(header_value):
            membership = memberships.filter(organization_id=int(header_value)).first()
        elif _SLUG.fullmatch(header_value):
            membership = memberships.filter(organization__slug=header_value).first()
        if membership is None:
            raise UnknownOrganization()
        return membership
    membership = memberships.order_by("created_at", "id").first()
    if membership is None:
        raise NoOrganization()
    return membership


def member_user_ids(organization: Organization | int) -> list[int]:
    """Everyone who should see the organization's inbox (the WebSocket groups to address)."""
    organization_id = organization_id_of(organization)
    return list(
        Membership.objects.filter(organization_id=organization_id, user__is_active=True).values_list(
            "user_id", flat=True
        )
    )


class IsOrganizationMember(permissions.BasePermission):
    message = "You are not a member of this organization."

    def has_permission(self, request: Request, view: Any) -> bool:
        return request_membership(request) is not None


class IsOrganizationManager(permissions.BasePermission):
    """Owners and admins: members and platform accounts."""

    message = "Only owners and admins of the organization may do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        membership = request_membership(request)
        return membership is not None and membership.can_manage


class ManagersWriteMembersRead(permissions.BasePermission):
    """Any member reads; only owners and admins write."""

    message = "Only owners and admins of the organization may change this."

    def has_permission(self, request: Request, view: Any) -> bool:
        membership = request_membership(request)
        if membership is None:
            return False
        return request.method in permissions.SAFE_METHODS or membership.can_manage


class AuthenticatedRequest(Request):
    """The type of `request` in the handlers of views that only signed-in users reach (IsAuthenticated): there
    `request.user` is a `User` (never instantiated: DRF builds the request; this only names what it holds)."""

    user: User  # Request.user is User | AnonymousUser; past IsAuthenticated it is a User


class TenantRequest(Request):
    """A request once `TenantScopedViewMixin.initial` ran: the tenant it acts for (None for a caller without a
    membership, whom only views with their own permission classes let in). Never instantiated, like the above."""

    organization: Organization | None
    membership: Membership | None


def request_user(request: HttpRequest | Request) -> User:
    """The signed-in user of a request that only signed-in users reach (the admin site, IsAuthenticated views)."""
    user = request.user
    if not isinstance(user, User):  # AnonymousUser, or None (UNAUTHENTICATED_USER): never past authentication
        raise exceptions.NotAuthenticated()
    return user


if TYPE_CHECKING:
    from rest_framework.generics import GenericAPIView
    from rest_framework.permissions import _PermissionClass

    class _TenantViewBase(GenericAPIView[_M]):
        """For the type checker the mixin is the generic view it is always combined with."""

else:

    class _TenantViewBase(Generic[_M]):
        """At run time the mixin adds nothing to the view's bases but the type parameter (the model it serves)."""


def request_membership(request: Request) -> Membership | None:
    """The membership `TenantScopedViewMixin` resolved for the request (None for anonymous callers)."""
    membership: Membership | None = getattr(request, "membership", None)
    return membership


class TenantScopedViewMixin(_TenantViewBase[_M]):
    """Resolves `request.organization` / `request.membership` and scopes every query to it.
    `TenantScopedViewMixin[Model]` types `scoped_queryset()` and `get_object()`."""

    _OWNED = ("get_queryset", "get_object", "initial")
    permission_classes: Sequence[_PermissionClass] = [permissions.IsAuthenticated, IsOrganizationMember]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in cls._OWNED:
            if name in cls.__dict__:
                raise TypeError(
                    f"{cls.__name__} overrides {name}(); tenant-scoped views supply scoped_queryset() instead."
                )

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        self.perform_authentication(request)
        tenant_request = cast("TenantRequest", request)
        tenant_request.organization = None
        tenant_request.membership = None
        user = request.user
        if user is not None and user.is_authenticated:
            membership = resolve_membership(user, request.META.get(ORGANIZATION_HEADER))
            tenant_request.membership = membership
            tenant_request.organization = membership.organization
        super().initial(request, *args, **kwargs)

    @property
    def organization(self) -> Organization:
        organization = cast("TenantRequest", self.request).organization
        # Set once IsOrganizationMember passed; a view that lets other callers in never asks for it.
        assert organization is not None, f"{type(self).__name__}: no organization resolved for this request"
        return organization

    def scoped_queryset(self) -> models.QuerySet[_M]:
        raise NotImplementedError(f"{type(self).__name__} must define scoped_queryset()")

    def get_queryset(self) -> models.QuerySet[_M]:
        queryset = self.scoped_queryset()
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request user
            return queryset.none()
        return queryset.filter(organization_id=self.organization.pk)

    def get_object(self) -> _M:
        queryset = self.filter_queryset(self.get_queryset())
        lookup_url_kwarg = self.lookup_url_kwarg or self.lookup_field
        value = self.kwargs[lookup_url_kwarg]
        if self.lookup_field == "pk" and not is_id(value):
            raise Http404
        obj = get_object_or_404(queryset, **{self.lookup_field: value})
        self.check_object_permissions(self.request, obj)
        return obj
