from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from switchboard.common import errors
from switchboard.common import views as common_views
from switchboard.common.api_docs import OfflineRedocView
from switchboard.inbox.api.urls import account_sync_urlpatterns

urlpatterns = [
    path("healthz", common_views.healthz, name="healthz"),
    path("readyz", common_views.readyz, name="readyz"),
    path("metrics", common_views.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", OfflineRedocView.as_view(url_name="schema"), name="redoc"),
    path("api/accounts/", include("switchboard.accounts.urls")),
    path("api/platforms/", include("switchboard.platforms.urls")),
    # An account's history syncs (accounts/{id}/sync-runs/, accounts/{id}/sync/) are the inbox's: it runs them.
    path("api/platforms/", include(account_sync_urlpatterns)),
    # Before the inbox: the assistant's conversation actions (messages/conversations/{id}/hand-back-to-ai/, …).
    path("api/", include("switchboard.assistant.api.urls")),
    path("api/messages/", include("switchboard.inbox.api.urls")),
    path("api/webhooks/", include("switchboard.webhooks.urls")),
    path("api/listings/", include("switchboard.listings.urls")),
    path("api/media/", include("switchboard.inbox.media_urls")),
    path("api/", include("switchboard.whatsapp.urls")),
    # Last of the API: every other /api/ URL is the API's JSON 404, never Django's HTML page (nor, under DEBUG, its
    # page listing every route). It also means no APPEND_SLASH redirect under /api/: the 404 names the right URL.
    re_path(r"^api/", errors.api_not_found),
]

# The single-page app (built into frontend/dist) answers every other path; see common/views.py.
urlpatterns += [path("", include("switchboard.common.spa_urls"))]

# Django's own error pages answer JSON under /api/ (an error raised outside a DRF view, e.g. a 500 in middleware).
handler400 = errors.bad_request
handler403 = errors.permission_denied
handler404 = errors.page_not_found
handler500 = errors.server_error
