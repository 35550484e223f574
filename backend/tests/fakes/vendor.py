"""A fake vendor API on 127.0.0.1 — real HTTP, in a thread — that answers like the Graph API and Twilio.

    with FakeVendor() as vendor:                      # or the `fake_vendor` fixture (conftest.py), which also
        settings.GRAPH_API_BASE = vendor.url          # points GRAPH_API_BASE and TWILIO_API_BASE at it
        vendor.on("POST", r"/v\\d+\\.\\d+/\\d+/messages", graph_error(130429), graph_sent("wamid.1"))
        ...
        vendor.requests("POST", r"/messages$")         # what was asked, in order (method, path, query, body …)

Routes are matched newest first by method and a regular expression on the path (`re.fullmatch`). A route answers
with its scripted replies in order and repeats the last one; a reply may also be a function of the request (paging
over a data set, echoing an id). Unmatched requests are recorded and answered 404 with a Graph-style error.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict / list → JSON; str / bytes as they are
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, dict | list):
            return json.dumps(self.body).encode(), "application/json"
        if isinstance(self.body, str):
            return self.body.encode(), "text/plain; charset=utf-8"
        return (self.body or b""), "application/octet-stream"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic(): for gaps between requests
    wall: float = 0.0  # time.time(): for calendar seconds (rate limits)

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None

    @property
    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode("utf-8", errors="replace"), keep_blank_values=True)

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def field(self, name: str) -> str | None:
        values = self.form.get(name)
        return values[0] if values else None


Responder = Reply | Callable[[Request], Reply]


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    replies: list[Responder]
    calls: int = 0

    def next_responder(self) -> Responder:
        responder = self.replies[min(self.calls, len(self.replies) - 1)]
        self.calls += 1
        return responder


class FakeVendor:
    def __init__(self) -> None:
        self._routes: list[Route] = []
        self._requests: list[Request] = []
        self._lock = threading.Lock()
        vendor = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                request = Request(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query, keep_blank_values=True),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                    at=time.monotonic(),
                    wall=time.time(),
                )
                reply = vendor._dispatch(request)
                data, content_type = reply.encoded()
                self.send_response(reply.status)
                headers = {"Content-Type": content_type, **reply.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = do_PUT = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-vendor", daemon=True
        )

    # --- lifecycle --------------------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeVendor:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeVendor:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- scripting --------------------------------------------------------------------------------------------------
    def on(self, method: str, path_pattern: str, *replies: Responder) -> Route:
        """Answer `method` requests whose path fully matches `path_pattern` with `replies` in order (the last one
        repeats). A later `on()` for the same request wins."""
        if not replies:
            raise ValueError("give at least one reply")
        route = Route(method.upper(), re.compile(path_pattern), list(replies))
        with self._lock:
            self._routes.insert(0, route)
        return route

    def _dispatch(self, request: Request) -> Reply:
        with self._lock:
            self._requests.append(request)
            route = next(
                (r for r in self._routes if r.method == request.method and r.pattern.fullmatch(request.path)), None
            )
            if route is None:
                return graph_error(803, f"Unknown path {request.path}", status=404)
            responder = route.next_responder()
        # Outside the lock: a responder may look at what was asked so far (vendor.requests()).
        return responder(request) if callable(responder) else responder

    def requests(self, method: str | None = None, path_pattern: str | None = None) -> list[Request]:
        with self._lock:
            found = list(self._requests)
        return [
            r
            for r in found
            if (method is None or r.method == method.upper())
            and (path_pattern is None or re.search(path_pattern, r.path))
        ]

    def reset(self) -> None:
        with self._lock:
            self._routes.clear()
            self._requests.clear()


# --- answers as the vendors give them ---------------------------------------------------------------------------------
def graph_error(
    code: int,
    message: str = "",
    *,
    status: int = 400,
    subcode: int | None = None,
    error_type: str = "OAuthException",
    headers: dict[str, str] | None = None,
) -> Reply:
    """Meta's error envelope."""
    error: dict[str, Any] = {
        "message": message or f"(#{code}) error {code}",
        "type": error_type,
        "code": code,
        "fbtrace_id": "AbCdEfGhIjK",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return Reply(status, {"error": error}, headers or {})


def graph_sent(message_id: str, recipient_id: str = "") -> Reply:
    """What the Send API (Messenger / Instagram) answers."""
    return Reply(200, {"recipient_id": recipient_id or "PSID", "message_id": message_id})


def cloud_sent(wamid: str, wa_id: str = "15551234567") -> Reply:
    """What the WhatsApp Cloud API messages endpoint answers."""
    return Reply(
        200,
        {"messaging_product": "whatsapp", "contacts": [{"input": wa_id, "wa_id": wa_id}], "messages": [{"id": wamid}]},
    )


def twilio_error(code: int, message: str = "", *, status: int = 400, headers: dict[str, str] | None = None) -> Reply:
    """Twilio's REST error body."""
    return Reply(
        status,
        {
            "code": code,
            "message": message or f"Error {code}",
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        headers or {},
    )


def twilio_created(sid: str, *, to: str = "whatsapp:+15551234567", status: str = "queued") -> Reply:
    return Reply(201, {"sid": sid, "status": status, "to": to, "body": "", "error_code": None})
