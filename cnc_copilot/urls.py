"""Routes of the whole site. Every route's access is declared by its view (see docs/permissions.md)."""

from django.contrib import admin
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps.core.api.permissions import RolePermission
from apps.core.permissions import AUTHENTICATED

from .graphql_view import ShopGraphQLView


class SchemaView(SpectacularAPIView):
    required_permission = AUTHENTICATED
    permission_classes = [RolePermission]


class SwaggerView(SpectacularSwaggerView):
    required_permission = AUTHENTICATED
    permission_classes = [RolePermission]


urlpatterns = [
    path("", include("apps.core.urls")),
    path("accounts/", include("apps.accounts.urls")),
    path("machines/", include("apps.machines.urls")),
    path("inventory/", include("apps.inventory.urls")),
    path("routings/", include("apps.routings.urls")),
    path("data/", include("apps.routings.imports.urls")),
    path("scheduling/", include("apps.scheduling.urls")),
    path("shop/", include("apps.shopfloor.urls")),
    path("reports/", include("apps.reports.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("cnc_copilot.api")),
    path("api/schema/", SchemaView.as_view(), name="api-schema"),
    path("api/docs/", SwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("graphql/", csrf_exempt(ShopGraphQLView.as_view(graphiql=True)), name="graphql"),
]
