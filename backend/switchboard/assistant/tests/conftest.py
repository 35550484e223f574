"""Fixtures for the provider tests: a fake vendor on 127.0.0.1 and an address nobody listens at."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from tests.fakes.vendor import FakeVendor


@pytest.fixture
def vendor() -> Iterator[FakeVendor]:
    with FakeVendor() as fake:
        yield fake


@pytest.fixture
def dead_url() -> str:
    """A loopback port that was free a moment ago: connecting is refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
