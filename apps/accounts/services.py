"""State changes of accounts: roles, sign-in checks, second factor, API tokens, preferences."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.core.permissions import require_permission

from .choices import Theme
from .models import ApiToken, User
from .roles import ADMIN, ROLE_PERMISSIONS, ROLES, STAFF_ROLES

logger = logging.getLogger("cnc.accounts")

MANAGE_USERS = "accounts.change_user"
ISSUE_TOKENS = "accounts.add_apitoken"


class LoginRateLimited(Exception):
    """Too many failed sign-ins from this address or for this account."""


def resolve_permissions(codenames: Iterable[str]) -> list[Permission]:
    """Permission rows for "app_label.codename" strings; ValueError names any that do not exist."""
    wanted = set(codenames)
    query = Q(pk__in=[])
    for name in wanted:
        app_label, codename = name.split(".", 1)
        query |= Q(content_type__app_label=app_label, codename=codename)
    found = list(Permission.objects.filter(query).select_related("content_type"))
    missing = wanted - {f"{p.content_type.app_label}.{p.codename}" for p in found}
    if missing:
        raise ValueError(f"unknown permissions in the role matrix: {', '.join(sorted(missing))}")
    return found


@transaction.atomic
def create_role_groups() -> dict[str, int]:
    """Make one group per role holding exactly the matrix's permissions. Safe to run again."""
    counts: dict[str, int] = {}
    for role in ROLES:
        group, _created = Group.objects.get_or_create(name=role)
        permissions = list(Permission.objects.all()) if role == ADMIN else resolve_permissions(ROLE_PERMISSIONS[role])
        group.permissions.set(permissions)
        counts[role] = len(permissions)
    return counts


@transaction.atomic
def assign_roles(*, actor: Any, user: User, roles: Iterable[str]) -> User:
    """Give `user` exactly these roles; staff access follows from them."""
    require_permission(actor, MANAGE_USERS)
    wanted = list(dict.fromkeys(roles))
    unknown = [role for role in wanted if role not in ROLES]
    if unknown:
        raise ValidationError(_("Unknown role: %(roles)s") % {"roles": ", ".join(unknown)})
    groups = list(Group.objects.filter(name__in=wanted))
    if len(groups) != len(wanted):
        raise ValidationError(_("Role groups are missing: run manage.py create_role_groups."))
    kept = user.groups.exclude(name__in=ROLES)
    user.groups.set([*kept, *groups])
    user.is_staff = user.is_superuser or any(role in STAFF_ROLES for role in wanted)
    user.save(update_fields=["is_staff"])
    user.__dict__.pop("role_names", None)
    return user


def roles_from_claims(claims: Mapping[str, Any], claim: str, role_map: Mapping[str, str]) -> list[str]:
    """Roles an SSO user gets: each value of `claim` (a string or a list) looked up in `role_map`."""
    value = claims.get(claim, [])
    values = [value] if isinstance(value, str) else list(value or [])
    roles = [role_map[str(v)] for v in values if str(v) in role_map]
    return [role for role in ROLES if role in roles]


def sync_sso_roles(*, user: User, claims: Mapping[str, Any], claim: str, role_map: Mapping[str, str]) -> User:
    """Roles follow the identity provider on every SSO sign-in (the provider is the source)."""
    roles = roles_from_claims(claims, claim, role_map)
    return assign_roles(actor=None, user=user, roles=roles)


def authenticate_with_limits(request: HttpRequest, *, username: str, password: str) -> User | None:
    """Check a password the way the login page does, under the same rate limit.

    The admin login and the API token endpoint call this, so 10 failures a minute from one IP and
    5 in 5 minutes for one account hold on every path. Raises LoginRateLimited past the limit.
    """
    credentials = {"email" if "@" in username else "username": username, "password": password}
    try:
        user = get_adapter(request).authenticate(request, **credentials)
    except ValidationError as exc:
        raise LoginRateLimited(" ".join(exc.messages)) from exc
    return user if isinstance(user, User) else None


def start_totp_enrolment(*, user: User) -> TOTPDevice:
    """An unconfirmed authenticator for the user to scan; reused until confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=_("Authenticator app"), confirmed=False)
    return device


def confirm_totp_enrolment(*, request: HttpRequest, device: TOTPDevice, token: str) -> bool:
    """Confirm a scanned authenticator with a first code and count this session as verified."""
    if not device.verify_token(token.strip()):
        return False
    TOTPDevice.objects.filter(pk=device.pk, confirmed=False).update(confirmed=True)
    device.confirmed = True
    _mark_verified(request, device)
    return True


def verify_second_factor(*, request: HttpRequest, user: User, token: str) -> bool:
    """Check a TOTP code against the user's confirmed devices; a code works once only."""
    for device in TOTPDevice.objects.devices_for_user(user, confirmed=True):
        if device.verify_token(token.strip()):
            _mark_verified(request, device)
            return True
    return False


def _mark_verified(request: HttpRequest, device: TOTPDevice) -> None:
    # A new session key at every step up in trust stops session fixation.
    request.session.cycle_key()
    otp_login(request, device)


def is_verified(user: Any) -> bool:
    """Whether this request's user passed the second factor (django_otp sets is_verified)."""
    check = getattr(user, "is_verified", None)
    return bool(check()) if callable(check) else False


def signed_in(user: Any) -> User:
    """The request's user on a route that requires signing in."""
    if not isinstance(user, User):
        raise PermissionError("a signed-in user is required here")
    return user


def user_has_second_factor(user: User) -> bool:
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).exists()


def issue_api_token(*, actor: Any, user: User, name: str, valid_days: int | None = 365) -> tuple[ApiToken, str]:
    """A new token for `user`; returns the row and the token, which is never shown again."""
    require_permission(actor, ISSUE_TOKENS)
    if not user.is_active:
        raise ValidationError(_("Tokens can only be issued to active users."))
    expiry = timedelta(days=valid_days) if valid_days else None
    token, plain = ApiToken.objects.create(user=user, expiry=expiry, name=name)
    logger.info("API token %s issued to %s", token.token_key, user.username)
    return token, plain


def deactivate_user(*, actor: Any, user: User) -> User:
    """Lock a user out at once: sessions stop authenticating (inactive users are refused on every
    request) and every API token is deleted."""
    require_permission(actor, MANAGE_USERS)
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(is_active=False)
        ApiToken.objects.filter(user=user).delete()
    user.is_active = False
    return user


def set_theme(*, user: User, theme: str) -> User:
    if theme not in Theme.values:
        raise ValidationError(_("Unknown theme: %(theme)s") % {"theme": theme})
    User.objects.filter(pk=user.pk).update(theme=theme)
    user.theme = theme
    return user


def set_language_preference(*, user: User, language: str) -> User:
    if language not in dict(settings.LANGUAGES):
        raise ValidationError(_("Unknown language: %(language)s") % {"language": language})
    User.objects.filter(pk=user.pk).update(language=language)
    user.language = language
    return user


def touch_api_token(token: ApiToken) -> None:
    """Record use, at most once a minute per token to keep the hot path cheap."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(digest=token.digest).update(last_used_at=now)
