"""GET/PUT/PATCH /api/assistant/settings/ and POST /api/assistant/settings/test/: the defaults, every validation
rule, who may write, and the API key — accepted, kept, cleared, and never answered or logged. The credentials test
runs against FakeVendor on 127.0.0.1 (OpenAI-compatible and Anthropic routes)."""

from __future__ import annotations

import logging

import pytest

from conftest import client_for
from switchboard.accounts.models import Role
from switchboard.assistant.models import DEFAULT_FAILURE_MESSAGE, DEFAULT_SYSTEM_PROMPT, AssistantSettings
from tests.fakes.llm import (
    ANTHROPIC_MODEL,
    OPENAI_MODEL,
    anthropic_error,
    anthropic_model,
    openai_base_url,
    openai_error,
    openai_models,
    script_anthropic_model,
    script_openai_models,
)

pytestmark = pytest.mark.django_db

URL = "/api/assistant/settings/"
TEST_URL = "/api/assistant/settings/test/"
KEY = "sk-proj-SECRETKEY0123456789abcdefABCDEF"

DEFAULTS = {
    "is_active": False,
    "provider": "openai",
    "base_url": "",
    "model": "gpt-4o-mini",
    "temperature": 0.3,
    "max_tokens": 400,
    "system_prompt": DEFAULT_SYSTEM_PROMPT,
    "guardrails": "",
    "context_size": 10,
    "answer_when": "always",
    "business_hours": {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
    "time_zone": "UTC",
    "reply_delay_seconds": 8,
    "failure_message": DEFAULT_FAILURE_MESSAGE,
    "failure_message_enabled": True,
    "ai_on_for_trusted": False,
    "lead_fields": ["purpose", "property_type", "budget", "bedrooms", "area", "move_in_date"],
    "api_key_set": False,
}


def test_get_answers_the_defaults_and_creates_the_row(owner_client, org):
    response = owner_client.get(URL)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {*DEFAULTS, "updated_at"}
    assert {key: value for key, value in body.items() if key != "updated_at"} == DEFAULTS
    assert AssistantSettings.objects.filter(organization=org).count() == 1
    owner_client.get(URL)
    assert AssistantSettings.objects.filter(organization=org).count() == 1


def test_agents_read_but_may_not_write_or_test(agent_client, org):
    assert agent_client.get(URL).status_code == 200

    for method in ("put", "patch"):
        response = getattr(agent_client, method)(URL, {"is_active": True}, format="json")
        assert response.status_code == 403
        assert response.json() == {
            "detail": "Only owners and admins of the organization may change this.",
            "code": "permission_denied",
        }
    assert agent_client.post(TEST_URL).status_code == 403
    assert AssistantSettings.objects.get(organization=org).is_active is False


def test_admins_write(make_user, org):
    admin_client = client_for(make_user(org, Role.ADMIN))

    response = admin_client.patch(URL, {"is_active": True, "model": "llama3.1"}, format="json")

    assert response.status_code == 200
    assert (response.json()["is_active"], response.json()["model"]) == (True, "llama3.1")


def test_put_changes_only_the_fields_sent(owner_client, org):
    response = owner_client.put(
        URL,
        {
            "is_active": True,
            "provider": "anthropic",
            "model": "claude-sonnet-4-20250514",
            "temperature": 0,
            "max_tokens": 8000,
            "context_size": 50,
            "answer_when": "outside_hours",
            "business_hours": {"sat": [["15:00", "19:00"], ["10:00", "13:00"]], "sun": [], "mon": [["00:00", "24:00"]]},
            "time_zone": "Europe/Madrid",
            "reply_delay_seconds": 0,
            "lead_fields": ["purpose", "budget_max"],
            "guardrails": "  Never discuss commissions.  ",
        },
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["provider"] == "anthropic"
    assert body["temperature"] == 0
    assert body["business_hours"] == {
        "mon": [["00:00", "24:00"]],
        "sat": [["10:00", "13:00"], ["15:00", "19:00"]],
        "sun": [],
    }
    assert body["guardrails"] == "Never discuss commissions."
    assert body["lead_fields"] == ["purpose", "budget_max"]
    assert body["failure_message"] == DEFAULT_FAILURE_MESSAGE  # not sent: kept
    assert body["system_prompt"] == DEFAULT_SYSTEM_PROMPT
    row = AssistantSettings.objects.get(organization=org)
    assert (row.time_zone, row.max_tokens, row.context_size, row.reply_delay_seconds) == ("Europe/Madrid", 8000, 50, 0)


def test_base_url_is_normalized_and_local_hosts_are_allowed(owner_client):
    for sent, stored in [
        ("http://127.0.0.1:11434/v1/", "http://127.0.0.1:11434/v1"),
        ("http://ollama:11434/v1", "http://ollama:11434/v1"),
        (
            "https://generativelanguage.googleapis.com/v1beta/openai",
            "https://generativelanguage.googleapis.com/v1beta/openai",
        ),
        ("", ""),
    ]:
        response = owner_client.patch(URL, {"base_url": sent}, format="json")
        assert response.status_code == 200, response.json()
        assert response.json()["base_url"] == stored


ADDRESS = "An http:// or https:// address, e.g. https://api.openai.com/v1."
INTERVAL = 'each interval is ["HH:MM", "HH:MM"] in 24-hour time, e.g. ["09:00", "18:00"] ("24:00" ends at midnight).'
NOT_A_ZONE = "is not an IANA time zone, e.g. Europe/Madrid or UTC."
NOT_A_NAME = "is not a field name: lowercase letters, digits and _, starting with a letter."


def invalid(field: str, message: str) -> dict:
    return {"detail": f"Invalid input. {field}: {message}", "code": "invalid", "errors": {field: [message]}}


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"provider": "gemini"}, "provider", '"gemini" is not a valid choice.'),
        ({"base_url": "ftp://example.com/v1"}, "base_url", ADDRESS),
        ({"base_url": "api.openai.com/v1"}, "base_url", ADDRESS),
        (
            {"base_url": "http://user:pw@example.com/v1"},
            "base_url",
            "Put the credentials in api_key, not in the address.",
        ),
        (
            {"base_url": "http://example.com:99999/v1"},
            "base_url",
            "Not a valid web address, e.g. https://api.openai.com/v1.",
        ),
        (
            {"base_url": "http://example.com/v1?key=1"},
            "base_url",
            "The address of the API only, without ? or #, e.g. http://127.0.0.1:11434/v1.",
        ),
        ({"base_url": "http://exa mple.com/v1"}, "base_url", "An address has no spaces or control characters."),
        ({"temperature": 2.5}, "temperature", "Ensure this value is less than or equal to 2.0."),
        ({"temperature": -0.1}, "temperature", "Ensure this value is greater than or equal to 0.0."),
        ({"max_tokens": 0}, "max_tokens", "Ensure this value is greater than or equal to 1."),
        ({"max_tokens": 8001}, "max_tokens", "Ensure this value is less than or equal to 8000."),
        ({"context_size": 0}, "context_size", "Ensure this value is greater than or equal to 1."),
        ({"context_size": 51}, "context_size", "Ensure this value is less than or equal to 50."),
        ({"reply_delay_seconds": -1}, "reply_delay_seconds", "Ensure this value is greater than or equal to 0."),
        ({"reply_delay_seconds": 121}, "reply_delay_seconds", "Ensure this value is less than or equal to 120."),
        ({"answer_when": "sometimes"}, "answer_when", '"sometimes" is not a valid choice.'),
        (
            {"business_hours": {"monday": [["09:00", "18:00"]]}},
            "business_hours",
            "Unknown day 'monday': use mon, tue, wed, thu, fri, sat, sun.",
        ),
        (
            {"business_hours": {"mon": [["9:00", "18:00"]]}},
            "business_hours",
            f"mon: {INTERVAL}",
        ),
        (
            {"business_hours": {"tue": [["24:00", "24:00"]]}},
            "business_hours",
            f"tue: {INTERVAL}",
        ),
        (
            {"business_hours": {"wed": [["18:00", "09:00"]]}},
            "business_hours",
            "wed: 18:00-09:00 does not end after it starts.",
        ),
        (
            {"business_hours": {"thu": [["09:00", "13:00"], ["12:00", "18:00"]]}},
            "business_hours",
            "thu: intervals overlap (12:00 is before 13:00).",
        ),
        (
            {"business_hours": {"fri": [["09:00"]]}},
            "business_hours.fri.0",
            "Ensure this field has at least 2 elements.",
        ),
        ({"time_zone": "Mars/Olympus"}, "time_zone", f"'Mars/Olympus' {NOT_A_ZONE}"),
        ({"time_zone": "../../etc/passwd"}, "time_zone", f"'../../etc/passwd' {NOT_A_ZONE}"),
        (
            {"lead_fields": ["Budget"]},
            "lead_fields",
            f"'Budget' {NOT_A_NAME}",
        ),
        (
            {"lead_fields": ["move-in"]},
            "lead_fields",
            f"'move-in' {NOT_A_NAME}",
        ),
        ({"lead_fields": ["budget", "budget"]}, "lead_fields", "'budget' is listed twice."),
        ({"model": "   "}, "model", "This field may not be blank."),
        ({"is_active": "maybe"}, "is_active", "Must be a valid boolean."),
        (
            {"failure_message": ""},
            "failure_message",
            "Write the message customers get when the assistant fails, or turn it off.",
        ),
        (
            {"api_key": "sk-new", "clear_api_key": True},
            "clear_api_key",
            "Send either a new api_key or clear_api_key, not both.",
        ),
        ({"api_key": "sk with spaces"}, "api_key", "An API key has no spaces or control characters."),
    ],
)
def test_each_rule_is_a_400_naming_the_field(owner_client, org, body, field, message):
    before = owner_client.get(URL).json()

    response = owner_client.put(URL, body, format="json")

    assert response.status_code == 400
    assert response.json() == invalid(field, message)
    assert owner_client.get(URL).json() == before  # nothing saved


def test_a_failure_message_may_be_blank_when_it_is_off(owner_client):
    response = owner_client.patch(URL, {"failure_message": "", "failure_message_enabled": False}, format="json")

    assert response.status_code == 200
    assert (response.json()["failure_message"], response.json()["failure_message_enabled"]) == ("", False)


def test_a_body_that_is_not_json_is_refused(owner_client):
    response = owner_client.put(URL, "is_active=true", content_type="application/x-www-form-urlencoded")

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


# --- the API key --------------------------------------------------------------------------------------------------
def test_the_key_is_stored_kept_and_cleared_and_never_answered(owner_client, org, caplog):
    caplog.set_level(logging.DEBUG)

    set_key = owner_client.put(URL, {"api_key": f"  {KEY}  ", "model": "gpt-4.1-mini"}, format="json")
    assert set_key.status_code == 200
    assert set_key.json()["api_key_set"] is True
    assert "api_key" not in set_key.json()
    assert AssistantSettings.objects.get(organization=org).api_key == KEY

    for body in ({"model": "gpt-4o"}, {"api_key": ""}, {"api_key": None}):
        kept = owner_client.patch(URL, body, format="json")
        assert kept.status_code == 200
        assert kept.json()["api_key_set"] is True
    assert AssistantSettings.objects.get(organization=org).api_key == KEY

    read = owner_client.get(URL)
    for response in (set_key, kept, read):
        assert KEY not in response.content.decode()

    cleared = owner_client.patch(URL, {"clear_api_key": True}, format="json")
    assert cleared.json()["api_key_set"] is False
    assert AssistantSettings.objects.get(organization=org).api_key == ""
    assert KEY not in caplog.text
    assert "assistant settings of organization" in caplog.text  # the change is logged, by field name only
    assert "api_key" in caplog.text


def test_the_key_is_encrypted_at_rest(owner_client, org):
    from django.db import connection

    owner_client.patch(URL, {"api_key": KEY}, format="json")

    with connection.cursor() as cursor:
        cursor.execute("SELECT api_key FROM assistant_assistantsettings WHERE organization_id = %s", [org.pk])
        (stored,) = cursor.fetchone()
    assert stored and KEY not in stored


# --- the credentials test -----------------------------------------------------------------------------------------
def configure(org, **values) -> AssistantSettings:
    row, _ = AssistantSettings.objects.get_or_create(organization=org)
    for name, value in values.items():
        setattr(row, name, value)
    row.save()
    return row


def test_openai_compatible_ok(owner_client, org, vendor, caplog):
    caplog.set_level(logging.DEBUG)
    configure(org, base_url=openai_base_url(vendor), api_key=KEY, model=OPENAI_MODEL)
    script_openai_models(vendor, openai_models("gpt-4o", OPENAI_MODEL))

    response = owner_client.post(TEST_URL)

    assert response.status_code == 200
    assert response.json() == {
        "ok": True,
        "model": OPENAI_MODEL,
        "message": f"Connected: the AI provider accepts the key and offers the model '{OPENAI_MODEL}'.",
    }
    (request,) = vendor.requests("GET", r"/v1/models")
    assert request.headers["authorization"] == f"Bearer {KEY}"  # the key went to the vendor, and nowhere else
    assert KEY not in response.content.decode() and KEY not in caplog.text


def test_openai_invalid_key(owner_client, org, vendor, caplog):
    caplog.set_level(logging.DEBUG)
    configure(org, base_url=openai_base_url(vendor), api_key=KEY, model=OPENAI_MODEL)
    script_openai_models(
        vendor,
        openai_error(401, f"Incorrect API key provided: {KEY}. You can find your API key at …", code="invalid_api_key"),
    )

    response = owner_client.post(TEST_URL)

    assert response.status_code == 200
    assert response.json() == {
        "ok": False,
        "code": "invalid_key",
        "message": "The AI provider refused the API key: check it in the assistant settings.",
    }
    assert KEY not in caplog.text  # the vendor's echo of the key is scrubbed before it is logged
    assert "invalid_key" in caplog.text


def test_openai_model_not_found(owner_client, org, vendor):
    configure(org, base_url=openai_base_url(vendor), api_key=KEY, model="gpt-9")
    script_openai_models(vendor, openai_models("gpt-4o", OPENAI_MODEL))

    response = owner_client.post(TEST_URL)

    assert response.json() == {
        "ok": False,
        "code": "model_not_found",
        "message": "The AI provider does not offer the model 'gpt-9': check the model name in the assistant settings.",
    }


def test_ollama_needs_no_key(owner_client, org, vendor):
    configure(org, base_url=openai_base_url(vendor), api_key="", model="llama3.1")
    script_openai_models(vendor, openai_models("llama3.1:latest", owned_by="library"))

    response = owner_client.post(TEST_URL)

    assert response.json()["ok"] is True, response.json()
    (request,) = vendor.requests("GET", r"/v1/models")
    assert "authorization" not in request.headers


def test_anthropic_ok_and_model_not_found(owner_client, org, vendor):
    configure(org, provider="anthropic", base_url=vendor.url, api_key=KEY, model=ANTHROPIC_MODEL)
    script_anthropic_model(vendor, anthropic_model())

    assert owner_client.post(TEST_URL).json()["ok"] is True
    assert vendor.requests("GET", r"/v1/models/.+")[0].headers["x-api-key"] == KEY

    configure(org, model="claude-nope")
    script_anthropic_model(vendor, anthropic_error(404, "not_found_error", "model: claude-nope"))
    assert owner_client.post(TEST_URL).json() == {
        "ok": False,
        "code": "model_not_found",
        "message": "The AI provider does not offer the model 'claude-nope': check the model name in the assistant "
        "settings.",
    }


def test_an_address_nobody_answers_is_unreachable(owner_client, org, dead_url):
    configure(org, base_url=dead_url + "/v1", api_key=KEY)

    response = owner_client.post(TEST_URL)

    assert response.json() == {
        "ok": False,
        "code": "unreachable",
        "message": "The AI provider could not be reached: check its address in the assistant settings.",
    }


def test_the_public_endpoint_without_a_key_is_not_called(owner_client, org):
    response = owner_client.post(TEST_URL)  # the defaults: OpenAI's public endpoint, no key

    assert response.status_code == 200
    assert response.json() == {
        "ok": False,
        "code": "api_key_missing",
        "message": "Enter the API key of your AI provider account (or the address of a local model server, which "
        "needs none) in the assistant settings.",
    }


# --- the schema ---------------------------------------------------------------------------------------------------
def test_the_schema_says_the_key_is_write_only_and_the_answer_is_read_only():
    from drf_spectacular.generators import SchemaGenerator

    components = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]
    answer = components["AssistantSettings"]["properties"]
    request = components["AssistantSettingsUpdateRequest"]["properties"]

    assert "api_key" not in answer and answer["api_key_set"]["readOnly"] is True
    assert all(field.get("readOnly") for field in answer.values())
    assert request["api_key"]["writeOnly"] is True and "api_key_set" not in request
    assert components["AssistantSettingsProviderEnum"]["enum"] == ["openai", "anthropic"]
    assert answer["provider"]["allOf"] == [{"$ref": "#/components/schemas/AssistantSettingsProviderEnum"}]
    assert request["temperature"]["maximum"] == 2 and request["max_tokens"]["maximum"] == 8000
