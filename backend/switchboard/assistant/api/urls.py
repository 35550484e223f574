"""The assistant's URLs, mounted at /api/ by config/urls.py (before the inbox's, which shares the conversations
prefix):

* assistant/settings/, assistant/settings/test/, assistant/faq/ (+ {id}/), assistant/stats/;
* messages/conversations/{id}/hand-back-to-ai/ and messages/conversations/{id}/suggest-reply/ — conversation actions
  that are the assistant's, beside the inbox's own (toggle-ai, archive, …).
"""

from django.urls import path
from rest_framework.routers import SimpleRouter

from switchboard.assistant.api.views import (
    AssistantSettingsTestView,
    AssistantSettingsView,
    AssistantStatsView,
    ConversationAssistantViewSet,
    FaqEntryViewSet,
)

router = SimpleRouter()
router.register("assistant/faq", FaqEntryViewSet, basename="assistant-faq")
# Only detail actions: the conversation list and detail routes stay the inbox's.
router.register("messages/conversations", ConversationAssistantViewSet, basename="conversation-assistant")

urlpatterns = [
    path("assistant/settings/", AssistantSettingsView.as_view(), name="assistant-settings"),
    path("assistant/settings/test/", AssistantSettingsTestView.as_view(), name="assistant-settings-test"),
    path("assistant/stats/", AssistantStatsView.as_view(), name="assistant-stats"),
    *router.urls,
]
