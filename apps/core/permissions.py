"""Permission codenames of the core app, and the one check every service uses."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

VIEW_JOB = "core.view_job"
CANCEL_JOB = "core.cancel_job"
VIEW_OPERATOR_LOG = "core.view_operatorlogrecord"

# Access levels a route may declare instead of a permission codename.
PUBLIC = "public"
AUTHENTICATED = "authenticated"


def require_permission(actor: Any, permission: str) -> None:
    """Refuse the action unless `actor` (a user) holds `permission`.

    `actor=None` means the system itself (a Celery task, a management command run by an admin on
    the server) and is always allowed: those entry points are trusted by construction.
    """
    if actor is None:
        return
    if not getattr(actor, "is_active", False) or not actor.has_perm(permission):
        raise PermissionDenied(_("You do not have permission to do this (%(perm)s).") % {"perm": permission})
