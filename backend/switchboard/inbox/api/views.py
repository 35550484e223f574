"""The inbox REST API: conversations and messages of the caller's organization. Views parse input, resolve the
tenant (TenantScopedViewMixin) and call services; they never write."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from switchboard.accounts.serializers import ErrorSerializer
from switchboard.accounts.tenancy import AuthenticatedRequest, TenantScopedViewMixin
from switchboard.common.filters import ListFiltersOnlyMixin
from switchboard.inbox import selectors
from switchboard.inbox.api.filters import ConversationFilter, MessageFilter
from switchboard.inbox.api.pagination import ConversationCursorPagination, MessageCursorPagination
from switchboard.inbox.api.serializers import ConversationUpdateSerializer, ToggleAiSerializer, ToggleTrustedSerializer
from switchboard.inbox.payloads import ConversationDetailSerializer, ConversationSerializer, MessageSerializer
from switchboard.inbox.services import conversations as services

MESSAGES_LIMIT_PARAMETER = OpenApiParameter(
    "messages_limit",
    {"type": "integer", "minimum": 1},
    OpenApiParameter.QUERY,
    description=(
        f"How many of the newest messages to include (default {selectors.MESSAGES_LIMIT_DEFAULT}, at most "
        f"{selectors.MESSAGES_LIMIT_MAX}; larger values are capped). They are returned oldest first."
    ),
)


class _MessagesLimitQuery(serializers.Serializer):
    messages_limit = serializers.IntegerField(min_value=1, default=selectors.MESSAGES_LIMIT_DEFAULT)


@extend_schema_view(
    list=extend_schema(
        summary="List conversations",
        description=(
            "The inbox, most recent activity first (`-last_message_at`, `-id`), cursor-paginated (`page_size` "
            "default 50, at most 100). Archived conversations are hidden unless `is_archived=true`. With "
            "`updated_since`: the conversations changed since then, newest change first (`-updated_at`, `-id`), "
            "archived ones included unless `is_archived` is given. Every page carries `unread_conversations`, the "
            "inbox's total of conversations with unread messages."
        ),
        tags=["conversations"],
    ),
    retrieve=extend_schema(
        summary="Get a conversation with its newest messages",
        description="The conversation and its newest `messages_limit` messages, oldest first.",
        parameters=[MESSAGES_LIMIT_PARAMETER],
        responses=ConversationDetailSerializer,
        tags=["conversations"],
    ),
    partial_update=extend_schema(
        summary="Update a conversation (toggle the AI assistant)",
        description="`ai_enabled` switches the AI assistant on or off for this conversation.",
        request=ConversationUpdateSerializer,
        responses=ConversationSerializer,
        tags=["conversations"],
    ),
)
class ConversationViewSet(
    TenantScopedViewMixin,
    ListFiltersOnlyMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Conversations of the caller's organization (another organization's id answers 404)."""

    serializer_class = ConversationSerializer
    filterset_class = ConversationFilter
    pagination_class = ConversationCursorPagination
    http_method_names = ["get", "post", "patch", "head", "options"]

    def scoped_queryset(self) -> QuerySet:
        return selectors.conversation_queryset()

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if self.action == "retrieve":
            return ConversationDetailSerializer
        if self.action == "partial_update":
            return ConversationUpdateSerializer
        return ConversationSerializer

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().list(request, *args, **kwargs)
        response.data["unread_conversations"] = selectors.conversation_unread_total(organization=self.organization)
        return response

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        conversation = self.get_object()
        query = _MessagesLimitQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        # conversation_recent_messages caps the limit at MESSAGES_LIMIT_MAX.
        messages = selectors.conversation_recent_messages(
            conversation=conversation, limit=query.validated_data["messages_limit"]
        )
        return Response(ConversationDetailSerializer(conversation, context={"messages": messages}).data)

    def partial_update(self, request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> Response:
        conversation = self.get_object()
        serializer = ConversationUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        if "ai_enabled" in serializer.validated_data:
            conversation = services.conversation_set_ai_enabled(
                organization=self.organization,
                conversation=conversation,
                by=request.user,
                enabled=serializer.validated_data["ai_enabled"],
            )
        return Response(ConversationSerializer(conversation).data)

    @extend_schema(
        summary="Mark every message of the conversation read",
        description="Sets `unread_count` from an exact recount.",
        request=None,
        responses=ConversationSerializer,
        tags=["conversations"],
    )
    @action(detail=True, methods=["post"], url_path="mark-all-read")
    def mark_all_read(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        conversation = services.conversation_mark_all_read(
            organization=self.organization, conversation=self.get_object(), by=request.user
        )
        return Response(ConversationSerializer(conversation).data)

    @extend_schema(
        summary="Mark the conversation unread",
        description=(
            "Marks the customer's newest message unread, so `unread_count` is at least 1 for everyone "
            "(`conversation.updated` and `message.updated` are broadcast). Idempotent. Nothing is sent to the "
            "customer. 409 `nothing_to_mark_unread` when the customer has not written yet."
        ),
        request=None,
        responses={
            200: ConversationSerializer,
            409: OpenApiResponse(ErrorSerializer, description="The customer has not written in this conversation."),
        },
        tags=["conversations"],
    )
    @action(detail=True, methods=["post"], url_path="mark-unread")
    def mark_unread(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        # NothingToMarkUnread is a Conflict: the exception handler answers it 409 with its code.
        conversation = services.conversation_mark_unread(
            organization=self.organization, conversation=self.get_object(), by=request.user
        )
        return Response(ConversationSerializer(conversation).data)

    @extend_schema(
        summary="Archive the conversation",
        description="Records who and when. A new inbound message brings the conversation back to the inbox.",
        request=None,
        responses=ConversationSerializer,
        tags=["conversations"],
    )
    @action(detail=True, methods=["post"])
    def archive(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        conversation = services.conversation_archive(
            organization=self.organization, conversation=self.get_object(), by=request.user
        )
        return Response(ConversationSerializer(conversation).data)

    @extend_schema(
        summary="Bring the conversation back to the inbox",
        description="Clears `archived_at` / `archived_by`.",
        request=None,
        responses=ConversationSerializer,
        tags=["conversations"],
    )
    @action(detail=True, methods=["post"])
    def unarchive(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        conversation = services.conversation_unarchive(
            organization=self.organization, conversation=self.get_object(), by=request.user
        )
        return Response(ConversationSerializer(conversation).data)

    @extend_schema(
        summary="Switch the AI assistant on or off for the conversation",
        description=(
            '`{"enabled": true|false}` sets it; an empty body flips it. The assistant answers only when this is '
            "on and the contact is trusted. Broadcast as `conversation.updated`."
        ),
        request=ToggleAiSerializer,
        responses=ConversationSerializer,
        tags=["conversations"],
    )
    @action(detail=True, methods=["post"], url_path="toggle-ai")
    def toggle_ai(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        conversation = self.get_object()
        body = ToggleAiSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        enabled = body.validated_data.get("enabled", not conversation.ai_enabled)
        conversation = services.conversation_set_ai_enabled(
            organization=self.organization, conversation=conversation, by=request.user, enabled=enabled
        )
        return Response(ConversationSerializer(conversation).data)

    @extend_schema(
        summary="Trust the contact, or stop trusting them",
        description=(
            '`{"trusted": true|false}` sets it; an empty body flips it. A trusted (whitelisted) contact may be '
            "answered by the AI assistant. Every conversation of the contact is broadcast as `conversation.updated`."
        ),
        request=ToggleTrustedSerializer,
        responses=ConversationSerializer,
        tags=["conversations"],
    )
    @action(detail=True, methods=["post"], url_path="toggle-trusted")
    def toggle_trusted(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        conversation = self.get_object()
        body = ToggleTrustedSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        trusted = body.validated_data.get("trusted", not conversation.contact.is_trusted)
        conversation = services.contact_set_trusted(
            organization=self.organization, conversation=conversation, by=request.user, trusted=trusted
        )
        return Response(ConversationSerializer(conversation).data)


@extend_schema_view(
    list=extend_schema(
        summary="List messages",
        description=(
            "Newest first (`-timestamp`, `-id`), cursor-paginated (`page_size` default 50, at most 100). With "
            "`updated_since`: the messages changed since then (new ones, and status, reaction, read or deletion "
            "changes of older ones), newest change first (`-updated_at`, `-id`)."
        ),
        tags=["messages"],
    ),
    retrieve=extend_schema(summary="Get a message", description="One message with its attachments.", tags=["messages"]),
)
class MessageViewSet(
    TenantScopedViewMixin,
    ListFiltersOnlyMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Messages of the caller's organization (another organization's id answers 404)."""

    serializer_class = MessageSerializer
    filterset_class = MessageFilter
    pagination_class = MessageCursorPagination

    def scoped_queryset(self) -> QuerySet:
        return selectors.message_queryset()

    @extend_schema(
        summary="Mark the message read",
        description="Idempotent: the conversation's `unread_count` drops only when the message was unread.",
        request=None,
        responses=MessageSerializer,
        tags=["messages"],
    )
    @action(detail=True, methods=["post"], url_path="mark-read")
    def mark_read(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        message = services.message_mark_read(organization=self.organization, message=self.get_object(), by=request.user)
        return Response(MessageSerializer(message).data)
