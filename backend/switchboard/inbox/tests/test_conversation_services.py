"""inbox.services.conversations: what agents do, the events it sends after commit, exact unread counts under
concurrency (PostgreSQL), and the admin actions built on it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import close_old_connections, transaction
from django.test import Client
from django.utils import timezone

from switchboard.accounts.models import Role, User
from switchboard.inbox.events import ContactProfile, InboundMessage
from switchboard.inbox.models import ContactIdentity, Conversation, Direction, Message
from switchboard.inbox.services.conversations import (
    conversation_archive,
    conversation_archive_many,
    conversation_mark_all_read,
    conversation_set_ai_enabled,
    conversation_unarchive,
    conversation_unarchive_many,
    message_mark_read,
)
from switchboard.inbox.services.ingest import handle_events
from switchboard.inbox.tests.conftest import T0, create_conversation, create_message
from switchboard.platforms.models import Platform
from switchboard.webhooks.testing import captured_broadcasts


@pytest.fixture
def account(make_account, org):
    return make_account(org, Platform.WHATSAPP)


@pytest.fixture
def conversation(account, make_conversation):
    return make_conversation(account)


def fresh(conversation: Conversation) -> Conversation:
    return Conversation.objects.get(pk=conversation.pk)


# --- archive ----------------------------------------------------------------------------------------------------------
def test_archive_records_who_and_when_and_broadcasts_after_commit(
    org, owner, agent, conversation, django_capture_on_commit_callbacks
):
    before = timezone.now()
    with captured_broadcasts() as sent:
        with django_capture_on_commit_callbacks() as callbacks:
            archived = conversation_archive(organization=org, conversation=conversation, by=agent)
            assert sent == []  # nothing is pushed before the commit
        for callback in callbacks:
            callback()

    assert archived.is_archived and archived.archived_by == agent and archived.archived_at >= before
    [(recipients, event, data)] = sent
    assert event == "conversation.updated"
    assert sorted(recipients) == sorted([owner.pk, agent.pk])
    assert data["id"] == conversation.pk and data["is_archived"] is True and data["archived_by"]["id"] == agent.pk


def test_archiving_twice_keeps_the_first_record_and_sends_nothing(
    org, owner, agent, conversation, django_capture_on_commit_callbacks
):
    conversation_archive(organization=org, conversation=conversation, by=agent)
    first = fresh(conversation)
    with captured_broadcasts() as sent, django_capture_on_commit_callbacks(execute=True):
        again = conversation_archive(organization=org, conversation=first, by=owner)
    assert (again.archived_by, again.archived_at) == (agent, first.archived_at)
    assert sent == []


def test_unarchive_clears_the_record(org, agent, conversation, django_capture_on_commit_callbacks):
    conversation_archive(organization=org, conversation=conversation, by=agent)
    with captured_broadcasts() as sent, django_capture_on_commit_callbacks(execute=True):
        back = conversation_unarchive(organization=org, conversation=conversation, by=agent)
    assert (back.is_archived, back.archived_at, back.archived_by) == (False, None, None)
    assert [e for _, e, _ in sent] == ["conversation.updated"]


def test_a_rolled_back_write_sends_nothing(org, agent, conversation, django_capture_on_commit_callbacks):
    with (
        captured_broadcasts() as sent,
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        conversation_archive(organization=org, conversation=conversation, by=agent)
        raise RuntimeError("the request failed later")
    assert callbacks == [] and sent == []
    assert fresh(conversation).is_archived is False


def test_services_refuse_another_organizations_rows(make_org, agent, conversation, make_message):
    other = make_org()
    message = make_message(conversation)
    with pytest.raises(Conversation.DoesNotExist):
        conversation_archive(organization=other, conversation=conversation, by=agent)
    with pytest.raises(Conversation.DoesNotExist):
        conversation_mark_all_read(organization=other, conversation=conversation, by=agent)
    with pytest.raises(Message.DoesNotExist):
        message_mark_read(organization=other, message=message, by=agent)
    assert fresh(conversation).unread_count == 1 and not fresh(conversation).is_archived


def test_bulk_archive_changes_only_the_given_organization(
    make_org, make_user, make_account, org, owner, account, django_capture_on_commit_callbacks
):
    other_org = make_org()
    make_user(other_org, Role.OWNER)
    mine = [create_conversation(account) for _ in range(3)]
    theirs = create_conversation(make_account(other_org))
    create_conversation(account, is_archived=True, archived_at=T0, archived_by=owner)  # already archived: untouched

    with captured_broadcasts() as sent, django_capture_on_commit_callbacks(execute=True):
        changed = conversation_archive_many(organization=org, conversations=Conversation.objects.all(), by=owner)

    assert changed == 3
    assert all(fresh(c).is_archived and fresh(c).archived_by == owner and fresh(c).archived_at for c in mine)
    assert not fresh(theirs).is_archived  # another organization's row is as if it did not exist
    assert sorted(data["id"] for _, _, data in sent) == sorted(c.pk for c in mine)
    assert {tuple(recipients) for recipients, _, _ in sent} == {(owner.pk,)}
    assert {e for _, e, _ in sent} == {"conversation.updated"}

    assert conversation_unarchive_many(organization=org, conversations=Conversation.objects.all(), by=owner) == 4
    assert not Conversation.objects.filter(is_archived=True).exclude(pk=theirs.pk).exists()
    assert conversation_unarchive_many(organization=other_org, conversations=Conversation.objects.all(), by=owner) == 0


def test_admin_bulk_archive_across_organizations_tells_each_its_own_members(
    admin_browser, make_org, make_user, make_account, owner, account, django_capture_on_commit_callbacks
):
    browser, user = admin_browser
    other_org = make_org()
    other_owner = make_user(other_org, Role.OWNER)
    mine = create_conversation(account)
    theirs = create_conversation(make_account(other_org))

    with captured_broadcasts() as sent, django_capture_on_commit_callbacks(execute=True):
        response = browser.post(
            "/admin/inbox/conversation/", {"action": "archive", "_selected_action": [mine.pk, theirs.pk]}
        )

    assert response.status_code == 302
    assert fresh(mine).archived_by == user and fresh(theirs).archived_by == user
    recipients_by_conversation = {data["id"]: recipients for recipients, _, data in sent}
    assert recipients_by_conversation == {mine.pk: [owner.pk], theirs.pk: [other_owner.pk]}


# --- reading ----------------------------------------------------------------------------------------------------------
def test_mark_read_never_goes_below_zero(org, agent, conversation, make_message):
    message = make_message(conversation)
    Conversation.objects.filter(pk=conversation.pk).update(unread_count=0)  # a counter that drifted

    message_mark_read(organization=org, message=message, by=agent)

    assert fresh(conversation).unread_count == 0
    assert Message.objects.get(pk=message.pk).is_read is True


def test_marking_an_outbound_message_does_not_touch_the_count(org, agent, conversation, make_message):
    make_message(conversation)
    outbound = make_message(conversation, direction=Direction.OUTBOUND, is_read=False)
    message_mark_read(organization=org, message=outbound, by=agent)
    assert fresh(conversation).unread_count == 1


def test_mark_all_read_sets_the_count_from_a_recount(
    org, agent, conversation, make_message, django_capture_on_commit_callbacks
):
    for _ in range(3):
        make_message(conversation)
    make_message(conversation, is_read=True)
    Conversation.objects.filter(pk=conversation.pk).update(unread_count=7)  # drifted: the recount repairs it
    other = create_conversation(conversation.platform_account)
    create_message(other)

    with captured_broadcasts() as sent, django_capture_on_commit_callbacks(execute=True):
        result = conversation_mark_all_read(organization=org, conversation=conversation, by=agent)

    assert result.unread_count == 0
    assert not Message.objects.filter(conversation=conversation, is_read=False).exists()
    assert fresh(other).unread_count == 1 and Message.objects.filter(conversation=other, is_read=False).count() == 1
    assert [(e, d["unread_count"]) for _, e, d in sent] == [("conversation.updated", 0)]

    with captured_broadcasts() as sent, django_capture_on_commit_callbacks(execute=True):
        conversation_mark_all_read(organization=org, conversation=conversation, by=agent)
    assert sent == []  # nothing left to read: no event


def test_set_ai_enabled(org, agent, conversation, django_capture_on_commit_callbacks):
    with captured_broadcasts() as sent, django_capture_on_commit_callbacks(execute=True):
        assert conversation_set_ai_enabled(
            organization=org, conversation=conversation, by=agent, enabled=True
        ).ai_enabled
        conversation_set_ai_enabled(organization=org, conversation=conversation, by=agent, enabled=True)
    assert len(sent) == 1 and sent[0][2]["ai_enabled"] is True


# --- concurrency (PostgreSQL) -----------------------------------------------------------------------------------------
def run_together(*jobs: Callable[[], object]) -> list[BaseException]:
    """Start every job at the same instant, each on its own thread and database connection."""
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def worker(job: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=10)
            job()
        except BaseException as exc:  # collected and asserted by the test
            errors.append(exc)
        finally:
            close_old_connections()
            from django.db import connection

            connection.close()

    threads = [threading.Thread(target=worker, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def inbound(n: int, at=T0) -> InboundMessage:
    return InboundMessage(
        platform_message_id=f"wamid.race.{n}",
        contact=ContactProfile("14155550101", name="Maria", phone_number="14155550101"),
        timestamp=at + timedelta(milliseconds=n),
        text=f"message {n}",
    )


@pytest.mark.django_db(transaction=True)
def test_concurrent_mark_read_of_one_message_counts_once(require_postgres, org, agent, account):
    handle_events(account, [inbound(i) for i in range(3)])
    conversation = Conversation.objects.get()
    message = Message.objects.filter(conversation=conversation).first()

    with captured_broadcasts():
        errors = run_together(
            *[lambda: message_mark_read(organization=org, message=message, by=agent) for _ in range(8)]
        )

    assert errors == []
    assert fresh(conversation).unread_count == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_reads_of_every_message_and_mark_all_read_end_at_zero(require_postgres, org, agent, account):
    handle_events(account, [inbound(i) for i in range(6)])
    conversation = Conversation.objects.get()
    messages = list(Message.objects.filter(conversation=conversation))

    with captured_broadcasts():
        errors = run_together(
            *[lambda m=m: message_mark_read(organization=org, message=m, by=agent) for m in messages],
            lambda: conversation_mark_all_read(organization=org, conversation=conversation, by=agent),
            lambda: conversation_mark_all_read(organization=org, conversation=conversation, by=agent),
        )

    assert errors == []  # in particular: no deadlock between the per-message and the whole-thread updates
    assert fresh(conversation).unread_count == 0
    assert not Message.objects.filter(is_read=False).exists()


@pytest.mark.django_db(transaction=True)
def test_mark_all_read_racing_new_messages_loses_none_from_the_count(require_postgres, org, agent, account):
    handle_events(account, [inbound(0)])
    conversation = Conversation.objects.get()
    arrivals = range(1, 13)

    with captured_broadcasts():
        errors = run_together(
            *[lambda n=n: handle_events(account, [inbound(n)]) for n in arrivals],
            *[lambda: conversation_mark_all_read(organization=org, conversation=conversation, by=agent)] * 4,
        )

    assert errors == []
    assert Message.objects.count() == 1 + len(arrivals)
    unread = Message.objects.filter(conversation=conversation, direction=Direction.INBOUND, is_read=False).count()
    assert fresh(conversation).unread_count == unread  # exact, whichever order the transactions ran in

    conversation_mark_all_read(organization=org, conversation=conversation, by=agent)
    assert fresh(conversation).unread_count == 0


# --- admin ------------------------------------------------------------------------------------------------------------
@pytest.fixture
def admin_browser(db) -> tuple[Client, User]:
    user = User.objects.create_superuser("root@example.com", "correct-horse-battery")
    browser = Client()
    browser.force_login(user)
    return browser, user


def test_admin_pages_open(admin_browser, conversation, make_message, make_attachment):
    browser, _ = admin_browser
    message = make_message(conversation, "hello admin")
    attachment = make_attachment(message)
    for path in (
        "/admin/inbox/contact/",
        f"/admin/inbox/contact/{conversation.contact_id}/change/",
        "/admin/inbox/conversation/",
        "/admin/inbox/conversation/?platform__exact=whatsapp&is_archived__exact=0",
        f"/admin/inbox/conversation/{conversation.pk}/change/",
        "/admin/inbox/message/",
        "/admin/inbox/message/?platform=whatsapp&direction__exact=inbound",
        f"/admin/inbox/message/{message.pk}/change/",
        "/admin/inbox/attachment/",
        f"/admin/inbox/attachment/{attachment.pk}/change/",
    ):
        response = browser.get(path)
        assert response.status_code == 200, path
    assert browser.get("/admin/inbox/message/add/").status_code == 403


def test_admin_bulk_archive_records_the_operator(admin_browser, account, django_capture_on_commit_callbacks):
    browser, user = admin_browser
    chosen = [create_conversation(account) for _ in range(2)]
    left = create_conversation(account)

    with captured_broadcasts() as sent, django_capture_on_commit_callbacks(execute=True):
        response = browser.post(
            "/admin/inbox/conversation/", {"action": "archive", "_selected_action": [c.pk for c in chosen]}
        )

    assert response.status_code == 302
    assert all(fresh(c).is_archived and fresh(c).archived_by == user for c in chosen)
    assert not fresh(left).is_archived
    assert len(sent) == 2

    browser.post("/admin/inbox/conversation/", {"action": "unarchive", "_selected_action": [chosen[0].pk]})
    assert not fresh(chosen[0]).is_archived and fresh(chosen[1]).is_archived


def test_admin_ai_toggle_goes_through_the_service(admin_browser, conversation, django_capture_on_commit_callbacks):
    browser, _ = admin_browser
    with captured_broadcasts() as sent, django_capture_on_commit_callbacks(execute=True):
        response = browser.post(f"/admin/inbox/conversation/{conversation.pk}/change/", {"ai_enabled": "on"})
    assert response.status_code == 302, response.content[:2000]
    assert fresh(conversation).ai_enabled is True
    assert [e for _, e, _ in sent] == ["conversation.updated"]


def test_admin_trusting_a_contact_goes_through_the_service(
    admin_browser, conversation, owner, django_capture_on_commit_callbacks
):
    browser, _ = admin_browser
    contact = conversation.contact
    form = {
        "name": "Maria Trusted",
        "phone_number": contact.phone_number,
        "username": contact.username,
        "profile_picture_url": "",
        "metadata": "{}",
        "attributes": '{"purpose": "rent"}',
        "is_trusted": "on",
        "identities-TOTAL_FORMS": "0",
        "identities-INITIAL_FORMS": "0",
    }
    with captured_broadcasts() as sent, django_capture_on_commit_callbacks(execute=True):
        response = browser.post(f"/admin/inbox/contact/{contact.pk}/change/", form)
    assert response.status_code == 302, response.content[:3000]
    contact.refresh_from_db()
    assert (contact.is_trusted, contact.name, contact.attributes) == (True, "Maria Trusted", {"purpose": "rent"})
    assert [(event, data["id"], data["contact"]["is_trusted"]) for _, event, data in sent] == [
        ("conversation.updated", conversation.pk, True)
    ]


def test_admin_contact_page_lists_every_id_the_platform_knows_them_by(admin_browser, conversation):
    browser, _ = admin_browser
    contact = conversation.contact
    ContactIdentity.objects.create(
        organization_id=contact.organization_id,
        platform_account=contact.platform_account,
        contact=contact,
        kind="user_id",
        value="US.13491208655302741918",
    )
    page = browser.get(f"/admin/inbox/contact/{contact.pk}/change/")
    assert page.status_code == 200
    assert "US.13491208655302741918" in page.content.decode()
