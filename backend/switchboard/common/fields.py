"""Fields encrypted at rest with Fernet (keys from FIELD_ENCRYPTION_KEY; the first encrypts, every key decrypts)."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as exc:  # malformed key: fail at the first use, loudly
        raise ImproperlyConfigured(f"FIELD_ENCRYPTION_KEY is not a valid Fernet key: {exc}") from exc


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt_text(value: str) -> str:
    return fernet().encrypt(value.encode()).decode()


def decrypt_text(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured("A stored secret cannot be decrypted with FIELD_ENCRYPTION_KEY.") from exc


class EncryptedTextField(models.TextField):
    """A text value stored as a Fernet token. Empty strings stay empty (nothing to hide)."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value in (None, ""):
            return value
        return decrypt_text(value)

    def get_prep_value(self, value: Any) -> str | None:
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return encrypt_text(value)


if TYPE_CHECKING:
    # For django-stubs the model attribute takes and holds a dict (a plain TextField's is a str).
    _JSONTextField = models.TextField[dict[str, Any], dict[str, Any]]
else:
    _JSONTextField = models.TextField


class EncryptedJSONField(_JSONTextField):
    """A JSON object stored as one Fernet token; reads back as a dict."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> dict[str, Any]:
        if value in (None, ""):
            return {}
        return json.loads(decrypt_text(value))

    def to_python(self, value: Any) -> dict[str, Any]:
        if isinstance(value, dict):
            return value
        if value in (None, ""):
            return {}
        return json.loads(value)

    def get_prep_value(self, value: Any) -> str:
        return encrypt_text(json.dumps(value or {}, sort_keys=True))

    def value_to_string(self, obj: models.Model) -> str:
        return "{}"  # never serialize secrets (dumpdata, admin history)
