"""The REST router: every app registers its resources here under /api/v1/."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from apps.accounts.api import urls as accounts_api
from apps.core.api import notifications as notifications_api
from apps.core.api import urls as core_api
from apps.inventory.api import urls as inventory_api
from apps.machines.api import urls as machines_api
from apps.reports.api import urls as reports_api
from apps.routings.api import urls as routings_api
from apps.scheduling.api import urls as scheduling_api
from apps.shopfloor.api import urls as shopfloor_api

router = DefaultRouter()
router.include_root_view = False
router.include_format_suffixes = False
for app_api in (
    core_api,
    notifications_api,
    accounts_api,
    machines_api,
    inventory_api,
    routings_api,
    scheduling_api,
    shopfloor_api,
    reports_api,
):
    app_api.register(router)

urlpatterns = [
    path("", include(accounts_api.urlpatterns)),
    path("", include(shopfloor_api.urlpatterns)),
    path("", include(notifications_api.urlpatterns)),
    path("", include(reports_api.urlpatterns)),
    path("", include(router.urls)),
]
