"""GET /api/assistant/stats/: the figures counted from the runs and messages the tests create (the expected numbers
are written out), the period and its days in the assistant's time zone, and the `days` bounds."""

from __future__ import annotations

import datetime
from datetime import timedelta

import pytest
from django.utils import timezone

from switchboard.assistant.models import AssistantRun, AssistantSettings, RunOutcome
from switchboard.assistant.stats import assistant_stats
from switchboard.inbox.events import ContactProfile, InboundMessage
from switchboard.inbox.models import Conversation, Direction, Message, MessageKind, MessageStatus
from switchboard.inbox.services.ingest import handle_events

pytestmark = pytest.mark.django_db

URL = "/api/assistant/stats/"


def conversations(account, count: int) -> list[Conversation]:
    handle_events(
        account,
        [
            InboundMessage(
                platform_message_id=f"wamid.stats.{account.pk}.{n}",
                contact=ContactProfile(f"1415555{account.pk:03d}{n}", name=f"Customer {n}"),
                timestamp=account.created_at,
                text="Hello",
            )
            for n in range(count)
        ],
    )
    return list(Conversation.objects.filter(platform_account=account).order_by("id"))


def run(conversation: Conversation, outcome: str, *, at=None, reason: str = "", error_code: str = "") -> AssistantRun:
    row = AssistantRun.objects.create(
        organization_id=conversation.organization_id,
        conversation=conversation,
        outcome=outcome,
        reason=reason,
        error_code=error_code,
    )
    if at is not None:  # created_at is auto_now_add
        AssistantRun.objects.filter(pk=row.pk).update(created_at=at)
    return row


def outbound(conversation: Conversation, *, at=None, by_assistant: bool = False, sent_by=None, kind=MessageKind.TEXT):
    message = Message.objects.create(
        organization_id=conversation.organization_id,
        conversation=conversation,
        platform_account_id=conversation.platform_account_id,
        direction=Direction.OUTBOUND,
        kind=kind,
        text="Hi!",
        status=MessageStatus.SENT,
        sent_by=sent_by,
        sent_by_assistant=by_assistant,
        timestamp=at or timezone.now(),
    )
    if at is not None:
        Message.objects.filter(pk=message.pk).update(created_at=at)
    return message


@pytest.fixture
def activity(org, owner, make_account, make_org):
    """Five conversations of the last 30 days, one older run, and another organization's runs."""
    now = timezone.now()
    resolved, handed, agent_replied, phone_replied, failing = conversations(make_account(org), 5)
    run(resolved, RunOutcome.REPLIED)
    run(resolved, RunOutcome.REPLIED)
    run(resolved, RunOutcome.SKIPPED, reason="rate_limit")
    outbound(resolved, by_assistant=True)
    outbound(resolved, by_assistant=True, at=now - timedelta(days=1))
    outbound(resolved, kind=MessageKind.SYSTEM)  # a system line is nobody's reply
    run(handed, RunOutcome.REPLIED, at=now - timedelta(days=2))
    run(handed, RunOutcome.HANDED_OFF, reason="Wants to book a viewing")
    outbound(handed, by_assistant=True, at=now - timedelta(days=2))
    run(agent_replied, RunOutcome.REPLIED)
    outbound(agent_replied, by_assistant=True)
    outbound(agent_replied, sent_by=owner)  # an agent wrote
    run(phone_replied, RunOutcome.REPLIED)
    outbound(phone_replied)  # an echo of a reply typed on the phone
    run(failing, RunOutcome.FAILED, error_code="invalid_key")
    run(failing, RunOutcome.FAILED, error_code="timeout")
    run(failing, RunOutcome.FAILED)
    run(failing, RunOutcome.HANDED_OFF, reason="Wants to book a viewing")
    run(failing, RunOutcome.HANDED_OFF, reason="")
    run(failing, RunOutcome.SUGGESTED)
    # Outside the last 30 days
    run(failing, RunOutcome.REPLIED, at=now - timedelta(days=40))
    outbound(failing, by_assistant=True, at=now - timedelta(days=40))
    # Another organization
    (theirs,) = conversations(make_account(make_org()), 1)
    run(theirs, RunOutcome.REPLIED)
    run(theirs, RunOutcome.FAILED, error_code="invalid_key")
    outbound(theirs, by_assistant=True)
    return now


def test_the_figures_of_the_last_30_days(owner_client, activity):
    response = owner_client.get(URL)

    assert response.status_code == 200
    body = response.json()
    per_day = body.pop("replies_per_day")
    assert body == {
        "days": 30,
        "conversations_answered": 4,
        "resolved_without_human": 1,
        "handed_off": 3,
        "handed_off_by_reason": {"Wants to book a viewing": 2, "unspecified": 1},
        "failures": 3,
        "failures_by_code": {"invalid_key": 1, "timeout": 1, "unknown": 1},
    }
    today = timezone.now().date()
    assert len(per_day) == 30
    assert per_day[0]["date"] == (today - timedelta(days=29)).isoformat()
    assert per_day[-3:] == [
        {"date": (today - timedelta(days=2)).isoformat(), "replies": 1},
        {"date": (today - timedelta(days=1)).isoformat(), "replies": 1},
        {"date": today.isoformat(), "replies": 2},
    ]
    assert sum(day["replies"] for day in per_day) == 4


def test_a_longer_period_counts_the_older_rows(owner_client, activity):
    body = owner_client.get(URL, {"days": 60}).json()

    assert (body["days"], body["conversations_answered"], len(body["replies_per_day"])) == (60, 5, 60)
    assert sum(day["replies"] for day in body["replies_per_day"]) == 5


def test_one_day_is_today(owner_client, activity):
    body = owner_client.get(URL, {"days": 1}).json()

    assert body["replies_per_day"] == [{"date": timezone.now().date().isoformat(), "replies": 2}]
    assert body["conversations_answered"] == 3  # the handed-off conversation's reply was two days ago
    assert body["resolved_without_human"] == 1


def test_an_organization_without_activity_gets_zeros(agent_client):
    body = agent_client.get(URL, {"days": 7}).json()

    assert body["conversations_answered"] == 0
    assert body["handed_off_by_reason"] == {} and body["failures_by_code"] == {}
    assert [day["replies"] for day in body["replies_per_day"]] == [0] * 7


@pytest.mark.parametrize("days", ["0", "366", "-1", "abc", "1.5"])
def test_days_out_of_bounds_are_400(owner_client, days):
    response = owner_client.get(URL, {"days": days})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["days"]


def test_days_are_the_assistants_time_zone(org, make_account):
    AssistantSettings.objects.create(organization=org, time_zone="Asia/Tokyo")  # UTC+9
    (conversation,) = conversations(make_account(org), 1)
    now = datetime.datetime(2026, 3, 10, 16, 0, tzinfo=datetime.UTC)  # 11 March, 01:00 in Tokyo
    outbound(conversation, by_assistant=True, at=datetime.datetime(2026, 3, 10, 15, 30, tzinfo=datetime.UTC))
    outbound(conversation, by_assistant=True, at=datetime.datetime(2026, 3, 10, 14, 0, tzinfo=datetime.UTC))
    outbound(conversation, by_assistant=True, at=datetime.datetime(2026, 3, 9, 14, 59, tzinfo=datetime.UTC))  # 9th
    run(conversation, RunOutcome.REPLIED, at=datetime.datetime(2026, 3, 9, 15, 30, tzinfo=datetime.UTC))  # 10th

    figures = assistant_stats(organization=org, days=2, now=now)

    assert figures["replies_per_day"] == [
        {"date": "2026-03-10", "replies": 1},
        {"date": "2026-03-11", "replies": 1},
    ]
    assert figures["conversations_answered"] == 1


def test_many_reasons_are_summed_past_the_twenty_most_frequent(org, make_account):
    (conversation,) = conversations(make_account(org), 1)
    for n in range(22):
        for _ in range(2 if n < 5 else 1):
            run(conversation, RunOutcome.HANDED_OFF, reason=f"reason {n:02d}")

    figures = assistant_stats(organization=org, days=1)

    reasons = figures["handed_off_by_reason"]
    assert len(reasons) == 21
    assert list(reasons)[:5] == [f"reason {n:02d}" for n in range(5)]  # the most frequent first
    assert reasons["other"] == 2  # reasons 20 and 21
    assert sum(reasons.values()) == figures["handed_off"] == 27
