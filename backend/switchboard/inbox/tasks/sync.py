"""Sync tasks. `sync_all_platforms_task` is what Celery Beat runs (common/schedule.py installs it); it fans out one
`sync_account_task` per account. Both take ids only and call the sync service, which looks everything up again."""

from __future__ import annotations

from celery import shared_task

from switchboard.inbox.models import SyncTrigger
from switchboard.inbox.services import sync


@shared_task(name="inbox.sync_all_platforms", ignore_result=True)
def sync_all_platforms_task() -> int:
    return sync.sync_all(trigger=SyncTrigger.SCHEDULE)


@shared_task(name="inbox.sync_account", ignore_result=True)
def sync_account_task(account_id: int, trigger: str = SyncTrigger.SCHEDULE, run_id: int | None = None) -> str:
    run = sync.account_sync(account_id=account_id, trigger=trigger, run_id=run_id)
    return str(run.status) if run is not None else "missing"
