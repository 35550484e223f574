"""Serializer fields whose range and format the schema can state and the server keeps."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from rest_framework import serializers

from switchboard.common.ids import MAX_ID, MIN_ID


class IdField(serializers.IntegerField):
    """A row id in a request body: a whole number in the id range (anything else is a 400 on the field, never an
    overflow in the query). The schema says `minimum: 1, maximum: 2**63-1`."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", MIN_ID)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


class URIOrNullField(serializers.URLField):
    """Read-only: a stored URL as a URI, or null. Stored values come from platforms (or are blank); the schema
    calls the field `format: uri`, so "" or anything else that is not an absolute URL is answered as null."""

    _valid = URLValidator(schemes=["http", "https"])

    def __init__(self, **kwargs: Any) -> None:
        kwargs["read_only"] = True
        kwargs["allow_null"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> str | None:  # type: ignore[override]  # allow_null: null, not ""
        if not value:
            return None
        text = str(value)
        try:
            self._valid(text)
        except DjangoValidationError:
            return None
        return text
