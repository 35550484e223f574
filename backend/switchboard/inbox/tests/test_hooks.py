"""The inbox hooks registry (inbox/hooks.py): events run after commit and never for a rolled-back write, a failing
subscriber costs only its own writes, providers answer now — and the inbox imports none of the apps that subscribe."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import pytest
from django.db import transaction

from switchboard.inbox import hooks
from switchboard.inbox.models import AttachmentStatus, Contact, Message
from switchboard.inbox.tasks import media as media_tasks
from switchboard.inbox.tests.conftest import create_attachment, create_conversation, create_message
from switchboard.platforms.models import Platform

pytestmark = pytest.mark.django_db
EVENT = hooks.MESSAGE_MEDIA_SETTLED


def test_an_event_reaches_its_subscribers_after_the_commit_not_before(django_capture_on_commit_callbacks):
    seen = []
    with hooks.subscribed(EVENT, lambda **arguments: seen.append(arguments)):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            with transaction.atomic():
                hooks.dispatch_on_commit(EVENT, organization_id=1, message_id=2)
                assert seen == []  # inside the transaction
            assert seen == []  # the outermost transaction (the test's) has not committed yet
        assert len(callbacks) == 1
    assert seen == [{"organization_id": 1, "message_id": 2}]


def test_a_rolled_back_write_dispatches_nothing(django_capture_on_commit_callbacks):
    seen = []
    with (
        hooks.subscribed(EVENT, lambda **arguments: seen.append(arguments)),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        hooks.dispatch_on_commit(EVENT, organization_id=1, message_id=2)
        raise RuntimeError("the inbox write fails")
    assert (callbacks, seen) == ([], [])


def test_without_subscribers_a_dispatch_costs_nothing(django_capture_on_commit_callbacks):
    with hooks.replaced(EVENT), django_capture_on_commit_callbacks() as callbacks:
        hooks.dispatch_on_commit(EVENT, organization_id=1, message_id=2)
    assert callbacks == []


def test_a_failing_subscriber_loses_only_its_own_writes(org, make_account, django_capture_on_commit_callbacks, caplog):
    """Decided: after the commit the inbox write stands whatever a subscriber does. Each subscriber runs in its own
    transaction; one that raises is rolled back and logged with its traceback, and the next still runs."""
    account = make_account(org, Platform.WHATSAPP)
    seen = []

    def broken(**arguments):
        Contact.objects.create(
            organization=org, platform_account=account, platform=account.platform, external_id="+15550000001"
        )
        raise ValueError("subscriber bug")

    with (
        hooks.subscribed(EVENT, broken),
        hooks.subscribed(EVENT, lambda **a: seen.append(a)),
        caplog.at_level(logging.ERROR, logger="switchboard.inbox.hooks"),
        django_capture_on_commit_callbacks(execute=True),
        transaction.atomic(),
    ):
        message = create_message(create_conversation(account), "the inbox write")
        hooks.dispatch_on_commit(EVENT, organization_id=org.pk, message_id=message.pk)

    assert Message.objects.filter(pk=message.pk).exists()  # the inbox write stands
    assert not Contact.objects.filter(external_id="+15550000001").exists()  # the subscriber's own write is gone
    assert seen == [{"organization_id": org.pk, "message_id": message.pk}]  # the next subscriber ran
    [record] = [r for r in caplog.records if r.name == "switchboard.inbox.hooks"]
    assert "message.media_settled" in record.getMessage() and "broken" in record.getMessage()
    assert record.exc_info and record.exc_info[0] is ValueError


def test_hooks_check_their_arguments_and_kind():
    with pytest.raises(TypeError, match="takes organization_id, message_id"):
        hooks.dispatch_on_commit(EVENT, organization_id=1, message=2)
    with pytest.raises(TypeError, match="provider hook"):
        hooks.dispatch_on_commit(hooks.LISTING_CARD, organization_id=1, listing_id=1, snapshot=None, absolute=True)
    with pytest.raises(TypeError, match="event hook"):
        hooks.ask(EVENT, organization_id=1, message_id=2)
    with pytest.raises(ValueError, match="not an inbox hook"):
        hooks.subscribe(hooks.Hook("made.up", hooks.HookKind.EVENT, ()), print)


def test_subscribing_twice_is_subscribing_once():
    before = hooks.subscribers(EVENT)
    with hooks.subscribed(EVENT, print):
        hooks.subscribe(EVENT, print)
        assert hooks.subscribers(EVENT) == (*before, print)
    assert hooks.subscribers(EVENT) == before


def test_providers_answer_now_the_first_answer_wins_and_collect_gathers_all():
    arguments = {"organization": None, "user": None, "media_folder": None}
    with hooks.replaced(hooks.DEMO_SEED, lambda **_: None, lambda **_: "first", lambda **_: "second"):
        assert hooks.ask(hooks.DEMO_SEED, **arguments) == "first"
        assert hooks.collect(hooks.DEMO_SEED, **arguments) == ["first", "second"]
    with hooks.replaced(hooks.DEMO_SEED):
        assert hooks.ask(hooks.DEMO_SEED, **arguments) is None
        assert hooks.collect(hooks.DEMO_SEED, **arguments) == []


def test_a_providers_failure_is_the_callers():
    def broken(**_):
        raise ValueError("provider bug")

    with hooks.replaced(hooks.DEMO_SEED, broken), pytest.raises(ValueError, match="provider bug"):
        hooks.ask(hooks.DEMO_SEED, organization=None, user=None, media_folder=None)


def test_the_listings_app_subscribes_in_its_ready():
    from switchboard.listings import cards, demo, subscribers

    assert subscribers.file_received_photos in hooks.subscribers(hooks.MESSAGE_MEDIA_SETTLED)
    assert cards.listing_card in hooks.subscribers(hooks.LISTING_CARD)
    assert demo.demo_listing in hooks.subscribers(hooks.DEMO_SEED)


def test_the_media_task_dispatches_when_the_last_attachment_settles(
    org, make_account, django_capture_on_commit_callbacks
):
    message = create_message(create_conversation(make_account(org, Platform.WHATSAPP)), "photos")
    stored = create_attachment(message, status=AttachmentStatus.STORED)
    pending = create_attachment(message)
    seen = []
    with hooks.subscribed(EVENT, lambda **arguments: seen.append(arguments)):
        with django_capture_on_commit_callbacks(execute=True):
            media_tasks._after_settled(org.pk, stored.message_id)
        assert seen == []  # one attachment is still pending
        pending.status = AttachmentStatus.FAILED
        pending.save(update_fields=["status"])
        with django_capture_on_commit_callbacks(execute=True):
            media_tasks._after_settled(org.pk, pending.message_id)
    assert seen == [{"organization_id": org.pk, "message_id": message.pk}]


BUILT_ON_THE_INBOX = ("listings", "assistant", "webhooks", "meta", "instagram", "messenger", "whatsapp", "sandbox")


def test_the_inbox_imports_no_app_built_on_it():
    """The apps above the inbox reach it through hooks and the adapter registry; it never imports them."""
    root = Path(hooks.__file__).resolve().parent
    found = []
    for path in root.rglob("*.py"):
        if "tests" in path.relative_to(root).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            names += [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            for name in names:
                parts = name.split(".")
                if len(parts) > 1 and parts[0] == "switchboard" and parts[1] in BUILT_ON_THE_INBOX:
                    found.append(f"{path.relative_to(root)}:{node.lineno} {name}")
    assert found == []
