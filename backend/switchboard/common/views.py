"""Process-level endpoints: liveness, readiness, Prometheus metrics, and the single-page app shell."""

from __future__ import annotations

import asyncio
import hmac
import mimetypes
import re
import time
import uuid
from pathlib import Path

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is alive and serving; touches nothing else."""
    return JsonResponse({"status": "ok"})


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_cache() -> None:
    key = f"readyz:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=5)
    if cache.get(key) != "1":
        raise RuntimeError("cache did not return the value just written")
    cache.delete(key)


async def _channel_layer_round_trip(timeout: float = 3.0) -> None:
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer configured")
    channel = await layer.new_channel()
    # Receive first: the Redis pub/sub layer subscribes on receive, and a message published before that is gone.
    receiver = asyncio.ensure_future(layer.receive(channel))
    deadline = time.monotonic() + timeout
    try:
        while not receiver.done():
            if time.monotonic() > deadline:
                raise TimeoutError(f"no round trip through the channel layer in {timeout:.0f} s")
            await layer.send(channel, {"type": "readyz.ping"})
            await asyncio.wait({receiver}, timeout=0.1)
        if receiver.result().get("type") != "readyz.ping":
            raise RuntimeError("channel layer returned another message")
    finally:
        receiver.cancel()


def _check_channel_layer() -> None:
    async_to_sync(_channel_layer_round_trip)()


READINESS_CHECKS = {"database": _check_database, "cache": _check_cache, "channel_layer": _check_channel_layer}


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Database, cache and channel layer reachable; 503 naming every check that failed."""
    results: dict[str, dict] = {}
    for name, check in READINESS_CHECKS.items():
        started = time.perf_counter()
        try:
            check()
            results[name] = {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 2)}
        except Exception as exc:
            results[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    failed = [name for name, result in results.items() if not result["ok"]]
    body = {"status": "ok" if not failed else "unavailable", "failed": failed, "checks": results}
    return JsonResponse(body, status=200 if not failed else 503)


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus exposition, behind `Authorization: Bearer <METRICS_TOKEN>` (404 when no token is set)."""
    token = settings.METRICS_TOKEN
    if not token:
        return JsonResponse({"detail": "Metrics are disabled: set METRICS_TOKEN.", "code": "not_found"}, status=404)
    supplied = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(supplied.encode(), token.encode()):
        return JsonResponse({"detail": "A valid metrics token is required.", "code": "not_authenticated"}, status=401)
    return HttpResponse(generate_latest(), content_type=CONTENT_TYPE_LATEST)


# Files of the built app that may be cached for a year: Vite puts a content hash in every name under assets/.
_IMMUTABLE_PREFIX = "assets/"
_SPA_FILE = re.compile(r"^[A-Za-z0-9._\-/]+$")


def _dist_file(path: str) -> Path | None:
    """The file of frontend/dist that `path` names, or None; never anything outside dist."""
    if not path or not _SPA_FILE.match(path) or ".." in path.split("/"):
        return None
    root = settings.FRONTEND_DIST.resolve()
    candidate = (root / path).resolve()
    if root not in candidate.parents or not candidate.is_file():
        return None
    return candidate


@require_GET
def spa(request: HttpRequest, path: str = "") -> HttpResponseBase:
    """The built web app (frontend/dist): its files as they are, and index.html for every client-side route. A path
    that looks like a file (has an extension) and is not in the build is a 404, not the app. Without a build, a start
    page that says how to build it (never a blank page)."""
    index = settings.FRONTEND_DIST / "index.html"
    if not index.is_file():
        return render(request, "common/start.html", {"frontend_dist": settings.FRONTEND_DIST}, status=200)
    found = _dist_file(path)
    if found is not None and found.name != "index.html":
        content_type = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
        response = FileResponse(found.open("rb"), content_type=content_type)
        if path.startswith(_IMMUTABLE_PREFIX):
            response["Cache-Control"] = "public, max-age=31536000, immutable"
        return response
    if "." in path.rsplit("/", 1)[-1]:
        return HttpResponse("Not found", status=404, content_type="text/plain")
    response = FileResponse(index.open("rb"), content_type="text/html")
    # The shell must always be revalidated, so a new build's asset names are picked up at once.
    response["Cache-Control"] = "no-cache"
    return response
