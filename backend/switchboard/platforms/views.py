"""/api/platforms/accounts/: the organization's connected accounts. Every member reads (without secrets); owners
and admins connect, change and disconnect them through `platforms.services`. An account's history syncs
(`sync-runs/`, `sync/`) are the inbox's, which runs them: inbox/api/sync_views.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from switchboard.accounts.serializers import ErrorSerializer
from switchboard.accounts.tenancy import AuthenticatedRequest, ManagersWriteMembersRead, TenantScopedViewMixin
from switchboard.common.filters import FilterSet, ListFiltersOnlyMixin
from switchboard.platforms import services
from switchboard.platforms.models import Platform, PlatformAccount, Provider
from switchboard.platforms.serializers import (
    ConnectionTestSerializer,
    PlatformAccountCreateSerializer,
    PlatformAccountSerializer,
    PlatformAccountUpdateSerializer,
    WhatsAppTemplateSerializer,
)

T = TypeVar("T")


def _call_service(service: Callable[..., T], **kwargs: Any) -> T:
    """Services raise Django's ValidationError keyed by field; answer it as the API's 400."""
    try:
        return service(**kwargs)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(serializers.as_serializer_error(exc)) from exc


class PlatformAccountFilter(FilterSet):
    platform = django_filters.ChoiceFilter(choices=Platform.choices, help_text="Only this platform's accounts.")
    provider = django_filters.ChoiceFilter(choices=Provider.choices, help_text="Only this provider's accounts.")
    is_active = django_filters.BooleanFilter(help_text="Connected (`true`) or disconnected (`false`) accounts.")

    class Meta:
        model = PlatformAccount
        fields = ["platform", "provider", "is_active"]


@extend_schema_view(
    list=extend_schema(
        summary="List connected accounts",
        description="Every member may read; secrets are never returned.",
        tags=["platform accounts"],
    ),
    retrieve=extend_schema(
        summary="Get a connected account", description="Secrets are never returned.", tags=["platform accounts"]
    ),
    create=extend_schema(
        summary="Connect an account",
        description=(
            "Owners and admins. `credentials` are validated per provider; an external id already connected "
            "(here or elsewhere) is a 400 naming `external_id`."
        ),
        request=PlatformAccountCreateSerializer,
        responses={201: PlatformAccountSerializer},
        tags=["platform accounts"],
    ),
    partial_update=extend_schema(
        summary="Change an account",
        description=(
            "Owners and admins. `credentials` merge into the stored ones (null removes a key); credentials given "
            "— new ones, or the same ones saved again — clear `needs_reconnect` and `last_error` once they pass "
            "validation. Platform and provider cannot change."
        ),
        request=PlatformAccountUpdateSerializer,
        responses=PlatformAccountSerializer,
        tags=["platform accounts"],
    ),
    destroy=extend_schema(
        summary="Disconnect an account",
        description=(
            "Owners and admins. Deactivates the account and forgets its secrets; its contacts and conversations "
            "stay. Reconnect with PATCH `is_active: true` and new credentials."
        ),
        responses={204: None},
        tags=["platform accounts"],
    ),
)
class PlatformAccountViewSet(
    TenantScopedViewMixin[PlatformAccount],
    ListFiltersOnlyMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """The organization's connected Instagram accounts, Facebook Pages and WhatsApp numbers."""

    permission_classes = [permissions.IsAuthenticated, ManagersWriteMembersRead]
    serializer_class = PlatformAccountSerializer
    filterset_class = PlatformAccountFilter
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def scoped_queryset(self) -> QuerySet[PlatformAccount]:
        return PlatformAccount.objects.order_by("platform", "display_name", "id")

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if self.action == "templates":
            return WhatsAppTemplateSerializer
        if self.action == "test":
            return ConnectionTestSerializer
        if self.action == "create":
            return PlatformAccountCreateSerializer
        if self.action == "partial_update":
            return PlatformAccountUpdateSerializer
        return PlatformAccountSerializer

    def create(self, request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> Response:
        serializer = PlatformAccountCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        account = _call_service(
            services.platform_account_create,
            organization=self.organization,
            by=request.user,
            **serializer.validated_data,
        )
        return Response(
            PlatformAccountSerializer(account, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    def partial_update(self, request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> Response:
        account = self.get_object()
        serializer = PlatformAccountUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        account = _call_service(
            services.platform_account_update, account=account, by=request.user, **serializer.validated_data
        )
        return Response(PlatformAccountSerializer(account, context=self.get_serializer_context()).data)

    def destroy(self, request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> Response:
        services.platform_account_deactivate(account=self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Test the account's connection",
        description=(
            "Owners and admins. One cheap authenticated call to the platform with the stored credentials — Graph "
            "`GET /{phone-number-id}` or `/{page-id}`, Twilio `GET Accounts/{sid}`, the bridge's session state; a "
            "sandbox account always passes. `ok: false` with what failed otherwise (also for a disconnected "
            "account). Refused credentials set `needs_reconnect`; a passing test clears it."
        ),
        request=None,
        responses={
            200: ConnectionTestSerializer,
            403: OpenApiResponse(ErrorSerializer, description="Agents may not test accounts."),
        },
        tags=["platform accounts"],
    )
    @action(detail=True, methods=["post"])
    def test(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        result = services.platform_account_test(account=self.get_object(), by=request.user)
        return Response(ConnectionTestSerializer({"ok": result.ok, "detail": result.detail}).data)

    @extend_schema(
        summary="The account's WhatsApp templates",
        description=(
            "Every member. The templates WhatsApp approved for this number: the Cloud API's `message_templates` "
            "of the account's `business_account_id`, Twilio's Content API (`name` is the Content SID `HX…`), or "
            "the sandbox's demo templates. Read from the platform at most every 10 minutes (new credentials read "
            "again at once). 404 for accounts without templates (Messenger, Instagram, WhatsApp-Web bridges); 409 "
            "when the account's state does not allow it (`account_disconnected`, `account_needs_reconnect`, "
            "`business_account_id_missing`); 502 `templates_unavailable` when the platform could not be read."
        ),
        request=None,
        responses={
            200: WhatsAppTemplateSerializer(many=True),
            409: OpenApiResponse(
                ErrorSerializer, description="The account cannot list templates now; `code` says why."
            ),
            502: OpenApiResponse(ErrorSerializer, description="The platform could not be reached or refused."),
        },
        tags=["platform accounts"],
    )
    @action(detail=True, methods=["get"])
    def templates(self, request: Request, pk: str | None = None) -> Response:
        account = self.get_object()
        try:
            templates = services.platform_account_templates(account=account)
        except services.TemplatesNotSupported as exc:
            raise exceptions.NotFound(
                "This account has no WhatsApp templates: they are for WhatsApp Business numbers (Cloud API, Twilio, "
                "sandbox)."
            ) from exc
        except services.TemplatesUnavailable as exc:
            return Response({"detail": exc.detail, "code": exc.code}, status=exc.status)
        return Response(WhatsAppTemplateSerializer(templates, many=True).data)
