"""The assistant in the admin: the settings page never renders the API key (a blank password input keeps it, the
checkbox clears it), values follow the API's rules, FAQ entries go through the services, runs are read-only."""

from __future__ import annotations

import logging

import pytest

from switchboard.accounts.models import User
from switchboard.assistant import settings_services
from switchboard.assistant.models import AssistantRun, AssistantSettings, FaqEntry, RunOutcome
from switchboard.inbox.events import ContactProfile, InboundMessage
from switchboard.inbox.models import Conversation
from switchboard.inbox.services.ingest import handle_events

pytestmark = pytest.mark.django_db

KEY = "sk-ant-api03-ADMINSECRET-0123456789"
SETTINGS = "/admin/assistant/assistantsettings/"


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser("root@example.com", "correct-horse-battery"))
    return client


def form_data(org, **changes) -> dict:
    """The change form as the page posts it (JSON fields as text)."""
    data = {
        "organization": org.pk,
        "is_active": "on",
        "provider": "anthropic",
        "base_url": "",
        "new_api_key": "",
        "model": "claude-sonnet-4-20250514",
        "temperature": "0.3",
        "max_tokens": "400",
        "system_prompt": "You are the assistant of Acme Realty.",
        "guardrails": "",
        "context_size": "10",
        "answer_when": "always",
        "business_hours": '{"mon": [["09:00", "18:00"]]}',
        "time_zone": "Europe/Madrid",
        "reply_delay_seconds": "8",
        "failure_message": "We will get back to you shortly.",
        "failure_message_enabled": "on",
        "lead_fields": '["purpose", "budget"]',
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_the_change_page_never_renders_the_key(admin_client, org):
    row = settings_services.assistant_settings_get(organization=org)
    settings_services.assistant_settings_update(organization=org, by=None, data={"api_key": KEY})

    page = admin_client.get(f"{SETTINGS}{row.pk}/change/")
    listing = admin_client.get(SETTINGS)

    assert page.status_code == 200 and listing.status_code == 200
    html = page.content.decode()
    assert KEY not in html and KEY not in listing.content.decode()
    assert 'name="new_api_key"' in html and 'type="password"' in html
    assert 'name="api_key"' not in html
    assert "API key set" in html


def test_saving_with_a_blank_key_keeps_it_and_a_new_key_replaces_it(admin_client, org, caplog):
    caplog.set_level(logging.DEBUG)
    row = settings_services.assistant_settings_get(organization=org)
    settings_services.assistant_settings_update(organization=org, by=None, data={"api_key": KEY})

    response = admin_client.post(f"{SETTINGS}{row.pk}/change/", form_data(org))
    assert response.status_code == 302, response.content.decode()[:3000]
    row.refresh_from_db()
    assert (row.api_key, row.provider, row.model, row.time_zone) == (
        KEY,
        "anthropic",
        "claude-sonnet-4-20250514",
        "Europe/Madrid",
    )
    assert row.lead_fields == ["purpose", "budget"]

    admin_client.post(f"{SETTINGS}{row.pk}/change/", form_data(org, new_api_key="sk-ant-NEW"))
    row.refresh_from_db()
    assert row.api_key == "sk-ant-NEW"

    admin_client.post(f"{SETTINGS}{row.pk}/change/", form_data(org, clear_api_key="on"))
    row.refresh_from_db()
    assert row.api_key == ""
    assert KEY not in caplog.text and "sk-ant-NEW" not in caplog.text


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"time_zone": "Mars/Olympus"}, "is not an IANA time zone"),
        ({"business_hours": '{"mon": [["18:00", "09:00"]]}'}, "does not end after it starts"),
        ({"lead_fields": '["Budget"]'}, "is not a field name"),
        ({"base_url": "ftp://example.com"}, "An http:// or https:// address"),
        ({"new_api_key": "sk-x", "clear_api_key": "on"}, "not both"),
        ({"failure_message": ""}, "Write the message customers get"),
    ],
)
def test_the_api_rules_hold_in_the_admin(admin_client, org, changes, message):
    row = settings_services.assistant_settings_get(organization=org)

    response = admin_client.post(f"{SETTINGS}{row.pk}/change/", form_data(org, **changes))

    assert response.status_code == 200  # the form again, with the error
    assert message in response.content.decode()
    row.refresh_from_db()
    assert row.provider == "openai"  # nothing saved


def test_adding_settings_for_an_organization(admin_client, org):
    response = admin_client.post(f"{SETTINGS}add/", form_data(org, new_api_key=KEY, base_url="http://ollama:11434/v1"))

    assert response.status_code == 302, response.content.decode()[:3000]
    row = AssistantSettings.objects.get(organization=org)
    assert (row.api_key, row.base_url, row.is_active) == (KEY, "http://ollama:11434/v1", True)
    change_page = admin_client.get(f"{SETTINGS}{row.pk}/change/").content.decode()
    assert 'value="http://ollama:11434/v1"' in change_page and KEY not in change_page
    assert admin_client.get(f"{SETTINGS}add/").status_code == 200
    again = admin_client.post(f"{SETTINGS}add/", form_data(org))
    assert again.status_code == 200 and "already exists" in again.content.decode()
    assert AssistantSettings.objects.filter(organization=org).count() == 1


def test_faq_entries_are_saved_and_deleted_through_the_services(admin_client, org):
    response = admin_client.post(
        "/admin/assistant/faqentry/add/", {"organization": org.pk, "question": "  Fees?  ", "answer": "None."}
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    entry = FaqEntry.objects.get(organization=org)
    assert entry.question == "Fees?"

    admin_client.post(
        f"/admin/assistant/faqentry/{entry.pk}/change/",
        {"organization": org.pk, "question": "Fees?", "answer": "No fees."},
    )
    entry.refresh_from_db()
    assert entry.answer == "No fees."
    assert admin_client.get("/admin/assistant/faqentry/").status_code == 200

    admin_client.post(f"/admin/assistant/faqentry/{entry.pk}/delete/", {"post": "yes"})
    assert not FaqEntry.objects.filter(pk=entry.pk).exists()


def test_runs_are_listed_filtered_and_read_only(admin_client, org, make_account):
    account = make_account(org)
    handle_events(
        account,
        [
            InboundMessage(
                platform_message_id="wamid.admin.1",
                contact=ContactProfile("14155550123", name="Maria"),
                timestamp=account.created_at,
                text="Hello",
            )
        ],
    )
    conversation = Conversation.objects.get(platform_account=account)
    failed = AssistantRun.objects.create(
        organization=org,
        conversation=conversation,
        outcome=RunOutcome.FAILED,
        error_code="invalid_key",
        error_message="The AI provider refused the API key: check it in the assistant settings.",
    )
    AssistantRun.objects.create(organization=org, conversation=conversation, outcome=RunOutcome.REPLIED)

    everything = admin_client.get("/admin/assistant/assistantrun/")
    only_failed = admin_client.get("/admin/assistant/assistantrun/", {"outcome": "failed"})
    by_organization = admin_client.get("/admin/assistant/assistantrun/", {"organization__id__exact": org.pk})

    assert everything.status_code == only_failed.status_code == by_organization.status_code == 200
    assert "invalid_key" in only_failed.content.decode()
    assert "2 assistant runs" in everything.content.decode() and "1 assistant run" in only_failed.content.decode()
    assert "2 assistant runs" in by_organization.content.decode()
    page = admin_client.get(f"/admin/assistant/assistantrun/{failed.pk}/change/")
    assert page.status_code == 200 and "refused the API key" in page.content.decode()
    assert admin_client.get("/admin/assistant/assistantrun/add/").status_code == 403
    assert (
        admin_client.post(f"/admin/assistant/assistantrun/{failed.pk}/change/", {"outcome": "replied"}).status_code
        == 403
    )
    assert admin_client.post(f"/admin/assistant/assistantrun/{failed.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AssistantRun.objects.get(pk=failed.pk).outcome == RunOutcome.FAILED
