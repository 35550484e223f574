"""Cursor pagination for the inbox lists: stable under inserts (a new message never shifts a page), constant cost
at any depth (it walks the list's index from the cursor position instead of counting an offset)."""

from __future__ import annotations

from rest_framework.pagination import CursorPagination


class InboxCursorPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 100


class ConversationCursorPagination(InboxCursorPagination):
    """Most recent activity first; `id` breaks ties between threads active in the same instant."""

    ordering = ("-last_message_at", "-id")


class MessageCursorPagination(InboxCursorPagination):
    """Newest first."""

    ordering = ("-timestamp", "-id")
