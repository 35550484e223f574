"""The assistant's configuration: an organization's settings, its FAQ, and the "test the connection" check — the only
code that writes `AssistantSettings` and `FaqEntry` (the API and the admin both call these).

Every rule a value must follow is here (`settings_validate`), so the API's 400 and the admin form say the same thing.
Refusals are Django's `ValidationError` keyed by field (the API handler answers them as 400 with `errors`) or
`common.exceptions` errors; rows of another organization are `DoesNotExist` (404) through `tenancy.ensure_owned`.

The API key: stored encrypted (`EncryptedTextField`); an absent or empty `api_key` keeps the stored one, and only
`clear_api_key=True` forgets it. No function here returns, logs or raises it — the credentials test answers the
provider's agent-readable sentence, which the provider layer has already scrubbed of the key.
"""

from __future__ import annotations

import itertools
import logging
import re
import zoneinfo
from functools import lru_cache
from typing import Any, TypedDict
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction

from switchboard.accounts.models import Organization, User
from switchboard.accounts.tenancy import ensure_owned
from switchboard.assistant import engine
from switchboard.assistant.models import AnswerWhen, AssistantSettings, FaqEntry, Provider
from switchboard.assistant.providers import ProviderBadRequest, ProviderError
from switchboard.common.exceptions import Conflict

logger = logging.getLogger(__name__)

# The fields an owner sets, beside `api_key` (write-only) and `clear_api_key`.
SETTINGS_FIELDS = (
    "is_active",
    "provider",
    "base_url",
    "model",
    "temperature",
    "max_tokens",
    "system_prompt",
    "guardrails",
    "context_size",
    "answer_when",
    "business_hours",
    "time_zone",
    "reply_delay_seconds",
    "failure_message",
    "failure_message_enabled",
    "ai_on_for_trusted",
    "lead_fields",
)

# The bounds of the numbers (the API serializer declares the same ones, so the schema shows them).
TEMPERATURE_RANGE = (0.0, 2.0)
MAX_TOKENS_RANGE = (1, 8000)
CONTEXT_SIZE_RANGE = (1, 50)
REPLY_DELAY_RANGE = (0, 120)
MODEL_MAX_LENGTH = 200
BASE_URL_MAX_LENGTH = 500
API_KEY_MAX_LENGTH = 1000
SYSTEM_PROMPT_MAX_LENGTH = 20_000
GUARDRAILS_MAX_LENGTH = 10_000
FAILURE_MESSAGE_MAX_LENGTH = 1000
TIME_ZONE_MAX_LENGTH = 64
LEAD_FIELDS_MAX = 30
INTERVALS_PER_DAY_MAX = 6
FAQ_QUESTION_MAX_LENGTH = 500
FAQ_ANSWER_MAX_LENGTH = 5000
FAQ_MAX_ENTRIES = 500  # per organization: the faq_lookup tool and the list stay small

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
END_OF_DAY = "24:00"  # as an interval's end only: midnight (assistant/hours.py reads it so)
_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]{0,39}")


class CredentialsTestResult(TypedDict, total=False):
    """`{"ok": True, "model", "message"}` or `{"ok": False, "code", "message"}` — never the key."""

    ok: bool
    model: str
    code: str
    message: str


# --- validation -----------------------------------------------------------------------------------------------------
def validate_base_url(value: str, *, check_address: bool = False) -> str:
    """Blank (the provider's public endpoint) or an http(s) address with a host. Hosts without a dot are allowed
    (`http://ollama:11434/v1` in Docker, `http://localhost:11434/v1`); credentials in the address are not — they
    would be shown back to every member: the key goes in `api_key`. `check_address`: also the server's address
    policy (`base_url_refusal`), which resolves the host."""
    value = value.strip()
    if not value:
        return ""
    if len(value) > BASE_URL_MAX_LENGTH:
        raise ValidationError(f"At most {BASE_URL_MAX_LENGTH} characters.")
    if any(character.isspace() or ord(character) < 32 for character in value):
        raise ValidationError("An address has no spaces or control characters.")
    try:
        parts = urlsplit(value)
        hostname = parts.hostname
        parts.port  # noqa: B018  # a port that is no number raises ValueError
    except ValueError:
        raise ValidationError("Not a valid web address, e.g. https://api.openai.com/v1.") from None
    if parts.scheme not in ("http", "https") or not hostname:
        raise ValidationError("An http:// or https:// address, e.g. https://api.openai.com/v1.")
    if parts.username is not None or parts.password is not None:
        raise ValidationError("Put the credentials in api_key, not in the address.")
    if parts.query or parts.fragment:
        raise ValidationError("The address of the API only, without ? or #, e.g. http://127.0.0.1:11434/v1.")
    value = value.rstrip("/")
    if check_address:
        refusal = base_url_refusal(value)
        if refusal:
            raise ValidationError(refusal)
    return value


def base_url_refusal(url: str) -> str | None:
    """Why this server may not call `url` (a well-formed address), in the sentence the credentials test answers with
    code `invalid_address`; None when it may. Under AI_ALLOW_PRIVATE_BASE_URL false the host is resolved now and every
    address checked (providers/guard.py); a name that does not resolve here is let through — the call decides (and
    checks again: DNS may change after saving)."""
    guard = engine.address_guard()
    if guard is None:
        return None
    try:
        guard.check_url(url)
    except ProviderBadRequest as refusal:
        return refusal.message_for_agents
    except ProviderError:
        return None
    return None


def validate_business_hours(value: Any) -> dict[str, list[list[str]]]:
    """`{"mon": [["09:00", "18:00"]], …}`: keys among mon…sun (a missing day is closed), each a list of at most
    INTERVALS_PER_DAY_MAX `[start, end]` pairs in 24-hour HH:MM (an end may be "24:00"), start before end, not
    overlapping; sorted. (assistant/hours.py reads the stored value.)"""
    if not isinstance(value, dict):
        raise ValidationError('An object of days, e.g. {"mon": [["09:00", "18:00"]]}.')
    unknown = [str(key) for key in value if key not in DAYS]
    if unknown:
        raise ValidationError(f"Unknown day {unknown[0]!r}: use {', '.join(DAYS)}.")
    cleaned: dict[str, list[list[str]]] = {}
    for day in DAYS:
        if day not in value:
            continue
        intervals = value[day]
        if not isinstance(intervals, list):
            raise ValidationError(f'{day}: a list of ["HH:MM", "HH:MM"] pairs (an empty list: closed).')
        if len(intervals) > INTERVALS_PER_DAY_MAX:
            raise ValidationError(f"{day}: at most {INTERVALS_PER_DAY_MAX} intervals.")
        pairs: list[list[str]] = []
        for interval in intervals:
            if (
                not isinstance(interval, list)
                or len(interval) != 2
                or not all(isinstance(t, str) for t in interval)
                or not _HHMM.fullmatch(interval[0])
                or not (_HHMM.fullmatch(interval[1]) or interval[1] == END_OF_DAY)
            ):
                raise ValidationError(
                    f'{day}: each interval is ["HH:MM", "HH:MM"] in 24-hour time, e.g. ["09:00", "18:00"] '
                    f'("24:00" ends at midnight).'
                )
            start, end = interval
            if start >= end:
                raise ValidationError(f"{day}: {start}-{end} does not end after it starts.")
            pairs.append([start, end])
        pairs.sort()
        for (_, previous_end), (next_start, _) in itertools.pairwise(pairs):
            if next_start < previous_end:
                raise ValidationError(f"{day}: intervals overlap ({next_start} is before {previous_end}).")
        cleaned[day] = pairs
    return cleaned


@lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> str:
    """An IANA time zone name, e.g. Europe/Madrid (looked up among the installed ones, never as a path)."""
    value = value.strip()
    if value not in _time_zones():
        raise ValidationError(f"{value[:TIME_ZONE_MAX_LENGTH]!r} is not an IANA time zone, e.g. Europe/Madrid or UTC.")
    return value


def validate_lead_fields(value: Any) -> list[str]:
    """Distinct lowercase identifiers (letters, digits, _; starting with a letter), at most LEAD_FIELDS_MAX."""
    if not isinstance(value, list):
        raise ValidationError('A list of field names, e.g. ["purpose", "budget"].')
    if len(value) > LEAD_FIELDS_MAX:
        raise ValidationError(f"At most {LEAD_FIELDS_MAX} fields.")
    cleaned: list[str] = []
    for item in value:
        if not isinstance(item, str) or not _IDENTIFIER.fullmatch(item):
            shown = item if isinstance(item, str) else type(item).__name__
            raise ValidationError(
                f"{str(shown)[:40]!r} is not a field name: lowercase letters, digits and _, starting with a letter."
            )
        if item in cleaned:
            raise ValidationError(f"{item!r} is listed twice.")
        cleaned.append(item)
    return cleaned


def _check_range(name: str, value: Any, bounds: tuple[float, float], errors: dict[str, list[str]]) -> None:
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        errors.setdefault(name, []).append(f"A number from {low:g} to {high:g}.")


def _check_text(name: str, value: Any, limit: int, errors: dict[str, list[str]]) -> str:
    if not isinstance(value, str):
        errors.setdefault(name, []).append("A string.")
        return ""
    if len(value) > limit:
        errors.setdefault(name, []).append(f"At most {limit} characters.")
    if "\x00" in value:
        errors.setdefault(name, []).append("May not contain NUL (\\u0000) characters.")
    return value


def settings_validate(values: dict[str, Any], *, check_address: bool = True) -> dict[str, Any]:
    """`values` (any of SETTINGS_FIELDS, as the row would hold them) checked and normalized; raises ValidationError
    keyed by field with every problem found. Rules that relate fields (a failure message when it is enabled) are
    checked on whatever of them `values` holds: pass the resulting row's values to check those. `check_address`: a
    non-blank `base_url` also against the server's address policy (`base_url_refusal`)."""
    errors: dict[str, list[str]] = {}
    cleaned = dict(values)

    def run(name: str, validator: Any) -> None:
        if name not in values:
            return
        try:
            cleaned[name] = validator(values[name])
        except ValidationError as error:
            errors.setdefault(name, []).extend(error.messages)

    for name in ("is_active", "failure_message_enabled", "ai_on_for_trusted"):
        if name in values and not isinstance(values[name], bool):
            errors.setdefault(name, []).append("true or false.")
    if "provider" in values and values["provider"] not in Provider.values:
        errors.setdefault("provider", []).append(f"One of {', '.join(Provider.values)}.")
    if "answer_when" in values and values["answer_when"] not in AnswerWhen.values:
        errors.setdefault("answer_when", []).append(f"One of {', '.join(AnswerWhen.values)}.")
    run(
        "base_url",
        lambda v: validate_base_url(
            _check_text("base_url", v, BASE_URL_MAX_LENGTH, errors), check_address=check_address
        ),
    )
    if "model" in values:
        model = _check_text("model", values["model"], MODEL_MAX_LENGTH, errors).strip()
        if not model and "model" not in errors:
            errors["model"] = ["Name the model, e.g. gpt-4o-mini, claude-sonnet-4-20250514 or llama3.1."]
        cleaned["model"] = model
    for name, limit in (
        ("system_prompt", SYSTEM_PROMPT_MAX_LENGTH),
        ("guardrails", GUARDRAILS_MAX_LENGTH),
        ("failure_message", FAILURE_MESSAGE_MAX_LENGTH),
    ):
        if name in values:
            cleaned[name] = _check_text(name, values[name], limit, errors).strip()
    for name, bounds in (
        ("temperature", TEMPERATURE_RANGE),
        ("max_tokens", MAX_TOKENS_RANGE),
        ("context_size", CONTEXT_SIZE_RANGE),
        ("reply_delay_seconds", REPLY_DELAY_RANGE),
    ):
        if name in values:
            _check_range(name, values[name], bounds, errors)
            if name != "temperature" and isinstance(values[name], float) and not values[name].is_integer():
                errors.setdefault(name, []).append("A whole number.")
    run("business_hours", validate_business_hours)
    run("time_zone", lambda v: validate_time_zone(_check_text("time_zone", v, TIME_ZONE_MAX_LENGTH, errors)))
    run("lead_fields", validate_lead_fields)
    if (
        cleaned.get("failure_message_enabled") is True
        and "failure_message" in cleaned
        and not cleaned["failure_message"]
        and "failure_message" not in errors
    ):
        errors["failure_message"] = ["Write the message customers get when the assistant fails, or turn it off."]
    if errors:
        raise ValidationError(errors)
    return cleaned


# --- settings -------------------------------------------------------------------------------------------------------
def assistant_settings_get(*, organization: Organization) -> AssistantSettings:
    """The organization's settings; the default row (inactive) is created on first read."""
    row, _created = AssistantSettings.objects.get_or_create(organization=organization)
    return row


def _values_of(row: AssistantSettings) -> dict[str, Any]:
    return {name: getattr(row, name) for name in SETTINGS_FIELDS}


def assistant_settings_update(
    *, organization: Organization, by: User | None, data: dict[str, Any]
) -> AssistantSettings:
    """Change the fields `data` holds (any of SETTINGS_FIELDS, `api_key`, `clear_api_key`); the others keep their
    values. `api_key` absent, None or blank keeps the stored key; `clear_api_key=True` forgets it (with a new
    `api_key` too: a ValidationError). The whole resulting row is validated (ValidationError keyed by field); a new
    `base_url` also against the server's address policy (`base_url_refusal`) — a stored one is checked when it is
    called, so an owner can still change the rest (turn the assistant off) after the operator tightened the policy."""
    new_key = data.get("api_key") or ""
    if not isinstance(new_key, str):
        raise ValidationError({"api_key": ["A string."]})
    new_key = new_key.strip()
    clear_key = data.get("clear_api_key") is True
    if new_key and clear_key:
        raise ValidationError({"clear_api_key": ["Send either a new api_key or clear_api_key, not both."]})
    if len(new_key) > API_KEY_MAX_LENGTH:
        raise ValidationError({"api_key": [f"At most {API_KEY_MAX_LENGTH} characters."]})
    if any(character.isspace() or ord(character) < 32 for character in new_key):
        raise ValidationError({"api_key": ["An API key has no spaces or control characters."]})
    _refuse_new_address(organization, data.get("base_url"))  # before the row lock: it may wait for DNS
    with transaction.atomic():
        row = assistant_settings_get(organization=organization)
        row = AssistantSettings.objects.select_for_update().get(pk=row.pk)
        values = _values_of(row) | {name: data[name] for name in SETTINGS_FIELDS if name in data}
        cleaned = settings_validate(values, check_address=False)
        changed = [name for name in SETTINGS_FIELDS if cleaned[name] != getattr(row, name)]
        for name in changed:
            setattr(row, name, cleaned[name])
        if new_key:
            row.api_key = new_key
            changed.append("api_key")
        elif clear_key and row.api_key:
            row.api_key = ""
            changed.append("api_key")
        if changed:
            row.save(update_fields=[*changed, "updated_at"])
    logger.info(
        "assistant settings of organization %s changed by %s: %s",
        organization.pk,
        by.pk if by is not None else "-",
        ", ".join(changed) or "nothing",  # field names only: never a value (the key among them)
    )
    return row


def _refuse_new_address(organization: Organization, value: Any) -> None:
    """A ValidationError on `base_url` when `value` is a new address (not the stored one) this server may not call."""
    if not isinstance(value, str):
        return
    try:
        url = validate_base_url(value)
    except ValidationError:
        return  # settings_validate says what is wrong with it, with the other fields' problems
    stored = AssistantSettings.objects.filter(organization=organization).values_list("base_url", flat=True).first()
    if not url or url == stored:
        return
    refusal = base_url_refusal(url)
    if refusal:
        raise ValidationError({"base_url": [refusal]})


def assistant_credentials_test(*, organization: Organization) -> CredentialsTestResult:
    """Check the stored settings against the provider (address reachable, key accepted, model offered) with the
    provider's `validate_credentials()`, configured as the engine configures it (the AI_REQUEST_TIMEOUT_SECONDS
    timeout). Always an answer, never an exception: `ok` and the model, or the provider's error `code` and its
    sentence for agents. Whether the assistant is active does not matter (test before turning it on). The public
    endpoints of OpenAI and Anthropic need a key: without one nothing is called."""
    row = assistant_settings_get(organization=organization)
    if not row.base_url and not row.api_key:
        return {
            "ok": False,
            "code": "api_key_missing",
            "message": "Enter the API key of your AI provider account (or the address of a local model server, "
            "which needs none) in the assistant settings.",
        }
    try:
        engine.provider_of(row).validate_credentials()  # the configuration the assistant's answers use
    except ProviderError as error:
        # str(error) holds the code, the HTTP status and the vendor's words, the key scrubbed by the provider layer.
        logger.info("assistant credentials test of organization %s failed: %s", organization.pk, error)
        return {"ok": False, "code": error.code, "message": error.message_for_agents}
    return {
        "ok": True,
        "model": row.model,
        "message": f"Connected: the AI provider accepts the key and offers the model '{row.model}'.",
    }


# --- FAQ ------------------------------------------------------------------------------------------------------------
def faq_validate(data: dict[str, Any]) -> dict[str, str]:
    """The `question` and `answer` of `data` (either may be absent) stripped; ValidationError keyed by field."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, str] = {}
    for name, limit in (("question", FAQ_QUESTION_MAX_LENGTH), ("answer", FAQ_ANSWER_MAX_LENGTH)):
        if name not in data:
            continue
        value = _check_text(name, data[name], limit, errors).strip()
        if not value and name not in errors:
            errors[name] = ["This field may not be blank."]
        cleaned[name] = value
    if errors:
        raise ValidationError(errors)
    return cleaned


def faq_is_full(*, organization: Organization) -> bool:
    return FaqEntry.objects.for_organization(organization).count() >= FAQ_MAX_ENTRIES


def faq_create(*, organization: Organization, by: User | None = None, question: str, answer: str) -> FaqEntry:
    """A new FAQ entry; a Conflict (`faq_limit`) past FAQ_MAX_ENTRIES entries."""
    values = faq_validate({"question": question, "answer": answer})
    with transaction.atomic():
        if faq_is_full(organization=organization):
            raise Conflict(
                f"The FAQ holds at most {FAQ_MAX_ENTRIES} entries: delete or merge some first.", code="faq_limit"
            )
        entry = FaqEntry.objects.create(organization=organization, **values)
    logger.info("FAQ entry %s created in organization %s", entry.pk, organization.pk)
    return entry


def faq_update(*, organization: Organization, entry: FaqEntry, data: dict[str, Any]) -> FaqEntry:
    """Change the `question` and/or `answer` `data` holds."""
    ensure_owned(organization, entry)
    values = faq_validate(data)
    changed = [name for name, value in values.items() if getattr(entry, name) != value]
    for name in changed:
        setattr(entry, name, values[name])
    if changed:
        entry.save(update_fields=[*changed, "updated_at"])
    return entry


def faq_delete(*, organization: Organization, entry: FaqEntry) -> None:
    ensure_owned(organization, entry)
    entry_id = entry.pk
    entry.delete()
    logger.info("FAQ entry %s deleted in organization %s", entry_id, organization.pk)
