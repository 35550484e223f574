"""Accounts API: thin views over accounts.services (writes) and accounts.selectors (reads)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenRefreshView

from switchboard.accounts import selectors, serializers, services
from switchboard.accounts.tenancy import ORGANIZATION_HEADER, ManagersWriteMembersRead, TenantScopedViewMixin
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
        "returns a token pair. Passwords are checked by the server's password validators.",
        request=serializers.RegisterSerializer,
        responses={201: serializers.RegistrationResponseSerializer, 400: INVALID},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        data = serializers.RegisterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        registration = services.user_register(**data.validated_data)
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
        description="Email is case-insensitive. Failed attempts are limited per client IP and per email "
        "(LOGIN_RATE_LIMIT per LOGIN_RATE_WINDOW_SECONDS); beyond it the answer is 429 with Retry-After.",
        request=serializers.LoginSerializer,
        responses={
            200: serializers.LoginResponseSerializer,
            400: INVALID,
            401: OpenApiResponse(ERROR, description="Wrong email or password, or the account is inactive."),
            429: OpenApiResponse(ERROR, description="Too many login attempts; see the Retry-After header."),
        },
        parameters=[
            OpenApiParameter(
                "Retry-After",
                int,
                OpenApiParameter.HEADER,
                response=[429],
                description="Seconds until another attempt is allowed.",
            )
        ],
        auth=[],
    )
    def post(self, request: Request) -> Response:
        data = serializers.LoginSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # One address for every request whose client address is unknown: they share a counter.
        login = services.user_login(**data.validated_data, client_ip=client_ip(request) or "unknown")
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

    def _profile(self, request: Request) -> Response:
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
    def get(self, request: Request) -> Response:
        return self._profile(request)

    @extend_schema(
        tags=TAGS,
        summary="Update your name",
        parameters=[X_ORGANIZATION],
        request=serializers.ProfileUpdateSerializer,
        responses={200: serializers.ProfileSerializer, 400: INVALID, 401: UNAUTHENTICATED, 404: UNKNOWN_ORGANIZATION},
    )
    def patch(self, request: Request) -> Response:
        data = serializers.ProfileUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.user_update(user=request.user, full_name=data.validated_data["full_name"])
        return self._profile(request)


class _MemberView(TenantScopedViewMixin, generics.GenericAPIView):
    """The current organization's memberships: any member reads, owners and admins write."""

    permission_classes = (permissions.IsAuthenticated, ManagersWriteMembersRead)
    serializer_class = serializers.MemberSerializer

    def scoped_queryset(self):
        return selectors.membership_list()


class MemberListView(_MemberView):
    """Any member lists; owners and admins add."""

    @extend_schema(
        tags=TAGS,
        summary="Members of the current organization",
        parameters=[X_ORGANIZATION],
        responses={200: serializers.MemberSerializer(many=True), 401: UNAUTHENTICATED, 404: UNKNOWN_ORGANIZATION},
    )
    def get(self, request: Request) -> Response:
        return Response(serializers.MemberSerializer(self.get_queryset(), many=True).data)

    @extend_schema(
        tags=TAGS,
        summary="Add a member (owners and admins)",
        description="An existing user (by email) gets a membership. An unknown email becomes a new user whose "
        "generated `temporary_password` is returned in this response only. Only an owner may add an owner.",
        parameters=[X_ORGANIZATION],
        request=serializers.MemberAddSerializer,
        responses={
            201: serializers.MemberAddedSerializer,
            400: INVALID,
            401: UNAUTHENTICATED,
            403: FORBIDDEN,
            404: UNKNOWN_ORGANIZATION,
            409: OpenApiResponse(ERROR, description="Already a member."),
        },
    )
    def post(self, request: Request) -> Response:
        data = serializers.MemberAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        added = services.membership_add(organization=self.organization, by=request.user, **data.validated_data)
        return Response(serializers.MemberAddedSerializer(added).data, status=status.HTTP_201_CREATED)


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
    def patch(self, request: Request, pk: str) -> Response:
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
    def delete(self, request: Request, pk: str) -> Response:
        services.membership_remove(membership=self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
