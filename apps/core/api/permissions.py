"""One permission class for the whole API: a role's Django permissions decide every request."""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from ..permissions import AUTHENTICATED, PUBLIC

ACTION_VERBS = {
    "list": "view",
    "retrieve": "view",
    "create": "add",
    "update": "change",
    "partial_update": "change",
    "destroy": "delete",
    "metadata": "view",
}


def required_api_permission(view: Any, request: Request) -> str:
    """The permission (or PUBLIC / AUTHENTICATED) a request to `view` needs.

    Views without a model declare `required_permission`; model viewsets take view/add/change/
    delete from the action and `action_permissions` for their extra actions. Anything else is
    denied: an undeclared route cannot be reached by accident.
    """
    action = getattr(view, "action", None)
    declared: dict[str, str] = getattr(view, "action_permissions", {})
    if action in declared:
        return declared[action]
    queryset = getattr(view, "queryset", None)
    if action in ACTION_VERBS and queryset is not None:
        model: type[Model] = queryset.model
        return f"{model._meta.app_label}.{ACTION_VERBS[action]}_{model._meta.model_name}"
    explicit = getattr(view, "required_permission", "")
    if explicit:
        return str(explicit)
    return "__deny__"


class RolePermission(BasePermission):
    message = "Your role does not allow this."

    def has_permission(self, request: Request, view: Any) -> bool:
        needed = required_api_permission(view, request)
        if needed == PUBLIC:
            return True
        user = request.user
        if not user or not user.is_authenticated:
            return False
        if needed == AUTHENTICATED:
            return True
        return bool(user.has_perm(needed))
