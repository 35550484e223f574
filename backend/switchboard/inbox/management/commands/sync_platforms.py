"""`manage.py sync_platforms [--account ID ...]`: sync history now, in the foreground (the embedded default has no
beat). The same sync the schedule runs, one account after the other; one failing never stops the rest."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from switchboard.inbox.models import SyncStatus, SyncTrigger
from switchboard.inbox.services import sync
from switchboard.platforms.models import PlatformAccount


class Command(BaseCommand):
    help = "Pull recent history from connected platform accounts into the inbox (what Celery Beat runs)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--account", type=int, action="append", dest="accounts", help="Only this account id (repeatable)."
        )

    def handle(self, *args: Any, accounts: list[int] | None = None, **options: Any) -> None:
        if accounts:
            found = list(PlatformAccount.objects.filter(pk__in=accounts).order_by("id").values_list("pk", flat=True))
            missing = sorted(set(accounts) - set(found))
            if missing:
                raise CommandError(f"No platform account with id {', '.join(map(str, missing))}.")
            ids = found
        else:
            ids = list(sync.syncable_accounts().values_list("pk", flat=True))
        failed = 0
        for account_id in ids:
            run = sync.account_sync(account_id=account_id, trigger=SyncTrigger.COMMAND)
            if run is None:
                continue
            line = (
                f"account {account_id}: {run.status} — {run.conversations_synced} conversations, "
                f"{run.messages_seen} messages seen, {run.messages_new} new, {run.errors} errors "
                f"({run.duration_ms} ms)"
            )
            if run.status in (SyncStatus.FAILED, SyncStatus.PARTIAL):
                failed += 1
                self.stderr.write(f"{line}: {run.error}")
            else:
                self.stdout.write(line)
        self.stdout.write(f"{len(ids)} account(s) synced, {failed} with errors.")
