"""Messages of one conversation leave in the order they were queued (issue 14), whatever the workers, the rate limit
and the retries do; different conversations interleave. Real threads call the send task concurrently against the
fake vendor on 127.0.0.1 (tests/fakes/vendor.py): four Celery-like workers draining a small broker with countdowns
(what production runs), and the in-process pool of the embedded default. The threaded tests need PostgreSQL (CI
always has it): SQLite's shared in-memory test database refuses concurrent writers ("database table is locked").
The rules behind the order — who waits, what a stale row does, the hand-over — are tested on any database below."""

from __future__ import annotations

import heapq
import itertools
import random
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from switchboard.inbox import inprocess
from switchboard.inbox.models import Direction, Message, MessageKind, MessageStatus
from switchboard.inbox.services import sending
from switchboard.inbox.tasks.sending import send_message_task
from switchboard.inbox.tests.outbound_support import conversation_for, record_granted_windows
from tests.fakes import cloud_sent, graph_error

CLOUD_MESSAGES = r"/v21\.0/106540352242922/messages"
FINAL = {MessageStatus.SENT, MessageStatus.FAILED}


class Broker:
    """Four workers on a queue with countdowns: what Celery and Redis do for the send task, in threads. The task's
    `delay`, `apply_async` (countdowns: waiting its turn, hand-overs) and `retry` (backoff) publish here; a worker
    runs `send_message_task.run` as a Celery worker would (not eager)."""

    def __init__(self, monkeypatch, workers: int = 4) -> None:
        self._jobs: list[tuple[float, int, tuple, dict]] = []
        self._lock = threading.Lock()
        self._sequence = itertools.count()
        self.workers = workers
        self.errors: list[BaseException] = []
        self.ran: Counter[str] = Counter()
        monkeypatch.setattr(send_message_task, "apply_async", self.apply_async)
        monkeypatch.setattr(send_message_task, "retry", self.retry)

    def apply_async(self, args=None, kwargs=None, countdown=None, **options):
        with self._lock:
            due = time.monotonic() + float(countdown or 0)
            heapq.heappush(self._jobs, (due, next(self._sequence), tuple(args or ()), dict(kwargs or {})))

    def retry(self, args=None, kwargs=None, countdown=None, **options):
        self.apply_async(args, kwargs, countdown)
        return Retry("retried", None)

    def _next(self) -> tuple[tuple, dict] | None:
        with self._lock:
            if self._jobs and self._jobs[0][0] <= time.monotonic():
                _, _, args, kwargs = heapq.heappop(self._jobs)
                return args, kwargs
        return None

    def run_until(self, done, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        stop = threading.Event()

        def worker() -> None:
            try:
                while not stop.is_set():
                    job = self._next()
                    if job is None:
                        time.sleep(0.01)
                        continue
                    args, kwargs = job
                    try:
                        self.ran[send_message_task.run(*args, **kwargs)] += 1
                    except Retry:
                        self.ran["retry"] += 1
            except BaseException as exc:  # reported by the test
                self.errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=worker, name=f"worker-{n}") for n in range(self.workers)]
        for thread in threads:
            thread.start()
        try:
            while time.monotonic() < deadline and not done():
                time.sleep(0.05)
        finally:
            stop.set()
            for thread in threads:
                thread.join(10)


@pytest.fixture
def not_eager(celery_eager):
    """As with a worker: tasks are published, never run in the caller."""
    celery_eager.conf.task_always_eager = False
    yield
    celery_eager.conf.task_always_eager = True


@pytest.fixture
def vendor(fake_vendor, settings):
    settings.SEND_RETRY_BACKOFF_SECONDS = 0.05
    settings.PUBLIC_BASE_URL = ""
    return fake_vendor


def jittery_cloud(vendor, *, throttle_every: int = 0):
    """The Cloud API answering after a random pause (a real network reorders nothing for us); every
    `throttle_every`-th request is a 429 once, so some messages go through a retry's backoff too."""
    counter = itertools.count(1)
    lock = threading.Lock()

    def answer(request):
        with lock:
            n = next(counter)
        time.sleep(random.uniform(0, 0.04))
        if throttle_every and n % throttle_every == 0:
            return graph_error(130429, "Rate limit hit", status=429)
        return cloud_sent(f"wamid.ORDER{n}")

    vendor.on("POST", CLOUD_MESSAGES, answer)


def accepted_texts(vendor, to: str | None = None) -> list[str]:
    """The texts the vendor accepted, in the order its requests arrived (a 429'd attempt is not accepted)."""
    requests = vendor.requests("POST", CLOUD_MESSAGES)
    texts = []
    for request in requests:
        body = request.json
        if to is not None and body["to"] != to:
            continue
        texts.append(body["text"]["body"])
    # Each text appears once per attempt; the attempt that was accepted is its last one.
    last = {text: index for index, text in enumerate(texts)}
    return [text for text, _ in sorted(last.items(), key=lambda item: item[1])]


def queue_replies(conversation, agent, texts: list[str]) -> list[Message]:
    return [
        sending.message_send(organization=conversation.organization_id, conversation=conversation, by=agent, text=text)
        for text in texts
    ]


def statuses(messages: list[Message]) -> set[str]:
    return set(Message.objects.filter(pk__in=[m.pk for m in messages]).values_list("status", flat=True))


@pytest.mark.django_db(transaction=True)
def test_thirty_replies_under_2_per_second_with_four_workers_reach_the_customer_in_order(
    require_postgres, not_eager, vendor, monkeypatch, wa_cloud_account, agent
):
    wa_cloud_account.settings = {"rate_limit_per_second": 2}
    wa_cloud_account.save()
    granted = record_granted_windows(monkeypatch)
    jittery_cloud(vendor, throttle_every=7)
    broker = Broker(monkeypatch, workers=4)
    conversation = conversation_for(wa_cloud_account)
    texts = [f"reply {n:02d}" for n in range(30)]

    messages = queue_replies(conversation, agent, texts)  # each commit publishes its send task to the broker
    broker.run_until(lambda: statuses(messages) <= FINAL, timeout=90)

    assert broker.errors == []
    assert statuses(messages) == {MessageStatus.SENT}
    assert accepted_texts(vendor) == texts  # zero inversions
    requests = vendor.requests("POST", CLOUD_MESSAGES)
    per_window = Counter(granted)
    assert max(per_window.values()) <= 2, per_window  # the account's limit held all along
    assert len(granted) == len(requests) and requests[-1].wall - requests[0].wall >= len(requests) / 2 - 2
    assert len(requests) == 30 + len(requests) // 7  # every 7th request was a 429, retried after its backoff
    assert broker.ran["waiting"] > 0  # the workers really ran sends that had to wait their turn


@pytest.mark.django_db(transaction=True)
def test_two_conversations_interleave_and_each_keeps_its_order(
    require_postgres, not_eager, vendor, monkeypatch, wa_cloud_account, agent
):
    wa_cloud_account.settings = {"rate_limit_per_second": 4}
    wa_cloud_account.save()
    jittery_cloud(vendor)
    broker = Broker(monkeypatch, workers=4)
    first = conversation_for(wa_cloud_account, external_id="+15551230001")
    second = conversation_for(wa_cloud_account, external_id="+15551230002")
    a_texts, b_texts = [f"A{n}" for n in range(8)], [f"B{n}" for n in range(8)]
    messages = []
    for a, b in zip(a_texts, b_texts, strict=True):  # queued alternately, as two agents typing at once
        messages += queue_replies(first, agent, [a]) + queue_replies(second, agent, [b])

    broker.run_until(lambda: statuses(messages) <= FINAL, timeout=60)

    assert broker.errors == []
    assert statuses(messages) == {MessageStatus.SENT}
    assert accepted_texts(vendor, to="15551230001") == a_texts
    assert accepted_texts(vendor, to="15551230002") == b_texts
    # Interleaved: the second conversation did not wait for the first one's queue to drain.
    order = [text[0] for text in accepted_texts(vendor)]
    assert order.index("B") < order.index("A") + 4 and "".join(order) != "A" * 8 + "B" * 8


@pytest.mark.django_db(transaction=True)
def test_in_process_pool_keeps_the_order_too(require_postgres, celery_eager, vendor, settings, wa_cloud_account, agent):
    """The embedded default (no worker): four in-process threads; a waiting send waits on a timer, never a thread."""
    settings.INPROCESS_TASK_THREADS = 4
    wa_cloud_account.settings = {"rate_limit_per_second": 5}
    wa_cloud_account.save()
    jittery_cloud(vendor, throttle_every=5)
    conversation = conversation_for(wa_cloud_account)
    texts = [f"note {n}" for n in range(12)]
    try:
        messages = queue_replies(conversation, agent, texts)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not statuses(messages) <= FINAL:
            time.sleep(0.05)
    finally:
        assert inprocess.wait_idle(30)
    assert statuses(messages) == {MessageStatus.SENT}
    assert accepted_texts(vendor) == texts


# --- nothing waits forever --------------------------------------------------------------------------------------------
def _outbound(conversation, text: str, status: str, *, age: timedelta = timedelta(0)) -> Message:
    message = Message.objects.create(
        organization_id=conversation.organization_id,
        conversation=conversation,
        platform_account=conversation.platform_account,
        direction=Direction.OUTBOUND,
        kind=MessageKind.TEXT,
        text=text,
        status=status,
        timestamp=timezone.now(),
    )
    Message.objects.filter(pk=message.pk).update(updated_at=timezone.now() - age)
    return message


def deliver(message: Message) -> sending.Delivery:
    return sending.message_deliver(message_id=message.pk, attempt=1, may_retry=lambda countdown: False)


@pytest.mark.usefixtures("celery_eager")
def test_an_older_queued_message_makes_a_newer_one_wait_and_a_failed_one_does_not(vendor, wa_cloud_account):
    vendor.on("POST", CLOUD_MESSAGES, cloud_sent("wamid.NEW"))
    conversation = conversation_for(wa_cloud_account)
    older = _outbound(conversation, "first", MessageStatus.QUEUED)
    newer = _outbound(conversation, "second", MessageStatus.QUEUED)

    waiting = deliver(newer)
    assert waiting.status == sending.DeliveryStatus.WAITING
    assert sending.ORDER_POLL_MIN <= waiting.countdown <= sending.ORDER_POLL_MAX
    assert Message.objects.get(pk=newer.pk).status == MessageStatus.QUEUED and not vendor.requests()

    Message.objects.filter(pk=older.pk).update(status=MessageStatus.FAILED)  # a failed message holds nothing up
    assert deliver(newer).status == sending.DeliveryStatus.SENT
    assert [r.json["text"]["body"] for r in vendor.requests("POST", CLOUD_MESSAGES)] == ["second"]


@pytest.mark.usefixtures("celery_eager")
def test_other_conversations_and_inbound_messages_never_hold_a_send(vendor, wa_cloud_account):
    vendor.on("POST", CLOUD_MESSAGES, cloud_sent("wamid.FREE"))
    conversation = conversation_for(wa_cloud_account)
    other = conversation_for(wa_cloud_account, external_id="+15550009999")
    _outbound(other, "elsewhere", MessageStatus.QUEUED)
    _outbound(conversation, "ours, sent", MessageStatus.SENT)
    mine = _outbound(conversation, "now", MessageStatus.QUEUED)
    assert deliver(mine).status == sending.DeliveryStatus.SENT


@pytest.mark.usefixtures("celery_eager")
def test_a_crashed_workers_sending_row_is_sent_again_first(
    vendor, wa_cloud_account, django_capture_on_commit_callbacks
):
    """A worker died mid-send: its row stays `sending`. After STALE_SENDING the waiting send queues the older one's
    task again (once a minute at most) — that task reclaims it and sends it, then the newer one goes."""
    vendor.on("POST", CLOUD_MESSAGES, cloud_sent("wamid.A"), cloud_sent("wamid.B"))
    conversation = conversation_for(wa_cloud_account)
    crashed = _outbound(conversation, "interrupted", MessageStatus.SENDING, age=sending.STALE_SENDING + timedelta(1))
    newer = _outbound(conversation, "after it", MessageStatus.QUEUED)
    inprocess.reset()

    assert deliver(newer).status == sending.DeliveryStatus.WAITING
    assert deliver(newer).status == sending.DeliveryStatus.WAITING  # a second look queues nothing more
    assert inprocess.pending_delayed() == [("inbox.send_message", (crashed.pk,))]

    with django_capture_on_commit_callbacks(execute=True):
        inprocess.run_delayed()  # the older one's task: reclaimed, sent; its end hands over to the newer one
    assert Message.objects.get(pk=crashed.pk).status == MessageStatus.SENT
    assert inprocess.pending_delayed() == [("inbox.send_message", (newer.pk,))]
    inprocess.run_delayed()
    assert Message.objects.get(pk=newer.pk).status == MessageStatus.SENT
    assert [r.json["text"]["body"] for r in vendor.requests("POST", CLOUD_MESSAGES)] == ["interrupted", "after it"]


@pytest.mark.usefixtures("celery_eager")
def test_a_queued_message_whose_task_was_lost_is_queued_again_and_still_goes_first(
    vendor, wa_cloud_account, django_capture_on_commit_callbacks
):
    vendor.on("POST", CLOUD_MESSAGES, cloud_sent("wamid.L1"), cloud_sent("wamid.L2"))
    conversation = conversation_for(wa_cloud_account)
    lost = _outbound(conversation, "lost task", MessageStatus.QUEUED, age=sending.ORDER_STALE_QUEUED + timedelta(1))
    newer = _outbound(conversation, "newer", MessageStatus.QUEUED)
    inprocess.reset()
    assert deliver(newer).status == sending.DeliveryStatus.WAITING
    assert inprocess.pending_delayed() == [("inbox.send_message", (lost.pk,))]
    with django_capture_on_commit_callbacks(execute=True):
        inprocess.run_delayed()
    inprocess.run_delayed()
    assert [r.json["text"]["body"] for r in vendor.requests("POST", CLOUD_MESSAGES)] == ["lost task", "newer"]


@pytest.mark.usefixtures("celery_eager")
def test_after_the_longest_wait_a_send_goes_anyway(vendor, wa_cloud_account, caplog):
    vendor.on("POST", CLOUD_MESSAGES, cloud_sent("wamid.LATE"))
    conversation = conversation_for(wa_cloud_account)
    _outbound(conversation, "stuck", MessageStatus.SENDING)  # fresh: not stale, just never finishing
    newer = _outbound(conversation, "waited long", MessageStatus.QUEUED, age=sending.ORDER_MAX_WAIT + timedelta(1))
    assert deliver(newer).status == sending.DeliveryStatus.SENT
    assert "sending it anyway" in caplog.text


def test_a_waiting_send_queues_itself_again_with_its_attempt_number(wa_cloud_account, monkeypatch, db):
    """As a worker runs it: the wait is a countdown on the broker, the attempt number unchanged (not a retry)."""
    conversation = conversation_for(wa_cloud_account)
    _outbound(conversation, "older", MessageStatus.QUEUED)
    newer = _outbound(conversation, "newer", MessageStatus.QUEUED)
    published = []
    monkeypatch.setattr(inprocess, "run_task_later", lambda task, countdown, *args, **kwargs:
                        published.append((task.name, countdown, args, kwargs)))  # fmt: skip
    assert send_message_task.run(newer.pk, attempt=3) == "waiting"
    [(name, countdown, args, kwargs)] = published
    assert (name, args, kwargs) == ("inbox.send_message", (newer.pk,), {"attempt": 3})
    assert sending.ORDER_POLL_MIN <= countdown <= sending.ORDER_POLL_MAX
    cache.clear()
