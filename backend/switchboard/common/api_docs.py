"""Swagger UI and ReDoc served entirely from this server: the assets come from drf-spectacular-sidecar (pinned in
pyproject.toml, collected as static files), so the docs work offline, air-gapped and behind strict proxies."""

from __future__ import annotations

from drf_spectacular.views import SpectacularRedocView


class OfflineRedocView(SpectacularRedocView):
    # drf-spectacular's own ReDoc page links Google Fonts; ours is the same page without them.
    template_name = "common/redoc.html"
