"""Login rate limiting: failed attempts per client IP and per email, counted in Django's cache.

The counters live in the cache (Redis in production), so every web process and every worker thread shares them.
A window opens on the first counted attempt and lasts `LOGIN_RATE_WINDOW_SECONDS`; within it at most
`LOGIN_RATE_LIMIT` attempts per IP and per email are let through to the password check.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

KEY_PREFIX = "accounts:login-attempts"


def _digest(value: str) -> str:
    # Keys stay short and safe for any cache backend, and no email address is stored in the cache in clear.
    return hashlib.sha256(value.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class LoginAttempt:
    """The counters one login attempt was charged to."""

    keys: tuple[str, ...]
    retry_after: int | None  # seconds until the attempt would be allowed; None when it is allowed now

    @property
    def blocked(self) -> bool:
        return self.retry_after is not None


class LoginRateLimiter:
    def __init__(self, *, limit: int | None = None, window: int | None = None) -> None:
        self.limit = limit if limit is not None else settings.LOGIN_RATE_LIMIT
        self.window = window if window is not None else settings.LOGIN_RATE_WINDOW_SECONDS

    def keys_for(self, *, ip: str, email: str) -> tuple[str, ...]:
        return (
            f"{KEY_PREFIX}:ip:{_digest(ip)}",
            f"{KEY_PREFIX}:email:{_digest(email.strip().lower())}",
        )

    def charge(self, *, ip: str, email: str) -> LoginAttempt:
        """Count one attempt against the IP and the email *before* the password is checked.

        Counting first (an atomic INCR) rather than reading and counting afterwards keeps the limit exact under a
        burst of parallel requests: no more than `limit` of them can ever reach the password check."""
        keys = self.keys_for(ip=ip, email=email)
        now = time.time()
        waits = [self._wait(key, now) for key in keys if self._increment(key, now) > self.limit]
        return LoginAttempt(keys=keys, retry_after=max(waits) if waits else None)

    def refund(self, attempt: LoginAttempt) -> None:
        """Take back an attempt that succeeded (see services.user_login for why successes do not count)."""
        for key in attempt.keys:
            try:
                remaining = cache.decr(key)
            except ValueError:  # the window ended meanwhile: nothing to take back
                continue
            if remaining <= 0:
                cache.delete(key)

    def _increment(self, key: str, now: float) -> int:
        cache.add(key, 0, timeout=self.window)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add() and incr()
            cache.add(key, 0, timeout=self.window)
            count = cache.incr(key)
        if count == 1:
            # The first attempt opens the window. touch() also gives an expiry back to a counter that Redis' INCR
            # re-created without one (when the key expired between Django's existence check and INCR).
            cache.touch(key, self.window)
            cache.set(f"{key}:reset", now + self.window, timeout=self.window)
        return count

    def _wait(self, key: str, now: float) -> int:
        reset_at = cache.get(f"{key}:reset")
        wait = (reset_at - now) if reset_at is not None else self.window
        return max(1, math.ceil(wait))
