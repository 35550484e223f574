"""The JSON of messages and conversations, in one place for both readers: the REST API answers with these
serializers and the WebSocket events carry the same output (`realtime.publish_on_commit` builds them through
`message_payloads` / `conversation_payloads`), so nothing here may need a request in the context.

Pass rows from `inbox.selectors` (`conversation_queryset()` / `message_queryset()`): they carry the joins these
serializers read; the two batch functions read them in one query each.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from switchboard.accounts.models import User
from switchboard.common.serializer_fields import URIOrNullField
from switchboard.inbox import selectors
from switchboard.inbox.media import attachment_urls
from switchboard.inbox.models import Attachment, Contact, Conversation, Message
from switchboard.inbox.sendable import FORWARDED_PAYLOAD_KEY, HUMAN_AGENT_TAG, SendableKind, Window, sendable_now
from switchboard.platforms.models import PlatformAccount


class UserSummarySerializer(serializers.ModelSerializer):
    """A member of the organization, as shown beside what they did."""

    class Meta:
        model = User
        fields = ["id", "full_name", "email"]
        read_only_fields = fields


class PlatformAccountSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = PlatformAccount
        fields = ["id", "display_name"]
        read_only_fields = fields


class ContactSerializer(serializers.ModelSerializer):
    # The platforms' picture URL, or null: never "" for a field the schema calls `format: uri`.
    profile_picture_url = URIOrNullField(help_text="The contact's profile picture, as the platform gave it.")
    platform_ids = serializers.DictField(
        child=serializers.CharField(),
        read_only=True,
        help_text="Every id the platform gave for this contact, by kind: `phone` (E.164), `user_id` (WhatsApp's "
        "business-scoped user id, `US.…`), `parent_user_id`, `username`. WhatsApp only; `{}` elsewhere.",
    )

    class Meta:
        model = Contact
        fields = [
            "id",
            "name",
            "username",
            "phone_number",
            "profile_picture_url",
            "external_id",
            "platform_ids",
            "is_trusted",
            "attributes",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "is_trusted": {"help_text": "A whitelisted contact: the AI assistant may answer them."},
            "attributes": {
                "help_text": "Lead fields (purpose, property_type, budget, bedrooms, area, move_in_date, …) that "
                "agents or the assistant filled in."
            },
        }


class ConversationSerializer(serializers.ModelSerializer):
    platform_account = PlatformAccountSummarySerializer(read_only=True)
    contact = ContactSerializer(read_only=True)
    archived_by = UserSummarySerializer(read_only=True, allow_null=True)
    messaging_window = serializers.SerializerMethodField(
        help_text="Where the conversation stands in the platform's reply windows now: `open` (anything may be sent), "
        "`human_agent` (Messenger / Instagram, 24 hours to 7 days: an agent's reply, tagged), `templates_only` "
        "(WhatsApp Business API after 24 hours) or `closed` (Messenger / Instagram after 7 days, or never written)."
    )
    window_expires_at = serializers.SerializerMethodField(
        help_text="When `messaging_window` changes by itself (`last_inbound_at` + 24 hours, or + 7 days for "
        "`human_agent`); null when it will not before the customer writes again, or when no window applies."
    )
    sendable = serializers.SerializerMethodField(
        help_text="What the reply windows let an agent send now — what the send endpoint accepts instead of "
        "answering 409: `text`, `media` (a file), `listing_card`, `template` (WhatsApp Business API numbers). "
        "`open` / `human_agent`: everything but templates elsewhere than WhatsApp; `templates_only`: `template`; "
        "`closed`: nothing. The account's own state (`needs_reconnect`, disconnected) is not included: see the "
        "platform account."
    )
    message_tag = serializers.SerializerMethodField(
        help_text="The Messenger / Instagram message tag a reply goes with now: `HUMAN_AGENT` in the `human_agent` "
        "window (24 hours to 7 days after the customer wrote), otherwise null (a plain `RESPONSE`)."
    )

    class Meta:
        model = Conversation
        fields = [
            "id",
            "platform",
            "platform_account",
            "contact",
            "is_archived",
            "archived_at",
            "archived_by",
            "ai_enabled",
            "needs_human",
            "needs_human_reason",
            "ai_paused_until",
            "last_message_at",
            "last_message_preview",
            "last_inbound_at",
            "unread_count",
            "messaging_window",
            "window_expires_at",
            "sendable",
            "message_tag",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "last_inbound_at": {"help_text": "When the customer last wrote (opens the reply windows); null: never."},
            "needs_human": {
                "help_text": "The AI assistant handed the conversation over (or failed): a person should answer."
            },
            "needs_human_reason": {"help_text": "Why it was handed over, in the assistant's words or the error's."},
            "ai_paused_until": {
                "help_text": "An agent replied: the assistant stays quiet until then, or until someone hands it back."
            },
            "updated_at": {
                "help_text": "When this row last changed (new message, unread count, archive state, AI flag): "
                "what `?updated_since=` compares."
            },
        }

    def to_representation(self, instance: Conversation) -> dict[str, Any]:
        # One reading of the clock for every window field (inbox/sendable.py decides them: one rule).
        self._sendable = sendable_now(instance)
        return super().to_representation(instance)

    @extend_schema_field(serializers.ChoiceField(choices=[(w.value, w.value) for w in Window]))
    def get_messaging_window(self, conversation: Conversation) -> str:
        return str(self._sendable.window)

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_window_expires_at(self, conversation: Conversation) -> str | None:
        expires = self._sendable.expires_at
        return serializers.DateTimeField().to_representation(expires) if expires is not None else None

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=[k.value for k in SendableKind])))
    def get_sendable(self, conversation: Conversation) -> list[str]:
        return [str(kind) for kind in self._sendable.kinds]

    @extend_schema_field(serializers.ChoiceField(choices=[HUMAN_AGENT_TAG], allow_null=True))
    def get_message_tag(self, conversation: Conversation) -> str | None:
        return self._sendable.message_tag


class AttachmentSource(enum.StrEnum):
    """Where an attachment's file came from (`source_kind` in the attachment JSON)."""

    PLATFORM_MEDIA_ID = "platform_media_id"  # the platform named it by id (WhatsApp Cloud, bridges): `media_id`
    URL = "url"  # the platform gave a link to fetch (Messenger / Instagram CDN, Twilio MediaUrl); never shown
    UPLOAD = "upload"  # an agent uploaded the file
    FORWARDED = "forwarded"  # an agent sent a stored attachment again (`attachment_id`)


def attachment_source(attachment: Attachment) -> AttachmentSource:
    if attachment.media_id:
        return AttachmentSource.PLATFORM_MEDIA_ID
    if attachment.source_url:
        return AttachmentSource.URL
    payload = attachment.message.payload  # the message is the prefetch's parent (selectors.message_queryset)
    forwarded = isinstance(payload, dict) and payload.get(FORWARDED_PAYLOAD_KEY) is not None
    return AttachmentSource.FORWARDED if forwarded else AttachmentSource.UPLOAD


class AttachmentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(
        help_text="Signed, short-lived URL of the file (usable in `<img src>`); null until the media is stored."
    )
    thumbnail_url = serializers.SerializerMethodField(
        help_text="Signed URL of the 320px JPEG thumbnail (images); null otherwise."
    )
    media_id = serializers.SerializerMethodField(
        help_text="The platform's own id of the media (WhatsApp Cloud media id, a bridge's message id), to look it "
        "up at the platform when debugging; null when the platform gave none. The platform's download link is "
        "never shown (it is signed for the account, and short-lived)."
    )
    source_kind = serializers.SerializerMethodField(
        help_text="Where the file came from: `platform_media_id` (the platform named it by `media_id`), `url` (the "
        "platform gave a link to download), `upload` (an agent uploaded it) or `forwarded` (an agent sent a "
        "stored attachment again)."
    )

    class Meta:
        model = Attachment
        fields = [
            "id", "kind", "mime_type", "filename", "caption", "status", "error", "size", "width", "height", "url",
            "thumbnail_url", "media_id", "source_kind",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_media_id(self, attachment: Attachment) -> str | None:
        return attachment.media_id or None

    @extend_schema_field(serializers.ChoiceField(choices=[s.value for s in AttachmentSource]))
    def get_source_kind(self, attachment: Attachment) -> str:
        return str(attachment_source(attachment))

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_url(self, attachment: Attachment) -> str | None:
        return attachment_urls(attachment)["url"]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_thumbnail_url(self, attachment: Attachment) -> str | None:
        return attachment_urls(attachment)["thumbnail_url"]


class ReactionSerializer(serializers.Serializer):
    emoji = serializers.CharField(required=False)
    by = serializers.CharField(required=False, help_text="`contact` or `agent`.")
    at = serializers.DateTimeField(required=False)


class ReactionsField(serializers.ListField):
    """`Message.reactions`; anything that is not a list of objects reads as no reactions (never fail a broadcast)."""

    def to_representation(self, data: Any) -> list[Any]:
        if not isinstance(data, list):
            return []
        return super().to_representation([item for item in data if isinstance(item, dict)])


class MessageSerializer(serializers.ModelSerializer):
    reply_to: serializers.PrimaryKeyRelatedField[Message] = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True
    )
    sent_by = UserSummarySerializer(read_only=True, allow_null=True)
    reactions = ReactionsField(child=ReactionSerializer(), read_only=True)
    attachments = AttachmentSerializer(many=True, read_only=True)
    reply_to_platform_id = serializers.SerializerMethodField(
        help_text="The platform's id of the message this one quotes (a reply): set also when that message is not "
        "stored here (`reply_to` is then null — before Switchboard was connected, or never delivered to it); null "
        "when it quotes nothing."
    )

    class Meta:
        model = Message
        fields = [
            "id",
            "conversation",
            "direction",
            "kind",
            "text",
            "payload",
            "reply_to",
            "reply_to_platform_id",
            "platform_message_id",
            "status",
            "error_code",
            "error_message",
            "error_detail",
            "reactions",
            "is_deleted",
            "is_read",
            "read_at",
            "sent_by",
            "sent_by_assistant",
            "llm_processed",
            "llm_skip_reason",
            "client_key",
            "timestamp",
            "created_at",
            "attachments",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "llm_processed": {"help_text": "Inbound messages: the AI assistant answered this message."},
            "llm_skip_reason": {
                "help_text": "Inbound messages the assistant did not answer: why (`switch_off`, `not_trusted`, "
                "`human_handling`, `outside_hours`, `rate_limit`, `kind_not_answerable`, `outside_window`, "
                "`assistant_inactive`, `provider_error`); empty otherwise."
            },
            "client_key": {
                "help_text": "The `Idempotency-Key` the message was sent with (null for messages that came in, or "
                "were sent without one): the sending client matches the broadcast copy to its own by it."
            },
        }

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_reply_to_platform_id(self, message: Message) -> str | None:
        return message.reply_to_platform_id or None


class ConversationDetailSerializer(ConversationSerializer):
    messages = serializers.SerializerMethodField(
        help_text="The newest messages of the thread (`messages_limit`), oldest first."
    )

    class Meta(ConversationSerializer.Meta):
        fields = [*ConversationSerializer.Meta.fields, "messages"]
        read_only_fields = fields

    @extend_schema_field(MessageSerializer(many=True))
    def get_messages(self, conversation: Conversation) -> list[dict[str, Any]]:
        messages = self.context.get("messages")
        if messages is None:
            limit = self.context.get("messages_limit", selectors.MESSAGES_LIMIT_DEFAULT)
            messages = selectors.conversation_recent_messages(conversation=conversation, limit=limit)
        return MessageSerializer(messages, many=True).data  # type: ignore[return-value]  # many=True: a list


def message_payloads(ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The REST shape of each committed message of `ids`, read in one query; a missing id is left out."""
    wanted = set(ids)
    if not wanted:
        return {}
    return {
        message.pk: MessageSerializer(message).data for message in selectors.message_queryset().filter(pk__in=wanted)
    }


def conversation_payloads(ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The REST shape of each committed conversation of `ids`, read in one query; a missing id is left out."""
    wanted = set(ids)
    if not wanted:
        return {}
    rows = selectors.conversation_queryset().filter(pk__in=wanted)
    return {conversation.pk: ConversationSerializer(conversation).data for conversation in rows}
