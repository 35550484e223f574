"""Running Celery tasks off the caller's thread when there is no worker (the embedded default).

With a broker (`REDIS_URL`) `run_task` is `task.delay(...)` and `run_task_later` is `task.apply_async(countdown=…)`:
a worker runs them. Without one (`CELERY_TASK_ALWAYS_EAGER`) Celery runs a task inside `.delay()` — in the agent's
HTTP request, which then waits for the vendor (3 s and more on failure) — and ignores countdowns. Here, instead:

* `run_task(task, *args)` runs the task on a small bounded pool of threads (`INPROCESS_TASK_THREADS`, default 4), so
  the request answers at once and the rest reaches the client over the WebSocket, as it does with a worker;
* `run_task_later(task, countdown, *args)` waits for real (a daemon timer) and then runs it on the same pool.

Each job closes its database connections when it ends (Django's connections are per thread: a pool thread that kept
them would hold them open forever). Broadcasts from a job reach the server's event loop: the loop of the request
that queued the job is handed on to the thread, as asgiref does for its own `sync_to_async` threads, because the
in-memory channel layer's queues belong to that loop.

Tests: `INPROCESS_TASK_THREADS = 0` (the suite's default, backend/conftest.py) runs `run_task` inline, exactly as
Celery's eager mode did, and keeps `run_task_later` jobs until `run_delayed()` runs them in the order they are due —
deterministic, no sleeping (`run_next()` runs one). A test that wants the real threads sets the setting and calls
`wait_idle()`.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import SyncToAsync
from celery import current_task
from django.conf import settings
from django.db import close_old_connections, connections

logger = logging.getLogger(__name__)

DEFAULT_THREADS = 4

_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
_busy = threading.Condition()
_outstanding = 0  # jobs submitted or scheduled and not finished yet (wait_idle)
_delayed: list[tuple[float, int, Any, tuple, dict]] = []  # inline mode: (due, sequence, task, args, kwargs)
_sequence = itertools.count()


def threads() -> int:
    value = getattr(settings, "INPROCESS_TASK_THREADS", DEFAULT_THREADS)
    return value if isinstance(value, int) and value > 0 else 0


def in_process(task: Any) -> bool:
    """True when Celery would run `task` inside the caller (no worker: CELERY_TASK_ALWAYS_EAGER)."""
    return bool(task.app.conf.task_always_eager)


def run_task(task: Any, *args: Any, **kwargs: Any) -> None:
    """`task.delay(*args, **kwargs)`, but never inside the caller's thread when there is no worker."""
    if not in_process(task) or not threads():
        task.delay(*args, **kwargs)
        return
    _submit(_apply, task, args, kwargs)


def run_task_later(task: Any, countdown: float, *args: Any, **kwargs: Any) -> None:
    """Run `task` in `countdown` seconds: a worker's countdown, or a real wait in-process."""
    countdown = max(0.0, float(countdown))
    if not in_process(task):
        # Scheduled from inside a task: routed as that task came, as Celery's own retries are.
        task.apply_async(args=args, kwargs=kwargs, countdown=countdown, **_current_routing())
        return
    if not threads():
        with _lock:
            heapq.heappush(_delayed, (time.monotonic() + countdown, next(_sequence), task, args, kwargs))
        return
    loop = _caller_loop()
    timer = threading.Timer(countdown, _fire, args=(task, args, kwargs, loop))
    timer.daemon = True  # a pending simulated status never keeps the server from exiting
    _track(+1)
    try:
        timer.start()
    except BaseException:
        _track(-1)
        raise


def run_next() -> bool:
    """Inline mode (tests): run the job `run_task_later` kept that is due first (its exceptions propagate).
    False when none is left."""
    with _lock:
        if not _delayed:
            return False
        _, _, task, args, kwargs = heapq.heappop(_delayed)
    task.apply(args=args, kwargs=kwargs, throw=True)
    return True


def run_delayed(*, max_jobs: int = 1000) -> int:
    """Inline mode (tests): run every kept job in the order they are due, including the ones they schedule in
    turn. Returns how many ran."""
    for ran in range(max_jobs + 1):
        if not run_next():
            return ran
    raise RuntimeError(f"run_delayed: more than {max_jobs} jobs — a job that keeps scheduling itself?")


def pending_delayed() -> list[tuple[str, tuple]]:
    """Inline mode: the kept jobs, as (task name, args) in the order they are due."""
    with _lock:
        return [(task.name, args) for _, _, task, args, _ in sorted(_delayed)]


def reset() -> None:
    """Forget the jobs inline mode kept (between tests)."""
    with _lock:
        _delayed.clear()


def wait_idle(timeout: float = 10.0) -> bool:
    """Wait until no job submitted or scheduled in-process is left; False on timeout."""
    deadline = time.monotonic() + timeout
    with _busy:
        while _outstanding:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            _busy.wait(left)
    return True


def _current_routing() -> dict[str, Any]:
    """The running task's route (Celery's `signature_from_request` does the same for retries); {} outside a task."""
    delivery = getattr(getattr(current_task, "request", None), "delivery_info", None) or {}
    exchange, routing_key = delivery.get("exchange"), delivery.get("routing_key")
    if exchange == "" and routing_key:
        return {"queue": routing_key}  # published to the default exchange: the routing key is the queue
    return {key: value for key, value in (("exchange", exchange), ("routing_key", routing_key)) if value}


# --- the pool ---------------------------------------------------------------------------------------------------------
def _pool() -> ThreadPoolExecutor:
    """One pool per process, sized on first use (the setting does not change under a running server)."""
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(
                max_workers=threads() or DEFAULT_THREADS, thread_name_prefix="inprocess-task"
            )
        return _executor


def _track(delta: int) -> None:
    global _outstanding
    with _busy:
        _outstanding += delta
        if not _outstanding:
            _busy.notify_all()


def _caller_loop() -> Any:
    """The server's event loop when the caller runs in one of asgiref's sync threads (a request under daphne)."""
    if getattr(SyncToAsync.threadlocal, "main_event_loop_pid", None) != os.getpid():
        return None
    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    return loop._loop if isinstance(loop, _LoopWhileRunning) else loop


def _submit(job: Callable[..., None], *job_args: Any, loop: Any = None) -> None:
    loop = loop if loop is not None else _caller_loop()
    _track(+1)
    try:
        _pool().submit(_run, job, job_args, loop)
    except RuntimeError:  # the pool is shutting down (interpreter exit): run it here rather than lose it
        _run(job, job_args, loop)
    except BaseException:
        _track(-1)
        raise


def _fire(task: Any, args: tuple, kwargs: dict, loop: Any) -> None:
    try:
        _submit(_apply, task, args, kwargs, loop=loop)
    finally:
        _track(-1)  # the timer's own count; the submitted job carries its own


class _LoopWhileRunning:
    """The server's event loop, for asgiref, only while it runs. asgiref schedules a call on the loop and waits for
    it; on a loop that has stopped (the server shutting down, a finished test) that wait would never end. Refusing
    the call makes asgiref fall back to a loop of this thread's own, as it does when the loop is closed."""

    def __init__(self, loop: Any) -> None:
        self._loop = loop

    def call_soon_threadsafe(self, *args: Any, **kwargs: Any) -> Any:
        if not self._loop.is_running():
            raise RuntimeError("the server's event loop is not running")
        return self._loop.call_soon_threadsafe(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loop, name)


def _run(job: Callable[..., None], job_args: tuple, loop: Any) -> None:
    local = SyncToAsync.threadlocal
    if loop is not None and not loop.is_closed():
        # What asgiref sets in its own threads: async_to_sync (the channel layer's group_send) then runs on the
        # server's loop instead of a new one per call.
        local.main_event_loop, local.main_event_loop_pid = _LoopWhileRunning(loop), os.getpid()
    try:
        close_old_connections()
        job(*job_args)
    except Exception:
        logger.exception("in-process job %s failed", getattr(job_args[0], "name", job))
    finally:
        for name in ("main_event_loop", "main_event_loop_pid"):
            local.__dict__.pop(name, None)
        connections.close_all()
        _track(-1)


def _apply(task: Any, args: tuple, kwargs: dict) -> None:
    result = task.apply(args=args, kwargs=kwargs)
    if result.failed():
        logger.error("in-process task %s%s failed:\n%s", task.name, args, result.traceback)
