"""What the bytes are: type detection from magic numbers, the fit with the declared kind, image decoding.

A platform's (or a server's) Content-Type is a claim, not a fact: HTML served as `image/jpeg` must not be stored as
a photo. So the real type comes from the first bytes (`detect_type`, a magic-number table: JPEG, PNG, GIF, WebP,
HEIC, MP4/MOV/3GP, WebM, Ogg, MP3, AAC, AMR, WAV, PDF, Office, ZIP, vCard, text), and it must fit the kind the
platform declared (`kind_accepts`): an image must be an image, a video a video, audio may come in an MP4/3GP/WebM
container. Markup (HTML, SVG, XML) is never accepted, whatever it claims to be — served inline it would run in our
origin. Images are decoded completely with Pillow (`inspect_image`; decompression bombs and images above
`MAX_IMAGE_PIXELS` are refused) and measured, and their thumbnail is made here.

`media_inspect` is the one entry point the write paths use (received attachments, agent uploads, listing photos).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import IO

from PIL import Image, ImageOps

from switchboard.inbox.media.errors import MediaError, MediaRejected
from switchboard.inbox.models import MessageKind

THUMBNAIL_SIZE = (320, 320)
# A 25 MB PNG can decode to gigabytes; refuse images above this many pixels before decoding them.
MAX_IMAGE_PIXELS = 40_000_000
_HEAD = 8192


@dataclass(frozen=True)
class DetectedType:
    mime: str
    ext: str
    family: str  # image, video, audio, document, markup


_MARKUP_PREFIXES = (b"<!doctype html", b"<html", b"<head", b"<body", b"<script", b"<svg", b"<?xml", b"<iframe")
_OOXML = {b"word/": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
          b"xl/": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
          b"ppt/": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx")}  # fmt: skip
_OLE = {"application/msword": "doc", "application/vnd.ms-excel": "xls", "application/vnd.ms-powerpoint": "ppt"}
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1"}


def detect_type(head: bytes, declared_mime: str = "") -> DetectedType:
    """What the first bytes say the file is. `declared_mime` only picks among look-alikes (an OLE file is a .doc
    or a .xls; text is plain or CSV) — it never decides the family."""
    declared = declared_mime.split(";", 1)[0].strip().lower()
    if head.startswith(b"\xff\xd8\xff"):
        return DetectedType("image/jpeg", "jpg", "image")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return DetectedType("image/png", "png", "image")
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return DetectedType("image/gif", "gif", "image")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return DetectedType("image/webp", "webp", "image")
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return DetectedType("audio/wav", "wav", "audio")
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return DetectedType("video/x-msvideo", "avi", "video")
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"M4A ", b"M4B ", b"M4P "):
            return DetectedType("audio/mp4", "m4a", "audio")
        if brand == b"qt  ":
            return DetectedType("video/quicktime", "mov", "video")
        if brand.startswith((b"3gp", b"3g2")):
            return DetectedType("video/3gpp", "3gp", "video")
        if brand in _HEIF_BRANDS:
            return DetectedType("image/heic", "heic", "image")
        if brand in (b"avif", b"avis"):
            return DetectedType("image/avif", "avif", "image")
        return DetectedType("video/mp4", "mp4", "video")
    if head.startswith(b"%PDF-"):
        return DetectedType("application/pdf", "pdf", "document")
    if head.startswith(b"OggS"):
        return DetectedType("audio/ogg", "ogg", "audio")
    if head.startswith(b"#!AMR"):
        return DetectedType("audio/amr", "amr", "audio")
    if head.startswith(b"\x1aE\xdf\xa3"):
        return DetectedType("video/webm", "webm", "video")
    if head.startswith(b"ID3"):
        return DetectedType("audio/mpeg", "mp3", "audio")
    if len(head) > 1 and head[0] == 0xFF and (head[1] & 0xF6) == 0xF0:
        return DetectedType("audio/aac", "aac", "audio")  # ADTS
    if len(head) > 1 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0:
        return DetectedType("audio/mpeg", "mp3", "audio")  # MPEG audio frame sync
    if head.startswith(b"PK\x03\x04"):
        for marker, (mime, ext) in _OOXML.items():
            if marker in head:
                return DetectedType(mime, ext, "document")
        return DetectedType("application/zip", "zip", "document")
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return DetectedType(declared if declared in _OLE else "application/x-ole-storage", _OLE.get(declared, "bin"),
                            "document")  # fmt: skip
    text = _as_text(head)
    if text is not None:
        probe = text.lstrip("\ufeff \t\r\n").lower().encode()
        if probe.startswith(_MARKUP_PREFIXES) or b"<script" in probe[:2048] or b"<html" in probe[:2048]:
            return DetectedType("text/html", "html", "markup")
        if probe.startswith(b"begin:vcard"):
            return DetectedType("text/vcard", "vcf", "document")
        if declared == "text/csv":
            return DetectedType("text/csv", "csv", "document")
        return DetectedType("text/plain", "txt", "document")
    return DetectedType("application/octet-stream", "bin", "document")


def _as_text(head: bytes) -> str | None:
    if not head or b"\x00" in head:
        return None
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # the sample cut a multi-byte character in half
            return head[: exc.start].decode("utf-8", errors="strict") if exc.start else None
        return None


# Media containers that may carry audio only (a voice note in MP4 / 3GP / WebM).
_AUDIO_CONTAINERS = {"video/mp4", "video/3gpp", "video/webm"}


def kind_accepts(kind: str, detected: DetectedType) -> bool:
    """Does what the bytes are fit what the platform said the attachment is?"""
    if detected.family == "markup":
        return False  # HTML / SVG would run in our origin if ever served inline: never stored
    if kind in (MessageKind.IMAGE, MessageKind.STICKER):
        return detected.family == "image"
    if kind == MessageKind.VIDEO:
        return detected.family == "video"
    if kind == MessageKind.AUDIO:
        return detected.family == "audio" or detected.mime in _AUDIO_CONTAINERS
    return True  # documents (and anything else) may be any non-markup file


@dataclass(frozen=True)
class ImageInfo:
    width: int
    height: int
    thumbnail: bytes


@dataclass(frozen=True)
class Inspected:
    detected: DetectedType
    image: ImageInfo | None = None


def inspect_image(fileobj: IO[bytes]) -> ImageInfo:
    """Decode the image completely (a file that only starts like a JPEG fails here) and make the thumbnail."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            fileobj.seek(0)
            with Image.open(fileobj) as probe:
                if probe.width * probe.height > MAX_IMAGE_PIXELS:
                    raise MediaRejected(f"the image is {probe.width}x{probe.height} pixels; too large to decode")
                probe.verify()
            fileobj.seek(0)
            with Image.open(fileobj) as image:
                image.load()
                upright = ImageOps.exif_transpose(image) or image
                width, height = upright.size
                thumb = upright.copy()
    except MediaError:
        raise
    except Exception as exc:  # Pillow raises many types for broken or hostile files
        raise MediaRejected(f"the bytes do not decode as an image: {exc}") from exc
    thumb.thumbnail(THUMBNAIL_SIZE)
    if thumb.mode in ("RGBA", "LA", "P", "PA"):
        thumb = thumb.convert("RGBA")
        background = Image.new("RGB", thumb.size, (255, 255, 255))
        background.paste(thumb, mask=thumb.getchannel("A"))
        thumb = background
    elif thumb.mode != "RGB":
        thumb = thumb.convert("RGB")
    buffer = io.BytesIO()
    thumb.save(buffer, "JPEG", quality=80, optimize=True)
    fileobj.seek(0)
    return ImageInfo(width=width, height=height, thumbnail=buffer.getvalue())


def media_inspect(fileobj: IO[bytes], *, kind: str, declared_mime: str = "") -> Inspected:
    """Detect the type, refuse what does not fit `kind`, decode images. Raises MediaRejected with the reason."""
    fileobj.seek(0)
    head = fileobj.read(_HEAD)
    fileobj.seek(0)
    detected = detect_type(head, declared_mime)
    if detected.family == "markup":
        raise MediaRejected(f"the content is markup ({detected.mime}), declared as {declared_mime or kind}")
    if not kind_accepts(kind, detected):
        raise MediaRejected(f"the content is {detected.mime}, which is not a valid {kind}")
    image = inspect_image(fileobj) if detected.family == "image" and detected.mime != "image/heic" else None
    if detected.family == "image" and image is None and kind in (MessageKind.IMAGE, MessageKind.STICKER):
        raise MediaRejected(f"{detected.mime} images cannot be decoded here")
    return Inspected(detected=detected, image=image)
