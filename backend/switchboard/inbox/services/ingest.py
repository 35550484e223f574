"""MessageService — the one front door for everything that comes in (webhooks, sync jobs, replays).

One instance serves one delivery: the caller opens one transaction for the delivery and calls `handle()` for each
normalized event. Deduplication is decided by the database (unique constraints on the platform message id, the
contact's external id, the conversation's (account, contact)), so retried and concurrent deliveries store each
message, contact and conversation exactly once. Events to WebSocket clients are collected and sent once, after the
transaction commits (`flush()` registers them on commit).
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from switchboard.common.phones import normalize_phone
from switchboard.inbox import hooks, realtime
from switchboard.inbox.events import (
    ContactProfile,
    InboundEvent,
    InboundMessage,
    MessageDeleted,
    Reaction,
    ReadReceipt,
    StatusUpdate,
)
from switchboard.inbox.metrics import MESSAGES_INGESTED
from switchboard.inbox.models import (
    Attachment,
    AttachmentStatus,
    Contact,
    ContactIdentity,
    Conversation,
    Direction,
    IdentityKind,
    Message,
    MessageKind,
    MessageStatus,
)
from switchboard.inbox.sendable import message_id_from_metadata
from switchboard.platforms.models import Platform, PlatformAccount

logger = logging.getLogger(__name__)


class Outcome(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"


# Statuses only move forward. `failed` ends a message that never reached the customer; once delivered or read,
# a late `failed` is stale and dropped (and a late `delivered` never undoes `read`).
_STATUS_RANK: dict[str, int] = {
    MessageStatus.QUEUED: 0,
    MessageStatus.SENDING: 1,
    MessageStatus.SENT: 2,
    MessageStatus.DELIVERED: 3,
    MessageStatus.READ: 4,
}

_PREVIEW_BY_KIND: dict[str, str] = {
    MessageKind.IMAGE: "📷 Photo",
    MessageKind.VIDEO: "🎥 Video",
    MessageKind.AUDIO: "🎤 Audio",
    MessageKind.DOCUMENT: "📄 Document",
    MessageKind.STICKER: "Sticker",
    MessageKind.LOCATION: "📍 Location",
    MessageKind.CONTACTS: "👤 Contact card",
    MessageKind.LISTING_CARD: "🏠 Listing",
    MessageKind.UNSUPPORTED: "Unsupported message",
}

_STORY_MEDIA_NOT_STORED = "Instagram story media is shown from its link and not stored (Meta policy)."

# An echo of our own send can arrive before the send task has stored the platform id: match it to that copy.
_ECHO_MATCH_WINDOW = timedelta(minutes=10)

# What an echo says about itself rather than about its content (Meta: the sending app and the metadata it attached).
_ECHO_SELF_KEYS = frozenset({"app_id", "metadata"})

# The preview of a conversation whose last message was deleted and which has nothing before it.
DELETED_PREVIEW = "Message deleted"


def status_may_advance(current: str, new: str) -> bool:
    if current == new:
        return False
    if new == MessageStatus.FAILED:
        return _STATUS_RANK.get(current, 0) < _STATUS_RANK[MessageStatus.DELIVERED]
    if current == MessageStatus.FAILED:
        return False
    if current == MessageStatus.RECEIVED or new not in _STATUS_RANK:
        return False  # statuses are for messages we sent
    return _STATUS_RANK[new] > _STATUS_RANK.get(current, -1)


def message_preview(kind: str, text: str) -> str:
    preview = text.strip() or _PREVIEW_BY_KIND.get(kind, "")
    return " ".join(preview.split())[:255]


@dataclass
class MessageService:
    """Use: `service = MessageService(account)`; inside `transaction.atomic()`: `service.handle(event)` for each
    event, then `service.flush()` before the block ends."""

    account: PlatformAccount
    created_message_ids: list[int] = field(default_factory=list)
    updated_message_ids: list[int] = field(default_factory=list)
    touched_conversation_ids: set[int] = field(default_factory=set)
    new_attachment_ids: list[int] = field(default_factory=list)

    # --- dispatch -------------------------------------------------------------------------------------------------
    def handle(self, event: InboundEvent) -> Outcome:
        if isinstance(event, InboundMessage):
            outcome = self._handle_message(event)
        elif isinstance(event, StatusUpdate):
            outcome = self._handle_status(event)
        elif isinstance(event, Reaction):
            outcome = self._handle_reaction(event)
        elif isinstance(event, MessageDeleted):
            outcome = self._handle_deleted(event)
        elif isinstance(event, ReadReceipt):
            outcome = self._handle_read_receipt(event)
        else:  # pragma: no cover - the union is closed
            raise TypeError(f"Unknown event type {type(event).__name__}")
        return outcome

    def flush(self) -> None:
        """Register the WebSocket events for everything this delivery changed, to go out after commit."""
        created = list(self.created_message_ids)
        updated = [pk for pk in dict.fromkeys(self.updated_message_ids) if pk not in set(created)]
        conversation_ids = sorted(self.touched_conversation_ids)
        organization_id = self.account.organization_id
        attachment_ids = list(self.new_attachment_ids)
        self.created_message_ids, self.updated_message_ids, self.touched_conversation_ids = [], [], set()
        self.new_attachment_ids = []
        realtime.publish_on_commit(
            organization_id, messages_created=created, messages_updated=updated, conversations_updated=conversation_ids
        )
        if created:
            hooks.dispatch_on_commit(hooks.MESSAGES_CREATED, organization_id=organization_id, message_ids=created)
        if attachment_ids:
            # Registered after the broadcast: clients see message.created before any message.updated.
            transaction.on_commit(lambda: _enqueue_downloads(attachment_ids))

    # --- contacts and conversations -------------------------------------------------------------------------------
    class _ContactRace(Exception):
        """A concurrent delivery stored the same person under another contact first: the one to use instead."""

        def __init__(self, contact_id: int) -> None:
            super().__init__(contact_id)
            self.contact_id = contact_id

    def _contact_key(self, profile: ContactProfile) -> tuple[str, str]:
        """(external_id, phone_number). WhatsApp numbers become E.164 so '+1 415…' and '1415…' are one contact."""
        if self.account.platform == Platform.WHATSAPP:
            phone = normalize_phone(profile.phone_number) or normalize_phone(profile.external_id)
            return (phone or profile.external_id.strip(), phone)
        return (
            profile.external_id.strip(),
            normalize_phone(profile.phone_number) if profile.phone_number else "",
        )

    @staticmethod
    def _contact_ids(profile: ContactProfile, external_id: str, phone: str) -> list[tuple[str, str]]:
        """WhatsApp: every id the profile names, strongest first — the business-scoped user id (an external id that
        is no phone number is one), the parent BSUID, the E.164 number, then the username."""
        user_id = profile.user_id.strip() or ("" if phone else external_id)
        ids = [
            (IdentityKind.USER_ID, user_id[:160]),
            (IdentityKind.PARENT_USER_ID, profile.parent_user_id.strip()[:160]),
            (IdentityKind.PHONE, phone),
            (IdentityKind.USERNAME, profile.username.strip()[:150]),
        ]
        return [(str(kind), value) for kind, value in ids if value]

    @staticmethod
    def _identity_filter(ids: list[tuple[str, str]]) -> Q:
        condition = Q(pk__in=[])
        for kind, value in ids:
            condition |= Q(kind=kind, value=value)
        return condition

    def _match_contact(
        self, ids: list[tuple[str, str]], external_id: str
    ) -> tuple[Contact | None, str, dict[tuple[str, str], int]]:
        """(the contact these ids name or None, the external id a new contact takes, who held each id). The
        strongest id that names a contact wins; a phone number or username is not this person's when the contact
        holding it has another business-scoped user id (a recycled number): a new contact, keyed by its user id.
        The username is looked up only when the profile names nothing stronger (usernames change hands)."""
        strong = [(kind, value) for kind, value in ids if kind != IdentityKind.USERNAME]
        lookups = strong or ids
        user_id = dict(ids).get(IdentityKind.USER_ID, "")
        held: dict[tuple[str, str], int] = {}
        conflicted = False

        def belongs(kind: str, contact: Contact) -> bool:
            nonlocal conflicted
            weak = kind in (IdentityKind.PHONE, IdentityKind.USERNAME)
            if weak and user_id and self._has_other_user_id(contact, user_id):
                conflicted = True
                return False
            return True

        if ids:
            # Every id is read (so the ones the contact already holds are not written again); the username only
            # names the contact when nothing stronger does.
            rows = ContactIdentity.objects.filter(self._identity_filter(ids), platform_account=self.account)
            found = {(row.kind, row.value): row for row in rows.select_related("contact")}
            held = {key: row.contact_id for key, row in found.items()}
            for kind, value in lookups:
                row = found.get((kind, value))
                if row is not None and belongs(kind, row.contact):
                    return row.contact, external_id, held
        if strong:
            # Contacts stored before identities were kept (or by a path that keeps none): found by their external id.
            legacy = Contact.objects.filter(
                platform_account=self.account, external_id__in=[value for _, value in strong]
            ).exclude(pk__in={held[key] for key in strong if key in held})
            by_external_id = {contact.external_id: contact for contact in legacy}
            for kind, value in strong:
                contact = by_external_id.get(value)
                if contact is not None and belongs(kind, contact):
                    return contact, external_id, held
        return None, (user_id if conflicted else external_id), held

    @staticmethod
    def _has_other_user_id(contact: Contact, user_id: str) -> bool:
        return (
            ContactIdentity.objects.filter(contact=contact, kind=IdentityKind.USER_ID).exclude(value=user_id).exists()
        )

    def _attach_ids(self, contact: Contact, ids: list[tuple[str, str]], held: dict[tuple[str, str], int]) -> int | None:
        """Give `contact` every id in `ids` nobody holds yet (the username moves to it: the user id proved who has it
        now) and mirror them in `platform_ids`. Returns the contact that took one of the ids nobody held when we
        looked — a concurrent delivery's — or None."""
        missing = sorted(key for key in ids if held.get(key) != contact.pk)  # one lock order: no deadlocks
        if missing:
            ContactIdentity.objects.bulk_create(
                [
                    ContactIdentity(
                        organization_id=self.account.organization_id,
                        platform_account=self.account,
                        contact=contact,
                        kind=kind,
                        value=value,
                    )
                    for kind, value in missing
                ],
                ignore_conflicts=True,
            )
            holders = dict(
                ((kind, value), contact_id)
                for kind, value, contact_id in ContactIdentity.objects.filter(
                    self._identity_filter(missing), platform_account=self.account
                ).values_list("kind", "value", "contact_id")
            )
            for (kind, value), holder in holders.items():
                if holder == contact.pk:
                    continue
                if (kind, value) not in held and kind != IdentityKind.USERNAME:
                    return holder
                if kind == IdentityKind.USERNAME and any(k != IdentityKind.USERNAME for k, _ in ids):
                    self._move_username(contact, value, holder)
                    holders[(kind, value)] = contact.pk
            mine = {key for key, holder in holders.items() if holder == contact.pk}
        else:
            mine = set()
        platform_ids = dict(contact.platform_ids or {})
        for kind, value in ids:
            if held.get((kind, value)) == contact.pk or (kind, value) in mine:
                platform_ids[kind] = value
        if any(kind == IdentityKind.USERNAME for kind, _ in mine):
            username = platform_ids[IdentityKind.USERNAME]
            ContactIdentity.objects.filter(contact=contact, kind=IdentityKind.USERNAME).exclude(value=username).delete()
        if platform_ids != (contact.platform_ids or {}):
            Contact.objects.filter(pk=contact.pk).update(platform_ids=platform_ids, updated_at=timezone.now())
            contact.platform_ids = platform_ids
        return None

    def _move_username(self, contact: Contact, username: str, previous: int) -> None:
        ContactIdentity.objects.filter(
            platform_account=self.account, kind=IdentityKind.USERNAME, value=username, contact_id=previous
        ).update(contact=contact)
        other = Contact.objects.filter(pk=previous).only("platform_ids").first()
        if other is not None and (other.platform_ids or {}).get(IdentityKind.USERNAME) == username:
            rest = {kind: value for kind, value in other.platform_ids.items() if kind != IdentityKind.USERNAME}
            Contact.objects.filter(pk=previous).update(platform_ids=rest)

    def contact_for(self, profile: ContactProfile) -> Contact:
        external_id, phone = self._contact_key(profile)
        if not external_id:
            raise ValueError("The event names no contact id.")
        defaults = {
            "organization_id": self.account.organization_id,
            "platform": self.account.platform,
            "phone_number": phone,
            "name": profile.name[:200],
            "username": profile.username[:150],
            "profile_picture_url": profile.profile_picture_url[:1000],
        }
        if self.account.platform != Platform.WHATSAPP:
            # get_or_create retries the read after a unique-constraint race, inside its own savepoint.
            contact, created = Contact.objects.get_or_create(
                platform_account=self.account, external_id=external_id, defaults=defaults
            )
        else:
            contact, created = self._whatsapp_contact(profile, external_id, phone, defaults)
        if not created:
            changes = {
                name: defaults[name]
                for name in ("name", "username", "profile_picture_url", "phone_number")
                if defaults[name] and getattr(contact, name) != defaults[name]
            }
            if changes:
                Contact.objects.filter(pk=contact.pk).update(**changes, updated_at=timezone.now())
                for name, value in changes.items():
                    setattr(contact, name, value)
        return contact

    def _whatsapp_contact(
        self, profile: ContactProfile, external_id: str, phone: str, defaults: dict[str, Any]
    ) -> tuple[Contact, bool]:
        """The contact any of the profile's ids names, given the ids it lacks; else a new one holding them all. One
        person is one contact even when two deliveries race naming them differently (the phone and the BSUID in
        one, only the BSUID in the other): the identities' unique constraint decides, and the loser's new contact
        is undone (savepoint) in favour of the winner's."""
        ids = self._contact_ids(profile, external_id, phone)
        contact, primary, held = self._match_contact(ids, external_id)
        if contact is not None:
            self._attach_ids(contact, ids, held)
            return contact, False
        try:
            with transaction.atomic():
                contact, created = Contact.objects.get_or_create(
                    platform_account=self.account, external_id=primary, defaults=defaults
                )
                winner = self._attach_ids(contact, ids, held)
                if winner is not None and created:
                    raise self._ContactRace(winner)
        except self._ContactRace as race:
            contact, created = Contact.objects.get(pk=race.contact_id), False
            self._attach_ids(contact, ids, {})
        return contact, created

    def _existing_contact(self, profile: ContactProfile) -> Contact | None:
        external_id, phone = self._contact_key(profile)
        if self.account.platform == Platform.WHATSAPP:
            return self._match_contact(self._contact_ids(profile, external_id, phone), external_id)[0]
        return Contact.objects.filter(platform_account=self.account, external_id=external_id).first()

    def conversation_for(self, contact: Contact, at: datetime) -> Conversation:
        conversation, _ = Conversation.objects.get_or_create(
            platform_account=self.account,
            contact=contact,
            defaults={
                "organization_id": self.account.organization_id,
                "platform": self.account.platform,
                "last_message_at": at,
            },
        )
        return conversation

    # --- messages -------------------------------------------------------------------------------------------------
    def _find(self, platform_message_id: str) -> Message | None:
        if not platform_message_id:
            return None
        return Message.objects.filter(platform_account=self.account, platform_message_id=platform_message_id).first()

    def _handle_message(self, event: InboundMessage) -> Outcome:
        existing = self._find(event.platform_message_id)
        if existing is not None:
            if event.is_echo and existing.direction == Direction.OUTBOUND:
                return self._confirm_sent(existing)
            return Outcome.DUPLICATE

        if event.is_echo:
            # Our own send named by the metadata it carried: matched before any contact is looked up, whatever the
            # echo holds. An echo with nothing in it that is not ours adds nothing (no message, no contact).
            own_copy = self._own_send_named_by(event)
            if own_copy is not None:
                return self._confirm_sent(own_copy, event.platform_message_id)
            if _is_empty_echo(event):
                return Outcome.IGNORED

        contact = self.contact_for(event.contact)
        conversation = self.conversation_for(contact, event.timestamp)
        if event.is_echo:
            own_copy = self._unconfirmed_own_send(conversation, event)
            if own_copy is not None:
                return self._confirm_sent(own_copy, event.platform_message_id)

        reply_to = self._find(event.reply_to_platform_id)
        inbound = not event.is_echo
        message = Message(
            organization_id=self.account.organization_id,
            conversation=conversation,
            platform_account=self.account,
            direction=Direction.INBOUND if inbound else Direction.OUTBOUND,
            kind=event.kind,
            text=event.text,
            payload=dict(event.payload, **({"echo": True} if event.is_echo else {})),
            reply_to=reply_to,
            reply_to_platform_id=event.reply_to_platform_id[:255],
            platform_message_id=event.platform_message_id or None,
            status=MessageStatus.RECEIVED if inbound else MessageStatus.SENT,
            is_read=not inbound or event.is_notice,
            timestamp=event.timestamp,
        )
        try:
            with transaction.atomic():  # savepoint: a concurrent twin may win the unique constraint
                message.save(force_insert=True)
        except IntegrityError:
            twin = self._find(event.platform_message_id)
            if twin is None:
                raise
            return Outcome.DUPLICATE
        if event.attachments:
            # Instagram story media may not be stored (Meta policy) and its link expires within a day: keep the
            # reference for display, never download it.
            story = "story" in event.payload
            stored = Attachment.objects.bulk_create(
                [
                    Attachment(
                        organization_id=self.account.organization_id,
                        message=message,
                        kind=ref.kind,
                        media_id=ref.media_id[:255],
                        source_url=ref.url[:2000],
                        mime_type=ref.mime_type[:120],
                        filename=ref.filename[:255],
                        caption=ref.caption,
                        sha256=ref.sha256[:64],
                        status=AttachmentStatus.REJECTED if story else AttachmentStatus.PENDING,
                        error=_STORY_MEDIA_NOT_STORED if story else "",
                    )
                    for ref in event.attachments
                ]
            )
            if not story:
                self.new_attachment_ids.extend(attachment.pk for attachment in stored)
        if event.contact_attributes:
            self._record_contact_attributes(contact, event.contact_attributes)
        # A notice (an ad referral, an opt-in) is not the customer writing: no unread, no reply window, no unarchive.
        self._record_on_conversation(conversation, message, inbound=inbound and not event.is_notice)
        self.created_message_ids.append(message.pk)
        _count_ingested(self.account.platform, message.kind)
        return Outcome.CREATED

    def _own_send_named_by(self, event: InboundMessage) -> Message | None:
        """The message of ours an echo's metadata names (Meta echoes the `switchboard:msg:<id>` our send attached):
        exactly which one this is, whatever its content and whether or not the send task stored its id yet. Only
        this account's outbound messages: an echo never confirms another account's message."""
        own_id = message_id_from_metadata(event.payload.get("metadata"))
        if own_id is None:
            return None
        return Message.objects.filter(pk=own_id, platform_account=self.account, direction=Direction.OUTBOUND).first()

    def _unconfirmed_own_send(self, conversation: Conversation, event: InboundMessage) -> Message | None:
        """An echo without our metadata (Instagram) that repeats the text of a send of ours still under way."""
        if not event.text.strip():
            return None  # no words to recognise it by: an empty text would match any of our media sends
        return (
            Message.objects.filter(
                conversation=conversation,
                direction=Direction.OUTBOUND,
                platform_message_id__isnull=True,
                status__in=[MessageStatus.QUEUED, MessageStatus.SENDING],
                text=event.text,
                created_at__gte=timezone.now() - _ECHO_MATCH_WINDOW,
            )
            .order_by("created_at")
            .first()
        )

    def _confirm_sent(self, message: Message, platform_message_id: str = "") -> Outcome:
        """An echo of a message we sent: it reached the platform. Never a second copy."""
        changes: dict[str, Any] = {}
        if platform_message_id and not message.platform_message_id:
            changes["platform_message_id"] = platform_message_id
        if status_may_advance(message.status, MessageStatus.SENT):
            changes["status"] = MessageStatus.SENT
        if not changes:
            return Outcome.DUPLICATE
        Message.objects.filter(pk=message.pk).update(**changes, updated_at=timezone.now())
        self.updated_message_ids.append(message.pk)
        return Outcome.UPDATED

    def _record_contact_attributes(self, contact: Contact, attributes: dict[str, Any]) -> None:
        """Merge what an event says about the contact into `Contact.attributes`: its keys replace the stored ones,
        every other key (lead fields an agent or the assistant filled in) stays. Under the contact's row lock, so a
        concurrent writer of another key is never lost."""
        locked = Contact.objects.select_for_update().get(pk=contact.pk)
        stored = dict(locked.attributes) if isinstance(locked.attributes, dict) else {}
        merged = {**stored, **attributes}
        if merged != stored:
            Contact.objects.filter(pk=contact.pk).update(attributes=merged, updated_at=timezone.now())
            contact.attributes = merged

    def _record_on_conversation(self, conversation: Conversation, message: Message, *, inbound: bool) -> None:
        """One UPDATE, with counters as F-expressions and every condition evaluated on the row as it is in the
        database: exact under concurrent deliveries, and a message that arrives late (older timestamp) never
        replaces a newer preview. A brand-new conversation has an empty preview and always takes this one."""
        at = Value(message.timestamp, output_field=models.DateTimeField())
        changes: dict[str, Any] = {
            "last_message_at": Case(
                When(last_message_at__lte=message.timestamp, then=at), default=F("last_message_at")
            ),
            "last_message_preview": Case(
                When(
                    Q(last_message_at__lte=message.timestamp) | Q(last_message_preview=""),
                    then=Value(message_preview(message.kind, message.text)),
                ),
                default=F("last_message_preview"),
            ),
            "updated_at": timezone.now(),
        }
        if inbound:
            changes.update(
                unread_count=F("unread_count") + 1,
                is_archived=False,  # a customer writing again brings the thread back to the inbox
                archived_at=None,
                archived_by=None,
                last_inbound_at=Case(
                    When(Q(last_inbound_at__isnull=True) | Q(last_inbound_at__lt=message.timestamp), then=at),
                    default=F("last_inbound_at"),
                ),
            )
        Conversation.objects.filter(pk=conversation.pk).update(**changes)
        self.touched_conversation_ids.add(conversation.pk)

    # --- statuses, reactions, deletions, receipts -----------------------------------------------------------------
    def _handle_status(self, event: StatusUpdate) -> Outcome:
        message = self._find(event.platform_message_id)
        if message is None:
            return Outcome.IGNORED  # not ours (sent from elsewhere, or long gone): never crash on it
        if not status_may_advance(message.status, event.status):
            return Outcome.DUPLICATE
        changes: dict[str, Any] = {"status": event.status, "updated_at": timezone.now()}
        if event.status == MessageStatus.FAILED:
            changes["error_code"] = event.error_code[:32]
            changes["error_message"] = event.error_message
        # Conditional on the status we read: a concurrent update of the same message cannot be overwritten.
        if not Message.objects.filter(pk=message.pk, status=message.status).update(**changes):
            return Outcome.DUPLICATE
        self.updated_message_ids.append(message.pk)
        return Outcome.UPDATED

    def _handle_reaction(self, event: Reaction) -> Outcome:
        target = self._find(event.target_platform_message_id)
        if target is None:
            return Outcome.IGNORED
        actor = "agent" if event.from_business else "contact"
        with transaction.atomic():
            target = Message.objects.select_for_update().get(pk=target.pk)
            reactions = [r for r in (target.reactions or []) if r.get("by") != actor]
            if event.emoji and not event.removed:
                reactions.append({"emoji": event.emoji, "by": actor, "at": event.timestamp.isoformat()})
            if reactions == (target.reactions or []):
                return Outcome.DUPLICATE
            Message.objects.filter(pk=target.pk).update(reactions=reactions, updated_at=timezone.now())
        self.updated_message_ids.append(target.pk)
        return Outcome.UPDATED

    def _handle_deleted(self, event: MessageDeleted) -> Outcome:
        message = self._find(event.platform_message_id)
        if message is None:
            return Outcome.IGNORED
        if message.is_deleted:
            return Outcome.DUPLICATE
        now = timezone.now()
        # The sender unsent it: keep the row (threads and replies stay intact) but drop the content. Conditional, so
        # of two concurrent deliveries of the unsend only one goes on to the counter and the preview.
        if not Message.objects.filter(pk=message.pk, is_deleted=False).update(
            is_deleted=True, text="", payload={"deleted": True}, updated_at=now
        ):
            return Outcome.DUPLICATE
        conversation_changed = False
        if message.direction == Direction.INBOUND and Message.objects.filter(pk=message.pk, is_read=False).update(
            is_read=True
        ):
            # Unread and gone: it no longer counts (the decrement belongs to whoever flipped it, never below 0).
            Conversation.objects.filter(pk=message.conversation_id, unread_count__gt=0).update(
                unread_count=F("unread_count") - 1, updated_at=now
            )
            conversation_changed = True
        conversation_changed = self._preview_without(message, now) or conversation_changed
        if conversation_changed:
            self.touched_conversation_ids.add(message.conversation_id)
        self.updated_message_ids.append(message.pk)
        return Outcome.UPDATED

    def _preview_without(self, deleted: Message, now: datetime) -> bool:
        """When the deleted message is the conversation's last, the preview becomes the message before it (the
        newest one not deleted), or DELETED_PREVIEW when there is none; `last_message_at` stays, so the thread keeps
        its place. Conditional on no newer message having arrived meanwhile. True when the preview changed."""
        thread = Message.objects.filter(conversation_id=deleted.conversation_id)
        last = thread.order_by("-timestamp", "-id").values_list("pk", flat=True).first()
        if last != deleted.pk:
            return False  # an older message: the preview shows a newer one
        previous = thread.filter(is_deleted=False).exclude(pk=deleted.pk).order_by("-timestamp", "-id").first()
        preview = message_preview(previous.kind, previous.text) if previous is not None else DELETED_PREVIEW
        return bool(
            Conversation.objects.filter(pk=deleted.conversation_id, last_message_at__lte=deleted.timestamp)
            .exclude(last_message_preview=preview)
            .update(last_message_preview=preview, updated_at=now)
        )

    def _handle_read_receipt(self, event: ReadReceipt) -> Outcome:
        contact = self._existing_contact(event.contact)
        if contact is None:
            return Outcome.IGNORED
        outbound = Message.objects.filter(
            platform_account=self.account, conversation__contact=contact, direction=Direction.OUTBOUND
        )
        if event.platform_message_ids:
            outbound = outbound.filter(
                Q(platform_message_id__in=event.platform_message_ids) | Q(timestamp__lte=event.watermark)
            )
        else:
            outbound = outbound.filter(timestamp__lte=event.watermark)
        lower = [s for s, rank in _STATUS_RANK.items() if rank < _STATUS_RANK[event.status] and rank >= 2]
        ids = list(outbound.filter(status__in=lower).values_list("pk", flat=True)[:500])
        if not ids:
            return Outcome.DUPLICATE
        Message.objects.filter(pk__in=ids, status__in=lower).update(status=event.status, updated_at=timezone.now())
        self.updated_message_ids.extend(ids)
        return Outcome.UPDATED


def handle_events(account: PlatformAccount, events: list[InboundEvent]) -> list[Outcome]:
    """Handle a list of events for one account in one transaction (sync jobs, seeding, replays)."""
    service = MessageService(account)
    with transaction.atomic():
        outcomes = [service.handle(event) for event in events]
        service.flush()
    return outcomes


def _is_empty_echo(event: InboundMessage) -> bool:
    """An echo with no text, no attachment and nothing in its payload but what it says about itself."""
    return not event.text.strip() and not event.attachments and not set(event.payload) - _ECHO_SELF_KEYS


def _enqueue_downloads(attachment_ids: list[int]) -> None:
    from switchboard.inbox.tasks.media import enqueue_attachment_downloads  # noqa: PLC0415  the task module imports the inbox services

    enqueue_attachment_downloads(attachment_ids)


def _count_ingested(platform: str, kind: str) -> None:
    MESSAGES_INGESTED.labels(platform=platform, kind=kind).inc()
