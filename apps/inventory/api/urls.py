from rest_framework.routers import DefaultRouter

from .views import MaterialViewSet


def register(router: DefaultRouter) -> None:
    """Register this app's resources on the project's REST router."""
    router.register("inventory/materials", MaterialViewSet, basename="inventory-material")
