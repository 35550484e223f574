"""Platform account JSON. Secrets go in (`credentials`, `webhook_secret`, `verify_token`) and never come out: answers
say only whether they are set and which credential keys are."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from switchboard.common.parsers import contains_nul
from switchboard.platforms import services
from switchboard.platforms.models import Platform, PlatformAccount, Provider

_CREDENTIALS_HELP = (
    "Write-only. By provider: meta → access_token; twilio → account_sid, auth_token (messaging_service_sid "
    "optional); bridge → base_url (api_key optional)."
)


class PlatformAccountSerializer(serializers.ModelSerializer):
    """What anyone in the organization may read about a connected account."""

    has_credentials = serializers.SerializerMethodField(help_text="Whether every required credential is set.")
    credential_keys = serializers.SerializerMethodField(help_text="Names of the credentials set (never values).")
    has_webhook_secret = serializers.SerializerMethodField()
    has_verify_token = serializers.SerializerMethodField()
    webhook_url = serializers.SerializerMethodField(
        help_text="The callback URL to give the platform for this account (Meta's webhook, Twilio's "
        "messaging URL, the bridge's callback, `/api/webhooks/sandbox/<platform>/`): PUBLIC_BASE_URL, else the "
        "address this request came to, plus the endpoint's path."
    )

    class Meta:
        model = PlatformAccount
        fields = [
            "id",
            "platform",
            "provider",
            "display_name",
            "external_id",
            "business_account_id",
            "phone_number",
            "settings",
            "is_active",
            "needs_reconnect",
            "last_error",
            "last_sync_at",
            "has_credentials",
            "credential_keys",
            "has_webhook_secret",
            "has_verify_token",
            "webhook_url",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.BooleanField())
    def get_has_credentials(self, account: PlatformAccount) -> bool:
        spec = services.CREDENTIALS.get(account.provider)
        keys = set(services.credential_keys(account))
        return bool(keys) and (spec is None or set(spec.required) <= keys)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_credential_keys(self, account: PlatformAccount) -> list[str]:
        return services.credential_keys(account)

    @extend_schema_field(serializers.BooleanField())
    def get_has_webhook_secret(self, account: PlatformAccount) -> bool:
        return bool(account.webhook_secret)

    @extend_schema_field(serializers.BooleanField())
    def get_has_verify_token(self, account: PlatformAccount) -> bool:
        return bool(account.verify_token)

    @extend_schema_field(serializers.CharField())
    def get_webhook_url(self, account: PlatformAccount) -> str:
        request = self.context.get("request")
        origin = request.build_absolute_uri("/") if request is not None else ""
        return services.platform_account_webhook_url(account, origin=origin)


class ConnectionTestSerializer(serializers.Serializer):
    """The answer of a connection test."""

    ok = serializers.BooleanField(help_text="Whether the platform accepted the account's credentials.")
    detail = serializers.CharField(help_text="What was found, in a sentence (the account's name, or what failed).")


class WhatsAppTemplateSerializer(serializers.Serializer):
    """An approved WhatsApp template of the account, as its provider lists it."""

    name = serializers.CharField(
        help_text="What a template send names (`template.name`): the template's name (Cloud API, sandbox) or its "
        "Content SID `HX…` (Twilio)."
    )
    display_name = serializers.CharField(help_text="The name to show (Twilio: the template's friendly name).")
    language = serializers.CharField(help_text="Its language code, e.g. `en_US` (`template.language`).")
    category = serializers.CharField(help_text="`MARKETING`, `UTILITY`, `AUTHENTICATION` … as WhatsApp files it.")
    status = serializers.CharField(help_text="The approval status (only approved templates are listed).")
    body = serializers.CharField(help_text="The body text, with its `{{1}}`, `{{2}}` … placeholders.")
    parameter_count = serializers.IntegerField(
        min_value=0, help_text="How many body parameters a send fills in (`components[type=body].parameters`)."
    )


class _AccountInputs(serializers.Serializer):
    webhook_secret = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        style={"input_type": "password"},
        help_text="Write-only. Meta app secret override, or the bridge's shared secret.",
    )
    verify_token = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=128,
        style={"input_type": "password"},
        help_text="Write-only. Meta webhook handshake token override.",
    )
    settings = serializers.DictField(
        required=False, help_text="send_read_receipts (bool), rate_limit_per_second (positive int)."
    )

    def validate_settings(self, value: dict[str, Any]) -> dict[str, Any]:
        if contains_nul(value):  # form fields bypass the JSON parser's check; PostgreSQL's jsonb refuses NUL
            raise serializers.ValidationError("Strings may not contain NUL (\\u0000) characters.")
        return value


class PlatformAccountCreateSerializer(_AccountInputs):
    """Connect an account. Validation of credentials and uniqueness happens in `platform_account_create`."""

    platform = serializers.ChoiceField(choices=Platform.choices)
    provider = serializers.ChoiceField(choices=Provider.choices, default=Provider.META)
    display_name = serializers.CharField(max_length=150)
    external_id = serializers.CharField(max_length=128, help_text="The id the platform sends in webhooks.")
    business_account_id = serializers.CharField(max_length=128, required=False, allow_blank=True)
    phone_number = serializers.CharField(max_length=32, required=False, allow_blank=True)
    credentials = serializers.DictField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False),
        write_only=True,
        required=False,
        help_text=_CREDENTIALS_HELP,
    )
    is_active = serializers.BooleanField(required=False, default=True)


class PlatformAccountUpdateSerializer(_AccountInputs):
    """Change a connected account. `credentials` merges into the stored ones (null removes a key); platform and
    provider are fixed."""

    display_name = serializers.CharField(max_length=150, required=False)
    external_id = serializers.CharField(max_length=128, required=False)
    business_account_id = serializers.CharField(max_length=128, required=False, allow_blank=True)
    phone_number = serializers.CharField(max_length=32, required=False, allow_blank=True)
    credentials = serializers.DictField(
        child=serializers.CharField(allow_null=True, allow_blank=True, trim_whitespace=False),
        write_only=True,
        required=False,
        help_text=_CREDENTIALS_HELP + " Merged into the stored credentials; null removes a key.",
    )
    is_active = serializers.BooleanField(required=False)
