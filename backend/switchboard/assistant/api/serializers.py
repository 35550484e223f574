"""The assistant API's JSON. Output serializers read rows (or the dicts of `stats` and `settings_services`); input
serializers check types and ranges and run the services' own rules (`settings_services.validate_*`), so a 400 names
the field and says what is expected — services write."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from switchboard.assistant import settings_services as rules
from switchboard.assistant.models import AnswerWhen, AssistantSettings, FaqEntry, Provider


def _interval_field() -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(max_length=5), min_length=2, max_length=2, help_text='["HH:MM", "HH:MM"]'
    )


def _business_hours_field(**kwargs: Any) -> serializers.DictField:
    return serializers.DictField(
        child=serializers.ListField(child=_interval_field(), max_length=rules.INTERVALS_PER_DAY_MAX),
        help_text=(
            "When the agency is open, per day (keys mon, tue, wed, thu, fri, sat, sun; a missing day or [] is closed): "
            '[["09:00", "13:00"], ["15:00", "19:00"]] in 24-hour time, in `time_zone`. Used when `answer_when` is '
            "`outside_hours`."
        ),
        **kwargs,
    )


def _lead_fields_field(**kwargs: Any) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(max_length=40),
        max_length=rules.LEAD_FIELDS_MAX,
        help_text="What the assistant may record about a lead (`update_contact`), e.g. purpose, budget, bedrooms: "
        "lowercase letters, digits and _.",
        **kwargs,
    )


def _service_rule(validator: Callable[[Any], Any], value: Any) -> Any:
    try:
        return validator(value)
    except DjangoValidationError as error:
        raise serializers.ValidationError(error.messages) from error


# --- settings -------------------------------------------------------------------------------------------------------
class AssistantSettingsSerializer(serializers.ModelSerializer):
    """The organization's assistant settings. The API key is never answered: `api_key_set` says whether one is
    stored."""

    api_key_set = serializers.SerializerMethodField(help_text="An API key is stored (it is never shown).")
    # The values only (no labels): a choice set of its own for the schema's enum hook, so this component gets its own
    # enum (AssistantSettingsProviderEnum) instead of colliding with the platform accounts' `provider`.
    provider = serializers.ChoiceField(
        choices=Provider.values, read_only=True, help_text="`openai` (any OpenAI-compatible API) or `anthropic`."
    )
    # A string, not a URI: blank means the provider's public endpoint.
    base_url = serializers.CharField(
        read_only=True, help_text="The provider's API address; blank: its public endpoint."
    )
    business_hours = _business_hours_field(read_only=True)
    lead_fields = _lead_fields_field(read_only=True)

    class Meta:
        model = AssistantSettings
        fields = [*rules.SETTINGS_FIELDS, "api_key_set", "updated_at"]
        read_only_fields = fields

    def get_api_key_set(self, row: AssistantSettings) -> bool:
        return bool(row.api_key)


class AssistantSettingsUpdateSerializer(serializers.Serializer):
    """Every field is optional (PUT and PATCH both change only what the body holds)."""

    is_active = serializers.BooleanField(required=False, help_text="The assistant answers customers when true.")
    provider = serializers.ChoiceField(
        choices=Provider.choices,
        required=False,
        help_text="`openai`: any OpenAI-compatible API (OpenAI, Ollama, vLLM, OpenRouter, Gemini); `anthropic`.",
    )
    base_url = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=rules.BASE_URL_MAX_LENGTH,
        help_text="Blank: the provider's public endpoint. Else http(s), e.g. http://127.0.0.1:11434/v1 (Ollama).",
    )
    api_key = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        write_only=True,
        trim_whitespace=True,
        max_length=rules.API_KEY_MAX_LENGTH,
        help_text="Write-only, stored encrypted. Absent, null or empty: the stored key is kept.",
    )
    clear_api_key = serializers.BooleanField(
        required=False, write_only=True, help_text="true: forget the stored key (not with a new `api_key`)."
    )
    model = serializers.CharField(
        required=False, max_length=rules.MODEL_MAX_LENGTH, help_text="e.g. gpt-4o-mini, claude-sonnet-4-20250514."
    )
    temperature = serializers.FloatField(
        required=False, min_value=rules.TEMPERATURE_RANGE[0], max_value=rules.TEMPERATURE_RANGE[1]
    )
    max_tokens = serializers.IntegerField(
        required=False,
        min_value=rules.MAX_TOKENS_RANGE[0],
        max_value=rules.MAX_TOKENS_RANGE[1],
        help_text="The longest answer, in tokens.",
    )
    system_prompt = serializers.CharField(
        required=False, allow_blank=True, max_length=rules.SYSTEM_PROMPT_MAX_LENGTH, trim_whitespace=False
    )
    guardrails = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=rules.GUARDRAILS_MAX_LENGTH,
        trim_whitespace=False,
        help_text="Extra rules added to the system prompt.",
    )
    context_size = serializers.IntegerField(
        required=False,
        min_value=rules.CONTEXT_SIZE_RANGE[0],
        max_value=rules.CONTEXT_SIZE_RANGE[1],
        help_text="How many recent messages the model sees.",
    )
    answer_when = serializers.ChoiceField(choices=AnswerWhen.choices, required=False)
    business_hours = _business_hours_field(required=False)
    time_zone = serializers.CharField(
        required=False, max_length=rules.TIME_ZONE_MAX_LENGTH, help_text="IANA name, e.g. Europe/Madrid."
    )
    reply_delay_seconds = serializers.IntegerField(
        required=False,
        min_value=rules.REPLY_DELAY_RANGE[0],
        max_value=rules.REPLY_DELAY_RANGE[1],
        help_text="Wait this long after a customer's message, so several messages get one answer.",
    )
    failure_message = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=rules.FAILURE_MESSAGE_MAX_LENGTH,
        help_text="Sent once to the customer when the assistant fails (if `failure_message_enabled`).",
    )
    failure_message_enabled = serializers.BooleanField(required=False)
    ai_on_for_trusted = serializers.BooleanField(
        required=False, help_text="New conversations of trusted contacts start with the assistant on."
    )
    lead_fields = _lead_fields_field(required=False)

    def validate_base_url(self, value: str) -> str:
        result: str = _service_rule(rules.validate_base_url, value)
        return result

    def validate_business_hours(self, value: dict[str, Any]) -> dict[str, list[list[str]]]:
        result: dict[str, list[list[str]]] = _service_rule(rules.validate_business_hours, value)
        return result

    def validate_time_zone(self, value: str) -> str:
        result: str = _service_rule(rules.validate_time_zone, value)
        return result

    def validate_lead_fields(self, value: list[str]) -> list[str]:
        result: list[str] = _service_rule(rules.validate_lead_fields, value)
        return result

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("api_key") and attrs.get("clear_api_key"):
            raise serializers.ValidationError(
                {"clear_api_key": ["Send either a new api_key or clear_api_key, not both."]}
            )
        return attrs


class CredentialsTestSerializer(serializers.Serializer):
    ok = serializers.BooleanField(help_text="The provider answered, accepted the key and offers the model.")
    model = serializers.CharField(required=False, help_text="The model checked (when ok).")
    code = serializers.CharField(
        required=False,
        help_text="Why not (when not ok): invalid_key, model_not_found, unreachable, timeout, quota_exceeded, "
        "api_key_missing, …",
    )
    message = serializers.CharField(help_text="What was found, in a sentence for agency owners; never the key.")


# --- FAQ ------------------------------------------------------------------------------------------------------------
class FaqEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = FaqEntry
        fields = ["id", "question", "answer", "created_at", "updated_at"]
        read_only_fields = fields


class FaqEntryWriteSerializer(serializers.Serializer):
    question = serializers.CharField(max_length=rules.FAQ_QUESTION_MAX_LENGTH)
    answer = serializers.CharField(max_length=rules.FAQ_ANSWER_MAX_LENGTH)


# --- stats ----------------------------------------------------------------------------------------------------------
class StatsQuerySerializer(serializers.Serializer):
    days = serializers.IntegerField(
        min_value=1, max_value=365, default=30, help_text="The period: today and the days before it (1 to 365)."
    )


class RepliesPerDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    replies = serializers.IntegerField(help_text="Messages the assistant sent that day.")


class StatsSerializer(serializers.Serializer):
    days = serializers.IntegerField()
    conversations_answered = serializers.IntegerField(help_text="Conversations the assistant replied in.")
    resolved_without_human = serializers.IntegerField(
        help_text="Of those, the ones with no handoff, no failure and no message from a person in the period."
    )
    handed_off = serializers.IntegerField(help_text="Handoffs to a person (runs that ended in handoff_to_human).")
    handed_off_by_reason = serializers.DictField(child=serializers.IntegerField(), help_text="Handoffs per reason.")
    failures = serializers.IntegerField(help_text="Runs that failed (the provider, or a send).")
    failures_by_code = serializers.DictField(child=serializers.IntegerField(), help_text="Failures per error code.")
    replies_per_day = RepliesPerDaySerializer(many=True, help_text="Every day of the period, oldest first.")


# --- conversation actions -------------------------------------------------------------------------------------------
class SuggestionSerializer(serializers.Serializer):
    text = serializers.CharField(allow_blank=True, help_text="The draft reply; nothing was sent.")
    listing_ids = serializers.ListField(
        child=serializers.IntegerField(), help_text="Listings the draft proposes (send their cards yourself)."
    )
    tools_used = serializers.ListField(child=serializers.CharField(), help_text="The tools the model called.")
