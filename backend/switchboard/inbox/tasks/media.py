"""Media download tasks. Tasks take ids, look the rows (and the organization) up again, and call services.

`download_attachment_task(attachment_id)` ends every pending attachment `stored`, `failed` or `rejected`:
transient errors (timeouts, 5xx, 429, DNS hiccups) are retried with exponential backoff; once the last attachment
of a message is settled, the MESSAGE_MEDIA_SETTLED hook is dispatched (inbox/hooks.py: the listings app files the
photos under a listing).

Under the embedded default (CELERY_TASK_ALWAYS_EAGER) a task runs in-process and Celery would re-run a retry at
once, with no countdown: the in-process run therefore does not retry — it records the failure with its reason.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from celery import shared_task
from django.conf import settings

from switchboard.common import backoff
from switchboard.inbox import hooks, media
from switchboard.inbox.models import Attachment, AttachmentStatus

logger = logging.getLogger(__name__)

MAX_RETRIES = 6
BACKOFF_BASE_SECONDS = 30  # 30 s, 1 min, 2 min, 4 min, 8 min, 16 min (with jitter): about half an hour in all
BACKOFF_MAX_SECONDS = 30 * 60


def backoff_seconds(retries: int, retry_after: float | None = None) -> int:
    """Exponential backoff with jitter; never sooner than the server's Retry-After."""
    return int(
        backoff.backoff_seconds(
            retries, base=BACKOFF_BASE_SECONDS, cap=BACKOFF_MAX_SECONDS, retry_after=retry_after, jitter=True
        )
    )


def enqueue_attachment_downloads(attachment_ids: Iterable[int]) -> None:
    """Queue one download per attachment. Call it from `transaction.on_commit` so the worker finds the rows.
    `MEDIA_AUTO_DOWNLOAD = False` turns automatic downloads off (test suites that must not reach vendors)."""
    if not getattr(settings, "MEDIA_AUTO_DOWNLOAD", True):
        return
    for attachment_id in attachment_ids:
        download_attachment_task.delay(attachment_id)


@shared_task(bind=True, name="inbox.download_attachment", max_retries=MAX_RETRIES, ignore_result=True)
def download_attachment_task(self, attachment_id: int) -> str:
    attachment = Attachment.objects.select_related("message__platform_account").filter(pk=attachment_id).first()
    if attachment is None:
        return "missing"
    if attachment.status == AttachmentStatus.PENDING:
        try:
            attachment = media.attachment_download(organization=attachment.organization_id, attachment=attachment)
        except media.MediaTransientError as exc:
            attempt, eager = self.request.retries + 1, bool(self.request.is_eager)
            if eager or self.request.retries >= self.max_retries:
                why = (
                    "not retried in-process (CELERY_TASK_ALWAYS_EAGER)"
                    if eager
                    else f"gave up after {attempt} attempts"
                )
                media.attachment_mark_failed(attachment=attachment, reason=f"{exc.reason} ({why})")
            else:
                media.attachment_note_retry(
                    attachment=attachment, reason=exc.reason, attempt=attempt, attempts=self.max_retries + 1
                )
                raise self.retry(exc=exc, countdown=backoff_seconds(self.request.retries, exc.retry_after)) from exc
        except Exception as exc:
            # A bug must not leave the attachment pending forever: record it, keep the traceback in the logs.
            logger.exception("downloading attachment %s failed unexpectedly", attachment_id)
            media.attachment_mark_failed(attachment=attachment, reason=f"unexpected error: {type(exc).__name__}")
    _after_settled(attachment.organization_id, attachment.message_id)
    attachment.refresh_from_db(fields=["status"])
    return str(attachment.status)


def _after_settled(organization_id: int, message_id: int) -> None:
    """When the message's last attachment is settled, tell the apps that react to it (the listings app files the
    photos). A subscriber that fails is logged by the registry; the attachments are stored either way."""
    if media.message_media_settled(message_id=message_id):
        hooks.dispatch_on_commit(hooks.MESSAGE_MEDIA_SETTLED, organization_id=organization_id, message_id=message_id)
