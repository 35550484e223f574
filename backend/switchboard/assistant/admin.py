"""The assistant in the admin (superusers, across organizations).

* Settings: the API key is write-only — never rendered, a password input that starts empty, where leaving it blank
  keeps the stored key and "clear the API key" forgets it; the page shows only whether one is set. The values are
  checked by the same rules as the API (`settings_services.settings_validate`) and saved through
  `settings_services.assistant_settings_update`.
* FAQ entries: saved and deleted through the FAQ services.
* Runs: read-only, filtered by outcome and organization — what the assistant did and why it failed.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from switchboard.accounts.tenancy import request_user
from switchboard.assistant import settings_services
from switchboard.assistant.models import AssistantRun, AssistantSettings, FaqEntry


def _stored(obj: Any, created: Any) -> None:
    """The admin goes on with the instance it built (the log, the redirect): make it the row the service saved."""
    obj.__dict__.update({key: value for key, value in created.__dict__.items() if key != "_state"})
    obj._state.adding, obj._state.db = False, created._state.db


def _add_errors(form: forms.BaseForm, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


# --- settings -------------------------------------------------------------------------------------------------------
NOT_MODEL_BASE_URL = tuple(name for name in settings_services.SETTINGS_FIELDS if name != "base_url")


class AssistantSettingsForm(forms.ModelForm):
    new_api_key = forms.CharField(
        label="API key",
        required=False,
        strip=True,
        max_length=settings_services.API_KEY_MAX_LENGTH,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Write-only, stored encrypted. Leave blank to keep the stored key.",
    )
    clear_api_key = forms.BooleanField(required=False, label="Clear the stored API key")
    # Not the model's URLField: hosts without a dot (http://ollama:11434/v1 in Docker) are valid addresses here.
    base_url = forms.CharField(
        required=False,
        max_length=settings_services.BASE_URL_MAX_LENGTH,
        help_text="Blank: the provider's public endpoint. Ollama: http://127.0.0.1:11434/v1.",
    )

    class Meta:
        model = AssistantSettings
        # Never `api_key`: it is the write-only field above. Nor the model's `base_url`: the form field above stands in
        # for it, out of the model field's URLValidator (which wants a dotted host); settings_validate checks it.
        fields = ("organization", *NOT_MODEL_BASE_URL)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial.setdefault("base_url", self.instance.base_url)
        if self.instance.pk and "organization" in self.fields:
            self.fields["organization"].disabled = True
            self.fields["organization"].help_text = "Fixed: one settings row per organization."

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        if cleaned.get("new_api_key") and cleaned.get("clear_api_key"):
            self.add_error("clear_api_key", "Enter a new API key or clear the stored one, not both.")
            return cleaned
        values = {name: cleaned[name] for name in settings_services.SETTINGS_FIELDS if name in cleaned}
        try:
            cleaned.update(settings_services.settings_validate(values))
        except ValidationError as error:
            _add_errors(self, error)
        return cleaned


@admin.register(AssistantSettings)
class AssistantSettingsAdmin(admin.ModelAdmin):
    form = AssistantSettingsForm
    list_display = ("organization", "is_active", "provider", "model", "api_key_set", "answer_when", "updated_at")
    list_filter = ("is_active", "provider", "answer_when")
    search_fields = ("organization__name", "organization__slug", "model")
    list_select_related = ("organization",)
    raw_id_fields = ("organization",)
    readonly_fields = ("api_key_set", "updated_at")
    fieldsets = (
        (None, {"fields": ("organization", "is_active")}),
        (
            "Provider",
            {
                "fields": (
                    "provider",
                    "base_url",
                    "api_key_set",
                    "new_api_key",
                    "clear_api_key",
                    "model",
                    "temperature",
                    "max_tokens",
                )
            },
        ),
        (
            "Behaviour",
            {"fields": ("system_prompt", "guardrails", "context_size", "reply_delay_seconds", "lead_fields")},
        ),
        ("When to answer", {"fields": ("answer_when", "business_hours", "time_zone", "ai_on_for_trusted")}),
        ("Failures", {"fields": ("failure_message", "failure_message_enabled")}),
        (None, {"fields": ("updated_at",)}),
    )

    @admin.display(description="API key set", boolean=True)
    def api_key_set(self, row: AssistantSettings) -> bool:
        return bool(row.api_key)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        # The fieldsets name `base_url`, the form's own field: never a model field of the form (see the Meta). The
        # change view passes the fieldsets' names as `fields`.
        fields = kwargs.get("fields") or flatten_fieldsets(self.get_fieldsets(request, obj))
        kwargs["fields"] = [name for name in fields if name != "base_url"]
        return super().get_form(request, obj, change, **kwargs)

    def save_model(self, request: HttpRequest, obj: AssistantSettings, form: Any, change: bool) -> None:
        data = {
            name: form.cleaned_data[name] for name in settings_services.SETTINGS_FIELDS if name in form.cleaned_data
        }
        data["api_key"] = form.cleaned_data.get("new_api_key") or ""
        data["clear_api_key"] = bool(form.cleaned_data.get("clear_api_key"))
        organization = obj.organization
        saved = settings_services.assistant_settings_update(
            organization=organization, by=request_user(request), data=data
        )
        _stored(obj, saved)


# --- FAQ ------------------------------------------------------------------------------------------------------------
class FaqEntryForm(forms.ModelForm):
    class Meta:
        model = FaqEntry
        fields = ("organization", "question", "answer")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and "organization" in self.fields:
            self.fields["organization"].disabled = True
            self.fields["organization"].help_text = "Fixed once created."

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        try:
            cleaned.update(settings_services.faq_validate(cleaned))
        except ValidationError as error:
            _add_errors(self, error)
        organization = cleaned.get("organization")
        if (
            not self.instance.pk
            and organization is not None
            and settings_services.faq_is_full(organization=organization)
        ):
            self.add_error(None, f"This organization's FAQ holds {settings_services.FAQ_MAX_ENTRIES} entries already.")
        return cleaned


@admin.register(FaqEntry)
class FaqEntryAdmin(admin.ModelAdmin):
    form = FaqEntryForm
    list_display = ("question", "organization", "updated_at")
    list_filter = ("organization",)
    search_fields = ("question", "answer")
    list_select_related = ("organization",)
    raw_id_fields = ("organization",)
    readonly_fields = ("created_at", "updated_at")

    def save_model(self, request: HttpRequest, obj: FaqEntry, form: Any, change: bool) -> None:
        data = {name: form.cleaned_data[name] for name in ("question", "answer")}
        if change:
            entry = FaqEntry.objects.get(pk=obj.pk)
            _stored(obj, settings_services.faq_update(organization=entry.organization, entry=entry, data=data))
            return
        _stored(
            obj,
            settings_services.faq_create(organization=obj.organization, by=request_user(request), **data),
        )

    def delete_model(self, request: HttpRequest, obj: FaqEntry) -> None:
        settings_services.faq_delete(organization=obj.organization, entry=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[FaqEntry]) -> None:
        for entry in queryset.select_related("organization"):
            settings_services.faq_delete(organization=entry.organization, entry=entry)


# --- runs -----------------------------------------------------------------------------------------------------------
@admin.register(AssistantRun)
class AssistantRunAdmin(admin.ModelAdmin):
    """Written by the assistant only: viewable, never added, changed or deleted here."""

    list_display = (
        "created_at",
        "organization",
        "conversation_id",
        "outcome",
        "reason",
        "error_code",
        "model",
        "latency_ms",
    )
    list_filter = ("outcome", "organization", "error_code")
    search_fields = ("reason", "error_message", "=conversation__id")
    list_select_related = ("organization",)
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
