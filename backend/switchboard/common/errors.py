"""One JSON error shape for the whole API: {"detail": str, "code": str, "errors": {field: [messages]}}."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


def _flatten(detail: Any) -> Any:
    if isinstance(detail, list):
        return [_flatten(item) for item in detail]
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    return str(detail)


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        errors = _flatten(errors)
        first_field, first_messages = next(iter(errors.items()), ("", [""]))
        first = first_messages[0] if isinstance(first_messages, list) and first_messages else first_messages
        summary = f"{first_field}: {first}" if first_field != "non_field_errors" else str(first)
        response.data = {"detail": f"Invalid input. {summary}".strip(), "code": "invalid", "errors": errors}
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        detail = exc.detail
        if isinstance(detail, dict) and "detail" in detail:
            response.data = {
                "detail": str(detail["detail"]),
                "code": str(detail.get("code", codes.get("detail") if isinstance(codes, dict) else codes)),
            }
            for key, value in detail.items():
                if key not in ("detail", "code"):
                    response.data[key] = _flatten(value)
        else:
            response.data = {"detail": str(detail), "code": codes if isinstance(codes, str) else "error"}
    return response
