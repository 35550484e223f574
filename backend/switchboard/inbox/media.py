"""Media: safe download, type detection, storage, thumbnails, signed URLs — and the attachment services.

The threat is server-side request forgery: a media URL comes from a webhook, and a hostile (or compromised) sender
could point it at the metadata service, a database on the private network, or our own admin. So:

* only hosts in `MEDIA_ALLOWED_HOSTS` are fetched (an entry starting with "." also matches its subdomains, as
  Django's ALLOWED_HOSTS does); https only, unless `MEDIA_ALLOW_LOOPBACK` (tests) is on;
* DNS is resolved here and every address is checked: loopback, private, link-local, multicast, reserved and
  unspecified addresses are refused (with `MEDIA_ALLOW_LOOPBACK` only loopback is let through, never the rest).
  The connection then goes to the address that was checked, so a second DNS answer cannot swap it (rebinding);
* redirects are followed by hand, at most 5, and every hop is checked again the same way. Credentials
  (`Authorization`) are dropped when a redirect leaves the host they were meant for;
* `MEDIA_MAX_BYTES` is enforced on `Content-Length` and again on the bytes actually streamed (to a spooled temp
  file — never the whole body in memory);
* the real type comes from the bytes (a magic-number table; images are decoded with Pillow) and must fit the kind
  the platform declared: HTML served as `image/jpeg` is rejected, markup is never stored at all;
* a sender's filename never reaches the file system: files are stored through Django's storage API as
  `<organization_id>/<yyyy>/<mm>/<uuid>.<ext>`, the extension from the detected type.

Files are served only to the tenant's members (`inbox/media_api.py`): with a JWT, or with a short-lived signed URL
bound to the attachment (`attachment_urls()`), or by nginx after an `X-Accel-Redirect`.
"""

from __future__ import annotations

import base64
import hashlib
import io
import ipaddress
import logging
import re
import socket
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import IO, Any
from urllib.parse import quote, urljoin, urlsplit

import certifi
import urllib3
from django.conf import settings
from django.core import signing
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from PIL import Image, ImageOps

from switchboard.inbox import realtime
from switchboard.inbox.models import Attachment, AttachmentStatus, MessageKind

logger = logging.getLogger(__name__)

MAX_REDIRECTS = 5
THUMBNAIL_SIZE = (320, 320)
# A 25 MB PNG can decode to gigabytes; refuse images above this many pixels before decoding them.
MAX_IMAGE_PIXELS = 40_000_000
_REDIRECT_STATUSES = {301, 302, 303, 307, 308}
_TRANSIENT_STATUSES = {408, 425, 429, 500, 502, 503, 504}
_SPOOL_IN_MEMORY = 1024 * 1024
_CHUNK = 64 * 1024
_HEAD = 8192
SIGNING_SALT = "switchboard.inbox.media"


# --- errors -------------------------------------------------------------------------------------------------------
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


# --- policy -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MediaPolicy:
    allowed_hosts: tuple[str, ...]
    max_bytes: int
    allow_loopback: bool = False
    require_https: bool = True
    max_redirects: int = MAX_REDIRECTS
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    deadline_seconds: float = 120.0  # a server trickling bytes must not hold a worker forever

    @classmethod
    def from_settings(cls, *, extra_hosts: Iterable[str] = ()) -> MediaPolicy:
        allow_loopback = bool(settings.MEDIA_ALLOW_LOOPBACK)
        return cls(
            allowed_hosts=tuple(settings.MEDIA_ALLOWED_HOSTS) + tuple(h for h in extra_hosts if h),
            max_bytes=int(settings.MEDIA_MAX_BYTES),
            allow_loopback=allow_loopback,
            # Test servers on 127.0.0.1 speak plain HTTP; production vendors are all https.
            require_https=not allow_loopback,
        )


def host_allowed(host: str, patterns: Iterable[str]) -> bool:
    """'.fbcdn.net' matches fbcdn.net and every subdomain; any other entry matches exactly (case-insensitive)."""
    host = host.lower().rstrip(".")
    for pattern in patterns:
        pattern = pattern.strip().lower().rstrip(".")
        if not pattern:
            continue
        if pattern.startswith("."):
            if host == pattern[1:] or host.endswith(pattern):
                return True
        elif host == pattern:
            return True
    return False


def address_refusal(address: str, *, allow_loopback: bool) -> str | None:
    """Why `address` must not be contacted, or None when it is a public unicast address."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return f"{address} is not an IP address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if ip.is_loopback:
        return None if allow_loopback else f"{ip} is a loopback address"
    if ip.is_unspecified:
        return f"{ip} is the unspecified address"
    if ip.is_link_local:
        return f"{ip} is a link-local address"
    if ip.is_multicast:
        return f"{ip} is a multicast address"
    if ip.is_private:
        return f"{ip} is a private address"
    if ip.is_reserved:
        return f"{ip} is a reserved address"
    if not ip.is_global:
        return f"{ip} is not a public address"
    return None


def resolve_host(host: str, port: int) -> list[str]:
    """Every address the name resolves to (all are checked; one bad record refuses the host)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _dial_address(address: str) -> str:
    """The address the socket connects to: the one that was checked. (Tests replace this to reach their server
    from a name that resolved to a public address.)"""
    return address


@dataclass(frozen=True)
class _Target:
    url: str
    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def check_url(url: str, policy: MediaPolicy) -> _Target:
    """Refuse a URL the policy does not allow; otherwise the checked address to connect to."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise MediaRejected(f"malformed URL: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise MediaRejected(f"the scheme {scheme or '(none)'!r} is not allowed")
    if policy.require_https and scheme != "https":
        raise MediaRejected("only https media URLs are allowed")
    if parts.username or parts.password:
        raise MediaRejected("credentials inside a media URL are refused")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise MediaRejected("the URL names no host")
    try:
        host = host.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise MediaRejected(f"the host {host!r} is not a valid name") from exc
    if not host_allowed(host, policy.allowed_hosts):
        raise MediaRejected(f"the host {host} is not in MEDIA_ALLOWED_HOSTS")
    port = port or (443 if scheme == "https" else 80)
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            addresses = resolve_host(host, port)
        except (socket.gaierror, UnicodeError) as exc:
            raise MediaTransientError(f"DNS lookup of {host} failed: {exc}") from exc
    if not addresses:
        raise MediaTransientError(f"DNS lookup of {host} returned no address")
    for address in addresses:
        why = address_refusal(address, allow_loopback=policy.allow_loopback)
        if why:
            raise MediaRejected(f"{host} resolves to a forbidden address: {why}")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return _Target(url=url, scheme=scheme, host=host, port=port, path=path, addresses=tuple(addresses))


# --- fetching -----------------------------------------------------------------------------------------------------
@dataclass
class Fetched:
    """A downloaded body in a spooled temporary file (rewound), with what the transfer told us."""

    file: IO[bytes]
    size: int
    sha256: str
    content_type: str = ""
    url: str = ""

    def close(self) -> None:
        self.file.close()

    def __enter__(self) -> Fetched:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @classmethod
    def from_bytes(cls, data: bytes, *, content_type: str = "", max_bytes: int | None = None) -> Fetched:
        limit = settings.MEDIA_MAX_BYTES if max_bytes is None else max_bytes
        if len(data) > limit:
            raise MediaRejected(f"the media is {len(data)} bytes; the limit is {limit}")
        spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115 - owned by Fetched
        spool.write(data)
        spool.seek(0)
        return cls(spool, len(data), hashlib.sha256(data).hexdigest(), content_type)


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def media_fetch(url: str, *, headers: dict[str, str] | None = None, policy: MediaPolicy | None = None) -> Fetched:
    """GET `url` under the policy (allow list, address checks on every hop, size limit). Raises MediaRejected,
    MediaNotFound, MediaFailed or MediaTransientError."""
    policy = policy or MediaPolicy.from_settings()
    headers = {"Accept-Encoding": "identity", "User-Agent": "Switchboard-media/1.0", **(headers or {})}
    deadline = time.monotonic() + policy.deadline_seconds
    current = url
    for _hop in range(policy.max_redirects + 1):
        target = check_url(current, policy)
        pool, response = _open(target, headers, policy)
        try:
            status = response.status
            if status in _REDIRECT_STATUSES:
                location = response.headers.get("Location")
                if not location:
                    raise MediaFailed(f"HTTP {status} redirect without a Location", status=status)
                following = urljoin(current, location.strip())
                if (urlsplit(following).hostname or "").lower().rstrip(".") != target.host:
                    # Like browsers and requests: credentials never follow a redirect to another host.
                    headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
                current = following
                continue
            if status == 200:
                return _read_body(response, target, policy, deadline)
            raise _status_error(status, response.headers.get("Retry-After"))
        finally:
            response.close()  # never drain: an endless body would be read to its end
            pool.close()
    raise MediaRejected(f"more than {policy.max_redirects} redirects")


def _status_error(status: int, retry_after: str | None) -> MediaError:
    if status in (404, 410):
        return MediaNotFound(f"the media server answered HTTP {status}", status=status)
    if status in _TRANSIENT_STATUSES or status >= 500:
        return MediaTransientError(
            f"the media server answered HTTP {status}", status=status, retry_after=_retry_after(retry_after)
        )
    if status in (401, 403):
        return MediaFailed(f"the media server refused our credentials (HTTP {status})", status=status)
    return MediaFailed(f"the media server answered HTTP {status}", status=status)


def _open(
    target: _Target, headers: dict[str, str], policy: MediaPolicy
) -> tuple[urllib3.HTTPConnectionPool, urllib3.BaseHTTPResponse]:
    """Connect to the first checked address that answers (a name may resolve to ::1 and 127.0.0.1)."""
    timeout = urllib3.Timeout(connect=policy.connect_timeout, read=policy.read_timeout)
    failure: Exception | None = None
    for checked in target.addresses:
        address = _dial_address(checked)
        pool: urllib3.HTTPConnectionPool
        if target.scheme == "https":
            # Connect to the checked address while TLS still verifies the certificate for the host name.
            pool = urllib3.HTTPSConnectionPool(
                address,
                target.port,
                timeout=timeout,
                retries=False,
                maxsize=1,
                cert_reqs="CERT_REQUIRED",
                ca_certs=certifi.where(),
                server_hostname=target.host,
                assert_hostname=target.host,
            )
        else:
            pool = urllib3.HTTPConnectionPool(address, target.port, timeout=timeout, retries=False, maxsize=1)
        try:
            response = pool.urlopen(
                "GET",
                target.path,
                headers={**headers, "Host": target.host_header},
                redirect=False,
                retries=False,
                preload_content=False,
                decode_content=False,
                assert_same_host=False,
            )
        except urllib3.exceptions.SSLError as exc:
            pool.close()
            raise MediaFailed(f"TLS verification of {target.host} failed: {exc}") from exc
        except (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError) as exc:
            pool.close()
            failure = exc
            continue  # try the host's next address
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            pool.close()
            raise MediaTransientError(f"the request to {target.host} failed: {exc}") from exc
        return pool, response
    raise MediaTransientError(f"connecting to {target.host} failed: {failure}")


def _read_body(response: Any, target: _Target, policy: MediaPolicy, deadline: float) -> Fetched:
    encoding = (response.headers.get("Content-Encoding") or "identity").strip().lower()
    if encoding not in ("", "identity"):
        # We asked for identity; a compressed body could expand past every limit (a decompression bomb).
        raise MediaRejected(f"compressed responses ({encoding}) are refused")
    declared = response.headers.get("Content-Length")
    if declared is not None:
        try:
            declared_size = int(declared)
        except ValueError:
            raise MediaFailed(f"invalid Content-Length {declared!r}") from None
        if declared_size > policy.max_bytes:
            raise MediaRejected(
                f"the server declares {declared_size} bytes; the limit is {policy.max_bytes} (MEDIA_MAX_BYTES)"
            )
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115 - handed to Fetched
    digest = hashlib.sha256()
    size = 0
    try:
        for chunk in response.stream(_CHUNK, decode_content=False):
            size += len(chunk)
            if size > policy.max_bytes:
                raise MediaRejected(f"the body exceeds the limit of {policy.max_bytes} bytes (MEDIA_MAX_BYTES)")
            if time.monotonic() > deadline:
                raise MediaTransientError(f"the download took longer than {policy.deadline_seconds:.0f} s")
            digest.update(chunk)
            spool.write(chunk)
    except MediaError:
        spool.close()
        raise
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        spool.close()
        raise MediaTransientError(f"the download from {target.host} broke off: {exc}") from exc
    if size == 0:
        spool.close()
        raise MediaFailed("the media server sent an empty body")
    spool.seek(0)
    content_type = (response.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
    return Fetched(spool, size, digest.hexdigest(), content_type, target.url)


# --- type detection -----------------------------------------------------------------------------------------------
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


# --- storage ------------------------------------------------------------------------------------------------------
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


def media_delete(*names: str) -> None:
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


def media_file_response(*, name: str, content_type: str, filename: str = "", inline: bool = True) -> HttpResponse:
    """Send a stored file: by nginx (`X-Accel-Redirect: /protected-media/<name>`) when MEDIA_X_ACCEL_REDIRECT is on,
    otherwise streamed through Django. Only called after the caller checked the tenant."""
    content_type = content_type or "application/octet-stream"
    disposition_name = safe_display_name(filename) or PurePosixPath(name).name
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


# --- signed URLs --------------------------------------------------------------------------------------------------
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


# --- attachment services ------------------------------------------------------------------------------------------
Fetcher = Callable[[Attachment], "Fetched | bytes"]


def fetch_source_url(attachment: Attachment) -> Fetched:
    """Messenger / Instagram (and any platform without its own fetcher): the CDN URL from the webhook, no auth."""
    if not attachment.source_url:
        raise MediaFailed("the platform gave no media URL for this attachment")
    return media_fetch(attachment.source_url)


def media_fetcher_for(attachment: Attachment) -> Fetcher:
    """The platform adapter's `fetch_media(attachment)` when it has one (found through the registry, so the inbox
    never imports a platform app), else the plain source URL."""
    from switchboard.platforms.registry import adapter_for

    try:
        adapter = adapter_for(attachment.message.platform_account)
    except LookupError:
        return fetch_source_url
    return getattr(adapter, "fetch_media", None) or fetch_source_url


def attachment_download(*, organization_id: int, attachment: Attachment) -> Attachment:
    """Fetch, inspect and store one pending attachment. Records `stored`, `rejected` or `failed` (with the reason)
    itself; raises MediaTransientError for the caller (the Celery task) to retry with backoff."""
    if attachment.organization_id != organization_id:
        raise ValueError("the attachment belongs to another organization")
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
        realtime.message_event_on_commit(locked.organization_id, locked.message_id)
    return locked


def attachment_mark_failed(*, attachment: Attachment, reason: str, rejected: bool = False) -> Attachment:
    """End a pending attachment as `failed` (retrying may help another day) or `rejected` (our policy refused it)."""
    status = AttachmentStatus.REJECTED if rejected else AttachmentStatus.FAILED
    with transaction.atomic():
        updated = Attachment.objects.filter(pk=attachment.pk, status=AttachmentStatus.PENDING).update(
            status=status, error=reason[:2000], updated_at=timezone.now()
        )
        if updated:
            realtime.message_event_on_commit(attachment.organization_id, attachment.message_id)
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
