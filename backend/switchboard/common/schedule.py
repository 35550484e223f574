"""The whole Celery Beat schedule, in one place. Beat runs django-celery-beat's DatabaseScheduler
(CELERY_BEAT_SCHEDULER), so the schedule lives in the database where the admin can edit it (Periodic tasks); this
module installs it — from a data migration, and again whenever `install_schedule()` is called.

Installing never overwrites what an admin changed: an entry missing from the database is created; an existing one
keeps its interval, arguments and enabled flag.

Each periodic job fans out one task per account and carries an expiry (`expire_seconds`, a little less than its
interval): if beat's messages pile up behind a stalled worker, the stale copies expire instead of running the same
job twice in a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django_celery_beat import models as beat_models


@dataclass(frozen=True)
class PeriodicJob:
    name: str  # PeriodicTask.name: unique, what the admin shows
    task: str  # the Celery task name
    every_minutes: int
    description: str

    @property
    def expire_seconds(self) -> int:
        # Expire before the next run is due: a backlog never holds two copies of the same job.
        return max(30, self.every_minutes * 60 - 10)


def schedule() -> list[PeriodicJob]:
    return [
        PeriodicJob(
            name="sync_all_platforms",
            task="inbox.sync_all_platforms",
            every_minutes=max(1, settings.SYNC_INTERVAL_MINUTES),
            description=(
                "Pull recent history from every connected account (Instagram and Messenger through the Graph "
                "Conversations API, WhatsApp via Twilio through the Messages list; WhatsApp Cloud: a health check) "
                "into the inbox: one sync task per account."
            ),
        ),
    ]


def install_schedule(apps: Any = None) -> list[str]:
    """Create the entries that are missing; the names created. `apps` is a migration's app registry (the
    historical models), or None for the current ones."""
    if apps is None:
        IntervalSchedule, PeriodicTask = beat_models.IntervalSchedule, beat_models.PeriodicTask
    else:
        IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
        PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    created = []
    for job in schedule():
        if PeriodicTask.objects.filter(name=job.name).exists():
            continue
        interval, _ = IntervalSchedule.objects.get_or_create(every=job.every_minutes, period="minutes")
        PeriodicTask.objects.create(
            name=job.name,
            task=job.task,
            interval=interval,
            expire_seconds=job.expire_seconds,
            description=job.description,
            enabled=True,
        )
        created.append(job.name)
    if created and apps is None:
        beat_models.PeriodicTasks.update_changed()  # beat reloads its schedule
    return created
