"""Helpers for the outbound suites: conversations inside or outside the reply windows, sending through the API with
the on-commit work (broadcasts, the Celery task in eager mode) run, and image bytes for uploads."""

from __future__ import annotations

import io
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.utils import timezone
from PIL import Image

from switchboard.common import ratelimit
from switchboard.inbox.models import Conversation
from switchboard.inbox.tests.conftest import create_contact, create_conversation
from switchboard.platforms.models import PlatformAccount
from switchboard.webhooks.testing import captured_broadcasts

PSID = "7281946350172634"
IGSID = "17841400000000999"
WA_CUSTOMER = "+15551234567"


def conversation_for(
    account: PlatformAccount, *, external_id: str = WA_CUSTOMER, last_inbound: timedelta | None = timedelta(hours=1)
) -> Conversation:
    """A conversation whose customer last wrote `last_inbound` ago (None: never)."""
    contact = create_contact(account, external_id=external_id)
    conversation = create_conversation(account, contact)
    conversation.last_inbound_at = timezone.now() - last_inbound if last_inbound is not None else None
    conversation.save(update_fields=["last_inbound_at"])
    return conversation


@dataclass
class Sent:
    response: Any
    events: list[tuple[list[int], str, dict]] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [name for _, name, _ in self.events]

    def of(self, name: str) -> list[dict]:
        return [data for _, event, data in self.events if event == name]


def send(client: Any, capture: Any, conversation: Conversation, body: dict | None = None, **kwargs: Any) -> Sent:
    """POST to the conversation's messages/ and run everything that follows the commit (eager: the send task)."""
    url = f"/api/messages/conversations/{conversation.pk}/messages/"
    with captured_broadcasts() as events, capture(execute=True):
        if kwargs.get("format") == "multipart":
            response = client.post(url, body or {}, format="multipart")
        else:
            response = client.post(url, json.dumps(body or {}), content_type="application/json")
    return Sent(response, events)


def post_and_run(client: Any, capture: Any, url: str) -> Sent:
    with captured_broadcasts() as events, capture(execute=True):
        response = client.post(url)
    return Sent(response, events)


def jpeg_bytes(size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(buffer, "JPEG")
    return buffer.getvalue()


def record_granted_windows(monkeypatch: Any) -> list[int]:
    """The rate limiter's one-second windows in which each send got its slot (common/ratelimit.py), in grant order.
    The limit holds per window of the limiter's own clock; counting the vendor's arrival times instead would put a
    slot granted at x.999 s into the next second whenever the request takes a millisecond to arrive."""
    windows: list[int] = []
    lock = threading.Lock()
    real_acquire = ratelimit.acquire

    def acquire(key: str, limit: int, **kwargs: Any) -> float:
        readings: list[float] = []

        def clock() -> float:
            readings.append(time.time())
            return readings[-1]

        waited = real_acquire(key, limit, clock=clock, **kwargs)
        with lock:
            windows.append(int(readings[-1]))
        return waited

    monkeypatch.setattr(ratelimit, "acquire", acquire)
    return windows
