"""/api/messages/: conversations/ and messages/ of the caller's organization."""

from rest_framework.routers import SimpleRouter

from switchboard.inbox.api.views import ConversationViewSet, MessageViewSet

router = SimpleRouter()
router.register("conversations", ConversationViewSet, basename="conversation")
router.register("messages", MessageViewSet, basename="message")

urlpatterns = router.urls
