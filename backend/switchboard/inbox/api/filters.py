"""Query-string filters of the inbox lists. Ids of other tenants simply match nothing (the view has already scoped
the queryset), so a filter never confirms that a foreign row exists; ids outside the id range are a 400
(`common.filters.IdFilter`)."""

from __future__ import annotations

import datetime
import re
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from rest_framework.exceptions import ValidationError

from switchboard.common.filters import FilterSet, IdFilter
from switchboard.inbox import selectors
from switchboard.inbox.models import Conversation, Message
from switchboard.platforms.models import Platform

UPDATED_SINCE = "updated_since"
_ATTRIBUTE_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")


class _UpdatedSinceField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 time (naive ones are read in the server's time zone) that the database can compare: a time
    whose UTC value falls outside the years 1 to 9999 (`9999-12-31T23:59-05:00`) is a 400, not an OverflowError."""

    def clean(self, value: Any) -> datetime.datetime | None:
        cleaned = super().clean(value)
        if cleaned is not None:
            try:
                cleaned.astimezone(datetime.UTC)
            except (OverflowError, ValueError) as exc:
                raise forms.ValidationError("Give a time between the years 1 and 9999 (UTC).", code="invalid") from exc
        return cleaned


class UpdatedSinceFilter(django_filters.IsoDateTimeFilter):
    """Rows whose `updated_at` is at or after the given time (resync after a reconnect)."""

    field_class = _UpdatedSinceField

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("field_name", "updated_at")
        kwargs.setdefault("lookup_expr", "gte")
        super().__init__(**kwargs)


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
    needs_human = django_filters.BooleanFilter(
        help_text="`true`: only conversations the AI assistant handed over to a person (or failed on)."
    )
    is_trusted = django_filters.BooleanFilter(
        field_name="contact__is_trusted", help_text="`true`: only conversations of trusted (whitelisted) contacts."
    )
    attribute = django_filters.CharFilter(
        method="filter_attribute",
        help_text="`key:value` — only contacts whose lead field `key` is `value` (case-insensitive), e.g. "
        "`purpose:rent`.",
    )
    updated_since = UpdatedSinceFilter(
        help_text="Only conversations whose row changed at or after this ISO 8601 time (`updated_at >=`), newest "
        "change first (`-updated_at`, `-id`), archived and not archived alike unless `is_archived` is given: "
        "what a client missed while it was disconnected."
    )

    class Meta:
        model = Conversation
        fields = [
            "platform",
            "platform_account",
            "is_archived",
            "unread",
            "search",
            "needs_human",
            "is_trusted",
            "attribute",
            UPDATED_SINCE,
        ]

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        # The inbox hides archived conversations unless the client asks for them (`is_archived=true`) — except in a
        # resync (`updated_since`), which must also see the conversations a colleague archived meanwhile.
        if data is not None and "is_archived" not in data and not data.get(UPDATED_SINCE):
            data = data.copy()
            data["is_archived"] = "false"
        super().__init__(data, *args, **kwargs)

    def filter_unread(self, queryset: QuerySet[Conversation], name: str, value: bool) -> QuerySet[Conversation]:
        return queryset.filter(unread_count__gt=0) if value else queryset.filter(unread_count=0)

    def filter_search(self, queryset: QuerySet[Conversation], name: str, value: str) -> QuerySet[Conversation]:
        return selectors.conversation_search(queryset, value)

    def filter_attribute(self, queryset: QuerySet[Conversation], name: str, value: str) -> QuerySet[Conversation]:
        key, separator, wanted = value.partition(":")
        key, wanted = key.strip(), wanted.strip()
        if not separator or not _ATTRIBUTE_KEY.fullmatch(key) or not wanted:
            raise ValidationError({"attribute": ["Give `key:value`, e.g. `purpose:rent` (key: letters, digits, _)."]})
        return selectors.conversation_with_contact_attribute(queryset, key=key, value=wanted)


class MessageFilter(FilterSet):
    conversation = IdFilter(field_name="conversation_id", help_text="Only this conversation (id).")
    platform = django_filters.ChoiceFilter(
        field_name="platform_account__platform", choices=Platform.choices, help_text="Only this platform's messages."
    )
    is_read = django_filters.BooleanFilter(help_text="Read (`true`) or unread (`false`) messages.")
    updated_since = UpdatedSinceFilter(
        help_text="Only messages whose row changed at or after this ISO 8601 time (new ones, and status, reaction, "
        "read or deletion changes of older ones), newest change first (`-updated_at`, `-id`)."
    )

    class Meta:
        model = Message
        fields = ["conversation", "platform", "is_read", UPDATED_SINCE]
