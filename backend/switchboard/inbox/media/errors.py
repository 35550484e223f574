"""The media error family: how a download or an upload that cannot succeed says why.

Every module of the package raises these, and the attachment services turn them into the attachment's final state,
so the classification lives in one place: `rejected` means our policy refused the media (the attachment ends
`rejected`), anything else ends `failed`; `transient` errors are worth another attempt later (the media task
retries them with backoff). Platform fetchers (whatsapp/media.py, the sandbox adapter) raise them too.
"""

from __future__ import annotations


class MediaError(Exception):
    """A download that cannot succeed as asked. `rejected`: our policy refused it (the attachment ends `rejected`);
    otherwise it ends `failed`. `transient` errors are worth retrying later."""

    rejected = False
    transient = False

    def __init__(self, reason: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retry_after = retry_after


class MediaRejected(MediaError):
    rejected = True


class MediaFailed(MediaError):
    pass


class MediaNotFound(MediaFailed):
    """404 / 410: for WhatsApp Cloud this means the short-lived URL expired — ask Graph for a new one."""


class MediaTransientError(MediaError):
    transient = True
