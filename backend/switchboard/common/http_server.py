"""Daphne's HTTP layer (Twisted) parses every multipart/form-data POST body itself, into `request.args` that
daphne never uses, and answers a malformed one (an empty multipart body: just the closing boundary) with a bare
`400 Bad Request` — no body, no Content-Type, and the application never sees the request. Turning that parsing off
hands every body to Django, whose parsers answer in the API's JSON shape; it also stops Twisted from holding a
second in-memory copy of every upload.

`config/asgi.py` calls `install()` before daphne builds its first request.
"""

from __future__ import annotations

import inspect


def install() -> None:
    try:
        from daphne.http_protocol import WebRequest  # noqa: PLC0415  optional: only under daphne
        from twisted.web.http import Request  # noqa: PLC0415  optional: only under daphne
    except ImportError:  # another ASGI server: nothing to change
        return
    if getattr(WebRequest, "_switchboard_form_parsing_off", False):
        return
    if "parsePOSTFormSubmission" not in inspect.signature(Request.__init__).parameters:
        return  # an older Twisted without the switch: it parsed with cgi and had no such answer

    original_init = WebRequest.__init__

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("parsePOSTFormSubmission", False)
        original_init(self, *args, **kwargs)

    WebRequest.__init__ = __init__
    WebRequest._switchboard_form_parsing_off = True
