from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from .services import LoginRateLimited, authenticate_with_limits


class OneTimeCodeForm(forms.Form):
    token = forms.CharField(
        label=_("Code from your authenticator app"),
        min_length=6,
        max_length=8,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True, "pattern": "[0-9]*"}
        ),
    )


class AdminLoginForm(AdminAuthenticationForm):
    """The admin's own sign-in: password under the shared rate limit, then a TOTP code."""

    otp_token = forms.CharField(
        label=_("Authenticator code"),
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""
        password = self.cleaned_data.get("password") or ""
        token = (self.cleaned_data.get("otp_token") or "").strip()
        if not username or not password:
            return self.cleaned_data
        try:
            user = authenticate_with_limits(self.request, username=username, password=password)  # type: ignore[arg-type]
        except LoginRateLimited as exc:
            raise ValidationError(str(exc), code="rate_limited") from exc
        if user is None:
            raise self.get_invalid_login_error()
        self.confirm_login_allowed(user)
        device = next(
            (d for d in TOTPDevice.objects.devices_for_user(user, confirmed=True) if d.verify_token(token)),
            None,
        )
        if device is None:
            raise ValidationError(
                _(
                    "The authenticator code is wrong or was already used. Users without an "
                    "authenticator enrol one on the main sign-in page first."
                ),
                code="invalid_otp",
            )
        # django_otp marks the session verified on login when the user carries its device.
        user.otp_device = device  # type: ignore[attr-defined]
        self.user_cache = user
        return self.cleaned_data
