"""The inbox hooks: the one registry through which apps above the inbox react to it and supply what it needs.

The inbox never imports the apps built on it (`listings` today, the AI assistant next). It declares here the points
where they may join in, and they subscribe in their `AppConfig.ready()`:

    class ListingsConfig(AppConfig):
        def ready(self) -> None:
            from switchboard.inbox import hooks
            from switchboard.listings import subscribers

            hooks.subscribe(hooks.MESSAGE_MEDIA_SETTLED, subscribers.file_received_photos)
            hooks.subscribe(hooks.LISTING_CARD, subscribers.listing_card)

Two kinds of hook:

* **Events** (`dispatch_on_commit`) — something happened in the inbox. The subscribers run after the transaction
  that did it commits (at once when none is open), never for a rolled-back write, in the order they subscribed,
  with keyword arguments only (ids: a subscriber reads the committed rows itself). Each runs in its own
  transaction; an exception is logged with its traceback (`switchboard.inbox.hooks`, ERROR) and swallowed: it rolls
  back that subscriber's own writes and nothing else — the inbox write has committed, and the other subscribers
  still run. A subscriber must be quick (it runs in the thread that committed, e.g. a webhook's answer or a media
  task: enqueue a task for anything slow) and idempotent (an event may come twice: a redelivered task, two tasks
  finishing together).
* **Providers** (`ask`, `collect`) — the inbox needs something only another app knows, e.g. the card of a listing
  it is about to send. Asked now, in the caller's transaction; `ask` returns the first subscriber's answer that is
  not None (None when nobody answers), `collect` every answer. A provider's exception is the caller's failure and
  propagates: a send whose card cannot be built fails as a crash would, it is not silently sent without one.

Every hook names its arguments; dispatching or asking with other names is a TypeError, so a typo fails at once.
Tests subscribe for their duration with `subscribed(hook, fn)`, or replace all subscribers with `replaced(hook, …)`.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)

Subscriber = Callable[..., Any]


class HookKind(enum.StrEnum):
    EVENT = "event"  # dispatched after commit; answers are ignored
    PROVIDER = "provider"  # asked now; answers are returned


@dataclass(frozen=True)
class Hook:
    name: str
    kind: HookKind
    arguments: tuple[str, ...]
    doc: str = field(default="", compare=False)


# --- the hooks ------------------------------------------------------------------------------------------------------
MESSAGE_MEDIA_SETTLED = Hook(
    "message.media_settled",
    HookKind.EVENT,
    ("organization_id", "message_id"),
    "Every attachment of an inbound message is settled (stored, failed or rejected): its stored files can be used. "
    "Dispatched by the media task (inbox/tasks/media.py) when it settles the message's last attachment.",
)

MESSAGES_CREATED = Hook(
    "messages.created",
    HookKind.EVENT,
    ("organization_id", "message_ids"),
    "New messages were stored in one transaction: a delivery's inbound messages and echoes of what the business sent "
    "from elsewhere (MessageService.flush, inbox/services/ingest.py), or an agent's send (inbox/services/sending.py). "
    "Read the rows for their direction, kind and author. Not dispatched for status changes, reactions or deletions.",
)

LISTING_CARD = Hook(
    "listing.card",
    HookKind.PROVIDER,
    ("organization_id", "listing_id", "snapshot", "absolute"),
    "The `inbox.cards.Card` of a listing of the organization, or None. `snapshot` is the one stored with the message "
    "(`Card.snapshot`, or None): the card of a listing deleted since is rebuilt from it. `absolute`: image URLs a "
    "platform can fetch (PUBLIC_BASE_URL). Asked when an agent sends a listing (inbox/services/sending.py) and at "
    "send time by every adapter (inbox/sendable.py: `listing_card`).",
)

DEMO_SEED = Hook(
    "demo.seed",
    HookKind.PROVIDER,
    ("organization", "user", "media_folder"),
    "`manage.py seed_demo`: add this app's part of the demo agency (idempotently) and answer a `DemoPart`. "
    "`media_folder` is the folder of the shipped demo files.",
)

HOOKS = (MESSAGES_CREATED, MESSAGE_MEDIA_SETTLED, LISTING_CARD, DEMO_SEED)


@dataclass(frozen=True)
class DemoPart:
    """An app's part of the demo (the answer to DEMO_SEED)."""

    name: str  # its key among the printed ids, e.g. "listing"
    ids: dict[str, Any]  # printed under `name` (and by `seed_demo --json`)
    report: str = ""  # one line of the human report
    message_payloads: dict[str, dict[str, Any]] = field(default_factory=dict)  # by demo platform message id


# --- the registry ---------------------------------------------------------------------------------------------------
_subscribers: dict[Hook, tuple[Subscriber, ...]] = {}
_lock = threading.Lock()


def subscribe(hook: Hook, fn: Subscriber) -> None:
    """Add `fn` to the hook's subscribers (once: subscribing the same function again changes nothing)."""
    if hook not in HOOKS:
        raise ValueError(f"{hook.name!r} is not an inbox hook (declare it in switchboard/inbox/hooks.py)")
    with _lock:
        current = _subscribers.get(hook, ())
        if fn not in current:
            _subscribers[hook] = (*current, fn)


def unsubscribe(hook: Hook, fn: Subscriber) -> None:
    with _lock:
        _subscribers[hook] = tuple(s for s in _subscribers.get(hook, ()) if s != fn)


def subscribers(hook: Hook) -> tuple[Subscriber, ...]:
    return _subscribers.get(hook, ())


@contextmanager
def subscribed(hook: Hook, fn: Subscriber) -> Iterator[Subscriber]:
    """Subscribe `fn` for the duration of the block (tests)."""
    subscribe(hook, fn)
    try:
        yield fn
    finally:
        unsubscribe(hook, fn)


@contextmanager
def replaced(hook: Hook, *fns: Subscriber) -> Iterator[None]:
    """Only `fns` subscribe to the hook for the duration of the block; the subscribers before come back (tests)."""
    with _lock:
        before = _subscribers.get(hook, ())
        _subscribers[hook] = tuple(fns)
    try:
        yield
    finally:
        with _lock:
            _subscribers[hook] = before


def _check(hook: Hook, kind: HookKind, arguments: dict[str, Any]) -> None:
    if hook.kind != kind:
        raise TypeError(f"{hook.name!r} is a {hook.kind} hook, not a {kind} hook")
    if set(arguments) != set(hook.arguments):
        raise TypeError(f"{hook.name!r} takes {', '.join(hook.arguments)}; got {', '.join(sorted(arguments))}")


def _name(fn: Subscriber) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


def dispatch_on_commit(hook: Hook, **arguments: Any) -> None:
    """Run the event's subscribers once the current transaction commits (see the module docstring)."""
    _check(hook, HookKind.EVENT, arguments)
    targets = subscribers(hook)
    if not targets:
        return

    def run() -> None:
        for fn in targets:
            try:
                with transaction.atomic():
                    fn(**arguments)
            except Exception:
                logger.exception("inbox hook %s: subscriber %s failed (%s)", hook.name, _name(fn), arguments)

    transaction.on_commit(run)


def ask(hook: Hook, **arguments: Any) -> Any | None:
    """The first answer that is not None, or None."""
    _check(hook, HookKind.PROVIDER, arguments)
    for fn in subscribers(hook):
        answer = fn(**arguments)
        if answer is not None:
            return answer
    return None


def collect(hook: Hook, **arguments: Any) -> list[Any]:
    """Every answer that is not None, in subscription order."""
    _check(hook, HookKind.PROVIDER, arguments)
    return [answer for fn in subscribers(hook) if (answer := fn(**arguments)) is not None]
