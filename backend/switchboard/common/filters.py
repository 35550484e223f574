"""Query-string filters with bounds: an integer or foreign-key filter refuses what cannot name a row with a 400
(`?conversation=9223372036854775808` was an OverflowError on SQLite)."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import django_filters
from django import forms
from django.db import models
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema_field

from switchboard.common.ids import MAX_ID, MIN_ID

ID_SCHEMA = {"type": "integer", "format": "int64", "minimum": MIN_ID, "maximum": MAX_ID}


class IdField(forms.IntegerField):
    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", MIN_ID)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


@extend_schema_field(ID_SCHEMA)
class IdFilter(django_filters.NumberFilter):
    """A row id: a whole number in the id range (`?conversation=1.5` or `=-1` is a 400, not a silent miss)."""

    field_class = IdField


class _Int64Field(forms.IntegerField):
    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", -(2**63))
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(**kwargs)


@extend_schema_field({"type": "integer", "format": "int64", "minimum": -(2**63), "maximum": 2**63 - 1})
class IntegerFilter(django_filters.NumberFilter):
    """A whole number a 64-bit column can hold (NumberFilter's default is an unbounded decimal)."""

    field_class = _Int64Field


# The filters generated for ids, foreign keys and integer columns.
_BOUNDED_FILTERS: dict[type[models.Field], dict[str, Any]] = {
    models.AutoField: {"filter_class": IdFilter},
    models.BigAutoField: {"filter_class": IdFilter},
    models.ForeignKey: {"filter_class": IdFilter},
    models.OneToOneField: {"filter_class": IdFilter},
    **{
        integer_field: {"filter_class": IntegerFilter}
        for integer_field in (
            models.SmallIntegerField,
            models.IntegerField,
            models.BigIntegerField,
            models.PositiveSmallIntegerField,
            models.PositiveIntegerField,
            models.PositiveBigIntegerField,
        )
    },
}


class FilterSet(django_filters.FilterSet):
    """Every filterset of the API: filters generated from `Meta.fields` for ids and foreign keys are IdFilters,
    for integer columns IntegerFilters."""

    FILTER_DEFAULTS = copy.deepcopy(django_filters.FilterSet.FILTER_DEFAULTS)
    FILTER_DEFAULTS.update(_BOUNDED_FILTERS)


if TYPE_CHECKING:
    from rest_framework.viewsets import GenericViewSet

    _ViewSet = GenericViewSet  # for the type checker the mixin is the viewset it is combined with
else:
    _ViewSet = object


class ListFiltersOnlyMixin(_ViewSet):
    """Query-string filters narrow lists only: a detail route or an action finds its object whatever the filters
    say (the default `is_archived=false` must not hide an archived conversation from its own page)."""

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)
