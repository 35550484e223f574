"""Cursor pagination for the inbox lists: stable under inserts (a new message never shifts a page), constant cost
at any depth (it walks the list's index from the cursor position instead of counting an offset).

Clients send back only cursors the server gave them, and a page size. Anything else is a 400 naming the parameter:
a cursor that does not decode, or whose position is not a value of the ordering column (a tampered `p=notadate`
reached the query and was a 500), and a `page_size` that is not a whole number of at least 1. A page size above
the maximum is capped, as documented.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request

from switchboard.common.pagination import page_size_from, page_size_parameter
from switchboard.inbox.api.filters import UPDATED_SINCE

INVALID_CURSOR = "Invalid cursor: send back a `next` or `previous` link exactly as the server gave it."


class InboxCursorPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 100

    def paginate_queryset(
        self, queryset: QuerySet[Any] | Sequence[Any], request: Request, view: Any = None
    ) -> list[Any] | None:
        if not isinstance(queryset, QuerySet):  # cursor pagination orders in the database
            raise TypeError("InboxCursorPagination pages querysets only")
        self._model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request: Request) -> int:
        return page_size_from(
            request, param=self.page_size_query_param, default=self.page_size, maximum=self.max_page_size
        )

    def decode_cursor(self, request: Request) -> Cursor | None:
        try:
            cursor = super().decode_cursor(request)
        except exceptions.NotFound as exc:  # DRF answers a malformed cursor 404; it is bad input
            raise exceptions.ValidationError({self.cursor_query_param: [INVALID_CURSOR]}) from exc
        if cursor is not None and cursor.position is not None:
            self._check_position(cursor.position)
        return cursor

    def _check_position(self, position: str | int) -> None:
        field = self._model._meta.get_field(self.ordering[0].lstrip("-"))
        try:
            value = field.to_python(position)
            if value is None:
                raise ValueError("no position")
            if isinstance(value, datetime.datetime):
                # Compared in UTC: "9999-12-31T23:59-05:00" parses, but is past year 9999 there (an OverflowError
                # in the database adapter). Naive values are read in the current time zone, as Django does.
                aware = value if timezone.is_aware(value) else timezone.make_aware(value)
                aware.astimezone(datetime.UTC)
        except (DjangoValidationError, ValueError, TypeError, OverflowError) as exc:
            raise exceptions.ValidationError({self.cursor_query_param: [INVALID_CURSOR]}) from exc

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        page_size_parameter(
            parameters, param=self.page_size_query_param, default=self.page_size, maximum=self.max_page_size
        )
        for parameter in parameters:
            if parameter["name"] == self.cursor_query_param:
                parameter["description"] = "The `next` or `previous` cursor of an earlier page, as given."
        return parameters


class _ResyncOrdering:
    """With `?updated_since=` a list is what changed, newest change first: ordered by `-updated_at`, `-id` (the
    cursor's position is then an `updated_at`), whatever the list's usual order."""

    resync_ordering = ("-updated_at", "-id")

    def get_ordering(self, request: Request, queryset: QuerySet, view: Any) -> tuple[str, ...]:
        if request.query_params.get(UPDATED_SINCE):
            return self.resync_ordering
        # The class attribute (the instance one may be the resync ordering); the stubs declare it per instance only.
        return tuple(type(self).ordering)  # type: ignore[attr-defined]


class ConversationCursorPagination(_ResyncOrdering, InboxCursorPagination):
    """Most recent activity first; `id` breaks ties between threads active in the same instant. The page also
    carries `unread_conversations`, the organization's inbox total (the view counts it)."""

    ordering = ("-last_message_at", "-id")

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        response = super().get_paginated_response_schema(schema)
        response["properties"]["unread_conversations"] = {
            "type": "integer",
            "minimum": 0,
            "description": "How many conversations of the inbox (not archived) have unread messages, whatever the "
            "filters: the total for a tab title.",
        }
        response["required"] = [*response.get("required", []), "unread_conversations"]
        return response


class MessageCursorPagination(_ResyncOrdering, InboxCursorPagination):
    """Newest first."""

    ordering = ("-timestamp", "-id")
