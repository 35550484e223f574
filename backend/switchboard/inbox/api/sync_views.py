"""An account's history syncs: `GET /api/platforms/accounts/{id}/sync-runs/` and
`POST /api/platforms/accounts/{id}/sync/` ("sync now"). They sit under the platform account's URL (config/urls.py
mounts `account_sync_urlpatterns` of inbox/api/urls.py at /api/platforms/) but belong to the inbox, which runs the
sync and writes its runs (inbox/services/sync.py): platforms never imports the inbox."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from switchboard.accounts.serializers import ErrorSerializer
from switchboard.accounts.tenancy import AuthenticatedRequest, ManagersWriteMembersRead, TenantScopedViewMixin
from switchboard.inbox.models import SyncRun
from switchboard.inbox.services import sync as sync_service
from switchboard.platforms.models import PlatformAccount


class SyncRunSerializer(serializers.ModelSerializer):
    """One history sync of an account and what it found."""

    requested_by = serializers.SerializerMethodField(help_text="Who started it from the API (null: the schedule).")

    class Meta:
        model = SyncRun
        fields = [
            "id",
            "account",
            "trigger",
            "status",
            "requested_by",
            "since",
            "started_at",
            "finished_at",
            "duration_ms",
            "conversations_synced",
            "messages_seen",
            "messages_new",
            "errors",
            "error",
            "details",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.EmailField(allow_null=True))
    def get_requested_by(self, run: SyncRun) -> str | None:
        return run.requested_by.email if run.requested_by is not None else None


class SyncRunsQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=100, default=20, help_text="How many runs, newest first.")


class PlatformAccountSyncViewSet(TenantScopedViewMixin[PlatformAccount], viewsets.GenericViewSet):
    """The two sync actions of a connected account (the account itself is platforms/views.py's
    PlatformAccountViewSet). Registered with the same router prefix and basename, so the URLs, their names
    (`platform-account-sync`, `platform-account-sync-runs`) and the OpenAPI operations are the ones they always were."""

    permission_classes = [permissions.IsAuthenticated, ManagersWriteMembersRead]
    serializer_class = SyncRunSerializer

    def scoped_queryset(self) -> QuerySet[PlatformAccount]:
        return PlatformAccount.objects.order_by("platform", "display_name", "id")

    @extend_schema(
        summary="The account's history syncs",
        description="Newest first (`limit`, default 20, at most 100). Every member may read.",
        parameters=[SyncRunsQuerySerializer],
        responses=SyncRunSerializer(many=True),
        tags=["platform accounts"],
    )
    @action(detail=True, methods=["get"], url_path="sync-runs")
    def sync_runs(self, request: Request, pk: str | None = None) -> Response:
        account = self.get_object()
        query = SyncRunsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        runs = sync_service.sync_run_list(account=account, limit=query.validated_data["limit"])
        return Response(SyncRunSerializer(runs, many=True).data)

    @extend_schema(
        summary="Sync the account's history now",
        description=(
            "Owners and admins. Queues a sync of this account (the same one Celery Beat runs every "
            "SYNC_INTERVAL_MINUTES) and answers 202 with its run; follow it with `sync-runs/`. 409 when a sync of "
            "the account is already running or the account is disconnected / needs reconnecting."
        ),
        request=None,
        responses={
            202: SyncRunSerializer,
            403: OpenApiResponse(ErrorSerializer, description="Agents may not start syncs."),
            409: OpenApiResponse(ErrorSerializer, description="Already running, or the account cannot sync now."),
        },
        tags=["platform accounts"],
    )
    @action(detail=True, methods=["post"])
    def sync(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        account = self.get_object()
        run = sync_service.sync_run_request(account=account, by=request.user)  # SyncRefused: a Conflict, 409
        run.refresh_from_db()
        return Response(SyncRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)
