"""Token authentication for machines and integrations: knox tokens, hashed at rest."""

from __future__ import annotations

from typing import Any

from knox.auth import TokenAuthentication

from .services import touch_api_token


class ApiTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, token: bytes) -> tuple[Any, Any]:
        user, auth_token = super().authenticate_credentials(token)
        touch_api_token(auth_token)
        return user, auth_token
