"""A rate limit shared by every process: at most `limit` acquisitions per wall-clock second for one key.

Counters live in Django's cache — Redis in production, so every Celery worker draws from the same budget; the
local-memory cache of the embedded default is shared by the threads of its one process. Over the limit, the caller
waits for the next second instead of failing (outbound sends wait their turn).

A fixed one-second window is enough here: the platforms' own limits are per second or coarser, and a key lives two
seconds, so nothing accumulates in Redis.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from django.core.cache import cache


class RateLimitWaitExceeded(Exception):
    """Waited `max_wait` seconds without getting a slot."""


def acquire(
    key: str,
    limit: int,
    *,
    max_wait: float = 60.0,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> float:
    """Take one slot of `key`'s budget for the current second, waiting for a later second when it is spent.
    Returns the seconds waited; raises RateLimitWaitExceeded after `max_wait`."""
    limit = max(1, int(limit))
    waited = 0.0
    while True:
        now = clock()
        window = int(now)
        counter = f"ratelimit:{key}:{window}"
        cache.add(counter, 0, timeout=2)
        try:
            count = cache.incr(counter)
        except ValueError:  # expired between add() and incr(): that second is over anyway
            continue
        if count <= limit:
            return waited
        # Wake just after the window turns; a little jitter so the waiters do not all stampede the same instant.
        pause = (window + 1 - now) + random.uniform(0, 0.05)  # noqa: S311 - jitter, not cryptography
        if waited + pause > max_wait:
            raise RateLimitWaitExceeded(f"no slot for {key} within {max_wait:.0f}s (limit {limit}/s)")
        sleep(pause)
        waited += pause
