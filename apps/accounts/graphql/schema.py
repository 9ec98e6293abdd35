from __future__ import annotations

from typing import Any

import graphene
from django.core.exceptions import ValidationError
from graphql import GraphQLError

from apps.core.graphql.base import ShopMutation, check_access, list_field, resolve_list
from apps.core.permissions import AUTHENTICATED

from ..services import set_theme
from .types import UserType


class AccountsQuery(graphene.ObjectType):
    me = graphene.Field(UserType)
    users = list_field(UserType, is_active=graphene.Boolean())

    def resolve_me(self, info: Any) -> Any:
        check_access(info, AUTHENTICATED)
        return info.context.user

    def resolve_users(self, info: Any, **kwargs: Any) -> Any:
        return resolve_list(UserType, info, **kwargs)


class SetTheme(ShopMutation):
    required_permission = AUTHENTICATED

    class Arguments:
        theme = graphene.String(required=True, description="system, light or dark")

    theme = graphene.String()

    @classmethod
    def perform(cls, root: Any, info: Any, theme: str) -> SetTheme:
        try:
            user = set_theme(user=info.context.user, theme=theme)
        except ValidationError as exc:
            raise GraphQLError(" ".join(exc.messages), extensions={"code": "BAD_USER_INPUT"}) from exc
        return SetTheme(theme=user.theme)


class AccountsMutation(graphene.ObjectType):
    set_theme = SetTheme.Field()
