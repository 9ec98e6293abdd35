from __future__ import annotations

from datetime import timedelta

from django_otp.plugins.otp_totp.models import TOTPDevice
from drf_spectacular.utils import extend_schema
from knox.settings import knox_settings
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from apps.core.api.viewsets import ShopReadOnlyViewSet
from apps.core.permissions import AUTHENTICATED, PUBLIC

from ..filters import UserFilter
from ..models import User
from ..services import LoginRateLimited, authenticate_with_limits, issue_api_token, signed_in
from .serializers import TokenRequestSerializer, TokenResponseSerializer, UserSerializer


class TokenView(APIView):
    """Exchange a username and password (and a TOTP code where the role needs one) for an API
    token. Failures count against the same rate limit as the login page."""

    required_permission = PUBLIC
    authentication_classes: list[type] = []
    throttle_classes: list[type[BaseThrottle]] = []

    @extend_schema(request=TokenRequestSerializer, responses={201: TokenResponseSerializer})
    def post(self, request: Request) -> Response:
        data = TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            user = authenticate_with_limits(
                request._request,
                username=data.validated_data["username"],
                password=data.validated_data["password"],
            )
        except LoginRateLimited as exc:
            return Response({"detail": str(exc), "code": "rate_limited"}, status=status.HTTP_429_TOO_MANY_REQUESTS)
        if user is None:
            return Response(
                {"detail": "Wrong username or password.", "code": "authentication_failed"},
                status=status.HTTP_401_UNAUTHORIZED,
            )
        if user.requires_two_factor:
            token = (data.validated_data.get("otp_token") or "").strip()
            devices = TOTPDevice.objects.devices_for_user(user, confirmed=True)
            if not token or not any(d.verify_token(token) for d in devices):
                return Response(
                    {
                        "detail": "This account needs a valid authenticator code in otp_token.",
                        "code": "two_factor_required",
                    },
                    status=status.HTTP_401_UNAUTHORIZED,
                )
        ttl: timedelta = knox_settings.TOKEN_TTL
        api_token, plain = issue_api_token(actor=None, user=user, name=data.validated_data["name"], valid_days=ttl.days)
        body = TokenResponseSerializer({"token": plain, "name": api_token.name, "expiry": api_token.expiry}).data
        return Response(body, status=status.HTTP_201_CREATED)


class MeView(APIView):
    required_permission = AUTHENTICATED

    @extend_schema(responses=UserSerializer)
    def get(self, request: Request) -> Response:
        return Response(UserSerializer(signed_in(request.user)).data)


class UserViewSet(ShopReadOnlyViewSet):
    """People with accounts and their roles."""

    queryset = User.objects.prefetch_related("groups").order_by("username")
    serializer_class = UserSerializer
    filterset_class = UserFilter
    search_fields = ("username", "first_name", "last_name", "email")
