from django.urls import re_path

from switchboard.common import views

# Anything that is not an API, admin, static or media path belongs to the single-page app's router.
urlpatterns = [re_path(r"^(?!api/|admin/|static/|media/|ws/)(?P<path>.*)$", views.spa, name="spa")]
