"""Query-string filters of the listing list."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet

from switchboard.common.filters import FilterSet
from switchboard.listings.models import Listing, ListingStatus


class ListingFilter(FilterSet):
    status = django_filters.ChoiceFilter(choices=ListingStatus.choices, help_text="Only listings in this status.")
    search = django_filters.CharFilter(
        method="filter_search", help_text="Case-insensitive match on reference, title, location or description."
    )

    class Meta:
        model = Listing
        fields = ["status", "search"]

    def filter_search(self, queryset: QuerySet[Listing], name: str, value: str) -> QuerySet[Listing]:
        term = value.strip()
        if not term:
            return queryset
        return queryset.filter(
            Q(reference__iexact=term.lstrip("#"))
            | Q(title__icontains=term)
            | Q(location__icontains=term)
            | Q(description__icontains=term)
        )
