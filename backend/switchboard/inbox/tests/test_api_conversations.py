"""/api/messages/conversations/: the inbox list, its filters and pages, a thread, and what an agent does to it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import client_for
from switchboard.accounts.models import Membership, Role
from switchboard.inbox.models import Conversation, Direction, Message
from switchboard.inbox.tests.conftest import T0
from switchboard.platforms.models import Platform
from switchboard.webhooks.testing import captured_broadcasts

URL = "/api/messages/conversations/"

CONVERSATION_KEYS = {
    "id",
    "platform",
    "platform_account",
    "contact",
    "is_archived",
    "archived_at",
    "archived_by",
    "ai_enabled",
    "needs_human",
    "needs_human_reason",
    "ai_paused_until",
    "last_message_at",
    "last_message_preview",
    "last_inbound_at",
    "unread_count",
    "messaging_window",
    "window_expires_at",
    "sendable",
    "message_tag",
    "created_at",
    "updated_at",
}


def detail(pk: int, action: str = "") -> str:
    return f"{URL}{pk}/" + (f"{action}/" if action else "")


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]


@pytest.fixture
def wa(make_account, org):
    return make_account(org, Platform.WHATSAPP, display_name="Sales line")


@pytest.fixture
def ig(make_account, org):
    return make_account(org, Platform.INSTAGRAM)


# --- the list ---------------------------------------------------------------------------------------------------------
def test_list_item_shape(agent_client, wa, make_contact, make_conversation, make_message):
    contact = make_contact(wa, name="Maria", username="maria.g", profile_picture_url="https://example.com/m.jpg")
    conversation = make_conversation(wa, contact)
    make_message(conversation, "Is the flat still available?")

    [item] = agent_client.get(URL).json()["results"]

    assert set(item) == CONVERSATION_KEYS
    assert item["id"] == conversation.pk
    assert item["platform"] == "whatsapp"
    assert item["platform_account"] == {"id": wa.pk, "display_name": "Sales line"}
    assert item["contact"] == {
        "id": contact.pk,
        "name": "Maria",
        "username": "maria.g",
        "phone_number": contact.phone_number,
        "profile_picture_url": "https://example.com/m.jpg",
        "external_id": contact.external_id,
        "is_trusted": False,
        "attributes": {},
        "platform_ids": {},
    }
    assert (item["needs_human"], item["needs_human_reason"], item["ai_paused_until"]) == (False, "", None)
    assert item["unread_count"] == 1
    assert item["last_message_preview"] == "Is the flat still available?"
    assert (item["is_archived"], item["archived_at"], item["archived_by"], item["ai_enabled"]) == (
        False,
        None,
        None,
        False,
    )


def test_ordered_by_last_activity_then_id(agent_client, wa, make_conversation):
    same_time = T0 + timedelta(hours=1)
    older = make_conversation(wa, last_message_at=T0)
    tie_a = make_conversation(wa, last_message_at=same_time)
    tie_b = make_conversation(wa, last_message_at=same_time)
    newest = make_conversation(wa, last_message_at=T0 + timedelta(hours=2))

    assert ids(agent_client.get(URL)) == [newest.pk, tie_b.pk, tie_a.pk, older.pk]


def test_archived_conversations_are_hidden_by_default(agent_client, agent, wa, make_conversation):
    inbox = make_conversation(wa)
    archived = make_conversation(wa, is_archived=True, archived_at=T0, archived_by=agent)

    assert ids(agent_client.get(URL)) == [inbox.pk]
    assert ids(agent_client.get(URL, {"is_archived": "false"})) == [inbox.pk]
    assert ids(agent_client.get(URL, {"is_archived": "true"})) == [archived.pk]


def test_filter_by_platform_and_account(agent_client, wa, ig, make_conversation):
    on_wa = make_conversation(wa)
    on_ig = make_conversation(ig)

    assert ids(agent_client.get(URL, {"platform": "whatsapp"})) == [on_wa.pk]
    assert ids(agent_client.get(URL, {"platform": "instagram"})) == [on_ig.pk]
    assert ids(agent_client.get(URL, {"platform_account": ig.pk})) == [on_ig.pk]
    assert agent_client.get(URL, {"platform": "telegram"}).status_code == 400


def test_filter_unread(agent_client, wa, make_conversation, make_message):
    unread = make_conversation(wa)
    make_message(unread)
    read = make_conversation(wa)
    make_message(read, is_read=True)

    assert ids(agent_client.get(URL, {"unread": "true"})) == [unread.pk]
    assert ids(agent_client.get(URL, {"unread": "false"})) == [read.pk]


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("maría", "by_name"),
        ("MARÍA", "by_name"),
        ("jorge.re", "by_username"),
        ("7770199", "by_phone"),
        ("balcony", "by_text"),
    ],
)
def test_search(agent_client, wa, make_contact, make_conversation, make_message, term, expected):
    rows = {
        "by_name": make_conversation(wa, make_contact(wa, name="María López")),
        "by_username": make_conversation(wa, make_contact(wa, name="J", username="jorge.realty")),
        "by_phone": make_conversation(wa, make_contact(wa, name="P", external_id="+34917770199")),
        "by_text": make_conversation(wa, make_contact(wa, name="T")),
    }
    make_message(rows["by_text"], "Does it have a balcony?")
    make_message(rows["by_text"], "A big BALCONY please")  # matching twice still lists the thread once
    make_message(rows["by_name"], "Hello")

    if connection.vendor == "sqlite" and term != term.lower() and not term.isascii():
        pytest.skip("SQLite's LIKE folds ASCII case only")
    assert ids(agent_client.get(URL, {"search": term})) == [rows[expected].pk]


def test_search_combines_with_archive_filter(agent_client, agent, wa, make_contact, make_conversation):
    make_conversation(wa, make_contact(wa, name="Nora"), is_archived=True, archived_by=agent, archived_at=T0)
    assert ids(agent_client.get(URL, {"search": "nora"})) == []
    assert len(ids(agent_client.get(URL, {"search": "nora", "is_archived": "true"}))) == 1


def test_list_runs_a_constant_number_of_queries(agent_client, agent, wa, ig, make_conversation, make_message):
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert agent_client.get(URL, {"is_archived": "true"}).status_code == 200
        return len(queries)

    make_conversation(wa, is_archived=True, archived_by=agent, archived_at=T0)
    few = count_queries()
    for account in (wa, ig) * 5:
        make_message(make_conversation(account, is_archived=True, archived_by=agent, archived_at=T0))
    assert count_queries() == few


# --- pages ------------------------------------------------------------------------------------------------------------
def test_cursor_pagination_walks_every_conversation_once(agent_client, wa, make_conversation):
    created = [make_conversation(wa) for _ in range(5)]

    seen: list[int] = []
    response = agent_client.get(URL, {"page_size": 2})
    while True:
        page = response.json()
        assert len(page["results"]) <= 2
        seen += [item["id"] for item in page["results"]]
        if not page["next"]:
            break
        response = agent_client.get(page["next"])

    assert seen == [c.pk for c in reversed(created)]
    assert set(response.json()) == {"next", "previous", "results", "unread_conversations"}


def test_page_size_defaults_to_50_and_is_capped_at_100(agent_client, wa, make_contact):
    contacts = [make_contact(wa) for _ in range(105)]
    Conversation.objects.bulk_create(
        Conversation(
            organization=wa.organization,
            platform_account=wa,
            contact=contact,
            platform=wa.platform,
            last_message_at=T0 + timedelta(minutes=i),
        )
        for i, contact in enumerate(contacts)
    )

    assert len(ids(agent_client.get(URL))) == 50
    assert len(ids(agent_client.get(URL, {"page_size": 1000}))) == 100


# --- one conversation -------------------------------------------------------------------------------------------------
def test_detail_includes_recent_messages_oldest_first(agent_client, wa, make_conversation, make_message):
    conversation = make_conversation(wa)
    messages = [make_message(conversation, f"m{i}", timestamp=T0 + timedelta(minutes=i)) for i in range(5)]

    data = agent_client.get(detail(conversation.pk)).json()
    assert set(data) == CONVERSATION_KEYS | {"messages"}
    assert [m["id"] for m in data["messages"]] == [m.pk for m in messages]

    limited = agent_client.get(detail(conversation.pk), {"messages_limit": 2}).json()
    assert [m["text"] for m in limited["messages"]] == ["m3", "m4"]


def test_detail_messages_limit_default_50_max_200(agent_client, wa, make_conversation):
    conversation = make_conversation(wa)
    Message.objects.bulk_create(
        Message(
            organization=wa.organization,
            conversation=conversation,
            platform_account=wa,
            direction=Direction.INBOUND,
            text=f"m{i}",
            timestamp=T0 + timedelta(seconds=i),
        )
        for i in range(205)
    )

    assert len(agent_client.get(detail(conversation.pk)).json()["messages"]) == 50
    capped = agent_client.get(detail(conversation.pk), {"messages_limit": 500}).json()["messages"]
    assert len(capped) == 200
    assert capped[-1]["text"] == "m204"
    for bad in ("0", "-1", "lots"):
        response = agent_client.get(detail(conversation.pk), {"messages_limit": bad})
        assert response.status_code == 400
        assert "messages_limit" in response.json()["errors"]


def test_an_archived_conversation_still_opens(agent_client, agent, wa, make_conversation):
    archived = make_conversation(wa, is_archived=True, archived_by=agent, archived_at=T0)
    assert agent_client.get(detail(archived.pk)).status_code == 200
    assert agent_client.post(detail(archived.pk, "unarchive")).status_code == 200


def test_patch_toggles_the_ai_assistant(agent_client, wa, make_conversation, django_capture_on_commit_callbacks):
    conversation = make_conversation(wa)

    with captured_broadcasts() as sent, django_capture_on_commit_callbacks(execute=True):
        response = agent_client.patch(detail(conversation.pk), {"ai_enabled": True}, format="json")

    assert response.status_code == 200
    assert response.json()["ai_enabled"] is True
    assert Conversation.objects.get(pk=conversation.pk).ai_enabled is True
    assert [(event, data["ai_enabled"]) for _, event, data in sent] == [("conversation.updated", True)]

    assert (
        agent_client.patch(detail(conversation.pk), {"ai_enabled": False}, format="json").json()["ai_enabled"] is False
    )
    assert agent_client.patch(detail(conversation.pk), {"ai_enabled": "maybe"}, format="json").status_code == 400
    assert agent_client.put(detail(conversation.pk), {"ai_enabled": True}, format="json").status_code == 405


# --- actions ----------------------------------------------------------------------------------------------------------
def test_archive_then_it_is_listed_under_the_archive(agent_client, agent, wa, make_conversation):
    conversation = make_conversation(wa)

    response = agent_client.post(detail(conversation.pk, "archive"))

    assert response.status_code == 200
    data = response.json()
    assert data["is_archived"] is True
    assert data["archived_by"] == {"id": agent.pk, "full_name": agent.full_name, "email": agent.email}
    assert data["archived_at"] is not None
    assert ids(agent_client.get(URL)) == []
    [listed] = agent_client.get(URL, {"is_archived": "true"}).json()["results"]
    assert listed["archived_by"]["id"] == agent.pk and listed["archived_at"] == data["archived_at"]

    unarchived = agent_client.post(detail(conversation.pk, "unarchive")).json()
    assert (unarchived["is_archived"], unarchived["archived_at"], unarchived["archived_by"]) == (False, None, None)
    assert ids(agent_client.get(URL)) == [conversation.pk]


def test_mark_all_read(agent_client, wa, make_conversation, make_message):
    conversation = make_conversation(wa)
    for _ in range(3):
        make_message(conversation)
    make_message(conversation, direction=Direction.OUTBOUND)

    response = agent_client.post(detail(conversation.pk, "mark-all-read"))

    assert response.status_code == 200
    assert response.json()["unread_count"] == 0
    assert not Message.objects.filter(conversation=conversation, is_read=False).exists()
    assert Message.objects.filter(conversation=conversation, read_at__isnull=False).count() == 3


def test_actions_take_no_body_and_refuse_get(agent_client, wa, make_conversation):
    conversation = make_conversation(wa)
    for action in ("archive", "unarchive", "mark-all-read"):
        assert agent_client.get(detail(conversation.pk, action)).status_code == 405


# --- tenancy ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "action", "body"),
    [
        ("get", "", None),
        ("patch", "", {"ai_enabled": True}),
        ("post", "archive", None),
        ("post", "unarchive", None),
        ("post", "mark-all-read", None),
    ],
)
def test_another_tenants_conversation_is_404(
    make_org, make_user, make_account, make_conversation, make_message, agent_client, method, action, body
):
    other_org = make_org()
    make_user(other_org, Role.OWNER)
    conversation = make_conversation(make_account(other_org))
    make_message(conversation)

    response = getattr(agent_client, method)(detail(conversation.pk, action), body, format="json")

    assert response.status_code == 404
    assert response.json()["detail"]
    fresh = Conversation.objects.get(pk=conversation.pk)
    assert (fresh.is_archived, fresh.ai_enabled, fresh.unread_count) == (False, False, 1)


def test_list_shows_only_the_callers_organization(make_org, make_user, make_account, make_conversation):
    org_a, org_b = make_org(), make_org()
    mine = make_conversation(make_account(org_a))
    make_conversation(make_account(org_b))
    user = make_user(org_a)

    assert ids(client_for(user).get(URL)) == [mine.pk]
    assert ids(client_for(user).get(URL, {"platform_account": mine.platform_account_id + 1})) == []


def test_x_organization_header_picks_the_tenant(make_org, make_user, make_account, make_conversation):
    org_a, org_b = make_org(), make_org()
    in_a, in_b = make_conversation(make_account(org_a)), make_conversation(make_account(org_b))
    user = make_user(org_a)
    Membership.objects.create(user=user, organization=org_b)

    assert ids(client_for(user, org_a).get(URL)) == [in_a.pk]
    assert ids(client_for(user, org_b).get(URL)) == [in_b.pk]
    assert client_for(user, org_a).get(detail(in_b.pk)).status_code == 404


def test_requires_authentication(api_client, wa, make_conversation):
    conversation = make_conversation(wa)
    assert api_client.get(URL).status_code == 401
    assert api_client.post(detail(conversation.pk, "archive")).status_code == 401


# --- the assistant's switches -----------------------------------------------------------------------------------------
def test_toggle_ai_sets_or_flips_and_broadcasts(
    agent_client, wa, make_conversation, django_capture_on_commit_callbacks
):
    conversation = make_conversation(wa)
    with captured_broadcasts() as sent, django_capture_on_commit_callbacks(execute=True):
        flipped = agent_client.post(detail(conversation.pk, "toggle-ai"))
    assert flipped.status_code == 200 and flipped.json()["ai_enabled"] is True
    assert [(event, data["id"], data["ai_enabled"]) for _, event, data in sent] == [
        ("conversation.updated", conversation.pk, True)
    ]
    again = agent_client.post(detail(conversation.pk, "toggle-ai"), {"enabled": True}, format="json")
    assert again.json()["ai_enabled"] is True  # set, not flipped
    off = agent_client.post(detail(conversation.pk, "toggle-ai"), {"enabled": False}, format="json")
    assert off.json()["ai_enabled"] is False
    bad = agent_client.post(detail(conversation.pk, "toggle-ai"), {"enabled": "perhaps"}, format="json")
    assert bad.status_code == 400 and "enabled" in bad.json()["errors"]


def test_toggle_trusted_changes_every_conversation_of_the_contact(
    agent_client, wa, ig, make_contact, make_conversation, django_capture_on_commit_callbacks
):
    contact = make_contact(wa, name="Maria")
    conversation = make_conversation(wa, contact)
    with captured_broadcasts() as sent, django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(detail(conversation.pk, "toggle-trusted"))
    assert response.status_code == 200 and response.json()["contact"]["is_trusted"] is True
    assert [(event, data["id"], data["contact"]["is_trusted"]) for _, event, data in sent] == [
        ("conversation.updated", conversation.pk, True)
    ]
    trusted = agent_client.get(URL, {"is_trusted": "true"})
    assert ids(trusted) == [conversation.pk]
    assert agent_client.post(detail(conversation.pk, "toggle-trusted")).json()["contact"]["is_trusted"] is False


def test_another_organizations_conversation_cannot_be_toggled(agent_client, make_org, make_account, make_conversation):
    theirs = make_conversation(make_account(make_org()))
    assert agent_client.post(detail(theirs.pk, "toggle-ai")).status_code == 404
    assert agent_client.post(detail(theirs.pk, "toggle-trusted")).status_code == 404
    theirs.refresh_from_db()
    assert theirs.ai_enabled is False and theirs.contact.is_trusted is False


def test_needs_human_and_lead_attribute_filters(agent_client, wa, make_contact, make_conversation):
    renter = make_conversation(wa, make_contact(wa, name="R", attributes={"purpose": "Rent", "bedrooms": 2}))
    buyer = make_conversation(wa, make_contact(wa, name="B", attributes={"purpose": "buy"}))
    Conversation.objects.filter(pk=buyer.pk).update(needs_human=True, needs_human_reason="asks for a viewing")
    assert ids(agent_client.get(URL, {"attribute": "purpose:rent"})) == [renter.pk]
    assert ids(agent_client.get(URL, {"attribute": "purpose:buy"})) == [buyer.pk]
    assert ids(agent_client.get(URL, {"needs_human": "true"})) == [buyer.pk]
    for bad in ("purpose", "pur-pose:rent", "purpose:", ":rent"):
        response = agent_client.get(URL, {"attribute": bad})
        assert response.status_code == 400 and "attribute" in response.json()["errors"], bad
