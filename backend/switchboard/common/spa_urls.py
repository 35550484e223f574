from django.urls import re_path

from switchboard.common import views

# Anything that is not an API, admin, static, media or WebSocket path belongs to the single-page app: its built files
# (frontend/dist) or, for client-side routes, index.html. Those prefixes never fall back to the app, with or without
# their trailing slash (`/api` alone is the API's, not a client route).
urlpatterns = [re_path(r"^(?!(?:api|admin|static|media|ws)(?:/|$))(?P<path>.*)$", views.spa, name="spa")]
