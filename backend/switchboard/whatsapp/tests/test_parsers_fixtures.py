"""The fixtures themselves: each is used by a test, is named the Zulip way and names the test accounts."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from switchboard.webhooks.testing import unused_fixtures

TESTS = Path(__file__).resolve().parent
FIXTURES = TESTS / "fixtures"
NAME = re.compile(r"(cloud|twilio|bridge)__[a-z0-9_]+?__[a-z0-9_]+\.(json|txt)")


def fixture_files() -> list[Path]:
    return sorted(p for p in FIXTURES.iterdir() if p.is_file())


def test_every_fixture_is_used_by_some_test():
    # Every test module of this app counts (the webhook tests use the same fixtures), this one excepted.
    unused = unused_fixtures("whatsapp", exclude=__file__)
    assert not unused, f"fixtures used by no test: {unused}"


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: p.name)
def test_fixture_is_named_provider_event_variant(path):
    assert NAME.fullmatch(path.name), path.name
    assert path.suffix == (".txt" if path.name.startswith("twilio__") else ".json")


@pytest.mark.parametrize("path", [p for p in fixture_files() if p.name.startswith("cloud__")], ids=lambda p: p.name)
def test_cloud_fixture_is_a_full_delivery_to_the_test_phone_number(path):
    body = json.loads(path.read_text(encoding="utf-8"))
    assert body["object"] == "whatsapp_business_account"
    for entry in body["entry"]:
        for change in entry["changes"]:
            if change["field"] == "messages":
                metadata = change["value"]["metadata"]
                assert metadata["display_phone_number"] == "15550783881"
                assert metadata.get("phone_number_id", "106540352242922") == "106540352242922"


@pytest.mark.parametrize("path", [p for p in fixture_files() if p.name.startswith("twilio__")], ids=lambda p: p.name)
def test_twilio_fixture_is_an_exact_form_body_for_the_test_number_and_account(path):
    raw = path.read_bytes()
    assert not raw.endswith(b"\n") and raw.isascii()
    params = dict(parse_qsl(raw.decode(), keep_blank_values=True, strict_parsing=True))
    assert params["AccountSid"] == "AC" + "a" * 32
    # Our number is To on an inbound message and From on a status callback for a message we sent (a trimmed
    # callback may carry neither: then it names our message by MessageSid alone).
    if params.get("MessageStatus") and "From" not in params:
        assert "To" not in params and params["MessageSid"].startswith("SM")
        return
    ours = params["From"] if params.get("MessageStatus") else params["To"]
    assert ours == "whatsapp:+14155238886"


@pytest.mark.parametrize("path", [p for p in fixture_files() if p.name.startswith("bridge__")], ids=lambda p: p.name)
def test_bridge_fixture_names_the_test_session(path):
    body = json.loads(path.read_text(encoding="utf-8"))
    assert "agency-main" in {body.get("session"), body.get("sessionId"), body.get("clientId")}
