"""Signed, short-lived URLs: how a private file reaches an `<img src>` that can send no Authorization header.

`media_sign` / `media_unsign` wrap Django signing with a salt per use (listings sign their own URLs with theirs)
and a maximum age of `MEDIA_URL_TTL_SECONDS`. An attachment's signature binds its id, its organization and
file-or-thumbnail, so a forged, expired or re-targeted one checks as None and the view answers 404, exactly like a
missing attachment. `attachment_urls` gives the serializers `{"url", "thumbnail_url"}` (None until stored).

The signature is the proof of tenancy for `GET /api/media/<id>/signed/` (inbox/media_api.py).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import signing
from django.urls import NoReverseMatch, reverse

from switchboard.inbox.models import Attachment, AttachmentStatus

# The salt of attachment signatures; unchanged since media was one module, so URLs handed out stay valid.
SIGNING_SALT = "switchboard.inbox.media"


def media_sign(payload: dict[str, Any], *, salt: str = SIGNING_SALT) -> str:
    return signing.dumps(payload, salt=salt, compress=True)


def media_unsign(token: str, *, salt: str = SIGNING_SALT) -> dict[str, Any] | None:
    """The signed payload if the token is authentic and younger than MEDIA_URL_TTL_SECONDS, else None."""
    if not token or len(token) > 1000:
        return None
    try:
        payload = signing.loads(token, salt=salt, max_age=settings.MEDIA_URL_TTL_SECONDS)
    except signing.BadSignature:  # includes SignatureExpired
        return None
    return payload if isinstance(payload, dict) else None


def attachment_signature(attachment: Attachment, *, thumb: bool = False) -> str:
    return media_sign({"a": attachment.pk, "o": attachment.organization_id, "t": int(bool(thumb))})


def attachment_signature_check(token: str, *, attachment_id: int) -> tuple[int, bool] | None:
    """(organization id, thumbnail?) when `token` was signed for exactly this attachment; None otherwise."""
    payload = media_unsign(token)
    if not payload or payload.get("a") != attachment_id or not isinstance(payload.get("o"), int):
        return None
    return payload["o"], bool(payload.get("t"))


def _signed_path(attachment_id: int) -> str:
    try:
        return reverse("media-signed", args=[attachment_id])
    except NoReverseMatch:  # the media URLconf is mounted under /api/media/ (config/urls.py)
        return f"/api/media/{attachment_id}/signed/"


def attachment_urls(attachment: Attachment) -> dict[str, str | None]:
    """Signed, short-lived URLs for `<img src>` (no header needed); None until the file is stored."""
    if attachment.status != AttachmentStatus.STORED or not attachment.file:
        return {"url": None, "thumbnail_url": None}
    path = _signed_path(attachment.pk)
    url = f"{path}?sig={attachment_signature(attachment)}"
    thumbnail_url = f"{path}?sig={attachment_signature(attachment, thumb=True)}" if attachment.thumbnail else None
    return {"url": url, "thumbnail_url": thumbnail_url}
