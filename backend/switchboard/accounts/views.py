"""Accounts API: thin views over accounts.services (writes) and accounts.selectors (reads)."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenRefreshView

from switchboard.accounts import selectors, serializers, services
from switchboard.accounts.models import Invitation, InvitationStatus, Membership
from switchboard.accounts.tenancy import (
    ORGANIZATION_HEADER,
    AuthenticatedRequest,
    IsOrganizationManager,
    ManagersWriteMembersRead,
    TenantScopedViewMixin,
    is_id,
)
from switchboard.common.http import client_ip

TAGS = ["accounts"]
ERROR = serializers.ErrorSerializer
INVALID = OpenApiResponse(serializers.ValidationErrorSerializer, description="Invalid input.")
UNAUTHENTICATED = OpenApiResponse(ERROR, description="Missing, invalid or expired credentials.")
FORBIDDEN = OpenApiResponse(ERROR, description="Your role does not allow this.")
NOT_FOUND = OpenApiResponse(ERROR, description="Not found (also: another organization's member).")
UNKNOWN_ORGANIZATION = OpenApiResponse(ERROR, description="X-Organization names none of your organizations.")
X_ORGANIZATION = OpenApiParameter(
    "X-Organization",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Id or slug of the organization to act for; default: your oldest membership.",
)
MEMBER_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The membership id.")
INVITATION_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The invitation id.")


def throttled(description: str) -> OpenApiResponse:
    return OpenApiResponse(ERROR, description=f"{description}; see the Retry-After header.")


RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    int,
    OpenApiParameter.HEADER,
    response=[429],
    description="Seconds until another attempt is allowed.",
)


def _client_ip(request: Request) -> str:
    # One address for every request whose client address is unknown: they share a counter.
    return client_ip(request) or "unknown"


class PublicAuthView(APIView):
    """Endpoints that take credentials in the body: no Authorization header is read (a stale access token must not
    stand in the way of logging in), yet failures answer 401 with a WWW-Authenticate challenge, not 403."""

    authentication_classes = ()
    permission_classes = (permissions.AllowAny,)

    def get_authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class RegisterView(PublicAuthView):
    @extend_schema(
        tags=TAGS,
        summary="Create an account and its organization",
        description="Creates the user, an organization (slug derived from its name) with the user as owner, and "
        "returns a token pair. Passwords are checked by the server's password validators. Limited per client IP "
        "(REGISTRATION_RATE_LIMIT per REGISTRATION_RATE_WINDOW_SECONDS, every attempt counts): beyond it 429.",
        request=serializers.RegisterSerializer,
        responses={
            201: serializers.RegistrationResponseSerializer,
            400: INVALID,
            429: throttled("Too many sign-ups from this address"),
        },
        parameters=[RETRY_AFTER],
        auth=[],
    )
    def post(self, request: Request) -> Response:
        data = serializers.RegisterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        registration = services.user_register(**data.validated_data, client_ip=_client_ip(request))
        body = {
            "user": registration.user,
            "organization": registration.organization,
            "role": registration.membership.role,
            "access": registration.tokens.access,
            "refresh": registration.tokens.refresh,
        }
        return Response(serializers.RegistrationResponseSerializer(body).data, status=status.HTTP_201_CREATED)


class LoginView(PublicAuthView):
    @extend_schema(
        tags=TAGS,
        summary="Log in with email and password",
        description="Email is case-insensitive. Failed attempts are limited per account (LOGIN_RATE_LIMIT, from any "
        "address) and per client IP (LOGIN_IP_RATE_LIMIT, any account), per LOGIN_RATE_WINDOW_SECONDS; beyond "
        "either the answer is 429 with Retry-After.",
        request=serializers.LoginSerializer,
        responses={
            200: serializers.LoginResponseSerializer,
            400: INVALID,
            401: OpenApiResponse(ERROR, description="Wrong email or password, or the account is inactive."),
            429: throttled("Too many login attempts"),
        },
        parameters=[RETRY_AFTER],
        auth=[],
    )
    def post(self, request: Request) -> Response:
        data = serializers.LoginSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        login = services.user_login(**data.validated_data, client_ip=_client_ip(request))
        body = {"user": login.user, "access": login.tokens.access, "refresh": login.tokens.refresh}
        return Response(serializers.LoginResponseSerializer(body).data)


class RefreshView(TokenRefreshView):
    serializer_class = serializers.RefreshSerializer

    @extend_schema(
        tags=TAGS,
        summary="Exchange a refresh token for a new token pair",
        description="Refresh tokens rotate: the one sent is blacklisted and a new one is returned with the access "
        "token.",
        request=serializers.RefreshRequestSerializer,
        responses={200: serializers.TokenPairSerializer, 400: INVALID, 401: UNAUTHENTICATED},
        auth=[],
    )
    def post(self, request: Request, *args, **kwargs) -> Response:
        return super().post(request, *args, **kwargs)


class LogoutView(PublicAuthView):
    @extend_schema(
        tags=TAGS,
        summary="Log out: revoke a refresh token",
        request=serializers.LogoutSerializer,
        responses={
            204: OpenApiResponse(description="Revoked."),
            400: INVALID,
            401: OpenApiResponse(ERROR, description="The token is invalid, expired or already revoked."),
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        data = serializers.LogoutSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.token_blacklist(refresh=data.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    permission_classes = (permissions.IsAuthenticated,)

    def _profile(self, request: AuthenticatedRequest) -> Response:
        profile = selectors.user_profile_get(
            user=request.user, organization_header=request.META.get(ORGANIZATION_HEADER)
        )
        return Response(serializers.ProfileSerializer(profile).data)

    @extend_schema(
        tags=TAGS,
        summary="The current user, their organizations and the current one",
        parameters=[X_ORGANIZATION],
        responses={200: serializers.ProfileSerializer, 401: UNAUTHENTICATED, 404: UNKNOWN_ORGANIZATION},
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        return self._profile(request)

    @extend_schema(
        tags=TAGS,
        summary="Update your name",
        parameters=[X_ORGANIZATION],
        request=serializers.ProfileUpdateSerializer,
        responses={200: serializers.ProfileSerializer, 400: INVALID, 401: UNAUTHENTICATED, 404: UNKNOWN_ORGANIZATION},
    )
    def patch(self, request: AuthenticatedRequest) -> Response:
        data = serializers.ProfileUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.user_update(user=request.user, full_name=data.validated_data["full_name"])
        return self._profile(request)


class _MemberView(TenantScopedViewMixin[Membership], generics.GenericAPIView[Membership]):
    """The current organization's memberships: any member reads, owners and admins write."""

    permission_classes = (permissions.IsAuthenticated, ManagersWriteMembersRead)
    serializer_class = serializers.MemberSerializer

    def scoped_queryset(self) -> QuerySet[Membership]:
        return selectors.membership_list()


class MemberListView(_MemberView):
    """Any member lists. Members join by accepting an invitation (InvitationListView), never by being added."""

    @extend_schema(
        tags=TAGS,
        summary="Members of the current organization",
        parameters=[X_ORGANIZATION],
        responses={200: serializers.MemberSerializer(many=True), 401: UNAUTHENTICATED, 404: UNKNOWN_ORGANIZATION},
    )
    def get(self, request: Request) -> Response:
        return Response(serializers.MemberSerializer(self.get_queryset(), many=True).data)


class MemberDetailView(_MemberView):
    """Any member reads; owners and admins change roles and remove. Another organization's member is a 404."""

    @extend_schema(
        tags=TAGS,
        summary="One member",
        parameters=[X_ORGANIZATION, MEMBER_ID],
        responses={200: serializers.MemberSerializer, 401: UNAUTHENTICATED, 404: NOT_FOUND},
    )
    def get(self, request: Request, pk: str) -> Response:
        return Response(serializers.MemberSerializer(self.get_object()).data)

    @extend_schema(
        tags=TAGS,
        summary="Change a member's role (owners and admins)",
        description="Only an owner may grant or revoke the owner role. The last owner cannot be demoted (409).",
        parameters=[X_ORGANIZATION, MEMBER_ID],
        request=serializers.MemberUpdateSerializer,
        responses={
            200: serializers.MemberSerializer,
            400: INVALID,
            401: UNAUTHENTICATED,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: OpenApiResponse(ERROR, description="The last owner cannot be demoted."),
        },
    )
    def patch(self, request: AuthenticatedRequest, pk: str) -> Response:
        membership = self.get_object()
        data = serializers.MemberUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.membership_change_role(
            membership=membership, role=data.validated_data["role"], by=request.user
        )
        return Response(serializers.MemberSerializer(membership).data)

    @extend_schema(
        tags=TAGS,
        summary="Remove a member (owners and admins)",
        description="Only an owner may remove an owner. The last owner cannot be removed (409).",
        parameters=[X_ORGANIZATION, MEMBER_ID],
        responses={
            204: OpenApiResponse(description="Removed."),
            401: UNAUTHENTICATED,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: OpenApiResponse(ERROR, description="The last owner cannot be removed."),
        },
    )
    def delete(self, request: AuthenticatedRequest, pk: str) -> Response:
        services.membership_remove(membership=self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- invitations: the organization's side (owners and admins) ----------------------------------------------------


class _InvitationView(TenantScopedViewMixin[Invitation], generics.GenericAPIView[Invitation]):
    """The current organization's invitations: owners and admins only (an agent gets 403)."""

    permission_classes = (permissions.IsAuthenticated, IsOrganizationManager)
    serializer_class = serializers.InvitationSerializer

    def scoped_queryset(self) -> QuerySet[Invitation]:
        return selectors.invitation_list()


class InvitationListView(_InvitationView):
    @extend_schema(
        tags=TAGS,
        summary="Invitations of the current organization (owners and admins)",
        parameters=[
            X_ORGANIZATION,
            OpenApiParameter(
                "status",
                str,
                OpenApiParameter.QUERY,
                required=False,
                enum=InvitationStatus.values,
                description="Only invitations in this state (`pending` excludes expired ones).",
            ),
        ],
        responses={
            200: serializers.InvitationSerializer(many=True),
            400: INVALID,
            401: UNAUTHENTICATED,
            403: FORBIDDEN,
            404: UNKNOWN_ORGANIZATION,
        },
    )
    def get(self, request: Request) -> Response:
        query = serializers.InvitationListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        invitations = self.get_queryset()
        if "status" in query.validated_data:
            invitations = selectors.invitation_filter_status(invitations, query.validated_data["status"])
        return Response(serializers.InvitationSerializer(invitations, many=True).data)

    @extend_schema(
        tags=TAGS,
        summary="Invite someone by email (owners and admins)",
        description="Emails the address an invitation to `role` (valid INVITATION_TTL_DAYS days). The answer is the "
        "same whether or not the address has an account: someone new gets a code to choose a password "
        "(`POST /api/accounts/password/set/`), then — like anyone — accepts or declines from their own account. "
        "Only an owner may invite an owner. At most INVITATION_RATE_LIMIT emails per organization a day.",
        parameters=[X_ORGANIZATION],
        request=serializers.InvitationCreateSerializer,
        responses={
            201: serializers.InvitationSerializer,
            400: INVALID,
            401: UNAUTHENTICATED,
            403: FORBIDDEN,
            404: UNKNOWN_ORGANIZATION,
            409: OpenApiResponse(
                ERROR, description="Already a member (`already_member`) or already invited (`already_invited`)."
            ),
            429: throttled("Too many invitations from this organization today"),
        },
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        data = serializers.InvitationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitation = services.invitation_create(organization=self.organization, by=request.user, **data.validated_data)
        return Response(serializers.InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)


class InvitationDetailView(_InvitationView):
    @extend_schema(
        tags=TAGS,
        summary="One invitation (owners and admins)",
        parameters=[X_ORGANIZATION, INVITATION_ID],
        responses={200: serializers.InvitationSerializer, 401: UNAUTHENTICATED, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def get(self, request: Request, pk: str) -> Response:
        return Response(serializers.InvitationSerializer(self.get_object()).data)


class InvitationRevokeView(_InvitationView):
    @extend_schema(
        tags=TAGS,
        summary="Revoke a pending invitation (owners and admins)",
        description="Its code stops working at once. Only an owner may revoke an invitation to the owner role.",
        parameters=[X_ORGANIZATION, INVITATION_ID],
        request=None,
        responses={
            200: serializers.InvitationSerializer,
            401: UNAUTHENTICATED,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: OpenApiResponse(ERROR, description="Not pending any more (`not_pending`)."),
        },
    )
    def post(self, request: AuthenticatedRequest, pk: str) -> Response:
        invitation = services.invitation_revoke(invitation=self.get_object(), by=request.user)
        return Response(serializers.InvitationSerializer(invitation).data)


class InvitationResendView(_InvitationView):
    @extend_schema(
        tags=TAGS,
        summary="Send a pending or expired invitation again (owners and admins)",
        description="A new code (the previous one stops working) and a new expiry; you become its inviter.",
        parameters=[X_ORGANIZATION, INVITATION_ID],
        request=None,
        responses={
            200: serializers.InvitationSerializer,
            401: UNAUTHENTICATED,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: OpenApiResponse(ERROR, description="Accepted, declined or revoked (`not_pending`)."),
            429: throttled("Too many invitations from this organization today"),
        },
    )
    def post(self, request: AuthenticatedRequest, pk: str) -> Response:
        invitation = services.invitation_resend(invitation=self.get_object(), by=request.user)
        return Response(serializers.InvitationSerializer(invitation).data)


# --- invitations: the invitee's side ------------------------------------------------------------------------------


class MyInvitationListView(APIView):
    permission_classes = (permissions.IsAuthenticated,)

    @extend_schema(
        tags=TAGS,
        summary="Invitations to your email address",
        description="Pending and not expired (the same list as `invitations` in `GET /api/accounts/me/`).",
        responses={200: serializers.MyInvitationSerializer(many=True), 401: UNAUTHENTICATED},
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        invitations = selectors.invitations_pending_for(user=request.user)
        return Response(serializers.MyInvitationSerializer(invitations, many=True).data)


class _MyInvitationActionView(APIView):
    """Acts on an open invitation addressed to the caller's email. Not tenant-scoped — the caller is not a member
    yet — but scoped to the caller: anyone else's invitation is a 404, exactly like a missing one."""

    permission_classes = (permissions.IsAuthenticated,)

    def invitation(self, request: AuthenticatedRequest, pk: str) -> Invitation:
        invitation = selectors.invitations_addressed_to(user=request.user).filter(pk=pk).first() if is_id(pk) else None
        if invitation is None:
            raise NotFound()
        return invitation


class MyInvitationAcceptView(_MyInvitationActionView):
    @extend_schema(
        tags=TAGS,
        summary="Accept an invitation: join its organization with its role",
        parameters=[INVITATION_ID],
        request=None,
        responses={
            200: serializers.UserMembershipSerializer,
            401: UNAUTHENTICATED,
            404: OpenApiResponse(ERROR, description="No open invitation to you with this id."),
            409: OpenApiResponse(
                ERROR,
                description="`invitation_expired`, `already_member`, or `invitation_no_longer_valid` (whoever "
                "invited you can no longer grant the role).",
            ),
        },
    )
    def post(self, request: AuthenticatedRequest, pk: str) -> Response:
        try:
            membership = services.invitation_accept(invitation=self.invitation(request, pk), user=request.user)
        except Invitation.DoesNotExist as error:  # answered or revoked meanwhile
            raise NotFound() from error
        return Response(serializers.UserMembershipSerializer(membership).data)


class MyInvitationDeclineView(_MyInvitationActionView):
    @extend_schema(
        tags=TAGS,
        summary="Decline an invitation",
        parameters=[INVITATION_ID],
        request=None,
        responses={
            204: OpenApiResponse(description="Declined."),
            401: UNAUTHENTICATED,
            404: OpenApiResponse(ERROR, description="No open invitation to you with this id."),
        },
    )
    def post(self, request: AuthenticatedRequest, pk: str) -> Response:
        try:
            services.invitation_decline(invitation=self.invitation(request, pk), user=request.user)
        except Invitation.DoesNotExist as error:
            raise NotFound() from error
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordSetView(PublicAuthView):
    @extend_schema(
        tags=TAGS,
        summary="Choose your password with an invitation code",
        description="For an invited address that has no account yet: creates it with this password and logs it in. "
        "The code works once and only while the invitation is pending; accepting the invitation stays a separate "
        "step. Limited per client IP like registration.",
        request=serializers.PasswordSetSerializer,
        responses={
            200: serializers.LoginResponseSerializer,
            400: OpenApiResponse(
                serializers.ValidationErrorSerializer,
                description="Invalid input, a weak password, or a code that is invalid, used or expired "
                "(`errors.token`).",
            ),
            429: throttled("Too many sign-ups from this address"),
        },
        parameters=[RETRY_AFTER],
        auth=[],
    )
    def post(self, request: Request) -> Response:
        data = serializers.PasswordSetSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        login = services.invitation_password_set(**data.validated_data, client_ip=_client_ip(request))
        body = {"user": login.user, "access": login.tokens.access, "refresh": login.tokens.refresh}
        return Response(serializers.LoginResponseSerializer(body).data)
