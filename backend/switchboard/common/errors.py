"""One JSON error shape for the whole API: {"detail": str, "code": str, "errors": {field: [messages]}}.

`errors` comes with every 400 (validation, but also malformed bodies, `parse_error`, and bad query strings), so a
client reads one shape; nested fields are named by their path (`template.components.0.type`). Other statuses carry
`detail` and `code` (and sometimes extra keys, e.g. `templates_required` on a 409).

This handler is the one place errors become statuses. Services raise application errors and never DRF's
(`common/exceptions.py`): `ApplicationError` and its subclasses answer their `status_code` with their `body()`
(`NotFound` 404, `Conflict` 409 — a refused send is one); a model's `DoesNotExist` (a missing or another tenant's
row, `accounts.tenancy.ensure_owned`) is the same 404 as a missing URL; Django's `ValidationError` is the 400 with
`errors`. Views let them through instead of translating them.

Answers that never reach a DRF view are JSON too under /api/: an unknown URL (`api_not_found`, the last /api/
route, so it holds under DEBUG as well) and Django's 400/403/404/500 handlers (`config/urls.py`).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django.views import csrf, defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from switchboard.common.exceptions import ApplicationError, NotFound
from switchboard.common.exceptions import Conflict as Conflict  # re-exported: accounts.services imports it from here
from switchboard.common.parsers import PayloadTooLarge

API_PREFIX = "/api/"


def _messages(detail: Any) -> list[str]:
    if isinstance(detail, list | tuple):
        return [message for item in detail for message in _messages(item)]
    if isinstance(detail, dict):
        return [message for item in detail.values() for message in _messages(item)]
    return [str(detail)]


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """{field: [messages]} with nested serializers / list items named by their path; a nested serializer's
    non_field_errors belong to the nested field itself."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = prefix if (key == "non_field_errors" and prefix) else f"{prefix}.{key}" if prefix else str(key)
            for field, messages in _flatten(value, name).items():
                flat.setdefault(field, []).extend(messages)
        return flat
    if isinstance(detail, list | tuple) and any(isinstance(item, dict) for item in detail):
        # A list serializer: one entry per item, empty for valid items.
        flat = {}
        for index, item in enumerate(detail):
            for field, messages in _flatten(item, f"{prefix}.{index}" if prefix else str(index)).items():
                flat.setdefault(field, []).extend(messages)
        return flat
    messages = _messages(detail)
    return {prefix or "non_field_errors": messages} if messages else {}


def _summary(errors: dict[str, list[str]]) -> str:
    first_field, first_messages = next(iter(errors.items()), ("", [""]))
    first = first_messages[0] if first_messages else ""
    return f"{first_field}: {first}" if first_field != "non_field_errors" else str(first)


def _translate(exc: Exception) -> Exception:
    """Django's exceptions as DRF's (or ours), so they get the JSON shape instead of a 500 or an HTML page."""
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, ObjectDoesNotExist):
        # Services say "no such row in your organization" this way (tenancy.ensure_owned, selectors); the message
        # names the row and the tenant, so it stays in the logs: the answer is the plain 404 of a missing URL.
        return NotFound()
    if isinstance(exc, PermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, DjangoValidationError):
        # Services raise Django's ValidationError keyed by field; a view that forgot to translate it is still a 400.
        return exceptions.ValidationError(serializers.as_serializer_error(exc))
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge(f"The request body exceeds {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.")
    if isinstance(exc, SuspiciousOperation):
        # Too many fields or files, a malformed upload: the client's fault, never a 500.
        return exceptions.ParseError(str(exc) or "Malformed request.")
    return exc


def _application_error_response(exc: ApplicationError) -> Response:
    set_rollback()  # as DRF does for its own exceptions: an ATOMIC_REQUESTS transaction is not committed
    body = exc.body()
    if exc.status_code == status.HTTP_400_BAD_REQUEST:
        body.setdefault("errors", {"non_field_errors": [exc.detail]})
    return Response(body, status=exc.status_code)


def exception_handler(exc: Exception, context: dict) -> Response | None:
    exc = _translate(exc)
    if isinstance(exc, ApplicationError):
        return _application_error_response(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail})
        errors = errors or {"non_field_errors": ["Invalid input."]}
        response.data = {"detail": f"Invalid input. {_summary(errors)}".strip(), "code": "invalid", "errors": errors}
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
                    response.data[key] = _plain(value)
        else:
            response.data = {"detail": str(detail), "code": codes if isinstance(codes, str) else "error"}
        if response.status_code == status.HTTP_400_BAD_REQUEST:
            # parse_error and the like: the 400 shape always has `errors`.
            response.data.setdefault("errors", {"non_field_errors": [response.data["detail"]]})
    return response


def _plain(detail: Any) -> Any:
    if isinstance(detail, list):
        return [_plain(item) for item in detail]
    if isinstance(detail, dict):
        return {key: _plain(value) for key, value in detail.items()}
    return str(detail)


# --- answers outside DRF views ----------------------------------------------------------------------------------


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def error_response(status_code: int, detail: str, code: str) -> JsonResponse:
    body: dict[str, Any] = {"detail": detail, "code": code}
    if status_code == status.HTTP_400_BAD_REQUEST:
        body["errors"] = {"non_field_errors": [detail]}
    return JsonResponse(body, status=status_code)


@csrf_exempt  # an unmatched POST is a 404, not a CSRF page: the API authenticates with tokens, never cookies
def api_not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """The last /api/ route: any /api/ URL no route matches (a non-numeric id in an `<int:pk>` path, a typo).
    Being a route, it also ends APPEND_SLASH's redirects under /api/ (a POST redirect was a RuntimeError page under
    DEBUG): the detail names the URL with the slash instead."""
    detail = "Not found."
    if not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not api_not_found:
            detail = f"Not found. API URLs end with a slash: {request.path}/"
    return error_response(status.HTTP_404_NOT_FOUND, detail, "not_found")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: JSON under /api/ (DRF views are exempt; this covers any other view mounted there)."""
    if is_api_request(request):
        return error_response(status.HTTP_403_FORBIDDEN, f"CSRF verification failed. {reason}".strip(), "csrf_failed")
    return csrf.csrf_failure(request, reason)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api_request(request):
        return error_response(status.HTTP_400_BAD_REQUEST, "Malformed request.", "parse_error")
    # Django passes the exception; only a direct call (tests of the API answer) leaves it out.
    return defaults.bad_request(request, exception if exception is not None else SuspiciousOperation())


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api_request(request):
        return error_response(
            status.HTTP_403_FORBIDDEN, "You do not have permission to perform this action.", "permission_denied"
        )
    return defaults.permission_denied(request, exception if exception is not None else PermissionDenied())


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api_request(request):
        return api_not_found(request)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if is_api_request(request):
        return error_response(status.HTTP_500_INTERNAL_SERVER_ERROR, "Server error.", "server_error")
    return defaults.server_error(request)
