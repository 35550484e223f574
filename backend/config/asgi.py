"""HTTP and WebSocket routing (daphne in production, `make run` too)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from switchboard.common import http_server  # noqa: E402
from switchboard.common.websocket import browser_origin_validator  # noqa: E402
from switchboard.inbox.routing import websocket_urlpatterns  # noqa: E402

# Under daphne, request bodies reach Django unparsed by Twisted (an empty multipart body was a bare 400).
http_server.install()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Browsers must come from an allowed host; mobile clients send no Origin and rely on their JWT.
        "websocket": browser_origin_validator(URLRouter(websocket_urlpatterns)),
    }
)
