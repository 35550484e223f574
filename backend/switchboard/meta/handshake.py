"""Meta's webhook verification handshake (WhatsApp Cloud, Messenger, Instagram).

When a webhook is configured, Meta sends `GET ?hub.mode=subscribe&hub.challenge=X&hub.verify_token=T` and expects
`200` with the body exactly `X` (plain text) when `T` is the token we configured, anything else is a refusal.
Django keeps the dots in query parameter names: `request.GET["hub.mode"]`.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable

from django.http import HttpRequest, HttpResponse, JsonResponse

SUBSCRIBE = "subscribe"


def _refuse(detail: str, code: str) -> JsonResponse:
    # The API's one error shape: {"detail", "code"}.
    return JsonResponse({"detail": detail, "code": code}, status=403)


def handshake_response(request: HttpRequest, verify_tokens: Iterable[str]) -> HttpResponse | None:
    """Answer a verification GET, or return None when the request is not one (so the caller handles it).

    - GET with `hub.mode=subscribe`, a `hub.challenge` and a `hub.verify_token` equal to one of the non-empty
      `verify_tokens` → 200 `text/plain`, body exactly the challenge.
    - GET that carries `hub.mode` but fails any of that (wrong or missing token, other mode, no challenge) → 403.
    - Any other request (not a GET, or a GET without `hub.mode`) → None.
    """
    if request.method != "GET" or "hub.mode" not in request.GET:
        return None
    if request.GET.get("hub.mode") != SUBSCRIBE:
        return _refuse("Only hub.mode=subscribe is supported.", "handshake_invalid_mode")
    challenge = request.GET.get("hub.challenge")
    if challenge is None:
        return _refuse("The hub.challenge parameter is missing.", "handshake_missing_challenge")
    given = request.GET.get("hub.verify_token", "")
    matched = False
    if given:
        given_bytes = given.encode("utf-8")
        # Every configured token is compared (no early exit) so timing does not tell which one matched.
        for token in verify_tokens:
            if token and hmac.compare_digest(token.encode("utf-8"), given_bytes):
                matched = True
    if not matched:
        return _refuse("The hub.verify_token is missing or wrong.", "handshake_invalid_token")
    return HttpResponse(challenge, content_type="text/plain; charset=utf-8", status=200)
