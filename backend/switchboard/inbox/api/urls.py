"""/api/messages/: conversations/ and messages/ of the caller's organization, and sending (api/send_views.py).

`account_sync_urlpatterns`, mounted at /api/platforms/ by config/urls.py: a platform account's history syncs,
accounts/{id}/sync-runs/ and accounts/{id}/sync/ (api/sync_views.py)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from switchboard.inbox.api.send_views import ConversationMessageSendView, MessageRetryView
from switchboard.inbox.api.sync_views import PlatformAccountSyncViewSet
from switchboard.inbox.api.views import ConversationViewSet, MessageViewSet

router = SimpleRouter()
router.register("conversations", ConversationViewSet, basename="conversation")
router.register("messages", MessageViewSet, basename="message")

urlpatterns = [
    path("conversations/<int:pk>/messages/", ConversationMessageSendView.as_view(), name="conversation-send"),
    path("messages/<int:pk>/retry/", MessageRetryView.as_view(), name="message-retry"),
    *router.urls,
]

# The same prefix and basename as platforms/urls.py's accounts: only the sync actions (the viewset has no list or
# detail routes of its own).
account_sync_router = SimpleRouter()
account_sync_router.register("accounts", PlatformAccountSyncViewSet, basename="platform-account")

account_sync_urlpatterns = account_sync_router.urls
