"""Deployment checks of our own (`manage.py check --deploy`): the embedded defaults must never reach production."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register


@register(Tags.security, deploy=True)
def production_secrets(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    problems: list[CheckMessage] = []
    if settings.SECRET_KEY == settings._DEV_SECRET:
        problems.append(Error("SECRET_KEY is the embedded development key.", hint="Set SECRET_KEY.", id="sb.E001"))
    if not os.environ.get("FIELD_ENCRYPTION_KEY"):
        problems.append(
            Error(
                "FIELD_ENCRYPTION_KEY is not set: credentials would be encrypted with a key derived from SECRET_KEY.",
                hint="Generate one with `python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'`.",
                id="sb.E002",
            )
        )
    if not settings.DATABASE_URL:
        problems.append(Warning("DATABASE_URL is not set: production runs on SQLite.", id="sb.W001"))
    if not settings.REDIS_URL:
        problems.append(Warning("REDIS_URL is not set: in-memory channel layer and in-process Celery.", id="sb.W002"))
    return problems
