"""The REST router: every app registers its resources here under /api/v1/."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from apps.accounts.api import urls as accounts_api
from apps.core.api import urls as core_api

router = DefaultRouter()
router.include_root_view = False
router.include_format_suffixes = False
for app_api in (core_api, accounts_api):
    app_api.register(router)

urlpatterns = [
    path("", include(accounts_api.urlpatterns)),
    path("", include(router.urls)),
]
