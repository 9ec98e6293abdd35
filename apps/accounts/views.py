"""Second-factor pages, preferences and the profile."""

from __future__ import annotations

import base64
from typing import Any

import segno
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import check_for_language
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from apps.core.permissions import AUTHENTICATED, PUBLIC
from apps.core.views_base import RoleRequiredMixin

from .forms import OneTimeCodeForm
from .services import (
    confirm_totp_enrolment,
    set_language_preference,
    set_theme,
    signed_in,
    start_totp_enrolment,
    user_has_second_factor,
    verify_second_factor,
)


def _safe_next(request: HttpRequest, default: str = "/") -> str:
    target = request.POST.get("next") or request.GET.get("next") or default
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return default


class TwoFactorEnrolView(RoleRequiredMixin, View):
    """Scan a QR code with an authenticator app and confirm it with a first code."""

    required_permission = AUTHENTICATED
    template_name = "accounts/2fa_enrol.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        if user_has_second_factor(signed_in(request.user)):
            return redirect(_safe_next(request))
        return self._render(request, OneTimeCodeForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = OneTimeCodeForm(request.POST)
        if form.is_valid():
            device = start_totp_enrolment(user=signed_in(request.user))
            if confirm_totp_enrolment(request=request, device=device, token=form.cleaned_data["token"]):
                messages.success(request, _("Your authenticator is set up."))
                return redirect(_safe_next(request))
            form.add_error("token", _("That code does not match. Check the time on your phone and try the next code."))
        return self._render(request, form, status=400)

    def _render(self, request: HttpRequest, form: OneTimeCodeForm, status: int = 200) -> HttpResponse:
        device = start_totp_enrolment(user=signed_in(request.user))
        uri = device.config_url
        qr = segno.make(uri, error="m")
        context: dict[str, Any] = {
            "form": form,
            "qr_svg": qr.svg_inline(scale=5, dark="#000", light="#fff"),
            "secret": _base32_secret(device.bin_key),
            "otpauth_uri": uri,
            "next": _safe_next(request),
        }
        return render(request, self.template_name, context, status=status)


def _base32_secret(key: bytes) -> str:
    raw = base64.b32encode(key).decode().rstrip("=")
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


class TwoFactorVerifyView(RoleRequiredMixin, View):
    required_permission = AUTHENTICATED
    template_name = "accounts/2fa_verify.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        if not user_has_second_factor(signed_in(request.user)):
            return redirect(f"{reverse('accounts:2fa-enrol')}?next={_safe_next(request)}")
        return render(request, self.template_name, {"form": OneTimeCodeForm(), "next": _safe_next(request)})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = OneTimeCodeForm(request.POST)
        if form.is_valid() and verify_second_factor(
            request=request,
            user=signed_in(request.user),
            token=form.cleaned_data["token"],
        ):
            return redirect(_safe_next(request))
        if form.is_valid():
            form.add_error("token", _("That code is wrong or was already used. Wait for the next code."))
        return render(request, self.template_name, {"form": form, "next": _safe_next(request)}, status=400)


class ThemeView(RoleRequiredMixin, View):
    required_permission = AUTHENTICATED
    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        try:
            set_theme(user=signed_in(request.user), theme=request.POST.get("theme", ""))
        except ValidationError:
            return HttpResponseBadRequest(_("Unknown theme."))
        if getattr(request, "htmx", False):
            return HttpResponse(status=204)
        return redirect(_safe_next(request))


class LanguageView(RoleRequiredMixin, View):
    """Switch language: remembered on the account when signed in, in a cookie otherwise."""

    required_permission = PUBLIC
    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        language = request.POST.get("language", "")
        if not check_for_language(language) or language not in dict(settings.LANGUAGES):
            return HttpResponseBadRequest(_("Unknown language."))
        if request.user.is_authenticated:
            set_language_preference(user=signed_in(request.user), language=language)
        response = redirect(_safe_next(request))
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, max_age=365 * 24 * 3600, samesite="Lax")
        return response


class ProfileView(RoleRequiredMixin, TemplateView):
    required_permission = AUTHENTICATED
    template_name = "accounts/profile.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["has_second_factor"] = user_has_second_factor(signed_in(user))
        return context
