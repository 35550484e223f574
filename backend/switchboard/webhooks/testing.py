"""Test support for webhook suites (the Zulip way): sign the exact bytes of a fixture as the platform would,
post it through the real endpoint, run the on-commit callbacks, and hand back what was stored and broadcast."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import parse_qsl

from django.test import Client
from django.utils import timezone

from switchboard.inbox.models import Contact, Conversation, Direction, Message
from switchboard.platforms.models import Provider
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
    started: datetime | None = None  # just before the request, and just after its answer
    finished: datetime | None = None

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
        started = timezone.now()
        with captured_broadcasts() as sent, self.capture_on_commit(execute=True):
            response = self.client.generic(
                "POST", path or ENDPOINT_PATHS[endpoint], body, content_type=content_type, headers=headers
            )
        finished = timezone.now()
        log = WebhookLog.objects.filter(id__gt=before).order_by("id").first()
        return Delivery(response, log, sent, started, finished)

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


# --- expected values, written next to the fixtures (the Zulip way) -------------------------------------------------
#
# A webhook test states what a fixture must leave in the database, read from the fixture by whoever wrote the test —
# never what the parser says it holds, so a parser bug fails the test instead of being stored and "passing".

# `Stored.at` for a platform that sends no time of its own (Twilio): the message is stamped when it arrived.
ARRIVAL = "arrival"

# When seeded messages (`Seed`) were stored: before every fixture's own times, so watermarks cover them.
SEEDED_AT = "2024-01-01T00:00:00+00:00"


@dataclass(frozen=True)
class Attached:
    """One Attachment row of a stored message."""

    kind: str
    mime_type: str = ""
    media_id: str = ""
    url: str = ""
    filename: str = ""
    caption: str = ""
    status: str = "pending"


@dataclass(frozen=True)
class Stored:
    """One Message row after the delivery, with its conversation's contact. `at` is the message time (ISO 8601, or
    ARRIVAL); `reply_to` the quoted platform id, linked to that message when it is stored too; `reactions` are
    (emoji, by) pairs; `payload` lists keys the stored payload must hold with exactly these values."""

    id: str
    kind: str
    contact: str
    at: str | None = None  # None only for a seeded message, whose time the test chose (SEEDED_AT)
    text: str = ""
    direction: str = "inbound"
    status: str = "received"
    name: str = ""
    phone: str = ""
    username: str = ""
    attachments: tuple[Attached, ...] = ()
    reply_to: str = ""
    error_code: str = ""
    error_message: str = ""
    reactions: tuple[tuple[str, str], ...] = ()
    is_deleted: bool = False
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Seed:
    """A message stored before the delivery: the target of a status, receipt, reaction, deletion or reply."""

    id: str
    contact: str
    direction: str = "outbound"
    status: str = "sent"
    kind: str = "text"
    text: str = ""
    phone: str = ""
    reactions: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Expect:
    """What one fixture leaves behind: the log's status and event count, and every Message row of the account
    (seeded ones included, in their state after the delivery). `attributes` names contacts (by external id) whose
    `Contact.attributes` must be exactly the given dict afterwards."""

    log: str
    events: int = 0
    messages: tuple[Stored, ...] = ()
    seed: tuple[Seed, ...] = ()
    attributes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def check_webhook(poster: WebhookPoster, account: Any, app: str, fixture: str, expect: Expect) -> Delivery:
    """Store `expect.seed`, post the fixture of `app` to `account`'s endpoint signed as its platform signs it, and
    assert that what was stored, logged and broadcast is exactly `expect`."""
    seed_messages(account, expect.seed)
    body = fixture_bytes(app, fixture)
    if account.provider == Provider.TWILIO:
        delivery = poster.twilio(body.strip())
    elif account.provider == Provider.BRIDGE:
        delivery = poster.bridge(body)
    else:
        delivery = poster.meta(app, body)
    assert_stored(delivery, account, expect)
    return delivery


def seed_messages(account: Any, seeds: tuple[Seed, ...]) -> None:
    at = datetime.fromisoformat(SEEDED_AT)
    for seed in seeds:
        contact, _ = Contact.objects.get_or_create(
            platform_account=account,
            external_id=seed.contact,
            defaults={"organization": account.organization, "platform": account.platform, "phone_number": seed.phone},
        )
        conversation, _ = Conversation.objects.get_or_create(
            platform_account=account,
            contact=contact,
            defaults={"organization": account.organization, "platform": account.platform, "last_message_at": at},
        )
        Message.objects.create(
            organization=account.organization,
            conversation=conversation,
            platform_account=account,
            direction=seed.direction,
            kind=seed.kind,
            text=seed.text,
            platform_message_id=seed.id,
            status=seed.status,
            is_read=seed.direction == Direction.OUTBOUND,
            reactions=[{"emoji": emoji, "by": by, "at": SEEDED_AT} for emoji, by in seed.reactions],
            timestamp=at,
        )


def assert_stored(delivery: Delivery, account: Any, expect: Expect) -> None:
    """The delivery was acknowledged and logged for the account's tenant as `expect` says, the account's messages
    are exactly `expect.messages`, and exactly the new and the changed ones were broadcast."""
    assert delivery.response.status_code == 200, delivery.response.content
    log = delivery.log
    assert log is not None
    logged = (log.status, log.event_count, log.error)
    assert logged == (expect.log, expect.events, ""), f"log (status, event_count, error): {logged}"
    assert (log.account_id, log.organization_id) == (account.pk, account.organization_id)

    rows = {
        m.platform_message_id: m
        for m in Message.objects.filter(platform_account=account).select_related("conversation__contact", "reply_to")
    }
    wanted = {stored.id: stored for stored in expect.messages}
    ids = set(wanted)
    assert sorted(rows, key=str) == sorted(ids), f"stored {sorted(rows, key=str)}, expected {sorted(ids)}"
    seeds = {seed.id: seed for seed in expect.seed}
    for message_id, stored in wanted.items():
        actual, expected = _as_stored(rows[message_id], stored), _expected(stored, seeds.get(message_id), delivery, ids)
        differences = {
            key: {"stored": actual[key], "expected": value} for key, value in expected.items() if actual[key] != value
        }
        assert not differences, f"{message_id}: {differences}"
        assert rows[message_id].organization_id == account.organization_id

    contacts = sorted(Contact.objects.filter(platform_account=account).values_list("external_id", flat=True))
    assert contacts == sorted({stored.contact for stored in expect.messages}), f"contacts stored: {contacts}"
    for external_id, attributes in expect.attributes.items():
        stored_attributes = Contact.objects.get(platform_account=account, external_id=external_id).attributes
        assert stored_attributes == dict(attributes), f"{external_id} attributes: {stored_attributes}"

    created = sorted(d["platform_message_id"] for _, name, d in delivery.events if name == "message.created")
    updated = sorted(d["platform_message_id"] for _, name, d in delivery.events if name == "message.updated")
    assert created == sorted(ids - set(seeds)), f"message.created broadcast for {created}"
    changed = sorted(i for i, seed in seeds.items() if _changed(seed, wanted[i]))
    assert updated == changed, f"message.updated broadcast for {updated}, expected for {changed}"


def _as_stored(message: Message, expected: Stored) -> dict[str, Any]:
    """The row in the shape of `Stored` (payload cut to the keys the expectation names)."""
    contact = message.conversation.contact
    linked = message.reply_to.platform_message_id if message.reply_to else None
    return {
        "id": message.platform_message_id,
        "kind": message.kind,
        "contact": contact.external_id,
        "at": message.timestamp,
        "text": message.text,
        "direction": message.direction,
        "status": message.status,
        "name": contact.name,
        "phone": contact.phone_number,
        "username": contact.username,
        "attachments": [
            Attached(a.kind, a.mime_type, a.media_id, a.source_url, a.filename, a.caption, a.status)
            for a in message.attachments.order_by("id")
        ],
        "reply_to": message.reply_to_platform_id,
        "reply_linked": linked,
        "error_code": message.error_code,
        "error_message": message.error_message,
        "reactions": [(r.get("emoji"), r.get("by")) for r in message.reactions or []],
        "is_deleted": message.is_deleted,
        "payload": {key: (message.payload or {}).get(key, "<missing>") for key in expected.payload},
    }


def _expected(stored: Stored, seed: Seed | None, delivery: Delivery, stored_ids: set[str]) -> dict[str, Any]:
    if stored.at == ARRIVAL:
        at: Any = _Between(delivery.started, delivery.finished)
    elif stored.at is None:
        assert seed is not None, f"{stored.id}: only a seeded message may leave `at` out"
        at = datetime.fromisoformat(SEEDED_AT)
    else:
        at = datetime.fromisoformat(stored.at)
    return {
        "id": stored.id,
        "kind": stored.kind,
        "contact": stored.contact,
        "at": at,
        "text": stored.text,
        "direction": stored.direction,
        "status": stored.status,
        "name": stored.name,
        "phone": stored.phone,
        "username": stored.username,
        "attachments": list(stored.attachments),
        "reply_to": stored.reply_to,
        # The quoted message is linked exactly when it is stored too.
        "reply_linked": stored.reply_to if stored.reply_to in stored_ids else None,
        "error_code": stored.error_code,
        "error_message": stored.error_message,
        "reactions": list(stored.reactions),
        "is_deleted": stored.is_deleted,
        "payload": dict(stored.payload),
    }


def _changed(seed: Seed, stored: Stored) -> bool:
    """Whether the delivery changed a seeded message (so it must have been broadcast as message.updated)."""
    return (seed.status, seed.reactions, False) != (stored.status, stored.reactions, stored.is_deleted)


class _Between:
    """Equal to any datetime from `start` to `end` (the time a platform that sends none is stamped with)."""

    def __init__(self, start: datetime | None, end: datetime | None) -> None:
        assert start is not None and end is not None
        self.start, self.end = start, end

    def __eq__(self, other: object) -> bool:
        return isinstance(other, datetime) and self.start <= other <= self.end

    def __repr__(self) -> str:
        return f"<between {self.start.isoformat()} and {self.end.isoformat()}>"


def load_fixture(app: str, name: str) -> Any:
    """A JSON fixture of `app`'s tests, named with or without its `.json`."""
    return json.loads(fixture_bytes(app, name if name.endswith(".json") else f"{name}.json").decode("utf-8"))


def unused_fixtures(app: str, *, exclude: str | None = None) -> list[str]:
    """The fixtures of `app` that no test module of the app names in quotes (with or without the extension).
    `exclude` is a test module (its `__file__`) whose text does not count, e.g. the module asking."""
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
