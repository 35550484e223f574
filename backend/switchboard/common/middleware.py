"""Django's middleware, run as one synchronous chain under ASGI.

Django's built-in middleware are "async-capable" through MiddlewareMixin, which runs every process_request and
process_response through sync_to_async: two thread hops per middleware per request. With our sync views that
made /healthz cost ~5 ms on daphne (see docs/performance.md). Declared sync-only, the whole chain runs in one
thread hop instead. WebSockets do not pass through this chain.
"""

from __future__ import annotations

from django.utils.module_loading import import_string


def sync_only(dotted_path: str) -> type:
    base = import_string(dotted_path)
    return type(f"SyncOnly{base.__name__}", (base,), {"async_capable": False, "sync_capable": True})


SecurityMiddleware = sync_only("django.middleware.security.SecurityMiddleware")
SessionMiddleware = sync_only("django.contrib.sessions.middleware.SessionMiddleware")
CommonMiddleware = sync_only("django.middleware.common.CommonMiddleware")
CsrfViewMiddleware = sync_only("django.middleware.csrf.CsrfViewMiddleware")
AuthenticationMiddleware = sync_only("django.contrib.auth.middleware.AuthenticationMiddleware")
MessageMiddleware = sync_only("django.contrib.messages.middleware.MessageMiddleware")
XFrameOptionsMiddleware = sync_only("django.middleware.clickjacking.XFrameOptionsMiddleware")
