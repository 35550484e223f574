"""The AI assistant's own rows: an organization's settings, its FAQ, and one run per answer attempt.

What the assistant marks on inbox rows lives on them (inbox/models.py): `Contact.is_trusted` and
`Contact.attributes` (the lead fields), `Conversation.ai_enabled`, `needs_human` (+ reason) and `ai_paused_until`
(a human took over), and on each inbound message whether the assistant handled it (`llm_processed`,
`llm_skip_reason`); a reply is an outbound message with `sent_by_assistant`.
"""

from __future__ import annotations

from django.db import models

from switchboard.accounts.models import Organization
from switchboard.accounts.tenancy import TenantModel
from switchboard.common.fields import EncryptedTextField
from switchboard.inbox.models import Conversation

DEFAULT_SYSTEM_PROMPT = (
    "You are the assistant of a real-estate agency, answering customers' direct messages on its behalf. Be brief, "
    "warm and precise. Answer only from what the tools return: never invent a listing, a price, an address or an "
    "availability. When the customer asks for something you cannot answer from the tools, or wants a person, call "
    "handoff_to_human with a short reason."
)
DEFAULT_FAILURE_MESSAGE = "Thanks for your message! A member of our team will get back to you shortly."
DEFAULT_LEAD_FIELDS = ["purpose", "property_type", "budget", "bedrooms", "area", "move_in_date"]


class Provider(models.TextChoices):
    OPENAI = "openai", "OpenAI-compatible (OpenAI, Ollama, vLLM, OpenRouter, Gemini)"
    ANTHROPIC = "anthropic", "Anthropic (Messages API)"


class AnswerWhen(models.TextChoices):
    ALWAYS = "always", "Always"
    OUTSIDE_HOURS = "outside_hours", "Only outside business hours"


def default_business_hours() -> dict[str, list[list[str]]]:
    """Monday to Friday, 09:00 to 18:00 (keys mon…sun; each a list of [start, end] in HH:MM)."""
    return {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def default_lead_fields() -> list[str]:
    return list(DEFAULT_LEAD_FIELDS)


class AssistantSettings(models.Model):
    """One per organization; owners and admins change it. Inactive until an owner turns it on."""

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="assistant_settings")
    is_active = models.BooleanField(default=False)
    provider = models.CharField(max_length=16, choices=Provider.choices, default=Provider.OPENAI)
    base_url = models.URLField(max_length=500, blank=True, help_text="Blank: the provider's public endpoint.")
    api_key = EncryptedTextField(blank=True, help_text="Encrypted at rest; never shown again once saved.")
    model = models.CharField(max_length=200, default="gpt-4o-mini")
    temperature = models.FloatField(default=0.3)
    max_tokens = models.PositiveIntegerField(default=400)
    system_prompt = models.TextField(default=DEFAULT_SYSTEM_PROMPT, blank=True)
    guardrails = models.TextField(blank=True, help_text="Extra rules added to the system prompt.")
    context_size = models.PositiveSmallIntegerField(default=10, help_text="How many recent messages the model sees.")
    answer_when = models.CharField(max_length=16, choices=AnswerWhen.choices, default=AnswerWhen.ALWAYS)
    business_hours = models.JSONField(default=default_business_hours, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    reply_delay_seconds = models.PositiveSmallIntegerField(
        default=8, help_text="Wait this long after a customer's message, so several messages get one answer."
    )
    failure_message = models.TextField(default=DEFAULT_FAILURE_MESSAGE, blank=True)
    failure_message_enabled = models.BooleanField(default=True)
    ai_on_for_trusted = models.BooleanField(
        default=False, help_text="New conversations of trusted contacts start with the assistant on."
    )
    lead_fields = models.JSONField(default=default_lead_fields, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "assistant settings"
        verbose_name_plural = "assistant settings"

    def __str__(self) -> str:
        return f"Assistant of {self.organization}"


class FaqEntry(TenantModel):
    """An agency-written question and answer the assistant may quote (the `faq_lookup` tool)."""

    question = models.CharField(max_length=500)
    answer = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["question", "id"]
        verbose_name = "FAQ entry"
        verbose_name_plural = "FAQ entries"

    def __str__(self) -> str:
        return self.question


class RunOutcome(models.TextChoices):
    REPLIED = "replied", "Replied"
    HANDED_OFF = "handed_off", "Handed off to a human"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"
    SUGGESTED = "suggested", "Suggested a draft to an agent"


class AssistantRun(TenantModel):
    """One attempt to answer a conversation (or to draft a suggestion): what triggered it, what happened, what
    it cost. The stats endpoint counts these."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="assistant_runs")
    outcome = models.CharField(max_length=16, choices=RunOutcome.choices)
    reason = models.CharField(max_length=255, blank=True, help_text="Skip or handoff reason.")
    error_code = models.CharField(max_length=32, blank=True)
    error_message = models.TextField(blank=True, help_text="What went wrong, in a sentence an agent understands.")
    trigger_message_ids = models.JSONField(default=list, blank=True)
    reply_message_ids = models.JSONField(default=list, blank=True)
    tool_calls = models.JSONField(default=list, blank=True, help_text="[{name, arguments, ok}]")
    model = models.CharField(max_length=200, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "created_at"], name="assistant_run_org_created")]

    def __str__(self) -> str:
        return f"{self.outcome} on conversation {self.conversation_id}"
