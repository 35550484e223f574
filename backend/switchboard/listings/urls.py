"""/api/listings/: listings with their images, linked contacts and cards; `{id}/media/{filename}` serves files."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from switchboard.listings.api.views import ListingMediaView, ListingViewSet

router = SimpleRouter()
router.register("", ListingViewSet, basename="listing")

urlpatterns = [
    # The contract has no trailing slash here: the file name ends the URL.
    path("<int:pk>/media/<str:filename>", ListingMediaView.as_view(), name="listing-media"),
    *router.urls,
]
