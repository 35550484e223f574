"""Sending from the API: `POST /api/messages/conversations/{id}/messages/` and
`POST /api/messages/messages/{id}/retry/`. Views parse input, resolve the tenant and call
`inbox.services.outbound`; the service decides and writes.

Refusals that depend on the conversation's state answer 409 with a code a client can act on:
`outside_customer_service_window` (WhatsApp after 24 hours: `templates_required: true`, send a template),
`outside_messaging_window` (Messenger / Instagram after 7 days), `account_disconnected`, `account_needs_reconnect`,
`not_retryable`.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from switchboard.accounts.serializers import ErrorSerializer, ValidationErrorSerializer
from switchboard.accounts.tenancy import AuthenticatedRequest, TenantScopedViewMixin
from switchboard.common.serializer_fields import IdField
from switchboard.inbox import selectors
from switchboard.inbox.models import Message
from switchboard.inbox.payloads import MessageSerializer
from switchboard.inbox.services import sending


class TemplateParameterSerializer(serializers.Serializer):
    type = serializers.CharField(default="text", help_text="`text` (others as WhatsApp documents them).")
    text = serializers.CharField(required=False, allow_blank=True)


class TemplateComponentSerializer(serializers.Serializer):
    """A WhatsApp template component, as the Cloud API takes it; extra keys are passed through unchanged."""

    type = serializers.CharField(help_text="`header`, `body` or `button`.")
    parameters = TemplateParameterSerializer(many=True, required=False)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        validated = super().to_internal_value(data)
        # Buttons carry sub_type / index, media headers their own objects: keep what WhatsApp defines as given.
        return {**data, **validated} if isinstance(data, dict) else validated


class TemplateSerializer(serializers.Serializer):
    name = serializers.CharField(
        max_length=512, help_text="The approved template's name (Cloud API), or its Content SID `HX…` (Twilio)."
    )
    language = serializers.CharField(
        max_length=16, required=False, allow_blank=True, help_text="Language code, e.g. `en_US` (Cloud API)."
    )
    components = TemplateComponentSerializer(many=True, required=False, help_text="Parameters to fill in.")


class _SendFields(serializers.Serializer):
    text = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=4096,
        help_text="The message, or a media caption (WhatsApp only). Limits: WhatsApp 4096, Messenger 2000, "
        "Instagram 1000 characters; captions 1024.",
    )
    attachment_id = IdField(
        required=False, help_text="Send a file already stored in your organization (an attachment id)."
    )
    listing_id = IdField(required=False, help_text="Send this listing's card (built for the platform at send time).")
    template = TemplateSerializer(
        required=False, help_text="A WhatsApp template: the only message allowed 24 hours after the customer wrote."
    )
    reply_to = IdField(required=False, help_text="Quote this message of the conversation (WhatsApp).")
    client_key = serializers.RegexField(
        sending.CLIENT_KEY_PATTERN,
        required=False,
        help_text="The idempotency key, when the client cannot send the `Idempotency-Key` header (which wins; "
        f"both given must be equal). {sending.CLIENT_KEY_HELP}",
    )


class MessageSendSerializer(_SendFields):
    """JSON: one of `text`, `attachment_id`, `listing_id`, `template` (media may carry `text` as caption)."""


class MessageSendUploadSerializer(_SendFields):
    """multipart/form-data: upload a `file` (image, video, audio or document), optionally with `text`."""

    file = serializers.FileField(required=False, help_text="A file to send.")


class SendRefusedSerializer(ErrorSerializer):
    templates_required = serializers.BooleanField(
        required=False, help_text="Only an approved template may be sent now (WhatsApp after 24 hours)."
    )


_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)
IDEMPOTENCY_HEADER = "Idempotency-Key"
_IDEMPOTENCY_KEY = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    {"type": "string", "minLength": 8, "maxLength": 128, "pattern": sending.CLIENT_KEY_PATTERN},
    OpenApiParameter.HEADER,
    description=(
        "Makes the send safe to repeat: the first request with a key stores the message (201); any later one with "
        "the same key answers 200 with that message as it is now — no second message, nothing sent twice. Keys "
        "are unique per organization (a key used in another conversation: 409 `idempotency_key_reused`). "
        f"{sending.CLIENT_KEY_HELP}"
    ),
)
_REFUSED = OpenApiResponse(
    SendRefusedSerializer,
    description="Not allowed now; `code` says why.",
    examples=[
        OpenApiExample(
            "Outside the 24-hour window",
            value={
                "detail": sending.WINDOW_DETAIL,
                "code": "outside_customer_service_window",
                "templates_required": True,
            },
        )
    ],
)


class ConversationMessageSendView(TenantScopedViewMixin, generics.GenericAPIView):
    """Send a message into a conversation of the caller's organization."""

    http_method_names = ["post", "options"]
    serializer_class = MessageSendSerializer

    def scoped_queryset(self) -> QuerySet:
        return selectors.conversation_queryset()

    @extend_schema(
        summary="Send a message",
        description=(
            "Stored at once (outbound, `queued`, `sent_by` you) and broadcast as `message.created`; a worker then "
            "sends it and `message.updated` follows (`sent`, or `failed` with `error_code` / `error_message`). "
            "Send exactly one of: `text`; a file (`file` as multipart, or `attachment_id`), with `text` as its "
            "caption on WhatsApp; `listing_id`; `template` (WhatsApp). A free-form WhatsApp message more than 24 "
            "hours after the customer last wrote is refused with 409 `outside_customer_service_window` "
            "(`templates_required: true`); Messenger / Instagram replies after 24 hours go as a human agent's "
            "(`HUMAN_AGENT` tag) up to 7 days. With an `Idempotency-Key` (or `client_key`) a repeat of the "
            "request answers 200 with the message the first one stored, which carries the key as `client_key`."
        ),
        parameters=[_ID, _IDEMPOTENCY_KEY],
        request={"application/json": MessageSendSerializer, "multipart/form-data": MessageSendUploadSerializer},
        responses={
            200: OpenApiResponse(
                MessageSerializer, description="A repeat: the message stored earlier with this idempotency key."
            ),
            201: OpenApiResponse(MessageSerializer, description="Stored and queued for sending."),
            400: ValidationErrorSerializer,
            404: OpenApiResponse(ErrorSerializer, description="No such conversation in your organization."),
            409: _REFUSED,
        },
        tags=["messages"],
    )
    def post(self, request: AuthenticatedRequest, pk: str) -> Response:
        conversation = self.get_object()
        serializer = MessageSendUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        client_key = self._client_key(request, data.get("client_key"))
        reply_to = None
        if data.get("reply_to"):
            reply_to = Message.objects.for_organization(self.organization).filter(pk=data["reply_to"]).first()
            if reply_to is None:
                raise serializers.ValidationError({"reply_to": ["No such message in this conversation."]})
        # A refusal (SendRefused: 409) or bad input (ValidationError: 400) is answered by the exception handler.
        outcome = sending.message_send_outcome(
            organization=self.organization,
            conversation=conversation,
            by=request.user,
            text=data.get("text", ""),
            upload=data.get("file"),
            attachment_id=data.get("attachment_id"),
            listing_id=data.get("listing_id"),
            template=data.get("template"),
            reply_to=reply_to,
            client_key=client_key,
        )
        return Response(
            MessageSerializer(outcome.message).data,
            status=status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK,
        )

    @staticmethod
    def _client_key(request: Request, body_key: str | None) -> str | None:
        """The `Idempotency-Key` header, else the body's `client_key`; both given must agree."""
        header = request.headers.get(IDEMPOTENCY_HEADER)
        if header is None:
            return body_key
        if not sending.is_client_key(header):
            raise serializers.ValidationError(
                {IDEMPOTENCY_HEADER: [f"An idempotency key is {sending.CLIENT_KEY_HELP}"]}
            )
        if body_key is not None and body_key != header:
            raise serializers.ValidationError(
                {"client_key": [f"Differs from the {IDEMPOTENCY_HEADER} header: send one key, or the same in both."]}
            )
        return header


class MessageRetryView(TenantScopedViewMixin, generics.GenericAPIView):
    """Send a failed message again."""

    http_method_names = ["post", "options"]
    serializer_class = MessageSerializer

    def scoped_queryset(self) -> QuerySet:
        return selectors.message_queryset()

    @extend_schema(
        summary="Retry a failed message",
        description=(
            "For an outbound message in `failed`: the same message goes back to `queued` and is sent again "
            "(`message.updated` at each step). Anything else is 409 `not_retryable`; the reply windows apply as "
            "for a new message."
        ),
        parameters=[_ID],
        request=None,
        responses={
            200: MessageSerializer,
            404: OpenApiResponse(ErrorSerializer, description="No such message in your organization."),
            409: _REFUSED,
        },
        tags=["messages"],
    )
    def post(self, request: AuthenticatedRequest, pk: str) -> Response:
        message = sending.message_retry(organization=self.organization, message=self.get_object(), by=request.user)
        return Response(MessageSerializer(message).data)
