from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from switchboard.webhooks.models import WebhookLog, WebhookStatus
from switchboard.webhooks.services import webhook_replay


class Command(BaseCommand):
    help = "Process stored webhook deliveries again (by default: every failed one)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--status", default=WebhookStatus.FAILED, choices=[WebhookStatus.FAILED, WebhookStatus.PENDING]
        )
        parser.add_argument("--id", type=int, action="append", dest="ids", help="Only these log ids.")
        parser.add_argument("--platform", help="Only this endpoint (whatsapp, messenger, instagram, twilio, bridge).")
        parser.add_argument(
            "--older-than-minutes",
            type=int,
            default=0,
            help="Skip deliveries younger than this (pending ones may still be in flight).",
        )
        parser.add_argument("--limit", type=int, default=1000)

    def handle(self, *args: Any, **options: Any) -> None:
        logs = WebhookLog.objects.filter(status=options["status"]).order_by("received_at", "id")
        if options["ids"]:
            logs = logs.filter(pk__in=options["ids"])
        if options["platform"]:
            logs = logs.filter(platform=options["platform"])
        if options["older_than_minutes"]:
            logs = logs.filter(received_at__lte=timezone.now() - timedelta(minutes=options["older_than_minutes"]))
        if options["limit"] < 1:
            raise CommandError("--limit must be positive")
        total = 0
        for log in logs[: options["limit"]]:
            result = webhook_replay(log=log)
            total += 1
            self.stdout.write(
                f"#{log.pk} {log.platform}: {result.status} ({result.event_count} events)"
                + (f" — {result.error}" if result.error else "")
            )
        self.stdout.write(self.style.SUCCESS(f"Replayed {total} deliveries."))
