from __future__ import annotations

from typing import Any

import graphene

from apps.core.graphql.base import list_field, resolve_list

from .types import MaterialType


class InventoryQuery(graphene.ObjectType):
    materials = list_field(
        MaterialType,
        code=graphene.String(),
        form=graphene.String(),
        grade=graphene.String(),
        is_active=graphene.Boolean(),
    )

    def resolve_materials(self, info: Any, **kwargs: Any) -> Any:
        return resolve_list(MaterialType, info, **kwargs)


class InventoryMutation(graphene.ObjectType):
    pass
