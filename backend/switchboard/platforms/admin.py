"""PlatformAccount admin. Secrets are write-only: password fields that start empty, where leaving one blank keeps the
stored value; the page shows only which credentials are set. Saves go through `platforms.services`. The "sync history
now" action and the sync runs are the inbox's (inbox/admin.py registers a subclass of this admin with the action)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from switchboard.accounts.tenancy import request_user
from switchboard.platforms import services
from switchboard.platforms.models import PlatformAccount

_BLANK_KEEPS = "Write-only. Leave blank to keep the stored value."


def _secret_field(label: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_BLANK_KEEPS,
    )


class PlatformAccountAdminForm(forms.ModelForm):
    access_token = _secret_field("Access token (Meta)")
    account_sid = forms.CharField(label="Account SID (Twilio)", required=False, help_text="Leave blank to keep.")
    auth_token = _secret_field("Auth token (Twilio)")
    messaging_service_sid = forms.CharField(
        label="Messaging service SID (Twilio, optional)", required=False, help_text="Leave blank to keep."
    )
    base_url = forms.URLField(
        label="Base URL (bridge)", required=False, assume_scheme="https", help_text="Leave blank to keep."
    )
    api_key = _secret_field("API key (bridge, optional)")
    new_webhook_secret = _secret_field("Webhook secret")
    new_verify_token = _secret_field("Verify token")
    clear_secrets = forms.BooleanField(
        required=False,
        label="Clear stored secrets",
        help_text="Forget every stored credential, the webhook secret and the verify token (then set new ones above).",
    )

    class Meta:
        model = PlatformAccount
        # Never the stored secrets (credentials, webhook_secret, verify_token): they are the write-only fields above.
        fields = (
            "organization",
            "platform",
            "provider",
            "display_name",
            "is_active",
            "needs_reconnect",
            "external_id",
            "business_account_id",
            "phone_number",
            "settings",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # Non-secret credential settings show their current value as a placeholder, never in the input.
            for key in ("account_sid", "messaging_service_sid", "base_url"):
                if self.instance.credentials.get(key):
                    self.fields[key].widget.attrs["placeholder"] = self.instance.credentials[key]
            for name in ("organization", "platform", "provider"):
                if name in self.fields:
                    self.fields[name].disabled = True
                    self.fields[name].help_text = "Fixed once connected."

    def credentials_entered(self) -> dict[str, str]:
        return {
            key: self.cleaned_data[key]
            for key in services.ALL_CREDENTIAL_KEYS
            if key in self.cleaned_data and self.cleaned_data[key] not in (None, "")
        }

    def resulting_credentials(self) -> dict[str, str]:
        stored = {} if self.cleaned_data.get("clear_secrets") or not self.instance.pk else self.instance.credentials
        return {**(stored or {}), **self.credentials_entered()}

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if self.errors:
            return cleaned
        platform = cleaned.get("platform") or self.instance.platform
        provider = cleaned.get("provider") or self.instance.provider
        try:
            normalized = services.platform_account_validate(
                platform=platform,
                provider=provider,
                # An unchanged id is not re-checked (an id stored before today's rules stays editable around it).
                external_id=cleaned.get("external_id", "")
                if not self.instance.pk or "external_id" in self.changed_data
                else None,
                credentials=self.resulting_credentials(),
                is_active=cleaned.get("is_active", True),
                settings=cleaned.get("settings") or {},
                exclude_pk=self.instance.pk,
            )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        else:
            if normalized is not None:
                cleaned["external_id"] = normalized
        return cleaned


@admin.register(PlatformAccount)
class PlatformAccountAdmin(admin.ModelAdmin):
    form = PlatformAccountAdminForm
    actions: Sequence[str] = ()  # none here; inbox/admin.py's subclass adds "sync history now" to these
    list_display = (
        "id",
        "display_name",
        "platform",
        "provider",
        "external_id",
        "organization",
        "is_active",
        "needs_reconnect",
        "credentials_set",
        "last_sync_at",
    )
    list_filter = ("platform", "provider", "organization", "is_active", "needs_reconnect")
    search_fields = ("display_name", "=external_id", "=phone_number", "=id")
    list_select_related = ("organization",)
    raw_id_fields = ("organization",)
    readonly_fields = (
        "credentials_set",
        "has_webhook_secret",
        "last_error",
        "last_sync_at",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (None, {"fields": ("organization", "platform", "provider", "display_name", "is_active", "needs_reconnect")}),
        ("Platform ids", {"fields": ("external_id", "business_account_id", "phone_number")}),
        (
            "Secrets (write-only)",
            {
                "fields": (
                    "credentials_set",
                    "has_webhook_secret",
                    "access_token",
                    "account_sid",
                    "auth_token",
                    "messaging_service_sid",
                    "base_url",
                    "api_key",
                    "new_webhook_secret",
                    "new_verify_token",
                    "clear_secrets",
                )
            },
        ),
        ("Settings and state", {"fields": ("settings", "last_error", "last_sync_at", "created_at", "updated_at")}),
    )

    @admin.display(description="credentials set")
    def credentials_set(self, account: PlatformAccount) -> str:
        return ", ".join(services.credential_keys(account)) or "—"

    @admin.display(description="webhook secret set", boolean=True)
    def has_webhook_secret(self, account: PlatformAccount) -> bool:
        return bool(account.webhook_secret)

    def save_model(
        self, request: HttpRequest, obj: PlatformAccount, form: PlatformAccountAdminForm, change: bool
    ) -> None:
        data = form.cleaned_data
        fields: dict[str, Any] = {
            name: data[name]
            for name in ("display_name", "external_id", "business_account_id", "phone_number", "settings", "is_active")
            if name in data and (not change or name in form.changed_data)
        }
        secrets: dict[str, Any] = {}
        if data.get("new_webhook_secret"):
            secrets["webhook_secret"] = data["new_webhook_secret"]
        elif data.get("clear_secrets"):
            secrets["webhook_secret"] = ""
        if data.get("new_verify_token"):
            secrets["verify_token"] = data["new_verify_token"]
        elif data.get("clear_secrets"):
            secrets["verify_token"] = ""
        if not change:
            created = services.platform_account_create(
                organization=data["organization"],
                by=request_user(request),
                platform=data["platform"],
                provider=data["provider"],
                credentials=form.resulting_credentials(),
                **fields,
                **secrets,
            )
            obj.pk = created.pk
            obj._state.adding = False
            return
        credentials: dict[str, Any] = form.credentials_entered()
        if data.get("clear_secrets"):
            credentials = {key: None for key in obj.credentials if key not in credentials} | credentials
        if "needs_reconnect" in form.changed_data:
            fields["needs_reconnect"] = data["needs_reconnect"]
        services.platform_account_update(
            account=PlatformAccount.objects.get(pk=obj.pk),
            by=request_user(request),
            credentials=credentials,
            **fields,
            **secrets,
        )
