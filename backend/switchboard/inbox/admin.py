"""Inbox admin for operators. Built for tables of millions of rows: no full counts (a planner estimate when
unfiltered), joins selected up front, foreign keys shown read-only (never a <select> of every row), exact-match
search on indexed ids, default ordering by primary key. Rows are written by services only: messages and attachments
are view-only; conversations change through the archive actions and the AI toggle. Also the history syncs: their runs
(read-only) and the platform account list's "Sync history now" action (the inbox runs syncs, platforms never imports
it: PlatformAccount is registered again here with platforms' admin plus that action)."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.db import connections, models
from django.db.models import QuerySet
from django.http import HttpRequest

from switchboard.accounts.tenancy import request_user
from switchboard.inbox.models import Attachment, Contact, ContactIdentity, Conversation, Message, SyncRun
from switchboard.inbox.services import sync
from switchboard.inbox.services.conversations import (
    contact_trust,
    conversation_archive_many,
    conversation_set_ai_enabled,
    conversation_unarchive_many,
)
from switchboard.platforms.admin import PlatformAccountAdmin
from switchboard.platforms.models import Platform, PlatformAccount

_ESTIMATE_ABOVE = 100_000


class LargeTablePaginator(Paginator):
    """An unfiltered changelist of a big PostgreSQL table pages by the planner's row estimate instead of COUNT(*)."""

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if isinstance(queryset, QuerySet) and not queryset.query.where:
            connection = connections[queryset.db]
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
                        [queryset.model._meta.db_table],
                    )
                    row = cursor.fetchone()
                if row and row[0] and row[0] > _ESTIMATE_ABOVE:
                    return int(row[0])
        return super().count


def _without_account_secrets(queryset: QuerySet) -> QuerySet:
    """The platform account joined (for the change page too) without its encrypted columns: these pages never show
    them, and decrypting them per row would fail the whole page under a wrong FIELD_ENCRYPTION_KEY."""
    return queryset.select_related("platform_account").defer(*PlatformAccount.secret_fields("platform_account"))


class LargeTableAdmin(admin.ModelAdmin):
    paginator = LargeTablePaginator
    show_full_result_count = False
    list_per_page = 50
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # inbox rows come in through MessageService, never by hand


class ViewOnlyAdmin(LargeTableAdmin):
    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class MessagePlatformFilter(admin.SimpleListFilter):
    """By platform from the choices (no DISTINCT over the messages table)."""

    title = "platform"
    parameter_name = "platform"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return list(Platform.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Message]) -> QuerySet[Message]:
        value = self.value()
        return queryset.filter(platform_account__platform=value) if value else queryset


class ContactIdentityInline(admin.TabularInline):
    """Every id the platform knows the contact by (phone, business-scoped user id, username): written by the inbound
    path only, so read-only here."""

    model = ContactIdentity
    extra = 0
    can_delete = False
    fields = ("kind", "value", "platform_account", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Contact | None = None) -> bool:
        return False


@admin.register(Contact)
class ContactAdmin(LargeTableAdmin):
    inlines = (ContactIdentityInline,)
    list_display = (
        "id", "__str__", "platform", "phone_number", "username", "is_trusted", "platform_account", "organization",
    )  # fmt: skip
    list_filter = ("platform", "is_trusted")
    search_fields = ("name", "username", "=phone_number", "=external_id", "=id")
    list_select_related = ("platform_account", "organization")
    readonly_fields = ("organization", "platform_account", "platform", "external_id", "created_at", "updated_at")
    ordering = ("-id",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Contact]:
        return _without_account_secrets(super().get_queryset(request))

    def save_model(self, request: HttpRequest, obj: Contact, form: Any, change: bool) -> None:
        """Trusting a contact goes through the service, which tells every member's inbox; the other fields save."""
        trusted = obj.is_trusted
        if change and "is_trusted" in getattr(form, "changed_data", ()):
            obj.is_trusted = not trusted
            super().save_model(request, obj, form, change)
            contact_trust(organization=obj.organization_id, contact=obj, by=request_user(request), trusted=trusted)
            obj.is_trusted = trusted
        else:
            super().save_model(request, obj, form, change)


def _organizations_of(queryset: QuerySet[Conversation]) -> list[int]:
    return list(queryset.order_by().values_list("organization_id", flat=True).distinct())


@admin.register(Conversation)
class ConversationAdmin(LargeTableAdmin):
    list_display = (
        "id",
        "contact",
        "platform",
        "platform_account",
        "organization",
        "is_archived",
        "unread_count",
        "ai_enabled",
        "last_message_at",
    )
    list_filter = ("platform", "is_archived", "organization")
    search_fields = ("=id", "contact__name", "=contact__phone_number", "=contact__external_id")
    list_select_related = ("contact", "platform_account", "organization")
    # Only `ai_enabled` is edited here (through its service); archiving is the bulk actions; the rest is ingest's.
    readonly_fields = (
        "organization",
        "platform_account",
        "contact",
        "platform",
        "is_archived",
        "archived_at",
        "archived_by",
        "unread_count",
        "last_message_at",
        "last_message_preview",
        "last_inbound_at",
        "created_at",
        "updated_at",
    )
    ordering = ("-id",)
    actions = ["archive", "unarchive"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Conversation]:
        return _without_account_secrets(super().get_queryset(request))

    def save_model(self, request: HttpRequest, obj: Conversation, form: object, change: bool) -> None:
        if change and "ai_enabled" in getattr(form, "changed_data", ()):
            conversation_set_ai_enabled(
                organization=obj.organization_id, conversation=obj, by=request_user(request), enabled=obj.ai_enabled
            )

    @admin.action(description="Archive selected conversations", permissions=["change"])
    def archive(self, request: HttpRequest, queryset: QuerySet[Conversation]) -> None:
        # The operator may select several tenants' rows; the service works within one organization at a time.
        changed = sum(
            conversation_archive_many(organization=organization_id, conversations=queryset, by=request_user(request))
            for organization_id in _organizations_of(queryset)
        )
        self.message_user(request, f"Archived {changed} conversation(s).", messages.SUCCESS)

    @admin.action(description="Unarchive selected conversations", permissions=["change"])
    def unarchive(self, request: HttpRequest, queryset: QuerySet[Conversation]) -> None:
        changed = sum(
            conversation_unarchive_many(organization=organization_id, conversations=queryset, by=request_user(request))
            for organization_id in _organizations_of(queryset)
        )
        self.message_user(request, f"Unarchived {changed} conversation(s).", messages.SUCCESS)


class AttachmentInline(admin.TabularInline):
    model = Attachment
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("kind", "status", "mime_type", "filename", "size", "media_id", "file", "error")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Message | None = None) -> bool:
        return False


@admin.register(Message)
class MessageAdmin(ViewOnlyAdmin):
    list_display = ("id", "conversation", "direction", "kind", "status", "short_text", "is_read", "timestamp")
    list_filter = ("direction", "kind", "status", MessagePlatformFilter)
    search_fields = ("=id", "=platform_message_id")
    list_select_related = ("conversation__contact",)
    ordering = ("-id",)
    inlines = [AttachmentInline]

    @admin.display(description="text")
    def short_text(self, message: Message) -> str:
        return (message.text or "")[:80]


@admin.register(Attachment)
class AttachmentAdmin(ViewOnlyAdmin):
    list_display = ("id", "message", "kind", "status", "mime_type", "size", "created_at")
    list_filter = ("status", "kind")
    search_fields = ("=id", "=uuid", "=media_id")
    list_select_related = ("message",)
    ordering = ("-id",)


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    """History syncs, read-only: the sync service writes them."""

    list_display = (
        "id",
        "account",
        "organization",
        "trigger",
        "status",
        "conversations_synced",
        "messages_seen",
        "messages_new",
        "errors",
        "duration_ms",
        "created_at",
    )
    list_filter = ("status", "trigger", "account__platform", "organization")
    list_select_related = ("account", "organization")
    search_fields = ("=account__id", "account__display_name", "error")
    date_hierarchy = "created_at"

    def get_queryset(self, request: HttpRequest) -> QuerySet[SyncRun]:
        # The account is shown by name only: its encrypted secrets are not loaded (nor decrypted, per row).
        return super().get_queryset(request).select_related("account").defer(*PlatformAccount.secret_fields("account"))

    def get_readonly_fields(self, request: HttpRequest, obj: SyncRun | None = None) -> list[str]:
        return [field.name for field in SyncRun._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: SyncRun | None = None) -> bool:
        return False


class PlatformAccountSyncAdmin(PlatformAccountAdmin):
    """platforms' PlatformAccount admin, plus starting a history sync from the account list."""

    actions = [*PlatformAccountAdmin.actions, "sync_now"]

    @admin.action(description="Sync history now")
    def sync_now(self, request: HttpRequest, queryset: QuerySet[PlatformAccount]) -> None:
        for account in queryset:
            try:
                sync.sync_run_request(account=account, by=request_user(request))
            except sync.SyncRefused as exc:
                self.message_user(request, f"{account}: {exc.detail}", messages.WARNING)
            else:
                self.message_user(request, f"{account}: sync queued (see Sync runs).", messages.SUCCESS)


# Importing platforms.admin above registered PlatformAccountAdmin (whichever app's admin autodiscovery reads first).
admin.site.unregister(PlatformAccount)
admin.site.register(PlatformAccount, PlatformAccountSyncAdmin)
