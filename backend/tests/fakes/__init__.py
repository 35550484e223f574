"""Fake vendors for tests: real HTTP servers on 127.0.0.1 that answer like the Graph API and Twilio."""

from tests.fakes.vendor import (
    FakeVendor,
    Reply,
    Request,
    cloud_sent,
    graph_error,
    graph_sent,
    twilio_created,
    twilio_error,
)

__all__ = [
    "FakeVendor",
    "Reply",
    "Request",
    "cloud_sent",
    "graph_error",
    "graph_sent",
    "twilio_created",
    "twilio_error",
]
