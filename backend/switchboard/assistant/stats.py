"""What the assistant did for one organization over a period: the `GET /api/assistant/stats/` selector.

The period is today and the `days - 1` days before it, in the assistant's `time_zone` (UTC until one is set), from
the start of its first day until now. Everything is counted from `AssistantRun` rows (one per answer attempt) and,
for the replies per day, from the messages the assistant sent (`Message.sent_by_assistant`):

* `conversations_answered` — conversations with at least one `replied` run;
* `resolved_without_human` — of those, the ones with no `handed_off` or `failed` run and no message from a person
  (an agent's send, or a reply written on the phone) in the period;
* `handed_off` / `handed_off_by_reason` — `handed_off` runs, per `reason` (blank: "unspecified"; past the
  REASONS_SHOWN most frequent reasons the rest are summed as "other");
* `failures` / `failures_by_code` — `failed` runs, per `error_code` (blank: "unknown"), a failed lead triage
  (triage.py) included; a triage run (`skipped`, reason "triage") counts neither as answered nor as a handoff;
* `replies_per_day` — every day of the period, oldest first, with the assistant's messages created that day.
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections import Counter
from typing import TypedDict

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from switchboard.accounts.models import Organization
from switchboard.accounts.tenancy import organization_id_of
from switchboard.assistant.models import AssistantRun, AssistantSettings, RunOutcome
from switchboard.assistant.triage import TRIAGE_REASON
from switchboard.inbox.models import Direction, Message, MessageKind

DAYS_MIN, DAYS_MAX, DAYS_DEFAULT = 1, 365, 30
REASONS_SHOWN = 20
UNSPECIFIED_REASON = "unspecified"
UNKNOWN_CODE = "unknown"
OTHER = "other"


class RepliesOnDay(TypedDict):
    date: str
    replies: int


class AssistantStats(TypedDict):
    days: int
    conversations_answered: int
    resolved_without_human: int
    handed_off: int
    handed_off_by_reason: dict[str, int]
    failures: int
    failures_by_code: dict[str, int]
    replies_per_day: list[RepliesOnDay]


def _time_zone(organization_id: int) -> zoneinfo.ZoneInfo:
    name = AssistantSettings.objects.filter(organization_id=organization_id).values_list("time_zone", flat=True).first()
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):  # a stored name that is no zone (written around the API)
        return zoneinfo.ZoneInfo("UTC")


def _counts(values: QuerySet[AssistantRun], field: str, blank: str, shown: int | None = None) -> dict[str, int]:
    counter: Counter[str] = Counter()
    for value, count in values.order_by().values(field).annotate(n=Count("id")).values_list(field, "n"):
        counter[(value or "").strip() or blank] += count
    ordered = sorted(counter.items(), key=lambda item: (-item[1], item[0]))
    if shown is None or len(ordered) <= shown:
        return dict(ordered)
    kept = dict(ordered[:shown])
    kept[OTHER] = kept.get(OTHER, 0) + sum(count for _, count in ordered[shown:])
    return kept


def assistant_stats(
    *, organization: Organization | int, days: int = DAYS_DEFAULT, now: datetime.datetime | None = None
) -> AssistantStats:
    """The figures of the module docstring for the last `days` days (DAYS_MIN..DAYS_MAX; ValueError otherwise)."""
    if not DAYS_MIN <= days <= DAYS_MAX:
        raise ValueError(f"days must be from {DAYS_MIN} to {DAYS_MAX}, not {days}")
    organization_id = organization_id_of(organization)
    zone = _time_zone(organization_id)
    now = now or timezone.now()
    today = now.astimezone(zone).date()
    first_day = today - datetime.timedelta(days=days - 1)
    since = datetime.datetime.combine(first_day, datetime.time.min, tzinfo=zone)

    runs = AssistantRun.objects.for_organization(organization_id).filter(created_at__gte=since, created_at__lte=now)
    answered = set(runs.filter(outcome=RunOutcome.REPLIED).values_list("conversation_id", flat=True).distinct())
    with_human = set(
        runs.filter(outcome__in=[RunOutcome.HANDED_OFF, RunOutcome.FAILED])
        .exclude(reason=TRIAGE_REASON)  # a failed lead triage hands nothing to a person
        .values_list("conversation_id", flat=True)
        .distinct()
    )
    messages = Message.objects.for_organization(organization_id).filter(created_at__gte=since, created_at__lte=now)
    if answered:
        # A person wrote: an agent's send (sent_by), or a reply typed on the phone (an outbound echo, nobody's),
        # but not a note of the system or a listing card the inbox filed.
        with_human |= set(
            messages.filter(conversation_id__in=answered, direction=Direction.OUTBOUND, sent_by_assistant=False)
            .filter(Q(sent_by__isnull=False) | ~Q(kind__in=[MessageKind.SYSTEM, MessageKind.LISTING_CARD]))
            .values_list("conversation_id", flat=True)
            .distinct()
        )
    # The totals are the sums of the groups ("other" included): no second query each.
    handed_off_by_reason = _counts(
        runs.filter(outcome=RunOutcome.HANDED_OFF), "reason", UNSPECIFIED_REASON, REASONS_SHOWN
    )
    failures_by_code = _counts(runs.filter(outcome=RunOutcome.FAILED), "error_code", UNKNOWN_CODE)

    per_day = {
        day: count
        for day, count in messages.filter(sent_by_assistant=True)
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .order_by()
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    }
    replies_per_day: list[RepliesOnDay] = []
    for offset in range(days):
        day = first_day + datetime.timedelta(days=offset)
        replies_per_day.append({"date": day.isoformat(), "replies": per_day.get(day, 0)})

    return {
        "days": days,
        "conversations_answered": len(answered),
        "resolved_without_human": len(answered - with_human),
        "handed_off": sum(handed_off_by_reason.values()),
        "handed_off_by_reason": handed_off_by_reason,
        "failures": sum(failures_by_code.values()),
        "failures_by_code": failures_by_code,
        "replies_per_day": replies_per_day,
    }
