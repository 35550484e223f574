"""/api/messages/: conversations/ and messages/ of the caller's organization, and sending (api/send_views.py)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from switchboard.inbox.api.send_views import ConversationMessageSendView, MessageRetryView
from switchboard.inbox.api.views import ConversationViewSet, MessageViewSet

router = SimpleRouter()
router.register("conversations", ConversationViewSet, basename="conversation")
router.register("messages", MessageViewSet, basename="message")

urlpatterns = [
    path("conversations/<int:pk>/messages/", ConversationMessageSendView.as_view(), name="conversation-send"),
    path("messages/<int:pk>/retry/", MessageRetryView.as_view(), name="message-retry"),
    *router.urls,
]
