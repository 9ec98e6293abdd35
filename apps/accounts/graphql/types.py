from __future__ import annotations

from typing import Any

import graphene

from apps.core.graphql.base import ShopObjectType

from ..models import User


class UserType(ShopObjectType):
    roles = graphene.List(graphene.NonNull(graphene.String), required=True)

    class Meta:
        model = User
        fields = ("id", "username", "first_name", "last_name", "email", "is_active", "theme", "language")

    @staticmethod
    def resolve_roles(user: User, info: Any) -> list[str]:
        return user.role_names
