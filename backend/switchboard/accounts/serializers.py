"""Accounts API shapes. Input serializers validate; output serializers describe what views return."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from rest_framework import serializers
from rest_framework_simplejwt.exceptions import AuthenticationFailed
from rest_framework_simplejwt.serializers import TokenRefreshSerializer

from switchboard.accounts import services
from switchboard.accounts.models import Membership, Organization, Role, User

# --- errors (the project's JSON shape, switchboard/common/errors.py) -------------------------------------------


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()


class ValidationErrorSerializer(ErrorSerializer):
    errors = serializers.DictField(
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


class MemberSerializer(serializers.ModelSerializer):
    user_id = serializers.IntegerField(source="user.id", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    full_name = serializers.CharField(source="user.full_name", read_only=True)
    is_active = serializers.BooleanField(source="user.is_active", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "user_id", "email", "full_name", "is_active", "role", "created_at"]
        read_only_fields = fields


class MemberAddedSerializer(MemberSerializer):
    temporary_password = serializers.CharField(
        allow_null=True,
        read_only=True,
        help_text="Only when this call created the user: their initial password, shown this once. Null otherwise.",
    )

    class Meta(MemberSerializer.Meta):
        fields = [*MemberSerializer.Meta.fields, "temporary_password"]
        read_only_fields = fields

    def to_representation(self, instance: services.MembershipAdded) -> dict[str, Any]:
        data = super().to_representation(instance.membership)
        data["temporary_password"] = instance.temporary_password
        return data


# --- input -----------------------------------------------------------------------------------------------------


class RegisterSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, trim_whitespace=False, style={"input_type": "password"})
    full_name = serializers.CharField(max_length=150, allow_blank=True, required=False, default="")
    organization_name = serializers.CharField(max_length=150)

    def validate_email(self, value: str) -> str:
        value = value.strip().lower()
        if User.objects.filter(email__iexact=value).exists():
            raise serializers.ValidationError(services.DUPLICATE_EMAIL)
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        services.user_password_validate(
            password=attrs["password"], email=attrs["email"], full_name=attrs.get("full_name", "")
        )
        return attrs


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
            raise AuthenticationFailed(self.error_messages["no_active_account"], "no_active_account") from error


class RefreshRequestSerializer(serializers.Serializer):
    refresh = serializers.CharField()


class LogoutSerializer(serializers.Serializer):
    refresh = serializers.CharField(help_text="The refresh token to revoke.")


class ProfileUpdateSerializer(serializers.Serializer):
    full_name = serializers.CharField(max_length=150, allow_blank=True)


class MemberAddSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=Role.choices, default=Role.AGENT)
    full_name = serializers.CharField(
        max_length=150, allow_blank=True, required=False, default="", help_text="Used only for a new user."
    )


class MemberUpdateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)
