"""Accounts API shapes. Input serializers validate; output serializers describe what views return."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from rest_framework import serializers
from rest_framework_simplejwt.exceptions import AuthenticationFailed
from rest_framework_simplejwt.serializers import TokenRefreshSerializer

from switchboard.accounts.models import Invitation, InvitationStatus, Membership, Organization, Role, User

# --- errors (the project's JSON shape, switchboard/common/errors.py) -------------------------------------------


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()


class ValidationErrorSerializer(ErrorSerializer):
    errors = serializers.DictField(  # type: ignore[assignment]  # a declared field (the metaclass moves it), not Serializer.errors
        child=serializers.ListField(child=serializers.CharField()), help_text="Messages per field."
    )


# --- output ----------------------------------------------------------------------------------------------------


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "full_name", "date_joined"]
        read_only_fields = fields


class OrganizationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "name", "slug"]
        read_only_fields = fields


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class RegistrationResponseSerializer(TokenPairSerializer):
    user = UserSerializer()
    organization = OrganizationSerializer()
    role = serializers.ChoiceField(choices=Role.choices)


class LoginResponseSerializer(TokenPairSerializer):
    user = UserSerializer()


class UserMembershipSerializer(serializers.Serializer):
    organization = OrganizationSerializer()
    role = serializers.ChoiceField(choices=Role.choices)


class MemberSerializer(serializers.ModelSerializer):
    user_id = serializers.IntegerField(source="user.id", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    full_name = serializers.CharField(source="user.full_name", read_only=True)
    is_active = serializers.BooleanField(source="user.is_active", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "user_id", "email", "full_name", "is_active", "role", "created_at"]
        read_only_fields = fields


class InvitationActorSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "full_name"]
        read_only_fields = fields


class InvitationSerializer(serializers.ModelSerializer):
    """An invitation as the organization's owners and admins see it. Never the code: only its digest is stored."""

    status = serializers.ChoiceField(
        source="current_status",
        choices=InvitationStatus.choices,
        read_only=True,
        help_text="`expired`: pending past `expires_at` (or replaced after that by a new invitation).",
    )
    invited_by = InvitationActorSerializer(
        read_only=True, allow_null=True, help_text="Who sent it (or last resent it)."
    )
    responded_by = InvitationActorSerializer(
        read_only=True, allow_null=True, help_text="Who accepted, declined or revoked it."
    )

    class Meta:
        model = Invitation
        fields = [
            "id",
            "email",
            "role",
            "status",
            "invited_by",
            "responded_by",
            "created_at",
            "sent_at",
            "expires_at",
            "responded_at",
        ]
        read_only_fields = fields


class InviterSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["email", "full_name"]
        read_only_fields = fields


class MyInvitationSerializer(serializers.ModelSerializer):
    """An invitation addressed to you."""

    organization = OrganizationSerializer(read_only=True)
    invited_by = InviterSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Invitation
        fields = ["id", "organization", "role", "invited_by", "created_at", "expires_at"]
        read_only_fields = fields


class ProfileSerializer(serializers.Serializer):
    """Serializes a selectors.Profile."""

    id = serializers.IntegerField(source="user.id")
    email = serializers.EmailField(source="user.email")
    full_name = serializers.CharField(source="user.full_name")
    date_joined = serializers.DateTimeField(source="user.date_joined")
    memberships = UserMembershipSerializer(many=True)
    organization = OrganizationSerializer(
        allow_null=True, help_text="The organization this request acts for (X-Organization, else the oldest)."
    )
    role = serializers.ChoiceField(choices=Role.choices, allow_null=True, help_text="Your role in `organization`.")
    invitations = MyInvitationSerializer(
        many=True, help_text="Invitations to your email address you can still accept or decline."
    )


# --- input -----------------------------------------------------------------------------------------------------


class RegisterSerializer(serializers.Serializer):
    """Shape only: the service checks the password validators and a duplicate email, after counting the attempt
    against the sign-up rate limit (so probing which emails are registered is limited too)."""

    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, trim_whitespace=False, style={"input_type": "password"})
    full_name = serializers.CharField(max_length=150, allow_blank=True, required=False, default="")
    organization_name = serializers.CharField(max_length=150)

    def validate_email(self, value: str) -> str:
        return value.strip().lower()


class LoginSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})


class RefreshSerializer(TokenRefreshSerializer):
    """simplejwt's refresh (rotation + blacklist of the old token), answering 401 instead of failing with a 500
    when the token's user has been deleted."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        try:
            return super().validate(attrs)
        except ObjectDoesNotExist as error:
            raise AuthenticationFailed(str(self.error_messages["no_active_account"]), "no_active_account") from error


class RefreshRequestSerializer(serializers.Serializer):
    refresh = serializers.CharField()


class LogoutSerializer(serializers.Serializer):
    refresh = serializers.CharField(help_text="The refresh token to revoke.")


class ProfileUpdateSerializer(serializers.Serializer):
    full_name = serializers.CharField(max_length=150, allow_blank=True)


class InvitationCreateSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=Role.choices, default=Role.AGENT)


class InvitationListQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=InvitationStatus.choices, required=False)


class PasswordSetSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=128, trim_whitespace=True, help_text="The code from the invitation email.")
    password = serializers.CharField(write_only=True, trim_whitespace=False, style={"input_type": "password"})
    full_name = serializers.CharField(max_length=150, allow_blank=True, required=False, default="")


class MemberUpdateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)
