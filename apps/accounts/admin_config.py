"""Installs ShopAdminSite as the admin site (kept apart: this module loads before the models)."""

from django.contrib.admin.apps import AdminConfig


class ShopAdminConfig(AdminConfig):
    default_site = "apps.accounts.admin_site.ShopAdminSite"
