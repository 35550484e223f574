"""The sandbox provider's adapter: the outbound half of the protocol for an account of any platform, with no vendor.

A send is checked as a vendor would check it (the file must be stored, the listing must still exist), "accepted"
with a generated platform message id, and then the simulated platform answers through `simulation.py`: statuses
sent → delivered → read after realistic delays, and, when the account's `settings.simulate_replies` is true, a
scripted customer reply — all stored through MessageService, as a webhook would be. The message itself goes the
normal outbound path (inbox/services/sending.py: rate limit, statuses, events); only the vendor is missing.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse

from switchboard.inbox import sendable
from switchboard.inbox.events import InboundEvent
from switchboard.inbox.media import MediaFailed
from switchboard.inbox.models import Attachment, Message
from switchboard.platforms.delivery import Delivery
from switchboard.platforms.models import PlatformAccount, Provider
from switchboard.platforms.registry import LISTING_GONE, SendResult, WebhookRejected
from switchboard.sandbox import demo_files, simulation, templates

logger = logging.getLogger(__name__)


def platform_message_id() -> str:
    return f"sandbox.{uuid.uuid4().hex}"


class SandboxAdapter:
    provider = Provider.SANDBOX

    def __init__(self, platform: str) -> None:
        self.platform = platform

    # --- inbound: not this adapter's (the sandbox-<platform> webhook endpoints serve sandbox accounts) -------------
    def verify(self, delivery: Delivery, account: PlatformAccount | None) -> None:
        raise WebhookRejected(
            f"Deliveries for sandbox accounts go to /api/webhooks/sandbox/{self.platform}/.", 403, signature=True
        )

    def handshake(self, request: HttpRequest) -> HttpResponse | None:
        return None

    def route(self, delivery: Delivery, payload: Any) -> list[tuple[PlatformAccount, Any]]:
        return []

    def parse(self, account: PlatformAccount, raw_event: Any) -> list[InboundEvent]:
        return []

    # --- outbound ---------------------------------------------------------------------------------------------------
    def send(self, message: Message) -> SendResult:
        content = sendable.content_of(message)
        if content.is_listing:
            card = sendable.listing_card(message)
            if card is None:
                return LISTING_GONE
            what = f"listing card {card.title!r} with {len(card.images)} image(s)"
        elif content.attachment is not None:
            try:
                # A vendor downloads the file: so does the sandbox, so a message whose file is gone fails here too.
                size = len(sendable.media_bytes(content.attachment))
            except sendable.MediaUnavailable as exc:
                return SendResult.failure("media_unavailable", str(exc))
            what = f"{content.attachment.kind} of {size} bytes"
        elif content.template is not None:
            what = f"template {content.template.get('name', '')!r}"
        else:
            what = f"text of {len(message.text)} characters"
        sent_id = platform_message_id()
        logger.info("sandbox %s account %s accepted message %s (%s) as %s", self.platform,
                    message.platform_account_id, message.pk, what, sent_id)  # fmt: skip
        simulation.after_send(
            account_id=message.platform_account_id, message_id=message.pk, platform_message_id=sent_id
        )
        return SendResult(platform_message_id=sent_id)

    def mark_read(self, message: Message) -> SendResult:
        return SendResult(ok=True)  # accepted: the simulated customer's app shows the blue ticks

    def fetch_history(self, account: PlatformAccount, since: datetime | None) -> Iterable[InboundEvent]:
        return []  # the sandbox keeps no history beyond what it delivered

    def check_health(self, account: PlatformAccount) -> dict[str, Any]:
        return {"ok": True, "sandbox": True, "simulate_replies": simulation.simulates_replies(account)}

    def list_templates(self, account: PlatformAccount) -> list[dict[str, Any]]:
        """WhatsApp sandbox numbers: the built-in demo templates (sandbox/templates.py)."""
        return templates.demo_templates()

    def fetch_media(self, attachment: Attachment) -> bytes:
        """The shipped file a sandbox media id (`sandbox:<file>`) names. Anything else — a media id or CDN URL
        from a real platform's fixture — is not fetched: the sandbox never leaves the machine."""
        path = demo_files.file_for(attachment.media_id)
        if path is None:
            raise MediaFailed(
                f"the sandbox holds no media {attachment.media_id or attachment.source_url or '(none)'!r}: it has "
                f"the files of sandbox/demo_media/ (media ids 'sandbox:<file>') and never downloads from a platform"
            )
        return path.read_bytes()
