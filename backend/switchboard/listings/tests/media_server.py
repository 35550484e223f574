"""Test support for the media pipeline: a real HTTP server on 127.0.0.1 (in a thread) that plays a vendor's media
host, image bytes made with Pillow, and the settings that let the fetcher reach loopback in tests.

Used by switchboard/inbox/tests/test_media_*.py, switchboard/listings/tests and tests/test_media_*.py.
"""

from __future__ import annotations

import base64
import io
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from PIL import Image

Body = bytes | Iterable[bytes]


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: Body = b""


@dataclass
class Seen:
    path: str
    headers: dict[str, str]


Handler = Callable[[Seen], Reply]


def jpeg_bytes(size: tuple[int, int] = (640, 480), color: tuple[int, int, int] = (200, 120, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def png_bytes(size: tuple[int, int] = (40, 30), mode: str = "RGBA") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, (10, 200, 30, 128) if mode == "RGBA" else (10, 200, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def basic_auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def do_GET(self) -> None:
        seen = Seen(path=self.path, headers={k.lower(): v for k, v in self.headers.items()})
        self.server.owner.requests.append(seen)
        handler = self.server.owner.routes.get(self.path.split("?", 1)[0])
        reply = handler(seen) if handler else Reply(404, {"Content-Type": "text/plain"}, b"not found")
        try:
            self.send_response(reply.status)
            headers = dict(reply.headers)
            if isinstance(reply.body, bytes | bytearray):
                headers.setdefault("Content-Length", str(len(reply.body)))
            elif "Content-Length" not in headers:
                headers["Transfer-Encoding"] = "chunked"
            headers.setdefault("Connection", "close")
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            if isinstance(reply.body, bytes | bytearray):
                self.wfile.write(reply.body)
            elif headers.get("Transfer-Encoding") == "chunked":
                for chunk in reply.body:
                    self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")
            else:
                for chunk in reply.body:
                    self.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client hung up (which is what a size limit does)
        self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: MediaServer


class MediaServer:
    """`with MediaServer() as server: server.route("/x.jpg", lambda seen: Reply(body=...))`."""

    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.requests: list[Seen] = []
        self._httpd = _Server(("127.0.0.1", 0), _RequestHandler)
        self._httpd.owner = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def route(self, path: str, handler: Handler | Reply) -> None:
        self.routes[path] = handler if callable(handler) else (lambda seen, reply=handler: reply)

    def paths(self) -> list[str]:
        return [seen.path.split("?", 1)[0] for seen in self.requests]

    def __enter__(self) -> MediaServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@contextmanager
def media_server() -> Iterator[MediaServer]:
    with MediaServer() as server:
        yield server


def endless(chunk_size: int = 64 * 1024) -> Iterator[bytes]:
    """A body that never ends (the fetcher must stop reading at MEDIA_MAX_BYTES)."""
    chunk = b"\xff\xd8\xff" + b"\0" * (chunk_size - 3)
    while True:
        yield chunk
        chunk = b"\0" * chunk_size


def allow_loopback(settings: Any, *extra_hosts: str) -> None:
    """What a test needs to fetch from its server on 127.0.0.1 (production never allows loopback)."""
    settings.MEDIA_ALLOW_LOOPBACK = True
    settings.MEDIA_ALLOWED_HOSTS = ["127.0.0.1", *extra_hosts]


def wire_whatsapp_media(monkeypatch: Any) -> None:
    """Give the registered WhatsApp adapters their `fetch_media` (whatsapp/media.py). Until the lead adds the
    method to whatsapp/adapter.py (see the report of issue 4), tests attach it here."""
    from switchboard.platforms.models import Platform, Provider
    from switchboard.platforms.registry import get_adapter
    from switchboard.whatsapp import media as whatsapp_media

    for provider in (Provider.META, Provider.TWILIO, Provider.BRIDGE):
        adapter = get_adapter(Platform.WHATSAPP, provider)
        if not hasattr(adapter, "fetch_media"):
            monkeypatch.setattr(adapter, "fetch_media", whatsapp_media.fetch_media, raising=False)


def stored_photo(message: Any, *, image: bytes | None = None, caption: str = "", **fields: Any) -> Any:
    """An attachment of `message` already downloaded and stored (as the media task leaves it)."""
    import hashlib

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from switchboard.inbox import media
    from switchboard.inbox.models import Attachment, AttachmentStatus, MessageKind

    data = image if image is not None else jpeg_bytes()
    attachment = Attachment.objects.create(
        organization_id=message.organization_id,
        message=message,
        kind=fields.pop("kind", MessageKind.IMAGE),
        mime_type="image/jpeg",
        caption=caption,
        status=fields.pop("status", AttachmentStatus.STORED),
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        width=640,
        height=480,
        **fields,
    )
    token = attachment.uuid.hex
    attachment.file.name = default_storage.save(
        media.storage_name(organization_id=message.organization_id, ext="jpg", token=token), ContentFile(data)
    )
    attachment.thumbnail.name = default_storage.save(
        media.storage_name(organization_id=message.organization_id, ext="jpg", token=token, suffix="_thumb"),
        ContentFile(jpeg_bytes((32, 24))),
    )
    attachment.save()
    return attachment
