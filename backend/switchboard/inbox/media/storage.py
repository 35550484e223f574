"""Where media files live and how they come back out: storage names, saving, deleting, sending a stored file.

A sender's filename never reaches the file system: files are stored through Django's storage API (local disk, or
S3-compatible storage with `AWS_STORAGE_BUCKET_NAME`) as `<organization_id>/<yyyy>/<mm>/<uuid>.<ext>`, the extension
from the detected type (inspection.py), with the thumbnail beside it as `<uuid>_thumb.jpg`. The sender's name is
kept only for display, reduced by `safe_display_name`.

Files are never public. `media_file_response` sends one — by nginx (`X-Accel-Redirect: /protected-media/<name>`)
when `MEDIA_X_ACCEL_REDIRECT` is on, otherwise streamed through Django — and is called only after the caller checked
the tenant (inbox/media_api.py, listings' media view). Every answer is `nosniff`, sandboxed by its
Content-Security-Policy and privately cached.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import IO
from urllib.parse import quote

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBase
from django.utils import timezone

from switchboard.inbox.media.inspection import Inspected

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredFiles:
    name: str
    thumbnail_name: str = ""


def storage_name(*, organization_id: int, ext: str, token: str | None = None, suffix: str = "") -> str:
    """`<organization_id>/<yyyy>/<mm>/<uuid><suffix>.<ext>` — nothing of the sender's naming."""
    now = timezone.now()
    if not re.fullmatch(r"[a-z0-9]{1,8}", ext):
        ext = "bin"
    token = token if token and re.fullmatch(r"[a-f0-9]{32}", token) else uuid.uuid4().hex
    return f"{int(organization_id)}/{now:%Y}/{now:%m}/{token}{suffix}.{ext}"


def media_save(
    *, organization_id: int, fileobj: IO[bytes], inspected: Inspected, token: str | None = None
) -> StoredFiles:
    token = token or uuid.uuid4().hex
    fileobj.seek(0)
    name = default_storage.save(
        storage_name(organization_id=organization_id, ext=inspected.detected.ext, token=token), File(fileobj)
    )
    thumbnail_name = ""
    if inspected.image is not None:
        thumbnail_name = default_storage.save(
            storage_name(organization_id=organization_id, ext="jpg", token=token, suffix="_thumb"),
            ContentFile(inspected.image.thumbnail),
        )
    return StoredFiles(name=name, thumbnail_name=thumbnail_name)


def media_delete(*names: str | None) -> None:
    """Deletes the stored files; empty names (a FieldFile without a file) are skipped."""
    for name in names:
        if name:
            try:
                default_storage.delete(name)
            except Exception:  # a missing file is no reason to fail the caller
                logger.warning("could not delete stored media %s", name, exc_info=True)


def safe_display_name(filename: str) -> str:
    """The sender's filename reduced to a display string: last path component, no control characters."""
    name = PurePosixPath((filename or "").replace("\\", "/")).name
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return "" if name in ("", ".", "..") else name[:255]


def media_file_response(*, name: str, content_type: str, filename: str = "", inline: bool = True) -> HttpResponseBase:
    """Send a stored file: by nginx (`X-Accel-Redirect: /protected-media/<name>`) when MEDIA_X_ACCEL_REDIRECT is on,
    otherwise streamed through Django. Only called after the caller checked the tenant."""
    content_type = content_type or "application/octet-stream"
    disposition_name = safe_display_name(filename) or PurePosixPath(name).name
    response: HttpResponseBase
    if settings.MEDIA_X_ACCEL_REDIRECT:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = "/protected-media/" + quote(name)
        kind = "inline" if inline else "attachment"
        response["Content-Disposition"] = f"{kind}; filename*=UTF-8''{quote(disposition_name)}"
    else:
        try:
            handle = default_storage.open(name, "rb")
        except (FileNotFoundError, OSError) as exc:
            raise Http404("The file is not in storage.") from exc
        response = FileResponse(handle, content_type=content_type, as_attachment=not inline, filename=disposition_name)
    response["X-Content-Type-Options"] = "nosniff"
    # Even a file that slipped through is inert: no scripts, no plugins, no same-origin powers.
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; media-src 'self'; sandbox"
    response["Cache-Control"] = f"private, max-age={int(settings.MEDIA_URL_TTL_SECONDS)}"
    return response


def inline_content_type(mime: str) -> bool:
    """Images, audio and video display in the page; everything else downloads."""
    return mime.split("/", 1)[0] in ("image", "audio", "video")
