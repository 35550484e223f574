"""Rate limits of the accounts endpoints, counted in Django's cache.

The counters live in the cache (Redis in production), so every web process and every worker thread shares them.
A window opens on the first counted attempt and lasts `window` seconds; within it at most `limit` attempts per key
are let through.

* Login (failures only, see services.user_login): per account (the email, from any address) LOGIN_RATE_LIMIT, and per
  client IP (any account) LOGIN_IP_RATE_LIMIT — much higher, because an agency's whole staff may share one office
  address: one person's typos lock only their own account, while one address guessing across many accounts is still
  stopped.
* Sign-ups (register, and choosing a password from an invitation): per client IP, every attempt.
* Invitation emails: per organization, so that no tenant can use us to mail strangers in bulk.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

KEY_PREFIX = "accounts:login-attempts"
DAY = 24 * 3600


def _digest(value: str) -> str:
    # Keys stay short and safe for any cache backend, and no email address is stored in the cache in clear.
    return hashlib.sha256(value.encode()).hexdigest()[:32]


class RateLimit:
    """At most `limit` charges per key within a fixed window opened by the first charge."""

    def __init__(self, prefix: str, *, limit: int, window: int) -> None:
        self.prefix = prefix
        self.limit = limit
        self.window = window

    def key(self, value: str) -> str:
        return f"{self.prefix}:{_digest(value)}"

    def charge(self, key: str, now: float | None = None) -> int | None:
        """Count one attempt *before* the work it guards (an atomic INCR, so a burst of parallel requests cannot
        overshoot the limit). Returns None when it is allowed, else the seconds until the window ends."""
        now = time.time() if now is None else now
        if self._increment(key, now) <= self.limit:
            return None
        reset_at = cache.get(f"{key}:reset")
        wait = (reset_at - now) if reset_at is not None else self.window
        return max(1, math.ceil(wait))

    def refund(self, key: str) -> None:
        try:
            remaining = cache.decr(key)
        except ValueError:  # the window ended meanwhile: nothing to take back
            return
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


@dataclass(frozen=True)
class LoginAttempt:
    """The counters one login attempt was charged to: (per-IP key, per-account key)."""

    keys: tuple[str, ...]
    retry_after: int | None  # seconds until the attempt would be allowed; None when it is allowed now

    @property
    def blocked(self) -> bool:
        return self.retry_after is not None


class LoginRateLimiter:
    def __init__(
        self, *, account_limit: int | None = None, ip_limit: int | None = None, window: int | None = None
    ) -> None:
        window = window if window is not None else settings.LOGIN_RATE_WINDOW_SECONDS
        self.by_ip = RateLimit(
            f"{KEY_PREFIX}:ip", limit=ip_limit if ip_limit is not None else settings.LOGIN_IP_RATE_LIMIT, window=window
        )
        self.by_account = RateLimit(
            f"{KEY_PREFIX}:email",
            limit=account_limit if account_limit is not None else settings.LOGIN_RATE_LIMIT,
            window=window,
        )

    def keys_for(self, *, ip: str, email: str) -> tuple[str, ...]:
        return (self.by_ip.key(ip), self.by_account.key(email.strip().lower()))

    def charge(self, *, ip: str, email: str) -> LoginAttempt:
        """Count one attempt against the IP and the account before the password is checked. Both are charged even
        when the first refuses, so that a blocked address keeps counting against the accounts it tries."""
        ip_key, account_key = self.keys_for(ip=ip, email=email)
        now = time.time()
        waits = [wait for wait in (self.by_ip.charge(ip_key, now), self.by_account.charge(account_key, now)) if wait]
        return LoginAttempt(keys=(ip_key, account_key), retry_after=max(waits) if waits else None)

    def refund(self, attempt: LoginAttempt) -> None:
        """Take back an attempt that succeeded (see services.user_login for why successes do not count)."""
        ip_key, account_key = attempt.keys
        self.by_ip.refund(ip_key)
        self.by_account.refund(account_key)


def signup_rate_limit() -> RateLimit:
    return RateLimit(
        "accounts:signups:ip", limit=settings.REGISTRATION_RATE_LIMIT, window=settings.REGISTRATION_RATE_WINDOW_SECONDS
    )


def invitation_rate_limit() -> RateLimit:
    return RateLimit("accounts:invitations:org", limit=settings.INVITATION_RATE_LIMIT, window=DAY)
