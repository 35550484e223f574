"""Sandbox accounts and the simulated platform's delayed callbacks, run on demand.

`delayed` is `switchboard.inbox.inprocess` with its kept jobs cleared before and after the test: the suite runs
in-process tasks inline and keeps delayed ones (`INPROCESS_TASK_THREADS = 0`), so a test decides when the simulated
platform's statuses and replies arrive — `delayed.run_delayed()` runs them in the order they are due.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from switchboard.inbox import inprocess
from switchboard.platforms.models import Platform, PlatformAccount, Provider


@pytest.fixture
def delayed() -> Iterator[object]:
    inprocess.reset()
    yield inprocess
    inprocess.reset()


@pytest.fixture
def make_sandbox_account(make_account, org, owner) -> Callable[..., PlatformAccount]:
    def make(platform: str = Platform.WHATSAPP, *, simulate_replies: bool = False, **extra) -> PlatformAccount:
        extra.setdefault("credentials", {})
        extra.setdefault("settings", {"simulate_replies": simulate_replies})
        return make_account(org, platform, Provider.SANDBOX, **extra)

    return make
