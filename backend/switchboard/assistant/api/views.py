"""The assistant REST API: its settings, the FAQ, the stats, and the two conversation actions that are the assistant's
(hand back to the AI, suggest a reply). Views parse input, resolve the tenant (TenantScopedViewMixin) and call
`settings_services`, `stats` and `services`; they never write. Any member reads; owners and admins change
the settings and the FAQ; any member hands back and asks for suggestions. Another organization's FAQ entry or
conversation answers 404."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle

from switchboard.accounts.serializers import ErrorSerializer, ValidationErrorSerializer
from switchboard.accounts.tenancy import AuthenticatedRequest, ManagersWriteMembersRead, TenantScopedViewMixin
from switchboard.assistant import services, settings_services, stats
from switchboard.assistant.api.serializers import (
    AssistantSettingsSerializer,
    AssistantSettingsUpdateSerializer,
    CredentialsTestSerializer,
    FaqEntrySerializer,
    FaqEntryWriteSerializer,
    StatsQuerySerializer,
    StatsSerializer,
    SuggestionSerializer,
)
from switchboard.assistant.models import AssistantSettings, FaqEntry
from switchboard.common.parsers import JSONParser
from switchboard.inbox import selectors as inbox_selectors
from switchboard.inbox.models import Conversation
from switchboard.inbox.payloads import ConversationSerializer

TAGS = ["assistant"]
_INVALID = OpenApiResponse(ValidationErrorSerializer, description="Invalid input: `errors` names the fields.")
_FORBIDDEN = OpenApiResponse(ErrorSerializer, description="Only owners and admins of the organization may do this.")
_FAQ_NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No such FAQ entry in your organization.")
_CONVERSATION_NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No such conversation in your organization.")

_SETTINGS_WRITE = (
    "Owners and admins. Changes only the fields the body holds (PUT and PATCH alike); the others keep their values. "
    "`api_key` is write-only: absent, null or empty keeps the stored key, `clear_api_key: true` forgets it; answers "
    "only say `api_key_set`. Rules: `provider` openai or anthropic; `base_url` blank or http(s) without credentials; "
    "`temperature` 0 to 2; `max_tokens` 1 to 8000; `context_size` 1 to 50; `reply_delay_seconds` 0 to 120; "
    "`business_hours` keys mon…sun with [HH:MM, HH:MM] pairs, start before end; `time_zone` an IANA name; "
    "`lead_fields` distinct lowercase identifiers; a `failure_message` while `failure_message_enabled`."
)


class _AssistantSettingsBase(TenantScopedViewMixin[AssistantSettings], generics.GenericAPIView[AssistantSettings]):
    permission_classes = [permissions.IsAuthenticated, ManagersWriteMembersRead]
    parser_classes = [JSONParser]
    serializer_class = AssistantSettingsSerializer

    def scoped_queryset(self) -> QuerySet[AssistantSettings]:
        return AssistantSettings.objects.all()


class AssistantSettingsView(_AssistantSettingsBase):
    """`/api/assistant/settings/`: the organization's one settings row (created with the defaults on first read)."""

    @extend_schema(
        summary="The assistant's settings",
        description="Every member reads. The API key is never answered: `api_key_set` says whether one is stored.",
        responses={200: AssistantSettingsSerializer},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        row = settings_services.assistant_settings_get(organization=self.organization)
        return Response(AssistantSettingsSerializer(row).data)

    @extend_schema(
        summary="Change the assistant's settings",
        description=_SETTINGS_WRITE,
        request=AssistantSettingsUpdateSerializer,
        responses={200: AssistantSettingsSerializer, 400: _INVALID, 403: _FORBIDDEN},
        tags=TAGS,
    )
    def put(self, request: AuthenticatedRequest) -> Response:
        body = AssistantSettingsUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        row = settings_services.assistant_settings_update(
            organization=self.organization, by=request.user, data=body.validated_data
        )
        return Response(AssistantSettingsSerializer(row).data)

    @extend_schema(
        summary="Change some of the assistant's settings",
        description=_SETTINGS_WRITE,
        request=AssistantSettingsUpdateSerializer,
        responses={200: AssistantSettingsSerializer, 400: _INVALID, 403: _FORBIDDEN},
        tags=TAGS,
    )
    def patch(self, request: AuthenticatedRequest) -> Response:
        return self.put(request)


class AssistantSettingsTestView(_AssistantSettingsBase):
    """`POST /api/assistant/settings/test/`."""

    @extend_schema(
        summary="Test the connection to the AI provider",
        description=(
            "Owners and admins. Checks the stored settings against the provider — the address answers, the key is "
            "accepted, the model is offered — whether or not the assistant is active. Always 200: "
            '`{"ok": true, "model", "message"}` or `{"ok": false, "code", "message"}`, `message` a sentence for '
            "the agency (`invalid_key`, `model_not_found`, `unreachable`, `timeout`, `quota_exceeded`, "
            "`api_key_missing` when neither a key nor a local address is set, …). Never the key."
        ),
        request=None,
        responses={200: CredentialsTestSerializer, 403: _FORBIDDEN},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        result = settings_services.assistant_credentials_test(organization=self.organization)
        return Response(CredentialsTestSerializer(result).data)


# --- FAQ ------------------------------------------------------------------------------------------------------------
@extend_schema_view(
    list=extend_schema(
        summary="The FAQ",
        description="Every member reads; sorted by question. The assistant quotes these answers (`faq_lookup`).",
        responses={200: FaqEntrySerializer(many=True)},
        tags=TAGS,
    ),
    retrieve=extend_schema(
        summary="One FAQ entry",
        description="Every member reads.",
        responses={200: FaqEntrySerializer, 404: _FAQ_NOT_FOUND},
        tags=TAGS,
    ),
    create=extend_schema(
        summary="Add a FAQ entry",
        description=(
            f"Owners and admins. `question` (at most {settings_services.FAQ_QUESTION_MAX_LENGTH} characters) and "
            f"`answer` ({settings_services.FAQ_ANSWER_MAX_LENGTH}), neither blank. 409 `faq_limit` past "
            f"{settings_services.FAQ_MAX_ENTRIES} entries."
        ),
        request=FaqEntryWriteSerializer,
        responses={
            201: FaqEntrySerializer,
            400: _INVALID,
            403: _FORBIDDEN,
            409: OpenApiResponse(ErrorSerializer, description="The FAQ is full (`faq_limit`)."),
        },
        tags=TAGS,
    ),
    update=extend_schema(
        summary="Replace a FAQ entry",
        description="Owners and admins. `question` and `answer`.",
        request=FaqEntryWriteSerializer,
        responses={200: FaqEntrySerializer, 400: _INVALID, 403: _FORBIDDEN, 404: _FAQ_NOT_FOUND},
        tags=TAGS,
    ),
    partial_update=extend_schema(
        summary="Change a FAQ entry",
        description="Owners and admins. `question` and/or `answer`.",
        request=FaqEntryWriteSerializer,
        responses={200: FaqEntrySerializer, 400: _INVALID, 403: _FORBIDDEN, 404: _FAQ_NOT_FOUND},
        tags=TAGS,
    ),
    destroy=extend_schema(
        summary="Delete a FAQ entry",
        description="Owners and admins.",
        responses={204: None, 403: _FORBIDDEN, 404: _FAQ_NOT_FOUND},
        tags=TAGS,
    ),
)
class FaqEntryViewSet(
    TenantScopedViewMixin[FaqEntry],
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[FaqEntry],
):
    """`/api/assistant/faq/`: the organization's questions and answers."""

    permission_classes = [permissions.IsAuthenticated, ManagersWriteMembersRead]
    parser_classes = [JSONParser]
    serializer_class = FaqEntrySerializer
    filter_backends: list[Any] = []
    pagination_class = None

    def scoped_queryset(self) -> QuerySet[FaqEntry]:
        return FaqEntry.objects.order_by("question", "id")

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        if self.action in ("create", "update", "partial_update"):
            return FaqEntryWriteSerializer
        return FaqEntrySerializer

    def create(self, request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> Response:
        body = FaqEntryWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        entry = settings_services.faq_create(organization=self.organization, by=request.user, **body.validated_data)
        return Response(FaqEntrySerializer(entry).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        entry = self.get_object()
        body = FaqEntryWriteSerializer(data=request.data, partial=kwargs.pop("partial", False))
        body.is_valid(raise_exception=True)
        entry = settings_services.faq_update(organization=self.organization, entry=entry, data=body.validated_data)
        return Response(FaqEntrySerializer(entry).data)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        settings_services.faq_delete(organization=self.organization, entry=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- stats ----------------------------------------------------------------------------------------------------------
class AssistantStatsView(TenantScopedViewMixin[AssistantSettings], generics.GenericAPIView[AssistantSettings]):
    """`GET /api/assistant/stats/?days=30`."""

    serializer_class = StatsSerializer
    filter_backends: list[Any] = []

    def scoped_queryset(self) -> QuerySet[AssistantSettings]:
        return AssistantSettings.objects.all()

    @extend_schema(
        summary="What the assistant did",
        description=(
            "Every member reads. Over today and the `days - 1` days before it (default 30, 1 to 365), in the "
            "assistant's `time_zone`: conversations the assistant replied in, those resolved without a person (no "
            "handoff, no failure, nobody else wrote), handoffs per reason, failures per error code, and the "
            "assistant's messages per day (every day of the period, oldest first)."
        ),
        parameters=[StatsQuerySerializer],
        responses={200: StatsSerializer},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        query = StatsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        figures = stats.assistant_stats(organization=self.organization, days=query.validated_data["days"])
        return Response(StatsSerializer(figures).data)


# --- conversation actions -------------------------------------------------------------------------------------------
class SuggestReplyThrottle(UserRateThrottle):
    """Each suggestion is a call to the organization's AI provider (paid per token): at most 20 a minute per user."""

    scope = "assistant_suggest_reply"
    rate = "20/minute"


class ConversationAssistantViewSet(TenantScopedViewMixin[Conversation], viewsets.GenericViewSet[Conversation]):
    """`/api/messages/conversations/{id}/hand-back-to-ai/` and `…/suggest-reply/`: the assistant's actions on a
    conversation, beside the inbox's own (inbox/api/views.py). Any member of the organization."""

    serializer_class = ConversationSerializer

    def scoped_queryset(self) -> QuerySet[Conversation]:
        return inbox_selectors.conversation_queryset()

    def get_throttles(self) -> list[Any]:
        if self.action == "suggest_reply":
            return [SuggestReplyThrottle()]
        return []

    @extend_schema(
        summary="Hand the conversation back to the AI assistant",
        description=(
            "After a handoff or an agent's reply: clears `needs_human` (and its reason) and `ai_paused_until`, and "
            "switches `ai_enabled` on, so the assistant answers the customer's next message. Broadcast as "
            "`conversation.updated`."
        ),
        request=None,
        responses={200: ConversationSerializer, 404: _CONVERSATION_NOT_FOUND},
        tags=TAGS,
    )
    @action(detail=True, methods=["post"], url_path="hand-back-to-ai")
    def hand_back_to_ai(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        conversation = self.get_object()
        conversation = services.conversation_hand_back(
            organization=self.organization, conversation=conversation, by=request.user
        )
        return Response(ConversationSerializer(conversation).data)

    @extend_schema(
        summary="Suggest a reply (copilot)",
        description=(
            "The assistant drafts the next reply from the conversation with its tools (listings, FAQ), and sends "
            "nothing: `text` for the agent to edit and send, `listing_ids` of the listings it proposes, `tools_used`. "
            "Works whether or not the assistant answers this conversation by itself. 409 when the assistant is not "
            "configured or the provider fails (`code` and a sentence for the agent); at most 20 a minute per user."
        ),
        request=None,
        responses={
            200: SuggestionSerializer,
            400: OpenApiResponse(ValidationErrorSerializer, description="The assistant cannot be used as set up."),
            404: _CONVERSATION_NOT_FOUND,
            409: OpenApiResponse(
                ErrorSerializer, description="The assistant is not configured, or the AI provider failed."
            ),
        },
        tags=TAGS,
    )
    @action(detail=True, methods=["post"], url_path="suggest-reply")
    def suggest_reply(self, request: Request, pk: str | None = None) -> Response:
        conversation = self.get_object()
        suggestion = services.suggest_reply(organization=self.organization, conversation=conversation)
        data = {
            "text": suggestion.text,
            "listing_ids": list(suggestion.listing_ids),
            "tools_used": list(suggestion.tools_used),
        }
        return Response(SuggestionSerializer(data).data)
