"""Exponential backoff, one rule for every retry we schedule (media downloads, outbound sends)."""

from __future__ import annotations

import random


def backoff_seconds(
    step: int, *, base: float, cap: float, retry_after: float | None = None, jitter: bool = False
) -> float:
    """`base * 2**step`, at most `cap`. With `jitter`, a random point in the upper half of that wait, so retries
    of many failures that began together spread out. Never sooner than the server's Retry-After, never above `cap`."""
    countdown = min(cap, base * (2 ** max(0, step)))
    if jitter:
        countdown = countdown / 2 + random.uniform(0, countdown / 2)  # noqa: S311 - jitter, not cryptography
    if retry_after:
        countdown = max(countdown, float(retry_after))
    return min(countdown, cap)
