"""Connecting, changing and disconnecting a tenant's platform accounts — the only code that writes them.

Validation lives here (the API and the admin both call `platform_account_validate`), and raises Django's
`ValidationError` keyed by the field at fault, so each caller shows it in its own way.

Secrets (`credentials`, `webhook_secret`, `verify_token`) are written here and never read back by the API.

Also what the account pages ask of a platform through the adapters (platforms/registry.py): the callback URL to
give the platform (`platform_account_webhook_url`), the connection test (`platform_account_test`: the adapter's
`check_connection`, else its `check_health`; sets or clears `needs_reconnect`) and the WhatsApp templates
(`platform_account_templates`: the adapter's `list_templates`, cached TEMPLATES_CACHE_SECONDS).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from switchboard.accounts.models import Organization, User
from switchboard.common.phones import normalize_phone
from switchboard.platforms.models import Platform, PlatformAccount, Provider
from switchboard.platforms.registry import PlatformError, adapter_for, endpoint_for

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CredentialSpec:
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()

    @property
    def allowed(self) -> tuple[str, ...]:
        return self.required + self.optional


CREDENTIALS: dict[str, CredentialSpec] = {
    Provider.META: CredentialSpec(required=("access_token",)),
    Provider.TWILIO: CredentialSpec(required=("account_sid", "auth_token"), optional=("messaging_service_sid",)),
    Provider.BRIDGE: CredentialSpec(required=("base_url",), optional=("api_key",)),
    Provider.SANDBOX: CredentialSpec(required=()),  # no vendor, so nothing to authenticate with
}
# Which keys are secrets (the admin shows them as write-only password fields; the others are plain settings).
SECRET_CREDENTIAL_KEYS = frozenset({"access_token", "auth_token", "api_key"})
ALL_CREDENTIAL_KEYS: tuple[str, ...] = tuple(dict.fromkeys(k for spec in CREDENTIALS.values() for k in spec.allowed))

PROVIDERS_BY_PLATFORM: dict[str, frozenset[str]] = {
    Platform.INSTAGRAM: frozenset({Provider.META, Provider.SANDBOX}),
    Platform.MESSENGER: frozenset({Provider.META, Provider.SANDBOX}),
    Platform.WHATSAPP: frozenset({Provider.META, Provider.TWILIO, Provider.BRIDGE, Provider.SANDBOX}),
}

EXTERNAL_ID_HELP: dict[str, str] = {
    Provider.META: "the numeric id Meta sends in webhooks (WhatsApp phone_number_id, Page id or Instagram account id)",
    Provider.TWILIO: "the Twilio WhatsApp number in E.164, e.g. +14155238886",
    Provider.BRIDGE: "the bridge session name (letters, digits, '.', '_' or '-')",
    Provider.SANDBOX: "an id of your choice (letters, digits, '.', '_' or '-'), the one test deliveries carry",
}

UPDATABLE_FIELDS = frozenset(
    {
        "display_name",
        "external_id",
        "business_account_id",
        "phone_number",
        "credentials",
        "webhook_secret",
        "verify_token",
        "settings",
        "is_active",
        "needs_reconnect",
    }
)

_RAW_FIELDS = frozenset({"webhook_secret", "verify_token"})  # secrets are stored exactly as given
_SETTINGS_TYPES: dict[str, type] = {"send_read_receipts": bool, "rate_limit_per_second": int, "simulate_replies": bool}


def credential_keys(account: PlatformAccount) -> list[str]:
    """Which credentials are set: what the API and the admin show instead of the values."""
    return sorted(key for key, value in (account.credentials or {}).items() if value)


# --- validation -------------------------------------------------------------------------------------------------------
def normalize_external_id(provider: str, external_id: str) -> str:
    """The form webhooks route by: Twilio numbers in E.164; others stripped. '' when it cannot be valid."""
    value = (external_id or "").strip()
    if provider == Provider.TWILIO:
        return normalize_phone(value)
    if provider == Provider.META:
        return value if re.fullmatch(r"\d{1,64}", value) else ""
    return value if re.fullmatch(r"[\w.\-]{1,128}", value) else ""


def _credential_errors(provider: str, credentials: Any, *, is_active: bool) -> list[str]:
    if not isinstance(credentials, Mapping):
        return ["Must be an object of credential names to values."]
    spec = CREDENTIALS.get(provider)
    if spec is None:
        return []
    errors: list[str] = []
    for key in sorted(set(credentials) - set(spec.allowed)):
        errors.append(f"'{key}' is not a credential of the {provider} provider (allowed: {', '.join(spec.allowed)}).")
    for key, value in credentials.items():
        if key in spec.allowed and not isinstance(value, str):
            errors.append(f"'{key}' must be a string.")
    if is_active:
        missing = [key for key in spec.required if not str(credentials.get(key) or "").strip()]
        if missing:
            errors.append(f"The {provider} provider requires {' and '.join(repr(k) for k in missing)}.")
    base_url = credentials.get("base_url")
    if provider == Provider.BRIDGE and isinstance(base_url, str) and base_url:
        try:
            URLValidator(schemes=["http", "https"])(base_url)
        except ValidationError:
            errors.append("'base_url' must be an http(s) URL.")
    return errors


def _settings_errors(settings: Any) -> list[str]:
    if not isinstance(settings, Mapping):
        return ["Must be an object."]
    errors = []
    for key, expected in _SETTINGS_TYPES.items():
        if key not in settings:
            continue
        value = settings[key]
        if expected is int and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            errors.append(f"'{key}' must be a positive integer.")
        elif expected is bool and not isinstance(value, bool):
            errors.append(f"'{key}' must be true or false.")
    return errors


def platform_account_validate(
    *,
    platform: str,
    provider: str,
    external_id: str | None,
    credentials: Mapping[str, Any],
    is_active: bool = True,
    settings: Mapping[str, Any] | None = None,
    exclude_pk: int | None = None,
) -> str | None:
    """Raise ValidationError({field: [message]}) naming each field at fault; return the normalized external_id
    (None when `external_id` is None: an update that leaves it as it is)."""
    errors: dict[str, list[str]] = {}
    if platform not in PROVIDERS_BY_PLATFORM:
        errors["platform"] = [f"Unknown platform '{platform}'."]
    elif provider not in PROVIDERS_BY_PLATFORM[platform]:
        allowed = ", ".join(sorted(PROVIDERS_BY_PLATFORM[platform]))
        errors["provider"] = [f"The {platform} platform is connected through {allowed}, not '{provider}'."]
    normalized = None if external_id is None else normalize_external_id(provider, external_id)
    if external_id is None:
        pass
    elif not normalized:
        errors["external_id"] = [f"Must be {EXTERNAL_ID_HELP.get(provider, 'the id the platform sends')}."]
    elif not errors and _external_id_taken(platform, provider, normalized, exclude_pk=exclude_pk):
        errors["external_id"] = [_duplicate_message(platform, provider)]
    credential_errors = _credential_errors(provider, credentials, is_active=is_active)
    if credential_errors:
        errors["credentials"] = credential_errors
    if settings is not None and (settings_errors := _settings_errors(settings)):
        errors["settings"] = settings_errors
    if errors:
        raise ValidationError(errors)
    return normalized


def _external_id_taken(platform: str, provider: str, external_id: str, *, exclude_pk: int | None) -> bool:
    clash = PlatformAccount.objects.filter(platform=platform, provider=provider, external_id=external_id)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    return clash.exists()


def _duplicate_message(platform: str, provider: str) -> str:
    return (
        f"This {platform} account ({provider}) is already connected. Reconnect the existing account instead "
        "(it may be deactivated, or connected to another organization)."
    )


def _save(account: PlatformAccount, *, creating: bool) -> PlatformAccount:
    """Save; a concurrent connection of the same external id loses on the unique constraint with a clear 400."""
    try:
        with transaction.atomic():
            account.save(force_insert=creating)
    except IntegrityError as exc:
        if _external_id_taken(account.platform, account.provider, account.external_id, exclude_pk=account.pk):
            raise ValidationError({"external_id": [_duplicate_message(account.platform, account.provider)]}) from exc
        raise
    return account


# --- services ---------------------------------------------------------------------------------------------------------
def platform_account_create(
    *,
    organization: Organization,
    by: User | None,
    platform: str,
    display_name: str,
    external_id: str,
    provider: str = Provider.META,
    credentials: Mapping[str, Any] | None = None,
    webhook_secret: str = "",
    verify_token: str = "",
    business_account_id: str = "",
    phone_number: str = "",
    settings: Mapping[str, Any] | None = None,
    is_active: bool = True,
) -> PlatformAccount:
    credentials = {key: value for key, value in (credentials or {}).items() if value not in (None, "")}
    settings = dict(settings or {})
    normalized = platform_account_validate(
        platform=platform,
        provider=provider,
        external_id=external_id,
        credentials=credentials,
        is_active=is_active,
        settings=settings,
    )
    account = PlatformAccount(
        organization=organization,
        platform=platform,
        provider=provider,
        display_name=display_name.strip(),
        external_id=normalized or "",
        business_account_id=business_account_id.strip(),
        phone_number=phone_number.strip(),
        credentials=credentials,
        webhook_secret=webhook_secret,
        verify_token=verify_token,
        settings=settings,
        is_active=is_active,
    )
    _save(account, creating=True)
    logger.info("platform account %s (%s/%s) connected by %s", account.pk, platform, provider, by)
    return account


def platform_account_update(*, account: PlatformAccount, by: User | None, **changes: Any) -> PlatformAccount:
    """Change what the caller passes. `credentials` merges into the stored ones: a key with a value replaces it, a
    key with null (or "") removes it. Credentials given — new ones, or the same ones saved again (a reconnect after
    the owner fixed them at the platform's side) — that pass validation clear `needs_reconnect` (unless it is passed)
    and `last_error`. Platform and provider are fixed once connected (connect a new account instead)."""
    unknown = set(changes) - UPDATABLE_FIELDS
    if unknown:
        raise ValidationError({name: ["This field cannot be changed."] for name in sorted(unknown)})
    credentials = dict(account.credentials or {})
    credentials_changed = credentials_given = False
    if "credentials" in changes:
        incoming = changes.pop("credentials")
        if not isinstance(incoming, Mapping):
            raise ValidationError({"credentials": ["Must be an object of credential names to values."]})
        credentials_given = any(value not in (None, "") for value in incoming.values())
        for key, value in incoming.items():
            if value in (None, ""):
                credentials_changed |= credentials.pop(key, None) is not None
            elif credentials.get(key) != value:
                credentials[key] = value
                credentials_changed = True
    is_active = changes.get("is_active", account.is_active)
    settings = changes.get("settings", account.settings)
    normalized = platform_account_validate(
        platform=account.platform,
        provider=account.provider,
        external_id=changes.get("external_id"),
        credentials=credentials,
        is_active=is_active,
        settings=settings,
        exclude_pk=account.pk,
    )
    for name, value in changes.items():
        setattr(account, name, value.strip() if isinstance(value, str) and name not in _RAW_FIELDS else value)
    if normalized is not None:
        account.external_id = normalized
    account.settings = dict(settings or {})
    if credentials_changed:
        account.credentials = credentials
    if credentials_changed or credentials_given:
        # Validated above: whether or not they differ from the stored ones, they are the credentials to use now.
        account.needs_reconnect = changes.get("needs_reconnect", False)
        account.last_error = ""
    _save(account, creating=False)
    logger.info("platform account %s updated by %s (%s)", account.pk, by, ", ".join(sorted(changes)) or "credentials")
    return account


def platform_account_deactivate(*, account: PlatformAccount, by: User | None) -> PlatformAccount:
    """Disconnect: stop routing its webhooks and forget its secrets; keep its contacts and conversation history.
    Reconnecting is an update with `is_active: true` and new credentials."""
    account.is_active = False
    account.credentials = {}
    account.webhook_secret = ""
    account.needs_reconnect = False
    account.save(update_fields=["is_active", "credentials", "webhook_secret", "needs_reconnect", "updated_at"])
    logger.info("platform account %s disconnected by %s", account.pk, by)
    return account


# --- state the outbound pipeline and the sync jobs record ---------------------------------------------------------
def platform_account_mark_needs_reconnect(*, account: PlatformAccount, error: str) -> None:
    """The platform refused the account's credentials (Meta 190, Twilio 20003, …): sending and syncing stop being
    attempted until an owner or admin gives new credentials (which clears the flag)."""
    PlatformAccount.objects.filter(pk=account.pk).update(
        needs_reconnect=True, last_error=error[:2000], updated_at=timezone.now()
    )
    account.needs_reconnect, account.last_error = True, error[:2000]
    logger.warning("platform account %s needs reconnecting: %s", account.pk, error)


def platform_account_record_sync(*, account: PlatformAccount, synced_at: Any, error: str = "") -> None:
    """A finished sync: `synced_at` (when it started) becomes the next sync's starting point when it succeeded; its
    error, if any, is the account's `last_error` (a success clears an earlier sync error)."""
    changes: dict[str, Any] = {"updated_at": timezone.now()}
    if synced_at is not None:
        changes["last_sync_at"] = synced_at
    if error:
        changes["last_error"] = error[:2000]
    elif not account.needs_reconnect:
        changes["last_error"] = ""
    PlatformAccount.objects.filter(pk=account.pk).update(**changes)
    for name, value in changes.items():
        setattr(account, name, value)


# --- the account pages: webhook URL, connection test, templates ------------------------------------------------------
def platform_account_webhook_url(account: PlatformAccount, *, origin: str = "") -> str:
    """The absolute URL the platform must call for this account: PUBLIC_BASE_URL (else `origin`, the request's
    scheme and host) plus the path of the endpoint that receives (platform, provider) — `/api/webhooks/whatsapp/`,
    `/api/webhooks/twilio/`, `/api/whatsapp/callback`, `/api/webhooks/sandbox/<platform>/` …. Every endpoint's URL
    is named `webhook-<endpoint>` (webhooks/endpoints.py `endpoint_path`). "" when no endpoint receives it."""
    try:
        path = reverse(f"webhook-{endpoint_for(account.platform, account.provider)}")
    except (LookupError, NoReverseMatch):
        return ""
    base = (django_settings.PUBLIC_BASE_URL or origin or "").rstrip("/")
    return base + path


@dataclass(frozen=True)
class ConnectionTest:
    ok: bool
    detail: str


DISCONNECTED_DETAIL = "The account is disconnected: reconnect it (new credentials, `is_active: true`) first."


def _health_detail(health: Mapping[str, Any]) -> str:
    if health.get("detail"):
        return str(health["detail"])
    if health.get("sandbox"):
        return "A sandbox account: there is no vendor to reach, so it is always connected."
    parts = [str(health[key]) for key in ("verified_name", "display_phone_number", "name") if health.get(key)]
    return "Connected" + (f": {' · '.join(parts)}." if parts else ".")


def platform_account_test(*, account: PlatformAccount, by: User | None) -> ConnectionTest:
    """One cheap authenticated call to the platform with the account's credentials. Refused credentials mark the
    account `needs_reconnect` (as a failed send would); a passing test clears the flag and its error. A network
    problem or another refusal changes nothing. Never raises for a vendor's answer."""
    if not account.is_active:
        return ConnectionTest(False, DISCONNECTED_DETAIL)
    try:
        adapter = adapter_for(account)
    except LookupError:
        return ConnectionTest(False, f"Switchboard cannot reach {account.platform} through {account.provider}.")
    check = getattr(adapter, "check_connection", None) or getattr(adapter, "check_health", None)
    if check is None:
        return ConnectionTest(False, "This provider has no connection test.")
    try:
        health = check(account)
    except PlatformError as exc:
        result = exc.result
        logger.warning("connection test of account %s by %s failed: %s %s", account.pk, by, result.error_code,
                       result.error_detail or result.error_message)  # fmt: skip
        if result.needs_reconnect:
            platform_account_mark_needs_reconnect(account=account, error=result.error_message)
            return ConnectionTest(False, result.error_message)
        if result.transient:
            return ConnectionTest(False, result.error_message)
        return ConnectionTest(False, f"The platform refused the test call (error {result.error_code}).")
    except Exception:
        logger.exception("connection test of account %s crashed", account.pk)
        return ConnectionTest(False, "Switchboard could not test this account because of an internal error.")
    if not isinstance(health, Mapping) or health.get("ok") is False:
        error = health.get("error") if isinstance(health, Mapping) else None
        return ConnectionTest(False, f"The connection test failed: {error or 'no reason given'}.")
    if account.needs_reconnect:
        PlatformAccount.objects.filter(pk=account.pk).update(
            needs_reconnect=False, last_error="", updated_at=timezone.now()
        )
        account.needs_reconnect, account.last_error = False, ""
    logger.info("connection test of account %s by %s passed", account.pk, by)
    return ConnectionTest(True, _health_detail(health))


TEMPLATES_CACHE_SECONDS = 600


class TemplatesNotSupported(Exception):
    """The account has no WhatsApp templates (the API answers 404)."""


class TemplatesUnavailable(Exception):
    """The templates cannot be listed now; `status` is the API's answer (409: the account's state, 502: the
    vendor's)."""

    def __init__(self, detail: str, *, code: str, status: int) -> None:
        super().__init__(detail)
        self.detail, self.code, self.status = detail, code, status


def _templates_cache_key(account: PlatformAccount) -> str:
    # New credentials or another business account id are another list: they never read the old one.
    identity = [account.provider, account.external_id, account.business_account_id, account.credentials or {}]
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()[:32]
    return f"platforms:templates:{account.pk}:{digest}"


def platform_account_templates(*, account: PlatformAccount) -> list[dict[str, Any]]:
    """The approved WhatsApp templates of an account (Cloud API, Twilio Content API, the sandbox's demo ones),
    sorted by display name and language, cached TEMPLATES_CACHE_SECONDS. Raises TemplatesNotSupported (not a WhatsApp
    Business number) or TemplatesUnavailable."""
    lister = None
    if account.platform == Platform.WHATSAPP:
        try:
            lister = getattr(adapter_for(account), "list_templates", None)
        except LookupError:
            lister = None
    if lister is None:
        raise TemplatesNotSupported()
    if not account.is_active:
        raise TemplatesUnavailable(DISCONNECTED_DETAIL, code="account_disconnected", status=409)
    if account.needs_reconnect:
        raise TemplatesUnavailable(
            "The platform refused this account's credentials: an owner or admin must reconnect it.",
            code="account_needs_reconnect",
            status=409,
        )
    if account.provider == Provider.META and not account.business_account_id.strip():
        raise TemplatesUnavailable(
            "Templates belong to the WhatsApp Business Account: set the account's business_account_id (WABA id).",
            code="business_account_id_missing",
            status=409,
        )
    key = _templates_cache_key(account)
    cached: list[dict[str, Any]] | None = cache.get(key)  # what this function stored under the key, below
    if cached is not None:
        return cached
    try:
        templates = list(lister(account))
    except PlatformError as exc:
        result = exc.result
        logger.warning("templates of account %s: %s %s", account.pk, result.error_code,
                       result.error_detail or result.error_message)  # fmt: skip
        if result.needs_reconnect:
            platform_account_mark_needs_reconnect(account=account, error=result.error_message)
            raise TemplatesUnavailable(result.error_message, code="account_needs_reconnect", status=409) from exc
        detail = (
            result.error_message
            if result.transient
            else f"The platform refused to list the templates (error {result.error_code})."
        )
        raise TemplatesUnavailable(detail, code="templates_unavailable", status=502) from exc
    except Exception as exc:
        logger.exception("listing the templates of account %s crashed", account.pk)
        raise TemplatesUnavailable(
            "Switchboard could not list the templates because of an internal error.",
            code="templates_unavailable",
            status=502,
        ) from exc
    templates.sort(
        key=lambda item: (str(item.get("display_name") or item.get("name", "")).lower(), str(item.get("language")))
    )
    cache.set(key, templates, TEMPLATES_CACHE_SECONDS)
    return templates
