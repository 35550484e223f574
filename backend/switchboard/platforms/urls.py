"""/api/platforms/: accounts/ — the organization's connected platform accounts."""

from rest_framework.routers import SimpleRouter

from switchboard.platforms.views import PlatformAccountViewSet

router = SimpleRouter()
router.register("accounts", PlatformAccountViewSet, basename="platform-account")

urlpatterns = router.urls
