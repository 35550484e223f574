"""Lists never load the platform account's encrypted secrets they do not show: with credentials that cannot be
decrypted (a wrong FIELD_ENCRYPTION_KEY after a botched rotation) the inbox still lists, opens and archives
conversations, and the encrypted columns are not even in the SELECT."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext

from switchboard.inbox import selectors
from switchboard.inbox.models import SyncRun
from switchboard.inbox.tests.conftest import T0
from switchboard.platforms.models import Platform, PlatformAccount
from switchboard.webhooks.models import WebhookLog

URL = "/api/messages/conversations/"
ENCRYPTED_COLUMNS = ('"credentials"', '"webhook_secret"')


@pytest.fixture
def wa(make_account, org):
    return make_account(
        org,
        Platform.WHATSAPP,
        display_name="Sales line",
        credentials={"access_token": "EAAG-stored-token"},
        webhook_secret="per-account-app-secret",
    )


@pytest.fixture
def wrong_key(settings, wa):
    """From here on the stored secrets cannot be decrypted: the key they were written with is gone."""
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ImproperlyConfigured, match="cannot be decrypted"):
        PlatformAccount.objects.get(pk=wa.pk)  # proves the premise: loading the secrets fails


def selects_of(queries: CaptureQueriesContext) -> list[str]:
    return [query["sql"] for query in queries.captured_queries if query["sql"].lstrip().upper().startswith("SELECT")]


def assert_no_encrypted_column(queries: CaptureQueriesContext) -> None:
    for sql in selects_of(queries):
        for column in ENCRYPTED_COLUMNS:
            assert column not in sql, sql


def test_the_selector_leaves_the_encrypted_columns_out():
    sql = str(selectors.conversation_queryset().query)
    assert '"platforms_platformaccount"."display_name"' in sql  # the account is still joined
    for column in ENCRYPTED_COLUMNS:
        assert column not in sql


def test_the_list_works_with_credentials_that_cannot_be_decrypted(
    agent_client, wa, make_conversation, make_message, wrong_key
):
    older = make_conversation(wa)
    newer = make_conversation(wa)
    make_message(newer, "Is the flat still available?")
    with CaptureQueriesContext(connection) as queries:
        response = agent_client.get(URL)
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [row["id"] for row in results] == [newer.pk, older.pk]
    assert results[0]["platform_account"] == {"id": wa.pk, "display_name": "Sales line"}
    assert results[0]["last_message_preview"] == "Is the flat still available?"
    assert any("platforms_platformaccount" in sql for sql in selects_of(queries))
    assert_no_encrypted_column(queries)


def test_a_thread_opens_and_archives_with_credentials_that_cannot_be_decrypted(
    agent_client, wa, make_conversation, make_message, wrong_key
):
    conversation = make_conversation(wa)
    make_message(conversation, "hello")
    with CaptureQueriesContext(connection) as queries:
        opened = agent_client.get(f"{URL}{conversation.pk}/")
        archived = agent_client.post(f"{URL}{conversation.pk}/archive/")
        messages = agent_client.get("/api/messages/messages/", {"conversation": conversation.pk})
    assert opened.status_code == 200, opened.content
    assert opened.json()["platform_account"] == {"id": wa.pk, "display_name": "Sales line"}
    assert archived.status_code == 200, archived.content
    assert archived.json()["is_archived"] is True
    assert messages.status_code == 200, messages.content
    assert [row["text"] for row in messages.json()["results"]] == ["hello"]
    assert_no_encrypted_column(queries)


def test_admin_lists_joining_the_account_work_with_credentials_that_cannot_be_decrypted(
    admin_client, org, wa, make_conversation, wrong_key
):
    conversation = make_conversation(wa)
    run = SyncRun.objects.create(organization=org, account=wa, since=T0)
    log = WebhookLog.objects.create(platform="whatsapp", method="POST", path="/api/webhooks/whatsapp/", account=wa)
    with CaptureQueriesContext(connection) as queries:
        for path in (
            "/admin/webhooks/webhooklog/",
            f"/admin/webhooks/webhooklog/{log.pk}/change/",
            "/admin/inbox/conversation/",
            "/admin/inbox/contact/",
            "/admin/inbox/syncrun/",
            f"/admin/inbox/conversation/{conversation.pk}/change/",
            f"/admin/inbox/contact/{conversation.contact_id}/change/",
            f"/admin/inbox/syncrun/{run.pk}/change/",
        ):
            response = admin_client.get(path)
            assert response.status_code == 200, path
            assert "Sales line" in response.content.decode(), path
    assert_no_encrypted_column(queries)
