"""GraphQL base classes: the same role permissions as the REST API, checked in one place."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import graphene
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from graphene_django import DjangoObjectType
from graphql import GraphQLError

from ..permissions import AUTHENTICATED, PUBLIC

DENIED = "Your role does not allow this."


def check_access(info: Any, access: str) -> None:
    user = info.context.user
    if access == PUBLIC:
        return
    if not user.is_authenticated:
        raise GraphQLError("Sign in first.", extensions={"code": "UNAUTHENTICATED"})
    if access != AUTHENTICATED and not user.has_perm(access):
        raise GraphQLError(DENIED, extensions={"code": "FORBIDDEN"})


def view_permission(model: type[Model]) -> str:
    return f"{model._meta.app_label}.view_{model._meta.model_name}"


class ShopObjectType(DjangoObjectType):
    """An object type whose rows are only readable with the model's view permission."""

    class Meta:
        abstract = True

    @classmethod
    def get_queryset(cls, queryset: QuerySet[Any], info: Any) -> QuerySet[Any]:
        check_access(info, view_permission(queryset.model))
        return queryset


def list_field(object_type: type[ShopObjectType], **filters: Any) -> graphene.Field:
    """A paginated list: `first` (at most 500) and `offset`, plus exact-match filters."""
    return graphene.List(
        graphene.NonNull(object_type),
        first=graphene.Int(default_value=50),
        offset=graphene.Int(default_value=0),
        **filters,
    )


def resolve_list(
    object_type: type[ShopObjectType], info: Any, first: int, offset: int, **filters: Any
) -> QuerySet[Any]:
    model = object_type._meta.model
    check_access(info, view_permission(model))
    first = max(0, min(first, 500))
    queryset = object_type.get_queryset(model._default_manager.all(), info)
    given = {key: value for key, value in filters.items() if value is not None}
    return queryset.filter(**given)[offset : offset + first]


class ShopMutation(graphene.Mutation):
    """A mutation declares `required_permission`; the check runs before anything else.

    Subclasses implement `perform(root, info, **kwargs)`, which calls a service.
    """

    required_permission: ClassVar[str] = ""

    class Meta:
        abstract = True

    @classmethod
    def mutate(cls, root: Any, info: Any, **kwargs: Any) -> Any:
        if not cls.required_permission:
            raise GraphQLError(DENIED, extensions={"code": "FORBIDDEN"})
        check_access(info, cls.required_permission)
        try:
            return cls.perform(root, info, **kwargs)
        except PermissionDenied as exc:
            raise GraphQLError(str(exc) or DENIED, extensions={"code": "FORBIDDEN"}) from exc

    # Each subclass defines `perform` as a classmethod taking its own arguments by name.
    perform: ClassVar[Callable[..., Any]]
