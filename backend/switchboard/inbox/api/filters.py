"""Query-string filters of the inbox lists. Ids of other tenants simply match nothing (the view has already scoped
the queryset), so a filter never confirms that a foreign row exists; ids outside the id range are a 400
(`common.filters.IdFilter`)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet

from switchboard.common.filters import FilterSet, IdFilter
from switchboard.inbox import selectors
from switchboard.inbox.models import Conversation, Message
from switchboard.platforms.models import Platform


class ConversationFilter(FilterSet):
    platform = django_filters.ChoiceFilter(choices=Platform.choices, help_text="Only this platform's conversations.")
    platform_account = IdFilter(
        field_name="platform_account_id", help_text="Only conversations of this connected account (id)."
    )
    is_archived = django_filters.BooleanFilter(
        help_text="`true`: the archive; `false` (the default when the parameter is absent): the inbox."
    )
    unread = django_filters.BooleanFilter(
        method="filter_unread", help_text="`true`: only conversations with unread messages; `false`: none unread."
    )
    search = django_filters.CharFilter(
        method="filter_search",
        help_text="Case-insensitive match on the contact's name, username or phone number, or any message text.",
    )

    class Meta:
        model = Conversation
        fields = ["platform", "platform_account", "is_archived", "unread", "search"]

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        # The inbox hides archived conversations unless the client asks for them (`is_archived=true`).
        if data is not None and "is_archived" not in data:
            data = data.copy()
            data["is_archived"] = "false"
        super().__init__(data, *args, **kwargs)

    def filter_unread(self, queryset: QuerySet[Conversation], name: str, value: bool) -> QuerySet[Conversation]:
        return queryset.filter(unread_count__gt=0) if value else queryset.filter(unread_count=0)

    def filter_search(self, queryset: QuerySet[Conversation], name: str, value: str) -> QuerySet[Conversation]:
        return selectors.conversation_search(queryset, value)


class MessageFilter(FilterSet):
    conversation = IdFilter(field_name="conversation_id", help_text="Only this conversation (id).")
    platform = django_filters.ChoiceFilter(
        field_name="platform_account__platform", choices=Platform.choices, help_text="Only this platform's messages."
    )
    is_read = django_filters.BooleanFilter(help_text="Read (`true`) or unread (`false`) messages.")

    class Meta:
        model = Message
        fields = ["conversation", "platform", "is_read"]
