"""/api/media/: stored attachment files for the owning tenant (see inbox/media_api.py)."""

from django.urls import path

from switchboard.inbox.media_api import AttachmentMediaUrlsView, AttachmentMediaView, SignedAttachmentMediaView

urlpatterns = [
    path("<int:pk>/", AttachmentMediaView.as_view(), name="media-file"),
    path("<int:pk>/url/", AttachmentMediaUrlsView.as_view(), name="media-urls"),
    path("<int:pk>/signed/", SignedAttachmentMediaView.as_view(), name="media-signed"),
]
