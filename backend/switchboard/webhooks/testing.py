"""Test support for webhook suites (the Zulip way): sign the exact bytes of a fixture as the platform would,
post it through the real endpoint, run the on-commit callbacks, and hand back what was stored and broadcast."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import parse_qsl

from django.test import Client

from switchboard.webhooks.models import WebhookLog

META_APP_SECRET = "test-meta-app-secret"
META_VERIFY_TOKEN = "test-verify-token"
TWILIO_AUTH_TOKEN = "test-twilio-auth-token"
TWILIO_ACCOUNT_SID = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
BRIDGE_SECRET = "test-bridge-secret"

ENDPOINT_PATHS = {
    "whatsapp": "/api/webhooks/whatsapp/",
    "messenger": "/api/webhooks/messenger/",
    "instagram": "/api/webhooks/instagram/",
    "twilio": "/api/webhooks/twilio/",
    "bridge": "/api/whatsapp/callback",
}


def fixture_bytes(app: str, name: str) -> bytes:
    return (Path(__file__).resolve().parent.parent / app / "tests" / "fixtures" / name).read_bytes()


def meta_signature(body: bytes, secret: str = META_APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def twilio_signature(url: str, form_body: bytes, auth_token: str = TWILIO_AUTH_TOKEN) -> str:
    """Twilio's documented algorithm, written out independently of the validator under test."""
    params = parse_qsl(form_body.decode(), keep_blank_values=True)
    data = url + "".join(f"{name}{value}" for name, value in sorted(params))
    return base64.b64encode(hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()).decode()


@dataclass
class Delivery:
    response: Any
    log: WebhookLog | None
    events: list[tuple[list[int], str, dict]] = field(default_factory=list)

    @property
    def event_names(self) -> list[str]:
        return [name for _, name, _ in self.events]


@contextmanager
def captured_broadcasts() -> Iterator[list[tuple[list[int], str, dict]]]:
    sent: list[tuple[list[int], str, dict]] = []
    with mock.patch("switchboard.inbox.realtime.broadcast", side_effect=lambda u, e, d: sent.append((list(u), e, d))):
        yield sent


class WebhookPoster:
    """`poster.meta("whatsapp", body)`, `poster.twilio(body)`, `poster.bridge(body)` — signed, posted, committed."""

    def __init__(self, client: Client, capture_on_commit: Any) -> None:
        self.client = client
        self.capture_on_commit = capture_on_commit

    def post(self, endpoint: str, body: bytes, content_type: str, path: str | None = None, **headers: str) -> Delivery:
        before = WebhookLog.objects.order_by("-id").values_list("id", flat=True).first() or 0
        with captured_broadcasts() as sent, self.capture_on_commit(execute=True):
            response = self.client.generic(
                "POST", path or ENDPOINT_PATHS[endpoint], body, content_type=content_type, headers=headers
            )
        log = WebhookLog.objects.filter(id__gt=before).order_by("id").first()
        return Delivery(response, log, sent)

    def meta(self, endpoint: str, body: bytes, secret: str = META_APP_SECRET, signature: str | None = None) -> Delivery:
        return self.post(
            endpoint, body, "application/json", X_Hub_Signature_256=signature or meta_signature(body, secret)
        )

    def twilio(self, body: bytes, auth_token: str = TWILIO_AUTH_TOKEN, signature: str | None = None) -> Delivery:
        url = "http://testserver" + ENDPOINT_PATHS["twilio"]
        return self.post(
            "twilio",
            body,
            "application/x-www-form-urlencoded",
            X_Twilio_Signature=signature or twilio_signature(url, body, auth_token),
        )

    def bridge(self, body: bytes, secret: str = BRIDGE_SECRET) -> Delivery:
        return self.post("bridge", body, "application/json", X_Bridge_Secret=secret)


def fixture_names(app: str, suffix: str = ".json", prefix: str = "") -> list[str]:
    folder = Path(__file__).resolve().parent.parent / app / "tests" / "fixtures"
    return sorted(p.name for p in folder.glob(f"{prefix}*{suffix}"))


def assert_stored_as_parsed(delivery: Delivery, account: Any, events: list[Any]) -> None:
    """What the endpoint stored matches what the pure parser says the fixture holds: every message once, in its
    kind and direction, with its attachments; the delivery acknowledged and logged for the right tenant."""
    from switchboard.inbox.events import InboundMessage
    from switchboard.inbox.models import Direction, Message

    assert delivery.response.status_code == 200, delivery.response.content
    assert delivery.log is not None and delivery.log.status in ("processed", "ignored", "duplicate"), delivery.log and (
        delivery.log.status,
        delivery.log.error,
    )
    assert delivery.log.event_count == len(events)
    if events:
        assert delivery.log.organization_id == account.organization_id
    for event in events:
        if not isinstance(event, InboundMessage):
            continue
        stored = Message.objects.get(platform_account=account, platform_message_id=event.platform_message_id)
        assert stored.organization_id == account.organization_id
        assert stored.kind == event.kind
        assert stored.direction == (Direction.OUTBOUND if event.is_echo else Direction.INBOUND)
        assert stored.text == event.text
        assert stored.attachments.count() == len(event.attachments)
    if any(isinstance(e, InboundMessage) for e in events):
        assert "message.created" in delivery.event_names


def load_fixture(app: str, name: str) -> Any:
    """A JSON fixture of `app`'s tests, named with or without its `.json`."""
    import json

    return json.loads(fixture_bytes(app, name if name.endswith(".json") else f"{name}.json").decode("utf-8"))


def unused_fixtures(app: str, *, exclude: str | None = None) -> list[str]:
    """The fixtures of `app` that no test module of the app names in quotes (with or without the extension).
    `exclude` is a test module (its `__file__`) whose text does not count, e.g. the module asking."""
    import re

    tests = Path(__file__).resolve().parent.parent / app / "tests"
    skip = Path(exclude).resolve() if exclude else None
    sources = "\n".join(
        path.read_text(encoding="utf-8") for path in sorted(tests.rglob("test_*.py")) if path.resolve() != skip
    )
    return [
        path.name
        for path in sorted((tests / "fixtures").iterdir())
        if path.is_file() and not re.search(rf"[\"']{re.escape(path.stem)}(?:{re.escape(path.suffix)})?[\"']", sources)
    ]
