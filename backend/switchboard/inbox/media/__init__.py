"""Media: the files customers send and agents upload — fetched safely, checked, stored, served to the tenant only.

The threat is server-side request forgery: a media URL comes from a webhook, and a hostile (or compromised) sender
could point it at the metadata service, a database on the private network, or our own admin. The second threat is
the file itself: markup that claims to be a photo, a decompression bomb, a filename that walks the file system.
Each module has one job, and each rule lives in exactly one of them:

    errors.py       the MediaError family: rejected (our policy refused) / failed / transient (retry later)
    policy.py       which URLs may be fetched: MediaPolicy, the host allow list, the address checks, check_url
    fetch.py        the download itself: media_fetch (checked address dialled, redirects by hand, size limit), Fetched
    inspection.py   what the bytes are: detect_type, kind_accepts, inspect_image (Pillow, thumbnail), media_inspect
    storage.py      where files live: storage_name, media_save, media_delete, safe_display_name, media_file_response
    signed_urls.py  short-lived signed URLs: media_sign / media_unsign, attachment signatures, attachment_urls
    attachments.py  the attachment write services: attachment_download, attachment_mark_failed / _note_retry,
                    message_media_settled, and the fetcher choice (the adapter's fetch_media or fetch_source_url)

They import each other in that order (errors ← policy ← fetch; errors ← inspection ← storage; errors, fetch,
inspection and storage ← attachments; signed_urls stands alone), never upwards and never through this package's
re-exports, so there is no cycle to hide. Files are served
only to the tenant's members (`inbox/media_api.py`): with a JWT, with a signed URL, or by nginx after an
`X-Accel-Redirect`.

This module re-exports the public names, so callers write `from switchboard.inbox import media` or
`from switchboard.inbox.media import media_fetch`. A test that replaces a name must patch the module that looks it
up (`media.policy.resolve_host`, `media.fetch._dial_address`, `media.inspection.MAX_IMAGE_PIXELS`,
`media.attachments.media_inspect`, `media.storage.default_storage`); a name patched here reaches only the
callers that look it up here.
"""

from switchboard.inbox.media.attachments import (
    Fetcher,
    attachment_download,
    attachment_mark_failed,
    attachment_note_retry,
    fetch_source_url,
    media_fetcher_for,
    message_media_settled,
)
from switchboard.inbox.media.errors import (
    MediaError,
    MediaFailed,
    MediaNotFound,
    MediaRejected,
    MediaTransientError,
)
from switchboard.inbox.media.fetch import Fetched, media_fetch
from switchboard.inbox.media.inspection import (
    MAX_IMAGE_PIXELS,
    THUMBNAIL_SIZE,
    DetectedType,
    ImageInfo,
    Inspected,
    detect_type,
    inspect_image,
    kind_accepts,
    media_inspect,
)
from switchboard.inbox.media.policy import (
    MAX_REDIRECTS,
    MediaPolicy,
    address_refusal,
    check_url,
    host_allowed,
    resolve_host,
)
from switchboard.inbox.media.signed_urls import (
    SIGNING_SALT,
    attachment_signature,
    attachment_signature_check,
    attachment_urls,
    media_sign,
    media_unsign,
)
from switchboard.inbox.media.storage import (
    StoredFiles,
    inline_content_type,
    media_delete,
    media_file_response,
    media_save,
    safe_display_name,
    storage_name,
)

__all__ = [
    "MAX_IMAGE_PIXELS",
    "MAX_REDIRECTS",
    "SIGNING_SALT",
    "THUMBNAIL_SIZE",
    "DetectedType",
    "Fetched",
    "Fetcher",
    "ImageInfo",
    "Inspected",
    "MediaError",
    "MediaFailed",
    "MediaNotFound",
    "MediaPolicy",
    "MediaRejected",
    "MediaTransientError",
    "StoredFiles",
    "address_refusal",
    "attachment_download",
    "attachment_mark_failed",
    "attachment_note_retry",
    "attachment_signature",
    "attachment_signature_check",
    "attachment_urls",
    "check_url",
    "detect_type",
    "fetch_source_url",
    "host_allowed",
    "inline_content_type",
    "inspect_image",
    "kind_accepts",
    "media_delete",
    "media_fetch",
    "media_fetcher_for",
    "media_file_response",
    "media_inspect",
    "media_save",
    "media_sign",
    "media_unsign",
    "message_media_settled",
    "resolve_host",
    "safe_display_name",
    "storage_name",
]
