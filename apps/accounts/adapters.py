"""allauth adapters: no open sign-up; SSO users are provisioned with roles from their claims."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.http import HttpRequest

from .services import sync_sso_roles


class ShopAccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False


def sso_claims(sociallogin: Any) -> dict[str, Any]:
    data = sociallogin.account.extra_data or {}
    claims: dict[str, Any] = {}
    for part in ("id_token", "userinfo"):
        if isinstance(data.get(part), dict):
            claims.update(data[part])
    return claims or dict(data)


class ShopSocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest, sociallogin: Any) -> bool:
        return True

    def save_user(self, request: HttpRequest, sociallogin: Any, form: Any = None) -> Any:
        user = super().save_user(request, sociallogin, form)
        self._sync_roles(user, sociallogin)
        return user

    def pre_social_login(self, request: HttpRequest, sociallogin: Any) -> None:
        if sociallogin.is_existing:
            self._sync_roles(sociallogin.user, sociallogin)

    @staticmethod
    def _sync_roles(user: Any, sociallogin: Any) -> None:
        sync_sso_roles(
            user=user,
            claims=sso_claims(sociallogin),
            claim=settings.OIDC_ROLE_CLAIM,
            role_map=settings.OIDC_ROLE_MAP,
        )
