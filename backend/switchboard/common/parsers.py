"""Request body parsers of the API (REST_FRAMEWORK's DEFAULT_PARSER_CLASSES).

* A body larger than DATA_UPLOAD_MAX_MEMORY_SIZE is a 413 before it is read (DRF's JSON and form parsers read any
  size; Django enforces the limit only on `request.body` and on multipart fields).
* JSON strings may not contain NUL (U+0000): PostgreSQL stores it neither in text nor in jsonb columns, so such a
  body could only end in a database error (a 500) wherever it is saved.

Multipart stays DRF's parser: Django streams files to disk and raises RequestDataTooBig for oversized fields,
which `common.errors` answers as 413.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from rest_framework import exceptions, parsers, status


class PayloadTooLarge(exceptions.APIException):
    # Here, not in common.errors: DRF imports the parsers while `rest_framework.views` (which errors imports) loads.
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "too_large"


def _check_size(parser_context: Mapping[str, Any] | None) -> None:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    request = (parser_context or {}).get("request")
    if limit is None or request is None:
        return
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        raise PayloadTooLarge(f"The request body exceeds {limit} bytes.")


def contains_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(contains_nul(key) or contains_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(contains_nul(item) for item in value)
    return False


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        _check_size(parser_context)
        data = super().parse(stream, media_type, parser_context)
        if contains_nul(data):
            raise exceptions.ParseError("JSON parse error - strings may not contain NUL (\\u0000) characters.")
        return data


class FormParser(parsers.FormParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        _check_size(parser_context)
        return super().parse(stream, media_type, parser_context)


MultiPartParser = parsers.MultiPartParser
