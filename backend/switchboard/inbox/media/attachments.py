"""The attachment write services: download a pending attachment, record how it ended, tell the caller when a
message's media is settled.

`attachment_download` is what the media task (inbox/tasks/media.py) runs for each pending attachment: the fetcher
comes from the platform adapter's `fetch_media` (found through platforms.registry, so the inbox never imports a
platform app) or is the webhook's plain source URL (`fetch_source_url`, Messenger / Instagram); the bytes are
inspected (inspection.py) and stored (storage.py), and the row ends `stored`, `rejected` or `failed` with its reason.
Only transient errors escape, for the task to retry with backoff (`attachment_note_retry` keeps the last one
visible meanwhile). Every change of an attachment's state goes through these services; an attachment that ends
`stored`, `rejected` or `failed` sends `message.updated` on commit, so clients stop waiting for it.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from switchboard.accounts.models import Organization
from switchboard.accounts.tenancy import ensure_owned
from switchboard.inbox import realtime
from switchboard.inbox.media.errors import MediaError, MediaFailed, MediaTransientError
from switchboard.inbox.media.fetch import Fetched, media_fetch
from switchboard.inbox.media.inspection import Inspected, media_inspect
from switchboard.inbox.media.storage import StoredFiles, media_delete, media_save, safe_display_name
from switchboard.inbox.models import Attachment, AttachmentStatus
from switchboard.platforms.registry import adapter_for

logger = logging.getLogger(__name__)

Fetcher = Callable[[Attachment], "Fetched | bytes"]


def fetch_source_url(attachment: Attachment) -> Fetched:
    """Messenger / Instagram (and any platform without its own fetcher): the CDN URL from the webhook, no auth."""
    if not attachment.source_url:
        raise MediaFailed("the platform gave no media URL for this attachment")
    return media_fetch(attachment.source_url)


def media_fetcher_for(attachment: Attachment) -> Fetcher:
    """The platform adapter's `fetch_media(attachment)` when it has one (found through the registry, so the inbox
    never imports a platform app), else the plain source URL."""
    try:
        adapter = adapter_for(attachment.message.platform_account)
    except LookupError:
        return fetch_source_url
    return getattr(adapter, "fetch_media", None) or fetch_source_url


def attachment_download(*, organization: Organization | int, attachment: Attachment) -> Attachment:
    """Fetch, inspect and store one pending attachment. Records `stored`, `rejected` or `failed` (with the reason)
    itself; raises MediaTransientError for the caller (the Celery task) to retry with backoff."""
    organization_id = ensure_owned(organization, attachment)
    if attachment.status != AttachmentStatus.PENDING:
        return attachment
    try:
        result = media_fetcher_for(attachment)(attachment)
        fetched = result if isinstance(result, Fetched) else Fetched.from_bytes(bytes(result))
    except MediaTransientError:
        raise
    except MediaError as exc:
        return attachment_mark_failed(attachment=attachment, reason=exc.reason, rejected=exc.rejected)
    with fetched:
        try:
            inspected = media_inspect(
                fetched.file, kind=attachment.kind, declared_mime=attachment.mime_type or fetched.content_type
            )
        except MediaError as exc:
            return attachment_mark_failed(attachment=attachment, reason=exc.reason, rejected=exc.rejected)
        _warn_on_hash_mismatch(attachment, fetched)
        try:
            files = media_save(
                organization_id=organization_id, fileobj=fetched.file, inspected=inspected, token=attachment.uuid.hex
            )
        except Exception as exc:  # storage down (disk full, S3 unreachable): worth another attempt later
            raise MediaTransientError(f"storing the file failed: {exc}") from exc
    return _attachment_record_stored(attachment=attachment, fetched=fetched, inspected=inspected, files=files)


def _warn_on_hash_mismatch(attachment: Attachment, fetched: Fetched) -> None:
    """WhatsApp announces a sha256 (hex from Graph, base64 in some webhooks). A mismatch is logged, not fatal:
    the encodings vary, and the bytes we store were checked by type detection either way."""
    expected = (attachment.sha256 or "").strip()
    if not expected:
        return
    digest = bytes.fromhex(fetched.sha256)
    if expected.lower() != fetched.sha256 and expected != base64.b64encode(digest).decode():
        logger.warning("attachment %s: sha256 differs from the one the platform announced", attachment.pk)


def _attachment_record_stored(
    *, attachment: Attachment, fetched: Fetched, inspected: Inspected, files: StoredFiles
) -> Attachment:
    with transaction.atomic():
        locked = Attachment.objects.select_for_update().get(pk=attachment.pk)
        if locked.status != AttachmentStatus.PENDING:
            # A concurrent run (a redelivered task) got there first: keep its files, drop ours.
            transaction.on_commit(lambda: media_delete(files.name, files.thumbnail_name))
            return locked
        locked.status = AttachmentStatus.STORED
        locked.error = ""
        locked.file.name = files.name
        locked.thumbnail.name = files.thumbnail_name
        locked.size = fetched.size
        locked.sha256 = fetched.sha256
        locked.mime_type = inspected.detected.mime
        locked.width = inspected.image.width if inspected.image else None
        locked.height = inspected.image.height if inspected.image else None
        locked.filename = safe_display_name(locked.filename)
        locked.save(
            update_fields=[
                "status", "error", "file", "thumbnail", "size", "sha256", "mime_type", "width", "height",
                "filename", "updated_at",
            ]
        )  # fmt: skip
        realtime.publish_on_commit(locked.organization_id, messages_updated=[locked.message_id])
    return locked


def attachment_mark_failed(*, attachment: Attachment, reason: str, rejected: bool = False) -> Attachment:
    """End a pending attachment as `failed` (retrying may help another day) or `rejected` (our policy refused it)."""
    status = AttachmentStatus.REJECTED if rejected else AttachmentStatus.FAILED
    with transaction.atomic():
        updated = Attachment.objects.filter(pk=attachment.pk, status=AttachmentStatus.PENDING).update(
            status=status, error=reason[:2000], updated_at=timezone.now()
        )
        if updated:
            realtime.publish_on_commit(attachment.organization_id, messages_updated=[attachment.message_id])
    logger.info("attachment %s %s: %s", attachment.pk, status, reason)
    attachment.refresh_from_db()
    return attachment


def attachment_note_retry(*, attachment: Attachment, reason: str, attempt: int, attempts: int) -> None:
    """Keep the last transient error visible while the attachment waits for its next attempt."""
    Attachment.objects.filter(pk=attachment.pk, status=AttachmentStatus.PENDING).update(
        error=f"attempt {attempt} of {attempts} failed, retrying: {reason}"[:2000], updated_at=timezone.now()
    )


def message_media_settled(*, message_id: int) -> bool:
    """True once no attachment of the message is still pending (stored, failed or rejected, all of them)."""
    return not Attachment.objects.filter(message_id=message_id, status=AttachmentStatus.PENDING).exists()
