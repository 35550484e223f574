"""The sandbox's WhatsApp templates: a few built-in demo templates, "approved", in the shape the Cloud API and
Twilio lists have (meta/templates.py), so the template picker can be tried without a WhatsApp Business Account.
Sending one goes the normal outbound path and the sandbox accepts it like any other template."""

from __future__ import annotations

from typing import Any

from switchboard.meta.templates import template

DEMO_TEMPLATES: tuple[dict[str, Any], ...] = (
    template(
        name="hello_world",
        language="en_US",
        category="UTILITY",
        status="APPROVED",
        body="Hello from Switchboard! Reply to this message to continue the conversation.",
    ),
    template(
        name="viewing_follow_up",
        language="en_US",
        category="UTILITY",
        status="APPROVED",
        body="Hi {{1}}, thank you for visiting {{2}}. Would you like to book a second viewing?",
    ),
    template(
        name="new_listing_alert",
        language="en_US",
        category="MARKETING",
        status="APPROVED",
        body="Hi {{1}}, a new home matching your search is on the market: {{2}}, {{3}}. Reply YES for details.",
    ),
)


def demo_templates() -> list[dict[str, Any]]:
    return [dict(item) for item in DEMO_TEMPLATES]
