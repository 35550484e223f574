"""Outbound: what agents send, and how a queued message reaches the platform. The only code that writes outbound
messages (inbound ones, echoes and status callbacks are MessageService's, in ingest.py).

The path (docs/outbound.md):
1. `message_send` checks what may be sent now — the account is connected, the content is one of text / media /
   listing card / WhatsApp template, and the reply windows allow it (WhatsApp Business API: 24 hours, else templates
   only → `SendRefused(outside_customer_service_window)`; Messenger / Instagram: 7 days) — then stores the message
   (outbound, `queued`, `sent_by` the agent) and, after the commit, broadcasts `message.created` and enqueues
   `send_message_task` (without a worker, on a thread of inbox/inprocess.py: never inside the agent's request).
2. The task calls `message_deliver`: wait its turn in the conversation (below), claim the row (`queued → sending`),
   wait for a slot of the account's rate limit (shared by every worker through the cache), call
   `adapter.send(message)`, and record the answer:
   `sent` with the platform's message id; a transient error puts it back to `queued` for a retry with backoff
   (1 s, 2 s, 4 s … at most SEND_MAX_ATTEMPTS tries); a permanent one ends it `failed` with the vendor's code and a
   sentence an agent understands (`error_message`); the technical detail (exception text, the vendor's answer) goes
   to the log and `error_detail`, never into the sentence. Each change is broadcast as `message.updated`.
   **Order:** the messages of one conversation leave in the order they were queued (their ids), whatever the
   workers and the rate limit do: a send goes only when no older outbound message of its conversation is still
   `queued` or `sending`; otherwise its task looks again a little later, and the older message's end (sent or
   failed) hands over to the next at once. A failed message never blocks the ones after it; an older message that
   looks abandoned (`sending` for STALE_SENDING — a worker died mid-send —, or `queued` for ORDER_STALE_QUEUED — its
   task was lost) has its task queued again and still goes first; after ORDER_MAX_WAIT a send goes anyway. Different
   conversations interleave freely.
3. `message_retry` sends a failed message again: the same row goes back through `queued → sent`.
   Idempotent sends: a send may carry a client key (the `Idempotency-Key` header); the key is stored on the
   message, unique per organization (the constraint `message_unique_client_key` is the truth, so two racing
   requests store one row), and a repeat returns the stored message without a second row or a second send task
   (`message_send_outcome(...).created` is False). The same key on another conversation is refused
   (`idempotency_key_reused`).
4. Read receipts: when an agent reads a conversation (conversations.py), `read_receipt_on_commit` enqueues
   `send_read_receipt_task`, which calls `adapter.mark_read` — never failing the agent's request.

The platform message id the send returns is stored on our row; the echo of it (Messenger / Instagram
`message_echoes`, bridges' own messages) and later status callbacks then find the row by that id. An echo that comes
before the id was stored is matched to our row by ingest.py (the `metadata` we send with Meta messages, or the text
of a queued message), so a message we sent is never stored twice.
"""

from __future__ import annotations

import enum
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from switchboard.accounts.models import Organization, User
from switchboard.accounts.tenancy import ensure_owned
from switchboard.common import backoff, ratelimit
from switchboard.common.exceptions import Conflict
from switchboard.inbox import hooks, inprocess, media, realtime, selectors
from switchboard.inbox.models import (
    Attachment,
    AttachmentStatus,
    Conversation,
    Direction,
    Message,
    MessageKind,
    MessageStatus,
)
from switchboard.inbox.sendable import (
    FORWARDED_PAYLOAD_KEY,
    CardFormat,
    Window,
    card_formats,
    messaging_window,
    templates_allowed,
)
from switchboard.inbox.services.ingest import message_preview
from switchboard.platforms.models import Platform, PlatformAccount, Provider
from switchboard.platforms.registry import SendResult, adapter_for
from switchboard.platforms.services import platform_account_mark_needs_reconnect

logger = logging.getLogger(__name__)

TEXT_LIMITS: dict[str, int] = {Platform.WHATSAPP: 4096, Platform.MESSENGER: 2000, Platform.INSTAGRAM: 1000}
WHATSAPP_CAPTION_LIMIT = 1024
MAX_RETRY_COUNTDOWN = 300.0  # never wait longer than this for one retry, whatever Retry-After says
# A message left `sending` this long was claimed by a worker that died mid-send: it may be claimed again.
STALE_SENDING = timedelta(minutes=5)
RATE_LIMIT_MAX_WAIT = 60.0
# Order within a conversation (see `message_deliver`). A send whose older messages are still queued or sending waits
# and looks again after ORDER_POLL_MIN … ORDER_POLL_MAX seconds (a quarter of how long it has waited), unless the
# older message's own end hands over to it first.
ORDER_POLL_MIN = 0.5
ORDER_POLL_MAX = 5.0
# An older message left `queued` this long lost its task (a retry's countdown is at most MAX_RETRY_COUNTDOWN, its
# rate-limit wait RATE_LIMIT_MAX_WAIT): a waiting send queues its task again — it still goes first.
ORDER_STALE_QUEUED = timedelta(minutes=10)
# The last resort: a send that has waited this long for older messages goes anyway (logged), so no fault upstream —
# however unlikely once stale messages are re-queued — can hold a conversation's replies forever.
ORDER_MAX_WAIT = timedelta(minutes=30)
ORDER_KICK_EVERY = 60  # seconds: a stale older message's task is queued again at most this often

_MEDIA_KIND_BY_FAMILY = {"image": MessageKind.IMAGE, "video": MessageKind.VIDEO, "audio": MessageKind.AUDIO}


class SendRefused(Conflict):
    """The message cannot be sent now: a Conflict, which the API's one exception handler (common/errors.py) answers
    409 with `detail` and `code`, plus `extra` (`templates_required`)."""

    def __init__(self, detail: str, *, code: str, **extra: Any) -> None:
        super().__init__(detail, code=code, **extra)


WINDOW_DETAIL = (
    "The customer last wrote more than 24 hours ago, so WhatsApp allows only an approved template message now. "
    "Send a template (name, language, components) to reopen the conversation."
)
KEY_REUSED_DETAIL = (
    "This idempotency key was already used for a message in another conversation: send each new message with a new key."
)
# What a client key may be: 8 to 128 visible ASCII characters (a UUID, a ULID, base64 …).
CLIENT_KEY_PATTERN = r"^[!-~]{8,128}$"
CLIENT_KEY_HELP = "8 to 128 visible ASCII characters, e.g. a UUID."
CLOSED_DETAIL = (
    "The customer last wrote more than 7 days ago (or never): Messenger and Instagram allow no reply until they "
    "write again."
)


def _is_business_api_whatsapp(account: PlatformAccount) -> bool:
    # A sandbox number behaves as a Cloud API one (24-hour window, templates), so what an agency tries in the
    # sandbox holds once it connects Meta. One rule with the conversation JSON's `sendable` (inbox/sendable.py).
    return templates_allowed(account.platform, account.provider)


def _check_account(account: PlatformAccount) -> None:
    if not account.is_active:
        raise SendRefused("This account is disconnected: reconnect it to send messages.", code="account_disconnected")
    if account.needs_reconnect:
        raise SendRefused(
            "The platform refused this account's credentials: an owner or admin must reconnect it before sending.",
            code="account_needs_reconnect",
        )


def _check_window(conversation: Conversation, *, template: bool) -> None:
    """Known before sending: a free-form WhatsApp message outside 24 hours would fail with 131047 / 63016."""
    if template:
        return
    window = messaging_window(conversation)
    if window == Window.TEMPLATES_ONLY:
        raise SendRefused(WINDOW_DETAIL, code="outside_customer_service_window", templates_required=True)
    if window == Window.CLOSED:
        raise SendRefused(CLOSED_DETAIL, code="outside_messaging_window", templates_required=False)


# --- events -----------------------------------------------------------------------------------------------------------
def _enqueue_send_on_commit(message_id: int) -> None:
    def enqueue() -> None:
        from switchboard.inbox.tasks.sending import send_message_task  # noqa: PLC0415  the task module imports this service

        # Without a worker, off the request's thread: the API answers `queued` at once and the send's outcome
        # follows over the WebSocket, as with a worker (inprocess.py).
        inprocess.run_task(send_message_task, message_id)

    transaction.on_commit(enqueue)


def _enqueue_send_soon(message_id: int) -> None:
    """Queue one more send task of a message (a hand-over, a lost task): a worker's task, or an in-process job —
    never run inside the caller, which is itself a send task."""
    from switchboard.inbox.tasks.sending import send_message_task  # noqa: PLC0415  the task module imports this service

    try:
        inprocess.run_task_later(send_message_task, 0, message_id)
    except Exception:  # a broker hiccup: the waiting send's own poll still finds its turn
        logger.exception("could not queue the send of message %s", message_id)


# --- what an agent sends ----------------------------------------------------------------------------------------------
def _validate_template(account: PlatformAccount, template: Any) -> dict[str, Any]:
    if not _is_business_api_whatsapp(account):
        raise ValidationError(
            {"template": ["Templates are for WhatsApp Business numbers (Cloud API, Twilio, sandbox); send text."]}
        )
    if not isinstance(template, dict) or not str(template.get("name") or "").strip():
        raise ValidationError({"template": ["Give the template's name, language and components."]})
    name = str(template["name"]).strip()
    language = str(template.get("language") or "").strip()
    components = template.get("components") or []
    if account.provider in (Provider.META, Provider.SANDBOX) and not language:
        raise ValidationError({"template": ["Give the template's language code, e.g. en_US."]})
    if account.provider == Provider.TWILIO and not name.startswith("HX"):
        raise ValidationError(
            {"template": ["On Twilio the template name is the approved Content Template's SID (HX…)."]}
        )
    if not isinstance(components, list) or not all(isinstance(c, dict) for c in components):
        raise ValidationError({"template": ["'components' must be a list of objects."]})
    return {"name": name, "language": language, "components": components}


def _validate_card_format(account: PlatformAccount, card_format: str | None) -> str:
    allowed = card_formats(account.platform, account.provider)
    if card_format is None:
        return str(allowed[0])
    if card_format not in allowed:
        names = " or ".join(f"`{f}`" for f in allowed)
        why = (
            ' (an image header with an "I\'m interested" button is a WhatsApp Cloud API message)'
            if card_format == CardFormat.INTERACTIVE
            else ""
        )
        raise ValidationError(
            {"format": [f"A {account.get_platform_display()} account on {account.provider} sends a card as "
                        f"{names}, not `{card_format}`{why}."]}
        )  # fmt: skip
    return str(card_format)


def _template_text(template: dict[str, Any]) -> str:
    """What the thread shows for a template: its name and the body parameters it was filled with."""
    values = [
        str(parameter.get("text"))
        for component in template["components"]
        if component.get("type", "body") == "body"
        for parameter in component.get("parameters") or []
        if isinstance(parameter, dict) and parameter.get("text")
    ]
    return f"Template {template['name']}" + (f": {' · '.join(values)}" if values else "")


def _stored_upload(organization_id: int, upload: UploadedFile[bytes]) -> dict[str, Any]:
    """Inspect and store an uploaded file as the media pipeline stores downloads; the Attachment's fields."""
    if upload.size is not None and upload.size > settings.MEDIA_MAX_BYTES:
        raise ValidationError({"file": [f"The file is larger than {settings.MEDIA_MAX_BYTES} bytes."]})
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    declared = upload.content_type or ""
    kind = _MEDIA_KIND_BY_FAMILY.get(media.detect_type(head, declared).family, MessageKind.DOCUMENT)
    try:
        inspected = media.media_inspect(upload, kind=kind, declared_mime=declared)
    except media.MediaError as exc:
        raise ValidationError({"file": [f"This file cannot be sent: {exc.reason}."]}) from exc
    files = media.media_save(organization_id=organization_id, fileobj=upload, inspected=inspected)
    return {
        "kind": kind,
        "status": AttachmentStatus.STORED,
        "file": files.name,
        "thumbnail": files.thumbnail_name,
        "mime_type": inspected.detected.mime,
        "filename": media.safe_display_name(upload.name or ""),
        "size": upload.size,
        "width": inspected.image.width if inspected.image else None,
        "height": inspected.image.height if inspected.image else None,
    }


def _forwarded_attachment(organization_id: int, attachment_id: int) -> dict[str, Any]:
    """An attachment already stored in the organization, sent again: the new row shares its file (no copy)."""
    source = Attachment.objects.for_organization(organization_id).filter(pk=attachment_id).first()
    if source is None or source.status != AttachmentStatus.STORED or not source.file:
        raise ValidationError({"attachment_id": ["No stored attachment with this id in your organization."]})
    return {
        "kind": source.kind,
        "status": AttachmentStatus.STORED,
        "file": source.file.name,
        "thumbnail": source.thumbnail.name if source.thumbnail else "",
        "mime_type": source.mime_type,
        "filename": source.filename,
        "size": source.size,
        "sha256": source.sha256,
        "width": source.width,
        "height": source.height,
    }


def _listing_card_snapshot(organization_id: int, listing_id: int) -> tuple[str, dict[str, Any]]:
    """(caption, payload) of a listing card message, from the app that owns listings (the LISTING_CARD hook). The
    card is rebuilt with fresh image links at send time (inbox/sendable.py); the snapshot it gives keeps what was
    sent if the listing is later deleted."""
    card = hooks.ask(
        hooks.LISTING_CARD, organization_id=organization_id, listing_id=listing_id, snapshot=None, absolute=False
    )
    if card is None:
        raise ValidationError({"listing_id": ["No listing with this id in your organization."]})
    return card.caption, {"listing_id": listing_id, "card": dict(card.snapshot)}


@dataclass(frozen=True)
class SendOutcome:
    message: Message
    created: bool  # False: the client key named a message stored before (a repeat), returned as it is now


def is_client_key(value: Any) -> bool:
    return isinstance(value, str) and re.fullmatch(CLIENT_KEY_PATTERN, value) is not None


def _message_of_key(organization_id: int, conversation: Conversation, client_key: str) -> Message | None:
    """The message stored earlier with this key, re-read; SendRefused when it belongs to another conversation."""
    found = (
        Message.objects.for_organization(organization_id)
        .filter(client_key=client_key)
        .values_list("pk", "conversation_id")
        .first()
    )
    if found is None:
        return None
    pk, conversation_id = found
    if conversation_id != conversation.pk:
        raise SendRefused(KEY_REUSED_DETAIL, code="idempotency_key_reused")
    return selectors.message_get(organization=organization_id, pk=pk)


def message_send(
    *,
    organization: Organization | int,
    conversation: Conversation,
    by: User | None,
    text: str = "",
    upload: UploadedFile[bytes] | None = None,
    attachment_id: int | None = None,
    listing_id: int | None = None,
    template: dict[str, Any] | None = None,
    reply_to: Message | None = None,
    client_key: str | None = None,
    by_assistant: bool = False,
    card_format: str | None = None,
) -> Message:
    """Store an agent's message (outbound, `queued`) and have it sent; the stored message (see
    `message_send_outcome` for whether this call stored it)."""
    return message_send_outcome(
        organization=organization,
        conversation=conversation,
        by=by,
        text=text,
        upload=upload,
        attachment_id=attachment_id,
        listing_id=listing_id,
        template=template,
        reply_to=reply_to,
        client_key=client_key,
        by_assistant=by_assistant,
        card_format=card_format,
    ).message


def message_send_outcome(
    *,
    organization: Organization | int,
    conversation: Conversation,
    by: User | None,
    text: str = "",
    upload: UploadedFile[bytes] | None = None,
    attachment_id: int | None = None,
    listing_id: int | None = None,
    template: dict[str, Any] | None = None,
    reply_to: Message | None = None,
    client_key: str | None = None,
    by_assistant: bool = False,
    card_format: str | None = None,
) -> SendOutcome:
    """Store an agent's message (outbound, `queued`) and have it sent. Raises ValidationError (bad input: 400) or
    SendRefused (not allowed now: 409). `by_assistant`: the AI assistant wrote it (`by` is then None); the same
    checks apply, so the assistant never sends outside a reply window. `card_format`: how a listing card goes where
    the platform gives a choice (inbox/sendable.py `card_formats`: WhatsApp Cloud `image` or `interactive`); None:
    the account's default; one the account cannot send is a ValidationError on `format`.

    With `client_key`, a repeat of a send whose message is stored returns that message (`created=False`) before
    any check — the first request was accepted, so the repeat is too, even when the window has closed since — and
    queues nothing. Concurrent requests with one key race on the unique constraint: the loser returns the winner's
    message."""
    organization_id = ensure_owned(organization, conversation)
    if client_key is not None:
        if not is_client_key(client_key):
            raise ValidationError({"client_key": [f"An idempotency key is {CLIENT_KEY_HELP}"]})
        stored = _message_of_key(organization_id, conversation, client_key)
        if stored is not None:
            logger.info("message %s: repeated send with the same idempotency key, not sent again", stored.pk)
            return SendOutcome(stored, created=False)
    account = conversation.platform_account
    text = (text or "").strip()
    chosen = [name for name, given in (("file", upload is not None), ("attachment_id", attachment_id is not None),
                                       ("listing_id", listing_id is not None), ("template", template is not None))
              if given]  # fmt: skip
    if len(chosen) > 1:
        raise ValidationError({"non_field_errors": [f"Send one thing at a time (got {', '.join(chosen)})."]})
    if not chosen and not text:
        raise ValidationError({"text": ["Write a message, or attach a file, a listing or a template."]})
    if reply_to is not None and reply_to.conversation_id != conversation.pk:
        raise ValidationError({"reply_to": ["The message replied to is not in this conversation."]})
    limit = TEXT_LIMITS.get(account.platform, 4096)
    if len(text) > limit:
        raise ValidationError({"text": [f"At most {limit} characters on {account.get_platform_display()}."]})
    media_given = upload is not None or attachment_id is not None
    if media_given and text:
        if account.platform != Platform.WHATSAPP:
            raise ValidationError(
                {"text": ["Messenger and Instagram attachments have no caption: send the text as its own message."]}
            )
        if len(text) > WHATSAPP_CAPTION_LIMIT:
            raise ValidationError({"text": [f"A WhatsApp caption has at most {WHATSAPP_CAPTION_LIMIT} characters."]})
    if template is not None:
        template = _validate_template(account, template)
    if listing_id is not None:
        card_format = _validate_card_format(account, card_format)
    elif card_format is not None:
        raise ValidationError({"format": ["A format is for a listing card: send `listing_id` with it."]})
    _check_account(account)
    _check_window(conversation, template=template is not None)

    kind, attachment_fields = MessageKind.TEXT, None
    payload: dict[str, Any] = {}
    if template is not None:
        payload, text = {"template": template}, _template_text(template)
    elif listing_id is not None:
        kind = MessageKind.LISTING_CARD
        text, payload = _listing_card_snapshot(organization_id, listing_id)
        payload["format"] = card_format
    elif attachment_id is not None:
        attachment_fields = _forwarded_attachment(organization_id, attachment_id)
        payload = {FORWARDED_PAYLOAD_KEY: attachment_id}  # the attachment JSON's `source: forwarded`
    elif upload is not None:
        attachment_fields = _stored_upload(organization_id, upload)
    if attachment_fields is not None:
        kind = attachment_fields["kind"]

    now = timezone.now()
    try:
        with transaction.atomic():
            message = Message.objects.create(
                organization_id=organization_id,
                conversation=conversation,
                platform_account=account,
                direction=Direction.OUTBOUND,
                kind=kind,
                text=text,
                payload=payload,
                reply_to=reply_to,
                reply_to_platform_id=(reply_to.platform_message_id or "") if reply_to else "",
                status=MessageStatus.QUEUED,
                is_read=True,
                sent_by=by,
                sent_by_assistant=by_assistant,
                client_key=client_key,
                timestamp=now,
            )
            if attachment_fields is not None:
                Attachment.objects.create(organization_id=organization_id, message=message, **attachment_fields)
            Conversation.objects.filter(pk=conversation.pk, last_message_at__lte=now).update(
                last_message_at=now, last_message_preview=message_preview(kind, text), updated_at=now
            )
            realtime.publish_on_commit(
                organization_id, messages_created=[message.pk], conversations_updated=[conversation.pk]
            )
            hooks.dispatch_on_commit(hooks.MESSAGES_CREATED, organization_id=organization_id, message_ids=[message.pk])
            _enqueue_send_on_commit(message.pk)
            # Read before the commit: the send may start the moment it commits (an in-process thread, a worker),
            # and the answer is the message as stored — `queued`; what follows arrives as message.updated.
            stored = selectors.message_get(organization=organization_id, pk=message.pk)
    except Exception as exc:
        if upload is not None and attachment_fields is not None:
            media.media_delete(attachment_fields["file"], attachment_fields["thumbnail"])
        if client_key is not None and isinstance(exc, IntegrityError):
            # Another request with this key committed its message first (the block above rolled back: no row,
            # no events, no send task of ours). Its message is the answer.
            winner = _message_of_key(organization_id, conversation, client_key)
            if winner is not None:
                logger.info("message %s: a concurrent send with the same idempotency key stored it", winner.pk)
                return SendOutcome(winner, created=False)
        raise
    logger.info("message %s queued for conversation %s by %s", message.pk, conversation.pk, by)
    return SendOutcome(stored, created=True)


def message_retry(*, organization: Organization | int, message: Message, by: User | None) -> Message:
    """Send a failed outbound message again: the same row goes back to `queued` and through the send task."""
    organization_id = ensure_owned(organization, message)
    if message.direction != Direction.OUTBOUND or message.status != MessageStatus.FAILED:
        raise SendRefused("Only a failed message sent from Switchboard can be retried.", code="not_retryable")
    conversation = selectors.conversation_get(organization=organization_id, pk=message.conversation_id)
    _check_account(conversation.platform_account)
    payload = message.payload if isinstance(message.payload, dict) else {}
    _check_window(conversation, template=isinstance(payload.get("template"), dict))
    with transaction.atomic():
        # Conditional: two agents pressing retry at once queue one send. The old platform id (a message that failed
        # after the platform accepted it) is dropped: the new send gets its own.
        changed = Message.objects.filter(pk=message.pk, status=MessageStatus.FAILED).update(
            status=MessageStatus.QUEUED,
            error_code="",
            error_message="",
            error_detail="",
            platform_message_id=None,
            updated_at=timezone.now(),
        )
        if changed:
            realtime.publish_on_commit(organization_id, messages_updated=[message.pk])
            _enqueue_send_on_commit(message.pk)
        stored = selectors.message_get(organization=organization_id, pk=message.pk)  # before the send starts
    logger.info("message %s retried by %s", message.pk, by)
    return stored


# --- delivery (the send task) -----------------------------------------------------------------------------------------
class DeliveryStatus(enum.StrEnum):
    SENT = "sent"
    FAILED = "failed"
    RETRY = "retry"
    SKIPPED = "skipped"  # not queued any more (sent, failed, or claimed by another worker)
    MISSING = "missing"
    WAITING = "waiting"  # an older message of the conversation is still queued or sending: look again later


@dataclass(frozen=True)
class Delivery:
    status: DeliveryStatus
    countdown: float = 0.0


def retry_countdown(attempt: int, retry_after: float | None = None) -> float:
    """Seconds before attempt `attempt + 1`: SEND_RETRY_BACKOFF_SECONDS times 1, 2, 4, 8 …, at least Retry-After."""
    return backoff.backoff_seconds(
        attempt - 1, base=settings.SEND_RETRY_BACKOFF_SECONDS, cap=MAX_RETRY_COUNTDOWN, retry_after=retry_after
    )


def account_rate_limit(account: PlatformAccount) -> int:
    value = (account.settings or {}).get("rate_limit_per_second")
    return (
        value
        if isinstance(value, int) and not isinstance(value, bool) and value > 0
        else (settings.SEND_RATE_LIMIT_PER_SECOND)
    )


def message_deliver(*, message_id: int, attempt: int, may_retry: Callable[[float], bool]) -> Delivery:
    """One send attempt of a queued message (see the module docstring). `may_retry(countdown)` says whether a
    transient failure will be tried again after `countdown` seconds (the task decides: attempts left, eager mode)."""
    message = (
        Message.objects.select_related("platform_account", "conversation__contact", "conversation__platform_account")
        .filter(pk=message_id, direction=Direction.OUTBOUND)
        .first()
    )
    if message is None:
        return Delivery(DeliveryStatus.MISSING)
    now = timezone.now()
    if message.status not in (MessageStatus.QUEUED, MessageStatus.SENDING):
        return Delivery(DeliveryStatus.SKIPPED)
    wait = _turn_wait(message, now)
    if wait is not None:
        return Delivery(DeliveryStatus.WAITING, wait)
    claimed = Message.objects.filter(pk=message.pk, status=MessageStatus.QUEUED).update(
        status=MessageStatus.SENDING, updated_at=now
    ) or Message.objects.filter(pk=message.pk, status=MessageStatus.SENDING, updated_at__lt=now - STALE_SENDING).update(
        updated_at=now
    )
    if not claimed:
        return Delivery(DeliveryStatus.SKIPPED)
    message.status = MessageStatus.SENDING
    account = message.platform_account
    result = _send(account, message)
    if result.ok:
        _record_sent(message, result.platform_message_id, detail=result.error_detail)
        _hand_over_on_commit(message)
        return Delivery(DeliveryStatus.SENT)
    if result.needs_reconnect:
        platform_account_mark_needs_reconnect(account=account, error=result.error_message)
    sentence = result.error_message
    if result.transient:
        countdown = retry_countdown(attempt, result.retry_after)
        if may_retry(countdown):
            _record_retrying(message, result, attempt=attempt, countdown=countdown)
            return Delivery(DeliveryStatus.RETRY, countdown)
        sentence = f"{sentence} Gave up after {attempt} attempt{'s' if attempt != 1 else ''}."
    _record_failed(message, result.error_code, sentence, result.error_detail)
    _hand_over_on_commit(message)  # a failed message never holds the ones after it
    return Delivery(DeliveryStatus.FAILED)


# --- order within a conversation --------------------------------------------------------------------------------------
def _turn_wait(message: Message, now: datetime) -> float | None:
    """None when it is this message's turn: no older outbound message of its conversation (a smaller id: queued
    earlier) is still queued or sending. Otherwise the seconds before looking again. Older messages that look
    abandoned — `queued` for ORDER_STALE_QUEUED, or `sending` for STALE_SENDING (a worker died mid-send) — get their
    own task queued again (at most once a minute each), so they still leave first; after ORDER_MAX_WAIT this one goes
    anyway."""
    older = list(
        Message.objects.filter(
            conversation_id=message.conversation_id,
            direction=Direction.OUTBOUND,
            pk__lt=message.pk,
            status__in=[MessageStatus.QUEUED, MessageStatus.SENDING],
        )
        .order_by("pk")
        .values_list("pk", "status", "updated_at")[:50]
    )
    if not older:
        return None
    waited = max(0.0, (now - message.updated_at).total_seconds()) if message.status == MessageStatus.QUEUED else 0.0
    if waited > ORDER_MAX_WAIT.total_seconds():
        logger.warning("message %s waited %.0f s for older messages %s of its conversation: sending it anyway",
                       message.pk, waited, [pk for pk, _, _ in older])  # fmt: skip
        return None
    for pk, status, updated_at in older:
        stale = STALE_SENDING if status == MessageStatus.SENDING else ORDER_STALE_QUEUED
        if updated_at < now - stale and cache.add(f"send:kick:{pk}", 1, timeout=ORDER_KICK_EVERY):
            logger.warning("message %s: the older message %s has been %s since %s; queueing its send again",
                           message.pk, pk, status, updated_at.isoformat())  # fmt: skip
            _enqueue_send_soon(pk)
    return min(ORDER_POLL_MAX, max(ORDER_POLL_MIN, waited / 4))


def _hand_over_on_commit(message: Message) -> None:
    """The message is done (sent or failed): the next queued message of its conversation goes now, rather than at
    its next look. Only one never tried yet — one waiting out a retry's backoff keeps its countdown."""

    def hand_over() -> None:
        following = (
            Message.objects.filter(
                conversation_id=message.conversation_id,
                direction=Direction.OUTBOUND,
                pk__gt=message.pk,
                status=MessageStatus.QUEUED,
                error_code="",
            )
            .order_by("pk")
            .values_list("pk", flat=True)
            .first()
        )
        if following is not None:
            _enqueue_send_soon(following)

    transaction.on_commit(hand_over)


def _send(account: PlatformAccount, message: Message) -> SendResult:
    try:
        ratelimit.acquire(f"send:{account.pk}", account_rate_limit(account), max_wait=RATE_LIMIT_MAX_WAIT)
    except ratelimit.RateLimitWaitExceeded:
        return SendResult.failure(
            "rate_limited",
            "Too many messages are being sent from this account right now.",
            transient=True,
            detail=f"no slot of the {account_rate_limit(account)}/s send budget within {RATE_LIMIT_MAX_WAIT:g} s",
        )
    try:
        return adapter_for(account).send(message)
    except Exception as exc:
        # A bug, not the vendor: retrying would repeat it, so the message fails visibly instead of looping.
        logger.exception("sending message %s through %s/%s crashed", message.pk, account.platform, account.provider)
        return SendResult.failure(
            "internal_error",
            "Switchboard could not send this message because of an internal error.",
            detail=f"{account.platform}/{account.provider} adapter raised {type(exc).__name__}: {exc}",
        )


def _record_sent(message: Message, platform_message_id: str, *, detail: str = "") -> None:
    """`detail`: what went wrong in a message sent all the same (a card's photo that did not follow), for
    developers; the agent's sentence stays empty."""
    now = timezone.now()
    with transaction.atomic():
        if platform_message_id:
            _store_platform_id(message, platform_message_id)
        # Only from queued / sending: a status webhook that already said delivered or read is never undone.
        Message.objects.filter(pk=message.pk, status__in=[MessageStatus.QUEUED, MessageStatus.SENDING]).update(
            status=MessageStatus.SENT, error_code="", error_message="", error_detail=detail, updated_at=now
        )
        realtime.publish_on_commit(message.organization_id, messages_updated=[message.pk])
    logger.info("message %s sent as %s", message.pk, platform_message_id or "(no id)")


def _store_platform_id(message: Message, platform_message_id: str) -> None:
    """Store the id the platform gave our message — unless its echo already did (the echo came first)."""
    unset = Message.objects.filter(pk=message.pk, platform_message_id__isnull=True)
    try:
        with transaction.atomic():
            unset.update(platform_message_id=platform_message_id)
        return
    except IntegrityError:
        pass
    # Another row holds the id: an echo stored as a message of its own before it could be matched to ours (a
    # platform without our metadata, text that differs). It is a copy of this message: ours stays, the copy goes.
    twin = (
        Message.objects.filter(platform_account_id=message.platform_account_id, platform_message_id=platform_message_id)
        .exclude(pk=message.pk)
        .first()
    )
    if twin is None or twin.direction != Direction.OUTBOUND or twin.sent_by_id is not None:
        logger.error("message %s: platform id %s already belongs to message %s", message.pk, platform_message_id,
                     twin and twin.pk)  # fmt: skip
        return
    logger.warning("message %s: dropping echo copy %s of the same platform message", message.pk, twin.pk)
    twin.delete()
    unset.update(platform_message_id=platform_message_id)
    realtime.publish_on_commit(message.organization_id, conversations_updated=[message.conversation_id])


def _record_retrying(message: Message, result: SendResult, *, attempt: int, countdown: float) -> None:
    note = (
        f"Attempt {attempt} of {settings.SEND_MAX_ATTEMPTS} failed: {result.error_message} "
        f"Trying again in {countdown:g} s."
    )
    with transaction.atomic():
        Message.objects.filter(pk=message.pk, status=MessageStatus.SENDING).update(
            status=MessageStatus.QUEUED,
            error_code=result.error_code,
            error_message=note,
            error_detail=result.error_detail,
            updated_at=timezone.now(),
        )
        realtime.publish_on_commit(message.organization_id, messages_updated=[message.pk])
    logger.info(
        "message %s: attempt %s failed (%s), retrying in %ss: %s",
        message.pk,
        attempt,
        result.error_code,
        countdown,
        result.error_detail or result.error_message,
    )


def _record_failed(message: Message, code: str, sentence: str, detail: str = "") -> None:
    with transaction.atomic():
        Message.objects.filter(pk=message.pk, status__in=[MessageStatus.QUEUED, MessageStatus.SENDING]).update(
            status=MessageStatus.FAILED,
            error_code=code[:32],
            error_message=sentence,
            error_detail=detail,
            updated_at=timezone.now(),
        )
        realtime.publish_on_commit(message.organization_id, messages_updated=[message.pk])
    logger.warning("message %s failed: %s %s (%s)", message.pk, code, sentence, detail or "no detail")


# --- read receipts ----------------------------------------------------------------------------------------------------
def sends_read_receipts(account: PlatformAccount) -> bool:
    return bool((account.settings or {}).get("send_read_receipts", True))


def _may_send_read_receipt(account: PlatformAccount) -> bool:
    return sends_read_receipts(account) and account.is_active and not account.needs_reconnect


def read_receipt_on_commit(*, conversation: Conversation, message_id: int | None = None) -> None:
    """After the agent's read commits, tell the customer (asynchronously): for `message_id`, or the newest inbound
    message of the conversation that the platform knows by id."""
    if not _may_send_read_receipt(conversation.platform_account):
        return
    if message_id is None:
        message_id = (
            Message.objects.filter(
                conversation_id=conversation.pk, direction=Direction.INBOUND, platform_message_id__isnull=False
            )
            .order_by("-timestamp", "-id")
            .values_list("pk", flat=True)
            .first()
        )
    if message_id is None:
        return

    def enqueue() -> None:
        from switchboard.inbox.tasks.sending import send_read_receipt_task  # noqa: PLC0415  the task module imports this service

        try:
            inprocess.run_task(send_read_receipt_task, message_id)
        except Exception:  # a broker hiccup must never fail the agent's request
            logger.exception("could not enqueue the read receipt for message %s", message_id)

    transaction.on_commit(enqueue)


def read_receipt_send(*, message_id: int) -> str:
    """Send the read receipt of one inbound message. Returns what happened; never raises for a vendor error."""
    message = (
        Message.objects.select_related("platform_account", "conversation__contact")
        .filter(pk=message_id, direction=Direction.INBOUND)
        .first()
    )
    if message is None or not message.platform_message_id:
        return "missing"
    account = message.platform_account
    if not _may_send_read_receipt(account):
        return "disabled"
    mark_read = getattr(adapter_for(account), "mark_read", None)
    if mark_read is None:
        return "unsupported"  # e.g. Twilio: WhatsApp read receipts are not part of its Messages API
    result: SendResult = mark_read(message)
    if result.ok:
        return "sent"
    if result.needs_reconnect:
        platform_account_mark_needs_reconnect(account=account, error=result.error_message)
    logger.warning("read receipt for message %s failed: %s %s", message_id, result.error_code, result.error_message)
    return "failed"
