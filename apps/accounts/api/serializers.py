from __future__ import annotations

from typing import Any

from rest_framework import serializers

from ..models import User


class UserSerializer(serializers.ModelSerializer[User]):
    roles = serializers.ListField(source="role_names", child=serializers.CharField(), read_only=True)

    class Meta:
        model = User
        fields = (
            "id",
            "username",
            "first_name",
            "last_name",
            "email",
            "is_active",
            "roles",
            "theme",
            "language",
            "last_login",
            "date_joined",
        )
        read_only_fields = fields


class TokenRequestSerializer(serializers.Serializer[Any]):
    username = serializers.CharField(help_text="Username or e-mail.")
    password = serializers.CharField(style={"input_type": "password"})
    otp_token = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="A TOTP code; required for users whose role needs a second factor.",
    )
    name = serializers.CharField(max_length=100, help_text="What will use the token.")


class TokenResponseSerializer(serializers.Serializer[Any]):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`. Shown once.")
    name = serializers.CharField()
    expiry = serializers.DateTimeField(allow_null=True)
