import json

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from switchboard.platforms.models import PlatformAccount
from switchboard.webhooks.models import WebhookLog, WebhookStatus
from switchboard.webhooks.services import webhook_replay_many


@admin.register(WebhookLog)
class WebhookLogAdmin(admin.ModelAdmin):
    """Read-only: a delivery is evidence. Failed (or pending) ones can be replayed."""

    list_display = (
        "id",
        "received_at",
        "platform",
        "status",
        "organization",
        "account",
        "event_count",
        "processing_time_ms",
        "short_error",
    )
    list_filter = ("status", "platform", "organization")
    search_fields = ("body", "error", "=id")
    date_hierarchy = "received_at"
    list_select_related = ("organization", "account")
    actions = ["replay"]
    readonly_fields = [f.name for f in WebhookLog._meta.fields if f.name not in ("headers", "body")] + [
        "pretty_headers",
        "pretty_body",
    ]
    exclude = ("headers", "body")
    show_full_result_count = False  # exact counts over millions of rows are slow and not needed

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookLog]:
        # The joined account's encrypted columns are never shown here: never loaded (nor decrypted) either.
        queryset = super().get_queryset(request).select_related("organization", "account")
        return queryset.defer(*PlatformAccount.secret_fields("account"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: WebhookLog | None = None) -> bool:
        return False

    @admin.display(description="error")
    def short_error(self, obj: WebhookLog) -> str:
        return (obj.error or "")[:80]

    @admin.display(description="headers")
    def pretty_headers(self, obj: WebhookLog) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.headers, indent=2, sort_keys=True))

    @admin.display(description="raw body")
    def pretty_body(self, obj: WebhookLog) -> str:
        try:
            text = json.dumps(json.loads(obj.body), indent=2, ensure_ascii=False)
        except ValueError:
            text = obj.body
        return format_html("<pre style='white-space:pre-wrap'>{}</pre>", text)

    @admin.action(description="Replay selected deliveries (failed or pending only)", permissions=["view"])
    def replay(self, request: HttpRequest, queryset: QuerySet[WebhookLog]) -> None:
        replayable = queryset.filter(status__in=[WebhookStatus.FAILED, WebhookStatus.PENDING])
        skipped = queryset.count() - replayable.count()
        results = webhook_replay_many(logs=replayable)
        summary = ", ".join(f"{count} {status}" for status, count in sorted(results.items())) or "nothing replayed"
        self.message_user(request, f"Replayed: {summary}.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"{skipped} delivery(ies) skipped: only failed or pending ones replay.",
                messages.WARNING,
            )
