"""Django admin for users (email login), organizations with their members, memberships, invitations, and the JWT
blacklist. No page shows a usable credential: refresh tokens appear as jti and fingerprint only, invitation codes
exist only as digests (and are not shown either), passwords as Django's masked hash summary."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, TypedDict

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from rest_framework.exceptions import APIException
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from switchboard.accounts import services
from switchboard.accounts.models import Invitation, InvitationStatus, Membership, Organization, User
from switchboard.accounts.tenancy import request_user
from switchboard.common.exceptions import ApplicationError

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


def _normalized_unique_email(form: forms.ModelForm) -> str:
    email = User.objects.normalize_email(form.cleaned_data["email"]).strip().lower()
    duplicates = User.objects.filter(email__iexact=email)
    if form.instance.pk:
        duplicates = duplicates.exclude(pk=form.instance.pk)
    if duplicates.exists():
        raise forms.ValidationError("A user with this email address already exists.", code="unique")
    return email


class UserCreationForm(AdminUserCreationForm):
    """Django's admin add-user form (password twice, validated; or an unusable password) keyed by email."""

    class Meta:
        model = User
        fields = ("email", "full_name")

    def clean_email(self) -> str:
        return _normalized_unique_email(self)


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"

    def clean_email(self) -> str:
        return _normalized_unique_email(self)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)
    fields = ("user", "role", "created_at")
    readonly_fields = ("created_at",)


class UserMembershipInline(MembershipInline):
    autocomplete_fields = ("organization",)
    fields = ("organization", "role", "created_at")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserEditForm
    add_form = UserCreationForm
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("full_name",)}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "full_name", "usable_password", "password1", "password2"),
            },
        ),
    )
    readonly_fields = ("last_login", "date_joined")
    list_display = ("email", "full_name", "is_active", "is_staff", "date_joined", "last_login")
    list_filter = ("is_active", "is_staff", "is_superuser", "memberships__role")
    search_fields = ("email", "full_name")
    ordering = ("email",)
    inlines = (UserMembershipInline,)

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()  # memberships once the user exists


class _MemberCount(TypedDict):
    _member_count: int


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "member_count", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("created_at",)
    inlines = (MembershipInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Organization]:
        return super().get_queryset(request).annotate(_member_count=Count("memberships"))

    @admin.display(description="Members", ordering="_member_count")
    def member_count(self, obj: WithAnnotations[Organization, _MemberCount]) -> int:
        return obj._member_count


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "organization", "role", "created_at")
    list_filter = ("role", "organization")
    list_select_related = ("user", "organization")
    search_fields = ("user__email", "user__full_name", "organization__name", "organization__slug")
    autocomplete_fields = ("user", "organization")
    readonly_fields = ("created_at",)


class _ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by services only: viewable, never added, edited or deleted here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Invitation)
class InvitationAdmin(_ReadOnlyAdmin):
    """Invitations are created through the API (the inviter's role rules apply there); here they can be looked at and
    revoked. The code is never shown: only its digest is stored, and not even that is displayed."""

    list_display = ("email", "organization", "role", "status_now", "invited_by", "created_at", "expires_at")
    list_filter = ("status", "role", "organization")
    list_select_related = ("organization", "invited_by")
    search_fields = ("email", "organization__name", "organization__slug", "invited_by__email")
    date_hierarchy = "created_at"
    fields = (
        "organization",
        "email",
        "role",
        "status_now",
        "invited_by",
        "responded_by",
        "created_at",
        "sent_at",
        "expires_at",
        "responded_at",
    )
    readonly_fields = fields
    actions = ["revoke"]

    @admin.display(description="status")
    def status_now(self, invitation: Invitation) -> str:
        return InvitationStatus(invitation.current_status).label

    @admin.action(description="Revoke the selected pending invitations")
    def revoke(self, request: HttpRequest, queryset: QuerySet[Invitation]) -> None:
        revoked = 0
        for invitation in queryset.filter(status=InvitationStatus.PENDING):
            try:
                services.invitation_revoke(invitation=invitation, by=request_user(request), as_staff=True)
            except (APIException, ApplicationError) as error:  # services raise application errors
                self.message_user(request, f"{invitation.email}: {error.detail}", messages.WARNING)
            else:
                revoked += 1
        self.message_user(request, f"{revoked} invitation(s) revoked.", messages.SUCCESS)


# --- the JWT blacklist (rest_framework_simplejwt.token_blacklist) ---------------------------------------------------
# simplejwt's own admin shows every refresh token in full: anyone who can open the page could act as any user for
# the token's lifetime. These pages show only what identifies a token — jti, user, dates and a fingerprint (the
# first 16 hex digits of the token's SHA-256, to match a token someone reports) — and never load the token itself
# into a form or a field.


def token_fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:16] if token else "—"


for _model in (OutstandingToken, BlacklistedToken):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


@admin.register(OutstandingToken)
class OutstandingTokenAdmin(_ReadOnlyAdmin):
    list_display = ("jti", "user", "created_at", "expires_at", "fingerprint", "is_blacklisted")
    list_select_related = ("user", "blacklistedtoken")
    search_fields = ("jti", "user__email")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    fields = ("jti", "user", "created_at", "expires_at", "fingerprint", "is_blacklisted")
    readonly_fields = fields
    actions = None

    @admin.display(description="fingerprint (SHA-256, 16 hex)")
    def fingerprint(self, token: OutstandingToken) -> str:
        return token_fingerprint(token.token)

    @admin.display(description="blacklisted", boolean=True)
    def is_blacklisted(self, token: OutstandingToken) -> bool:
        return hasattr(token, "blacklistedtoken")


@admin.register(BlacklistedToken)
class BlacklistedTokenAdmin(_ReadOnlyAdmin):
    list_display = ("token_jti", "token_user", "token_created_at", "token_expires_at", "blacklisted_at", "fingerprint")
    list_select_related = ("token__user",)
    search_fields = ("token__jti", "token__user__email")
    date_hierarchy = "blacklisted_at"
    ordering = ("-blacklisted_at", "-id")
    fields = ("token_jti", "token_user", "token_created_at", "token_expires_at", "blacklisted_at", "fingerprint")
    readonly_fields = fields
    actions = None

    @admin.display(description="jti", ordering="token__jti")
    def token_jti(self, blacklisted: BlacklistedToken) -> str:
        return blacklisted.token.jti

    @admin.display(description="user", ordering="token__user__email")
    def token_user(self, blacklisted: BlacklistedToken) -> User | None:
        return blacklisted.token.user

    @admin.display(description="created at", ordering="token__created_at")
    def token_created_at(self, blacklisted: BlacklistedToken):
        return blacklisted.token.created_at

    @admin.display(description="expires at", ordering="token__expires_at")
    def token_expires_at(self, blacklisted: BlacklistedToken):
        return blacklisted.token.expires_at

    @admin.display(description="fingerprint (SHA-256, 16 hex)")
    def fingerprint(self, blacklisted: BlacklistedToken) -> str:
        return token_fingerprint(blacklisted.token.token)
