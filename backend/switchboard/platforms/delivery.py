"""A webhook delivery as adapters see it: a frozen value, not a Django request.

The pipeline builds it once from the incoming request (`from_request`); a replay builds the same value from the stored
`WebhookLog` (the webhooks app does, from its columns). Adapters verify, route and parse from it alone, so a stored
delivery is processed by exactly the code that processed it live, with no fake request in production code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import parse_qsl

from django.conf import settings
from django.http import HttpRequest, QueryDict

from switchboard.common.http import client_ip

FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Delivery:
    """`url` is the URL as the platform requested it (what Twilio signs); `headers` keep their names as sent and are
    looked up case-insensitively with `header()`; `query` holds the first value of each query parameter."""

    method: str
    path: str
    url: str
    body: bytes
    content_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    client_ip: str | None = None

    @classmethod
    def from_request(cls, request: HttpRequest) -> Delivery:
        return cls(
            method=request.method or "POST",
            path=request.path,
            url=public_url(request),
            body=request.body,
            content_type=request.content_type or "",
            headers=dict(request.headers.items()),
            query={name: request.GET.get(name, "") for name in request.GET},
            client_ip=client_ip(request),
        )

    def header(self, name: str, default: str = "") -> str:
        lowered = name.lower()
        return next((value for key, value in self.headers.items() if key.lower() == lowered), default)

    @cached_property
    def form(self) -> QueryDict:
        """The form-encoded body (every value of repeated names kept: Twilio signs them all)."""
        return QueryDict(self.body, encoding="utf-8")

    @cached_property
    def payload(self) -> Any:
        """The body decoded once: a dict of form fields, or the JSON value. Raises ValueError when it is neither."""
        if self.content_type == FORM:
            try:
                text = self.body.decode("utf-8")
                return dict(parse_qsl(text, keep_blank_values=True, strict_parsing=bool(self.body)))
            except (UnicodeDecodeError, ValueError) as exc:
                raise ValueError(f"Malformed form body: {exc}") from exc
        try:
            return json.loads(self.body)
        except (UnicodeDecodeError, ValueError) as exc:
            raise ValueError(f"Malformed JSON body: {exc}") from exc


def public_url(request: HttpRequest) -> str:
    """The URL as the platform requested it. Behind a proxy it is rebuilt from PUBLIC_BASE_URL, or from
    X-Forwarded-Proto/Host when TRUST_FORWARDED_HEADERS says the proxy is ours."""
    if settings.PUBLIC_BASE_URL:
        return settings.PUBLIC_BASE_URL.rstrip("/") + request.get_full_path()
    if settings.TRUST_FORWARDED_HEADERS:
        proto = request.headers.get("X-Forwarded-Proto", request.scheme or "http").split(",")[0].strip()
        host = request.headers.get("X-Forwarded-Host", request.get_host()).split(",")[0].strip()
        return f"{proto}://{host}{request.get_full_path()}"
    return request.build_absolute_uri()
