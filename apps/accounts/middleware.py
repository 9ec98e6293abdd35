"""Second factor before anything else, and each user's own language."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils import translation

from .models import User
from .services import is_verified, user_has_second_factor

# Paths a signed-in but not yet verified user may still reach: the second-factor pages
# themselves, signing out, static files and the probes.
EXEMPT_PREFIXES = ("/accounts/2fa/", "/accounts/logout/", "/health/", "/i18n/", "/accounts/preferences/language/")
API_PREFIXES = ("/api/", "/graphql/")


class TwoFactorRequiredMiddleware:
    """Users who need a second factor (supervisors and up, staff) are sent to enrol or verify
    before any page, API call or GraphQL query works with their session."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            isinstance(user, User)
            and user.requires_two_factor
            and not is_verified(user)
            and not self._exempt(request.path)
        ):
            if request.path.startswith(API_PREFIXES):
                return JsonResponse(
                    {
                        "detail": "Verify your second factor before using the API with this session.",
                        "code": "two_factor_required",
                    },
                    status=403,
                )
            name = "accounts:2fa-verify" if user_has_second_factor(user) else "accounts:2fa-enrol"
            return HttpResponseRedirect(f"{reverse(name)}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)

    @staticmethod
    def _exempt(path: str) -> bool:
        return path.startswith(EXEMPT_PREFIXES) or path.startswith((settings.STATIC_URL, settings.MEDIA_URL))


class UserLanguageMiddleware:
    """A signed-in user's chosen language wins over the browser's."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = getattr(request.user, "language", "")
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)
