"""What the inbox API reads from a request body beyond the send endpoints (send_views.py has its own). The answers'
shapes are in inbox/payloads.py, shared with the WebSocket."""

from __future__ import annotations

from rest_framework import serializers


class ConversationUpdateSerializer(serializers.Serializer):
    """What an agent may change on a conversation directly (archiving and reading have their own actions)."""

    ai_enabled = serializers.BooleanField(required=False, help_text="Let the AI assistant answer this conversation.")


class ToggleAiSerializer(serializers.Serializer):
    enabled = serializers.BooleanField(required=False, help_text="On or off; absent: the opposite of now.")


class ToggleTrustedSerializer(serializers.Serializer):
    trusted = serializers.BooleanField(required=False, help_text="Trusted or not; absent: the opposite of now.")
