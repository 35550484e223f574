"""What a `page_size` may be, for every paginated list: a whole number of at least 1 (anything else is a 400 naming
the parameter, where DRF silently fell back to the default); above the list's maximum it is capped."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.request import Request

PAGE_SIZE_MESSAGE = "A whole number of at least 1."


def page_size_from(request: Request, *, param: str, default: int, maximum: int) -> int:
    raw = request.query_params.get(param)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise exceptions.ValidationError({param: [PAGE_SIZE_MESSAGE]})
    return min(int(raw), maximum)


def page_size_parameter(parameters: list[dict[str, Any]], *, param: str, default: int, maximum: int) -> None:
    """The schema of `param` in a paginator's parameters, as `page_size_from` reads it."""
    for parameter in parameters:
        if parameter["name"] == param:
            parameter["schema"] = {"type": "integer", "minimum": 1}
            parameter["description"] = f"Results per page (default {default}; values above {maximum} are capped)."
