"""The admin site: staff only, and only with a verified second factor."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .forms import AdminLoginForm
from .services import is_verified


class ShopAdminSite(admin.AdminSite):
    site_header = _("CNC Copilot administration")
    site_title = _("CNC Copilot admin")
    index_title = _("Shop master data")
    login_form = AdminLoginForm

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff and is_verified(user))
