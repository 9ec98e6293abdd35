"""What every page needs: the navigation the user's role may see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .permissions import AUTHENTICATED, VIEW_JOB, VIEW_OPERATOR_LOG


@dataclass(frozen=True)
class NavItem:
    label: str | Promise
    url_name: str
    permission: str
    order: int


NAVIGATION: list[NavItem] = [
    NavItem(_("Home"), "core:home", AUTHENTICATED, 0),
    NavItem(_("Background jobs"), "core:job-list", VIEW_JOB, 900),
    NavItem(_("Log panel"), "core:operator-log", VIEW_OPERATOR_LOG, 910),
]


def register_navigation(*items: NavItem) -> None:
    """Apps add their pages to the menu from AppConfig.ready(); `order` places them."""
    NAVIGATION.extend(item for item in items if item not in NAVIGATION)
    NAVIGATION.sort(key=lambda item: item.order)


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    # Until the second factor is done the only way forward is the verification page.
    is_verified = getattr(user, "is_verified", None)
    if getattr(user, "requires_two_factor", False) and not (callable(is_verified) and is_verified()):
        return {"nav_items": []}
    items = [
        {"label": item.label, "url": reverse(item.url_name), "active": request.path == reverse(item.url_name)}
        for item in NAVIGATION
        if item.permission == AUTHENTICATED or user.has_perm(item.permission)
    ]
    return {"nav_items": items}
