from rest_framework.routers import DefaultRouter

from .views import CustomerViewSet, JobViewSet, OperationViewSet, PartFileViewSet, PartViewSet, RoutingStepViewSet


def register(router: DefaultRouter) -> None:
    """Register this app's resources on the project's REST router."""
    router.register("routings/customers", CustomerViewSet, basename="routings-customer")
    router.register("routings/parts", PartViewSet, basename="routings-part")
    router.register("routings/part-files", PartFileViewSet, basename="routings-partfile")
    router.register("routings/routing-steps", RoutingStepViewSet, basename="routings-routingstep")
    router.register("routings/jobs", JobViewSet, basename="routings-job")
    router.register("routings/operations", OperationViewSet, basename="routings-operation")
