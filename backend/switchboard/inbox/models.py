"""The inbox: contacts, conversations, messages and their attachments, and the history syncs that feed them. Every
row belongs to one organization."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from switchboard.accounts.tenancy import TenantModel
from switchboard.platforms.models import Platform, PlatformAccount


class Contact(TenantModel):
    """A customer as one platform account knows them. `external_id` is what the platform called them first: the
    E.164 phone number for WhatsApp (so one person is one contact however the number is written), a
    business-scoped user id (`US.…`) when WhatsApp gives no number, the PSID / IGSID on Messenger / Instagram.

    WhatsApp names one person several ways (phone number, business-scoped user id, parent BSUID, username): every id
    it gave is a `ContactIdentity` row (unique per account, so the database decides which contact an id belongs
    to), and `platform_ids` repeats them for display and sending."""

    platform_account = models.ForeignKey(PlatformAccount, on_delete=models.CASCADE, related_name="contacts")
    platform = models.CharField(max_length=16, choices=Platform.choices)
    external_id = models.CharField(max_length=128)
    phone_number = models.CharField(max_length=32, blank=True)
    name = models.CharField(max_length=200, blank=True)
    username = models.CharField(max_length=150, blank=True)
    profile_picture_url = models.URLField(max_length=1000, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    platform_ids = models.JSONField(
        default=dict,
        blank=True,
        help_text="Every id the platform gave for this contact, by kind: phone, user_id (WhatsApp's business-scoped "
        "user id), parent_user_id, username. Written with the contact's ContactIdentity rows.",
    )
    is_trusted = models.BooleanField(
        default=False,
        help_text="A whitelisted contact: the AI assistant may answer them (with the conversation's AI on).",
    )
    attributes = models.JSONField(
        default=dict,
        blank=True,
        help_text="Lead fields (purpose, budget, bedrooms …), filled by agents or the assistant.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["platform_account", "external_id"], name="contact_unique_external_id")
        ]
        indexes = [models.Index(fields=["organization", "phone_number"], name="contact_org_phone")]

    def __str__(self) -> str:
        return self.name or self.username or self.phone_number or self.external_id

    @property
    def display_name(self) -> str:
        return str(self)


class IdentityKind(models.TextChoices):
    PHONE = "phone", "Phone number"
    USER_ID = "user_id", "Business-scoped user id"
    PARENT_USER_ID = "parent_user_id", "Parent business-scoped user id"
    USERNAME = "username", "Username"


class ContactIdentity(TenantModel):
    """One id a platform account knows a contact by. (account, kind, value) is unique: concurrent deliveries that
    name one person differently (phone and BSUID in one, only the BSUID in the other) end on one contact, and one
    id never belongs to two contacts. A contact may hold several of a kind (a changed number keeps the old one)."""

    platform_account = models.ForeignKey(PlatformAccount, on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(max_length=16, choices=IdentityKind.choices)
    value = models.CharField(max_length=160)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["platform_account", "kind", "value"], name="contact_identity_unique")
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class Conversation(TenantModel):
    """One thread per (platform account, contact)."""

    platform_account = models.ForeignKey(PlatformAccount, on_delete=models.CASCADE, related_name="conversations")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="conversations")
    platform = models.CharField(max_length=16, choices=Platform.choices)
    is_archived = models.BooleanField(default=False)
    archived_at = models.DateTimeField(null=True, blank=True)
    archived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ai_enabled = models.BooleanField(default=False)
    needs_human = models.BooleanField(
        default=False, help_text="The assistant handed over (or failed): an agent should answer."
    )
    needs_human_reason = models.CharField(max_length=255, blank=True)
    ai_paused_until = models.DateTimeField(
        null=True, blank=True, help_text="An agent replied: the assistant stays quiet until then (or a hand-back)."
    )
    last_message_at = models.DateTimeField(default=timezone.now)
    last_message_preview = models.CharField(max_length=255, blank=True)
    last_inbound_at = models.DateTimeField(
        null=True, blank=True, help_text="Opens the platforms' 24-hour customer-service window."
    )
    unread_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-last_message_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["platform_account", "contact"], name="conversation_unique_account_contact")
        ]
        indexes = [
            # The inbox list: one organization's (un)archived threads by last activity.
            models.Index(
                "organization",
                "is_archived",
                models.F("last_message_at").desc(),
                "id",
                name="conversation_inbox_list",
            ),
            models.Index(fields=["organization", "platform"], name="conversation_org_platform"),
            # Resync after a reconnect (`?updated_since=`): what changed in one organization, newest change first.
            models.Index("organization", models.F("updated_at").desc(), "id", name="conversation_org_updated"),
        ]

    def __str__(self) -> str:
        return f"{self.contact} ({self.get_platform_display()})"


class Direction(models.TextChoices):
    INBOUND = "inbound", "Inbound"
    OUTBOUND = "outbound", "Outbound"


class MessageKind(models.TextChoices):
    TEXT = "text", "Text"
    IMAGE = "image", "Image"
    VIDEO = "video", "Video"
    AUDIO = "audio", "Audio"
    DOCUMENT = "document", "Document"
    STICKER = "sticker", "Sticker"
    LOCATION = "location", "Location"
    CONTACTS = "contacts", "Contacts"
    INTERACTIVE = "interactive", "Interactive"
    REACTION = "reaction", "Reaction"
    LISTING_CARD = "listing_card", "Listing card"
    SYSTEM = "system", "System"
    UNSUPPORTED = "unsupported", "Unsupported"


class MessageStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    READ = "read", "Read"
    FAILED = "failed", "Failed"


class Message(TenantModel):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    platform_account = models.ForeignKey(PlatformAccount, on_delete=models.CASCADE, related_name="+")
    direction = models.CharField(max_length=8, choices=Direction.choices)
    kind = models.CharField(max_length=16, choices=MessageKind.choices, default=MessageKind.TEXT)
    text = models.TextField(blank=True)
    payload = models.JSONField(
        default=dict, blank=True, help_text="Structured content: location, contacts, interactive reply, card …"
    )
    reply_to = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reply_to_platform_id = models.CharField(max_length=255, blank=True)
    platform_message_id = models.CharField(max_length=255, null=True, blank=True)
    status = models.CharField(max_length=10, choices=MessageStatus.choices, default=MessageStatus.RECEIVED)
    error_code = models.CharField(max_length=32, blank=True)
    error_message = models.TextField(blank=True, help_text="Why it failed, in a sentence an agent understands.")
    error_detail = models.TextField(
        blank=True, help_text="The technical detail behind error_message (exception, vendor answer), for developers."
    )
    reactions = models.JSONField(default=list, blank=True, help_text="[{emoji, by: contact|agent, at}]")
    is_deleted = models.BooleanField(default=False)
    is_read = models.BooleanField(default=False)
    read_at = models.DateTimeField(null=True, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_by_assistant = models.BooleanField(default=False, help_text="Written by the AI assistant.")
    llm_processed = models.BooleanField(default=False, help_text="The AI assistant answered this inbound message.")
    llm_skip_reason = models.CharField(
        max_length=32, blank=True, help_text="Why the assistant did not answer it (switch_off, not_trusted, …)."
    )
    client_key = models.CharField(
        max_length=128,
        null=True,
        blank=True,
        help_text="The Idempotency-Key the agent's client sent it with: a repeat of the send returns this message.",
    )
    timestamp = models.DateTimeField(help_text="When the platform says it happened.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["timestamp", "id"]
        constraints = [
            # The truth of deduplication: a retried or concurrent delivery can store a platform message once.
            models.UniqueConstraint(
                fields=["platform_account", "platform_message_id"],
                condition=Q(platform_message_id__isnull=False),
                name="message_unique_platform_id",
            ),
            # The truth of idempotent sends: two requests with one key store one message, however they race.
            models.UniqueConstraint(
                fields=["organization", "client_key"],
                condition=Q(client_key__isnull=False),
                name="message_unique_client_key",
            ),
        ]
        indexes = [
            models.Index(fields=["conversation", "timestamp", "id"], name="message_thread"),
            models.Index(fields=["organization", "-timestamp", "-id"], name="message_org_recent"),
            models.Index(
                fields=["conversation"], condition=Q(is_read=False, direction="inbound"), name="message_unread"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.kind} #{self.pk}"


class AttachmentStatus(models.TextChoices):
    PENDING = "pending", "Pending download"
    STORED = "stored", "Stored"
    FAILED = "failed", "Failed"
    REJECTED = "rejected", "Rejected"


class Attachment(TenantModel):
    """A media item of a message. The webhook records where it is (`media_id` or `source_url`); the media task
    downloads it into storage."""

    uuid = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField(max_length=16, choices=MessageKind.choices, default=MessageKind.DOCUMENT)
    media_id = models.CharField(max_length=255, blank=True, help_text="WhatsApp Cloud media id.")
    source_url = models.URLField(max_length=2000, blank=True)
    mime_type = models.CharField(max_length=120, blank=True)
    filename = models.CharField(max_length=255, blank=True, help_text="As the sender named it; display only.")
    caption = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=AttachmentStatus.choices, default=AttachmentStatus.PENDING)
    error = models.TextField(blank=True)
    file = models.FileField(max_length=300, blank=True)
    thumbnail = models.FileField(max_length=300, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["status", "created_at"], name="attachment_status")]

    def __str__(self) -> str:
        return f"{self.kind} attachment #{self.pk}"


# The history sync's vocabulary (SyncRun's trigger and status).
class SyncTrigger(models.TextChoices):
    SCHEDULE = "schedule", "Scheduled (Celery Beat)"
    MANUAL = "manual", "Started from the API"
    COMMAND = "command", "manage.py sync_platforms"


class SyncStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    PARTIAL = "partial", "Finished with errors"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped (another sync of the account was running)"


class SyncRun(TenantModel):
    """One history sync of one account: what it read and what was new. Written by the sync service only
    (inbox/services/sync.py). It was a platforms model: its table keeps that name (migrations inbox 0004 and
    platforms 0004 moved it without touching the database)."""

    account = models.ForeignKey(PlatformAccount, on_delete=models.CASCADE, related_name="sync_runs")
    trigger = models.CharField(max_length=16, choices=SyncTrigger.choices, default=SyncTrigger.SCHEDULE)
    status = models.CharField(max_length=16, choices=SyncStatus.choices, default=SyncStatus.QUEUED)
    requested_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    since = models.DateTimeField(null=True, blank=True, help_text="History was read back to this time.")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    conversations_synced = models.PositiveIntegerField(default=0)
    messages_seen = models.PositiveIntegerField(default=0)
    messages_new = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, help_text="The first error, in words.")
    details = models.JSONField(default=dict, blank=True, help_text="Account health and per-provider notes.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "platforms_syncrun"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "-created_at"], name="syncrun_account_recent")]

    def __str__(self) -> str:
        return f"sync #{self.pk} of account {self.account_id} ({self.status})"
