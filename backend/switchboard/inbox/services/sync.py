"""History sync: what arrived while a webhook was down is pulled from the platforms and fed to `MessageService`
through `ingest.handle_events` — the same path as webhooks, so a message seen by both is stored once.

* `sync_all` (Celery Beat's `sync_all_platforms`) fans out one `sync_account_task` per active account, each with an
  expiry of one interval so a backlog of beats never syncs an account twice.
* `account_sync` runs one account under a lock (`cache.add`, so one sync per account at a time across every
  worker), records a `SyncRun` (conversations synced, messages seen, new messages, errors, duration) and moves the
  account's `last_sync_at` forward when it succeeded. History is read back to `last_sync_at` minus an overlap (or
  SYNC_HISTORY_DAYS the first time).
* `sync_run_request` is the API's and the admin's "sync now": a queued run, then the task; `sync_run_list` the
  account's runs, newest first (inbox/api/sync_views.py answers both, inbox/admin.py shows the runs).

Errors stay inside their account: a vendor refusal (`PlatformError`) or a crash ends that account's run `failed`
(190 also marks it for reconnection); an event that cannot be stored is counted and skipped, the rest of the batch is
stored one by one.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import islice
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from switchboard.accounts.models import User
from switchboard.common.exceptions import Conflict
from switchboard.common.phones import normalize_phone
from switchboard.inbox.events import InboundEvent, InboundMessage
from switchboard.inbox.models import SyncRun, SyncStatus, SyncTrigger
from switchboard.inbox.services.ingest import Outcome, handle_events
from switchboard.platforms.models import PlatformAccount
from switchboard.platforms.registry import PlatformError, adapter_for
from switchboard.platforms.services import platform_account_mark_needs_reconnect, platform_account_record_sync

logger = logging.getLogger(__name__)

BATCH_SIZE = 100  # events per transaction
OVERLAP = timedelta(minutes=10)  # read a little before the last sync: clocks and late writes on the platform's side
LOCK_SECONDS = 30 * 60  # a crashed worker's lock frees itself after this
RUN_RETENTION = timedelta(days=14)


class SyncRefused(Conflict):
    """A sync cannot start now (the API answers 409 with `code`)."""


def lock_key(account_id: int) -> str:
    return f"sync:lock:{account_id}"


def sync_is_running(*, account_id: int) -> bool:
    return cache.get(lock_key(account_id)) is not None


def interval_seconds() -> int:
    return max(60, settings.SYNC_INTERVAL_MINUTES * 60)


def syncable_accounts() -> QuerySet[PlatformAccount]:
    """Connected accounts whose credentials the platform still accepts."""
    return PlatformAccount.objects.filter(is_active=True, needs_reconnect=False).order_by("id")


def sync_all(*, trigger: str = SyncTrigger.SCHEDULE) -> int:
    """Queue one sync per account; how many were queued."""
    from switchboard.inbox.tasks.sync import sync_account_task  # noqa: PLC0415  the task module imports this service

    SyncRun.objects.filter(created_at__lt=timezone.now() - RUN_RETENTION).delete()
    count = 0
    for account_id in syncable_accounts().values_list("pk", flat=True):
        # Expires after one interval: a worker that falls behind drops the stale copy, the next beat brings a fresh one.
        sync_account_task.apply_async(
            kwargs={"account_id": account_id, "trigger": str(trigger)}, expires=interval_seconds()
        )
        count += 1
    logger.info("sync_all_platforms queued %d account syncs", count)
    return count


def sync_run_request(*, account: PlatformAccount, by: User | None) -> SyncRun:
    """ "Sync now" from the API: a queued run, handed to the sync task after the commit."""
    if not account.is_active:
        raise SyncRefused("This account is disconnected: reconnect it first.", code="account_disconnected")
    if account.needs_reconnect:
        raise SyncRefused(
            "The platform refused this account's credentials: reconnect it first.", code="account_needs_reconnect"
        )
    if sync_is_running(account_id=account.pk):
        raise SyncRefused("A sync of this account is already running.", code="sync_running")
    run = SyncRun.objects.create(
        organization_id=account.organization_id,
        account=account,
        trigger=SyncTrigger.MANUAL,
        status=SyncStatus.QUEUED,
        requested_by=by,
    )

    def enqueue() -> None:
        from switchboard.inbox.tasks.sync import sync_account_task  # noqa: PLC0415  the task module imports this service

        sync_account_task.apply_async(
            kwargs={"account_id": account.pk, "trigger": SyncTrigger.MANUAL, "run_id": run.pk}, expires=LOCK_SECONDS
        )

    transaction.on_commit(enqueue)
    return run


def sync_run_list(*, account: PlatformAccount, limit: int = 20) -> list[SyncRun]:
    """The account's runs, newest first."""
    return list(
        SyncRun.objects.filter(account=account).select_related("requested_by").order_by("-created_at", "-id")[:limit]
    )


@dataclass
class _Stats:
    contacts: set[str] = field(default_factory=set)
    seen: int = 0
    new: int = 0
    errors: int = 0
    first_error: str = ""

    def error(self, text: str) -> None:
        self.errors += 1
        if not self.first_error:
            self.first_error = text[:2000]


def account_sync(*, account_id: int, trigger: str = SyncTrigger.SCHEDULE, run_id: int | None = None) -> SyncRun | None:
    """Sync one account now (in this process). None when the account is gone."""
    account = PlatformAccount.objects.filter(pk=account_id).first()
    if account is None:
        return None
    run = SyncRun.objects.filter(pk=run_id, account=account).first() if run_id else None
    if run is None:
        run = SyncRun.objects.create(
            organization_id=account.organization_id, account=account, trigger=trigger, status=SyncStatus.QUEUED
        )
    token = uuid.uuid4().hex
    if not cache.add(lock_key(account.pk), token, LOCK_SECONDS):
        _finish(run, SyncStatus.SKIPPED, _Stats(), started=time.monotonic(), error="Another sync of this account was "
                "running.")  # fmt: skip
        return run
    started_clock, started_at = time.monotonic(), timezone.now()
    since = (
        (account.last_sync_at - OVERLAP)
        if account.last_sync_at
        else started_at - timedelta(days=settings.SYNC_HISTORY_DAYS)
    )
    run.started_at, run.since = started_at, since
    SyncRun.objects.filter(pk=run.pk).update(status=SyncStatus.RUNNING, started_at=started_at, since=since)
    stats = _Stats()
    status = SyncStatus.FAILED
    try:
        if not account.is_active:
            stats.error("The account is disconnected.")
        else:
            adapter = adapter_for(account)
            check_health = getattr(adapter, "check_health", None)
            if check_health is not None:
                health = check_health(account)
                run.details = {**run.details, "health": health}
                if isinstance(health, dict) and health.get("ok") is False:
                    stats.error(f"The account's health check failed: {health.get('error') or 'unknown reason'}.")
            for batch in _batches(adapter.fetch_history(account, since), BATCH_SIZE):
                _ingest(account, batch, stats)
            status = SyncStatus.SUCCEEDED if stats.errors == 0 else SyncStatus.PARTIAL
    except PlatformError as exc:
        stats.error(exc.result.error_message)
        run.details = {**run.details, "error_code": exc.result.error_code}
        if exc.result.needs_reconnect:
            platform_account_mark_needs_reconnect(account=account, error=exc.result.error_message)
    except Exception as exc:
        logger.exception("sync of account %s crashed", account.pk)
        stats.error(f"Internal error: {type(exc).__name__}: {exc}")
    finally:
        if cache.get(lock_key(account.pk)) == token:
            cache.delete(lock_key(account.pk))
    ok = status in (SyncStatus.SUCCEEDED, SyncStatus.PARTIAL)
    platform_account_record_sync(account=account, synced_at=started_at if ok else None, error=stats.first_error)
    _finish(run, status, stats, started=started_clock)
    logger.info(
        "sync of account %s: %s, %d conversations, %d messages seen, %d new, %d errors",
        account.pk, status, len(stats.contacts), stats.seen, stats.new, stats.errors,
    )  # fmt: skip
    return run


def _finish(run: SyncRun, status: str, stats: _Stats, *, started: float, error: str = "") -> None:
    run.status = status
    run.finished_at = timezone.now()
    run.duration_ms = int((time.monotonic() - started) * 1000)
    run.conversations_synced = len(stats.contacts)
    run.messages_seen = stats.seen
    run.messages_new = stats.new
    run.errors = stats.errors
    run.error = error or stats.first_error
    run.save(
        update_fields=[
            "status", "started_at", "since", "finished_at", "duration_ms", "conversations_synced", "messages_seen",
            "messages_new", "errors", "error", "details",
        ]
    )  # fmt: skip


def _batches(events: Iterable[InboundEvent], size: int) -> Iterator[list[InboundEvent]]:
    iterator = iter(events)
    while batch := list(islice(iterator, size)):
        yield batch


def _ingest(account: PlatformAccount, batch: list[InboundEvent], stats: _Stats) -> None:
    """One transaction per batch; a batch that fails is retried event by event so one bad event costs only itself."""
    try:
        pairs: list[tuple[InboundEvent, Any]] = list(zip(batch, handle_events(account, batch), strict=True))
    except Exception:
        pairs = []
        for event in batch:
            try:
                pairs.extend(zip([event], handle_events(account, [event]), strict=True))
            except Exception as exc:
                logger.warning("sync of account %s: event %r not stored: %s", account.pk, event, exc)
                stats.error(f"A message could not be stored: {exc}")
    for event, outcome in pairs:
        if isinstance(event, InboundMessage):
            stats.seen += 1
            # One contact however the platform wrote the number ('+1555…' on ours, '1555…' on theirs).
            stats.contacts.add(normalize_phone(event.contact.external_id) or event.contact.external_id)
            if outcome == Outcome.CREATED:
                stats.new += 1
