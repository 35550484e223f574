"""Switchboard settings — one module, driven by the environment.

Without any environment this is the embedded default used by `make run`: SQLite, the in-memory channel layer,
local-memory cache and Celery tasks executed in-process. `DATABASE_URL` and `REDIS_URL` switch to the production
topology (Postgres with a connection pool, Redis channel layer, Redis cache, a real Celery broker).
Every setting is listed in `.env.example` with its default and its production value.
"""

from __future__ import annotations

import base64
import hashlib
import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = BASE_DIR.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
_DEV_SECRET = "dev-only-insecure-secret-key-change-me-0123456789abcdefghijklmnopqrstuvwxyz"
SECRET_KEY = env("SECRET_KEY", _DEV_SECRET)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "http://127.0.0.1:8000,http://localhost:8000")
# A CSRF refusal under /api/ is JSON like every other API answer (Django's page elsewhere).
CSRF_FAILURE_VIEW = "switchboard.common.errors.csrf_failure"

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_celery_beat",
    "switchboard.common",
    "switchboard.accounts",
    "switchboard.platforms",
    "switchboard.inbox",
    "switchboard.webhooks",
    "switchboard.meta",
    "switchboard.instagram",
    "switchboard.messenger",
    "switchboard.whatsapp",
    "switchboard.sandbox",
    "switchboard.listings",
    "switchboard.assistant",
]

# Static files: WhiteNoise when Django must serve them itself (`make run`); behind nginx (production) nginx does.
# WhiteNoise is sync-only middleware, which adds thread hops to every request under ASGI, so it is left out
# wherever nginx is in front.
SERVE_STATIC = env_bool("SERVE_STATIC", DEBUG)

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    *(["whitenoise.middleware.WhiteNoiseMiddleware"] if SERVE_STATIC else []),
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------------------
DATABASE_URL = env("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Every ASGI worker thread would otherwise hold its own connection: share a bounded pool per process.
        DATABASES["default"]["OPTIONS"] = {
            "pool": {
                "min_size": env_int("DB_POOL_MIN_SIZE", 2),
                "max_size": env_int("DB_POOL_MAX_SIZE", 20),
                "timeout": env_int("DB_POOL_TIMEOUT", 10),
            }
        }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            # Webhook bursts write concurrently; wait for the lock instead of failing at once.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }

# --- Redis: channel layer, cache, Celery -----------------------------------------------------------------------
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "sb",
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "switchboard"}}

# Embedded: an in-memory transport that is never used (tasks run in-process); named with a host so kombu does not
# warn "No hostname was supplied" on the first task.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", REDIS_URL or "memory://localhost/")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
# Without a worker, sends, read receipts and sandbox statuses run on this many threads of the server process
# (inbox/inprocess.py), so an API answer never waits for a vendor. 0 runs them inline (the test suite does).
INPROCESS_TASK_THREADS = env_int("INPROCESS_TASK_THREADS", 4)
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# --- Auth ------------------------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("email", "full_name")},
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

REST_FRAMEWORK: dict[str, Any] = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework_simplejwt.authentication.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Declares the error answers of every operation from its view (switchboard/common/schema.py).
    "DEFAULT_SCHEMA_CLASS": "switchboard.common.schema.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        # Size limit (413) and no NUL in JSON strings (PostgreSQL refuses them): switchboard/common/parsers.py.
        "switchboard.common.parsers.JSONParser",
        "switchboard.common.parsers.FormParser",
        "switchboard.common.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "switchboard.common.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append("rest_framework.renderers.BrowsableAPIRenderer")

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 14)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "SIGNING_KEY": env("JWT_SIGNING_KEY", SECRET_KEY),
}

# Failed logins allowed per window (accounts/throttles.py): per account (email) across all addresses, and per client
# IP across all accounts. The IP limit is much higher so that one person mistyping their password does not lock out
# every colleague behind the same office address.
LOGIN_RATE_LIMIT = env_int("LOGIN_RATE_LIMIT", 10)
LOGIN_IP_RATE_LIMIT = env_int("LOGIN_IP_RATE_LIMIT", 100)
LOGIN_RATE_WINDOW_SECONDS = env_int("LOGIN_RATE_WINDOW_SECONDS", 300)
# Sign-ups (register, and choosing a password from an invitation) per client IP per window, successful or not.
REGISTRATION_RATE_LIMIT = env_int("REGISTRATION_RATE_LIMIT", 20)
REGISTRATION_RATE_WINDOW_SECONDS = env_int("REGISTRATION_RATE_WINDOW_SECONDS", 3600)
# Invitations: valid this long; at most INVITATION_RATE_LIMIT emails (invitations and resends) per organization a day.
INVITATION_TTL_DAYS = env_int("INVITATION_TTL_DAYS", 7)
INVITATION_RATE_LIMIT = env_int("INVITATION_RATE_LIMIT", 100)

# --- Email (invitations) ----------------------------------------------------------------------------------------
# The console backend prints mail to the server's output under DEBUG; production sends through SMTP.
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Switchboard <no-reply@switchboard.local>")

SPECTACULAR_SETTINGS = {
    "TITLE": "Switchboard API",
    "DESCRIPTION": (
        "One inbox for Instagram, Facebook Messenger and WhatsApp. Authenticate with `POST /api/accounts/login/` and "
        "send `Authorization: Bearer <access>`. A user in several organizations picks one with the "
        "`X-Organization` header (id or slug). Another organization's objects answer 404."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/",
    # Swagger UI and ReDoc from drf-spectacular-sidecar's static files, never a CDN (offline installs work).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No call to the public validator.swagger.io from the page.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "switchboard.common.schema.postprocess_error_components",
    ],
    "ENUM_NAME_OVERRIDES": {
        "PlatformEnum": "switchboard.platforms.models.Platform.choices",
        "ProviderEnum": "switchboard.platforms.models.Provider.choices",
        "MessageStatusEnum": "switchboard.inbox.models.MessageStatus.choices",
        "MessageKindEnum": "switchboard.inbox.models.MessageKind.choices",
        "DirectionEnum": "switchboard.inbox.models.Direction.choices",
        "RoleEnum": "switchboard.accounts.models.Role.choices",
        "ListingStatusEnum": "switchboard.listings.models.ListingStatus.choices",
    },
}

# --- Encryption of credentials at rest --------------------------------------------------------------------------
# Comma-separated Fernet keys; the first encrypts, all decrypt (rotation). Without one, a key is derived from
# SECRET_KEY so the embedded default works; production must set its own (refused below).
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEY") or [
    base64.urlsafe_b64encode(hashlib.sha256(("field-encryption:" + SECRET_KEY).encode()).digest()).decode()
]

# DEBUG=false is production: no server or worker starts on the embedded secrets (the public development key would let
# anyone sign JWTs and media URLs and decrypt the stored credentials). Exempt: the test runner, and the commands that
# only build or inspect the project without secrets (the image's collectstatic, `make lint`; `check` so that
# `check --deploy` can still report sb.E001 / sb.E002).
_argv = [*getattr(sys, "argv", []), "", ""]
_NO_SECRETS_COMMAND = Path(_argv[0]).name in {"manage.py", "django-admin", "__main__.py"} and _argv[1] in {
    "check",
    "collectstatic",
    "makemigrations",
    "spectacular",
}
if not DEBUG and "PYTEST_VERSION" not in os.environ and not _NO_SECRETS_COMMAND:
    _missing = [
        *(["SECRET_KEY is empty or the embedded development key"] if SECRET_KEY in ("", _DEV_SECRET) else []),
        *(["FIELD_ENCRYPTION_KEY is unset"] if not env_list("FIELD_ENCRYPTION_KEY") else []),
    ]
    if _missing:
        raise ImproperlyConfigured(
            f"Refusing to start with DEBUG=false: {'; '.join(_missing)}. Set both (see .env.example), "
            "or export DEBUG=true for local development."
        )

# --- Platforms ------------------------------------------------------------------------------------------------
META_APP_SECRET = env("META_APP_SECRET")
META_VERIFY_TOKEN = env("META_VERIFY_TOKEN")
GRAPH_API_BASE = env("GRAPH_API_BASE", "https://graph.facebook.com")
GRAPH_API_VERSION = env("GRAPH_API_VERSION", "v21.0")
TWILIO_API_BASE = env("TWILIO_API_BASE", "https://api.twilio.com")
# Twilio's Content API (WhatsApp templates) has a host of its own. Empty: content.twilio.com, unless TWILIO_API_BASE
# points elsewhere (tests, a proxy), which then serves both.
TWILIO_CONTENT_API_BASE = env("TWILIO_CONTENT_API_BASE", "")
# Twilio signs the URL it called; behind a proxy that URL is rebuilt from X-Forwarded-Proto/Host only when trusted.
TRUST_FORWARDED_HEADERS = env_bool("TRUST_FORWARDED_HEADERS", False)
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL")
MEDIA_ALLOWED_HOSTS = env_list(
    "MEDIA_ALLOWED_HOSTS",
    "graph.facebook.com,lookaside.fbsbx.com,scontent.xx.fbcdn.net,.fbcdn.net,.cdninstagram.com,"
    "api.twilio.com,media.twiliocdn.com,.twiliocdn.com,.twilio.com,s3-external-1.amazonaws.com",
)
# Download new attachments as they arrive (MessageService enqueues the media task); test suites turn it off.
MEDIA_AUTO_DOWNLOAD = env_bool("MEDIA_AUTO_DOWNLOAD", True)
MEDIA_MAX_BYTES = env_int("MEDIA_MAX_BYTES", 25 * 1024 * 1024)
# Tests point vendors at 127.0.0.1; production never lets a media URL reach loopback or private networks (SSRF).
MEDIA_ALLOW_LOOPBACK = env_bool("MEDIA_ALLOW_LOOPBACK", False)
MEDIA_URL_TTL_SECONDS = env_int("MEDIA_URL_TTL_SECONDS", 300)
# Behind nginx, media files are sent by nginx (X-Accel-Redirect to its internal /protected-media/ location).
MEDIA_X_ACCEL_REDIRECT = env_bool("MEDIA_X_ACCEL_REDIRECT", False)
LISTING_CARD_CACHE_TTL = env_int("LISTING_CARD_CACHE_TTL", 3600)
WEBHOOK_MAX_BODY_BYTES = env_int("WEBHOOK_MAX_BODY_BYTES", 5 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = WEBHOOK_MAX_BODY_BYTES
# Outbound: messages per second per platform account, shared by all workers (an account may override it).
SEND_RATE_LIMIT_PER_SECOND = env_int("SEND_RATE_LIMIT_PER_SECOND", 80)
SEND_MAX_ATTEMPTS = env_int("SEND_MAX_ATTEMPTS", 5)
SYNC_INTERVAL_MINUTES = env_int("SYNC_INTERVAL_MINUTES", 5)
# Backoff before send attempt n+1: SEND_RETRY_BACKOFF_SECONDS * 2**(n-1), i.e. 1 s, 2 s, 4 s … (never sooner than a
# vendor's Retry-After).
SEND_RETRY_BACKOFF_SECONDS = float(env("SEND_RETRY_BACKOFF_SECONDS", "1"))
# Without a worker (CELERY_TASK_ALWAYS_EAGER) a send runs inside the agent's request: it is retried in-process only
# while the waits add up to at most this; then the message fails and the agent retries it from the API.
SEND_EAGER_RETRY_MAX_WAIT_SECONDS = float(env("SEND_EAGER_RETRY_MAX_WAIT_SECONDS", "3"))
# The AI assistant (switchboard/assistant): after an agent's (or the phone's) reply it stays quiet this long; it sends
# at most AI_MAX_REPLIES_PER_HOUR replies per conversation an hour; a retryable provider error is tried again with
# backoff (AI_RETRY_BACKOFF_SECONDS * 2**(n-1), at least the vendor's Retry-After) up to AI_MAX_ATTEMPTS attempts;
# each call of the model waits at most AI_REQUEST_TIMEOUT_SECONDS for its answer.
AI_HANDOFF_MINUTES = env_int("AI_HANDOFF_MINUTES", 30)
AI_MAX_REPLIES_PER_HOUR = env_int("AI_MAX_REPLIES_PER_HOUR", 20)
AI_MAX_ATTEMPTS = env_int("AI_MAX_ATTEMPTS", 3)
AI_REQUEST_TIMEOUT_SECONDS = float(env("AI_REQUEST_TIMEOUT_SECONDS", "30"))
AI_RETRY_BACKOFF_SECONDS = float(env("AI_RETRY_BACKOFF_SECONDS", "2"))
# Lead triage when the assistant does not answer (switched off, untrusted contact, a human on it, office hours, the
# hourly cap): one call of the model, with only update_contact, records the lead fields; at most one per conversation
# per AI_TRIAGE_MIN_INTERVAL_SECONDS (switchboard/assistant/triage.py).
AI_TRIAGE_WITHOUT_REPLY = env_bool("AI_TRIAGE_WITHOUT_REPLY", True)
AI_TRIAGE_MIN_INTERVAL_SECONDS = env_int("AI_TRIAGE_MIN_INTERVAL_SECONDS", 300)
# Where a provider's base_url may point (switchboard/assistant/providers/guard.py: the defence against SSRF). Private,
# loopback, link-local and metadata addresses are refused unless AI_ALLOW_PRIVATE_BASE_URL (default: DEBUG, so `make
# run` reaches a local Ollama); AI_ALLOWED_HOSTS, when set, lists the only hosts (or host:port) ever called.
AI_ALLOW_PRIVATE_BASE_URL = env_bool("AI_ALLOW_PRIVATE_BASE_URL", DEBUG)
AI_ALLOWED_HOSTS = env_list("AI_ALLOWED_HOSTS")
# The first sync of an account reads this many days of history; later ones read from its last_sync_at.
SYNC_HISTORY_DAYS = env_int("SYNC_HISTORY_DAYS", 30)
INVALID_SIGNATURE_RATE_LIMIT = env_int("INVALID_SIGNATURE_RATE_LIMIT", 20)
METRICS_TOKEN = env("METRICS_TOKEN")

# --- I18N / static / media -----------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "media")))
FRONTEND_DIST = Path(env("FRONTEND_DIST", str(REPO_DIR / "frontend" / "dist")))
# Media: local disk by default; any S3-compatible bucket when AWS_STORAGE_BUCKET_NAME is set (django-storages).
AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME")
AWS_S3_ENDPOINT_URL = env("AWS_S3_ENDPOINT_URL") or None
AWS_S3_REGION_NAME = env("AWS_S3_REGION_NAME") or None
AWS_DEFAULT_ACL = None
AWS_QUERYSTRING_AUTH = True
AWS_QUERYSTRING_EXPIRE = env_int("MEDIA_URL_TTL_SECONDS", 300)
STORAGES = {
    "default": {
        "BACKEND": (
            "storages.backends.s3.S3Storage"
            if AWS_STORAGE_BUCKET_NAME
            else "django.core.files.storage.FileSystemStorage"
        )
    },
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Security (production) -------------------------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUST_FORWARDED_HEADERS else None
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # 4xx answers are in the server's access log already; django.request adds a second line for each. Keep it
        # for 5xx (ERROR), which come with the traceback.
        "django.request": {"level": "ERROR"},
        # In-process tasks (embedded mode) would print a "Task … succeeded" line per task into the server's output.
        "celery.app.trace": {"level": "WARNING" if CELERY_TASK_ALWAYS_EAGER else "INFO"},
    },
}
