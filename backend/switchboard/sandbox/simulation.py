"""The simulated platform behind sandbox accounts: what a vendor would send back after a message was accepted.

After `adapter.send` accepts a message, `after_send` schedules the platform's status callbacks — `delivered`
`DELIVERED_AFTER` seconds later, then `read` `READ_AFTER` seconds after that — and, when the account simulates replies,
a customer's answer `REPLY_AFTER` seconds after the read. Each is a Celery task with a countdown (a worker), or a
real timer in-process (no worker; inbox/inprocess.py), and each is applied as the webhook's would be: a
`StatusUpdate` / `InboundMessage` through MessageService (`handle_events`), so the inbox broadcasts `message.updated`
/ `message.created` exactly as for Meta or Twilio, and statuses never move backwards.

The simulated customer is a short, fixed script — never a model, never anything from outside — and every message it
writes carries `payload.simulated = true` (and `payload.simulation`, saying so in words), so the inbox can show it
for what it is. It is off unless the account's `settings.simulate_replies` is true (the demo agency's accounts).
"""

from __future__ import annotations

import logging
import uuid

from django.utils import timezone

from switchboard.inbox import inprocess
from switchboard.inbox.events import ContactProfile, InboundMessage, StatusUpdate
from switchboard.inbox.models import Direction, Message, MessageKind, MessageStatus
from switchboard.inbox.services.ingest import handle_events
from switchboard.platforms.models import PlatformAccount, Provider

logger = logging.getLogger(__name__)

DELIVERED_AFTER = 1.5  # seconds after the send was accepted
READ_AFTER = 2.5  # seconds after delivered
REPLY_AFTER = 3.0  # seconds after read
# The status of a message can come before the send task has stored the platform's id (as with real webhooks);
# the simulated platform then asks again shortly, a few times.
ID_WAIT = 1.0
ID_WAIT_ATTEMPTS = 10

SIMULATION_LABEL = "Simulated customer (sandbox account): a scripted reply, not a real person."

# The simulated customer's script. Text messages get the next line of the conversation, in order, then it starts over.
SCRIPT = (
    "Thanks for getting back to me! Is it still available?",
    "Could I come and see it this week?",
    "Saturday morning would suit me best.",
    "Perfect, see you then 👍",
)
REPLY_TO_KIND: dict[str, str] = {  # by MessageKind
    MessageKind.LISTING_CARD: "That one looks lovely. Can I visit it?",
    MessageKind.IMAGE: "Thanks for the photo!",
    MessageKind.VIDEO: "Thanks for the video!",
    MessageKind.AUDIO: "Got your voice message, thanks.",
    MessageKind.DOCUMENT: "Thanks, I'll have a look at the document.",
    MessageKind.STICKER: "😄",
}
REPLY_TO_TEMPLATE = "Hi! Yes, I'm still interested."

NEXT_STATUS: dict[str, str] = {MessageStatus.DELIVERED: MessageStatus.READ}


def simulates_replies(account: PlatformAccount) -> bool:
    return (account.settings or {}).get("simulate_replies") is True


def _sandbox_account(account_id: int) -> PlatformAccount | None:
    return PlatformAccount.objects.filter(pk=account_id, provider=Provider.SANDBOX, is_active=True).first()


# --- statuses -----------------------------------------------------------------------------------------------------
def after_send(*, account_id: int, message_id: int, platform_message_id: str) -> None:
    """The platform accepted the message: its callbacks follow (called by the adapter's `send`)."""
    from switchboard.sandbox.tasks import sandbox_status_task  # noqa: PLC0415  sandbox.tasks imports this module

    inprocess.run_task_later(
        sandbox_status_task, DELIVERED_AFTER, account_id, message_id, platform_message_id, MessageStatus.DELIVERED
    )


def status_deliver(*, account_id: int, message_id: int, platform_message_id: str, status: str, attempt: int = 1) -> str:
    """Apply one simulated status callback through MessageService; then schedule what follows it."""
    from switchboard.sandbox.tasks import sandbox_reply_task, sandbox_status_task  # noqa: PLC0415  (a cycle, as above)

    account = _sandbox_account(account_id)
    if account is None:
        return "no_account"
    message = (
        Message.objects.select_related("conversation__contact")
        .filter(pk=message_id, platform_account=account, direction=Direction.OUTBOUND)
        .first()
    )
    if message is None:
        return "missing"
    if message.platform_message_id != platform_message_id:
        if message.platform_message_id is None and attempt < ID_WAIT_ATTEMPTS:
            inprocess.run_task_later(sandbox_status_task, ID_WAIT, account_id, message_id, platform_message_id,
                                     status, attempt=attempt + 1)  # fmt: skip
            return "waiting"
        return "superseded"  # retried since, under another id, or never stored: this callback is stale
    event = StatusUpdate(
        platform_message_id=platform_message_id,
        status=status,
        timestamp=timezone.now(),
        recipient_id=message.conversation.contact.external_id,
        raw={"sandbox": True, "status": status},
    )
    [outcome] = handle_events(account, [event])
    follows = NEXT_STATUS.get(status)
    if follows is not None:
        inprocess.run_task_later(sandbox_status_task, READ_AFTER, account_id, message_id, platform_message_id, follows)
    elif status == MessageStatus.READ and simulates_replies(account):
        inprocess.run_task_later(sandbox_reply_task, REPLY_AFTER, account_id, message_id)
    return str(outcome)


# --- the simulated customer ---------------------------------------------------------------------------------------
def reply_text(message: Message, earlier_replies: int) -> str:
    payload = message.payload if isinstance(message.payload, dict) else {}
    if isinstance(payload.get("template"), dict):
        return REPLY_TO_TEMPLATE
    if message.kind in REPLY_TO_KIND:
        return REPLY_TO_KIND[message.kind]
    return SCRIPT[earlier_replies % len(SCRIPT)]


def customer_reply(*, account_id: int, message_id: int) -> str:
    """The simulated customer answers one of our messages: an inbound message through MessageService."""
    account = _sandbox_account(account_id)
    if account is None:
        return "no_account"
    if not simulates_replies(account):
        return "disabled"  # switched off since the message was sent
    message = (
        Message.objects.select_related("conversation__contact")
        .filter(pk=message_id, platform_account=account, direction=Direction.OUTBOUND)
        .first()
    )
    if message is None:
        return "missing"
    contact = message.conversation.contact
    earlier = Message.objects.filter(
        conversation_id=message.conversation_id, direction=Direction.INBOUND, payload__simulated=True
    ).count()
    event = InboundMessage(
        platform_message_id=f"sandbox.in.{uuid.uuid4().hex}",
        contact=ContactProfile(
            external_id=contact.external_id,
            name=contact.name,
            username=contact.username,
            phone_number=contact.phone_number,
        ),
        timestamp=timezone.now(),
        kind=MessageKind.TEXT,
        text=reply_text(message, earlier),
        payload={"simulated": True, "simulation": SIMULATION_LABEL, "in_reply_to": message.pk},
        reply_to_platform_id=message.platform_message_id or "",
    )
    [outcome] = handle_events(account, [event])
    logger.info("sandbox account %s: simulated customer answered message %s (%s)", account_id, message_id, outcome)
    return str(outcome)
