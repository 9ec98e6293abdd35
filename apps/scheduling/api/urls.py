from rest_framework.routers import DefaultRouter

from .views import ScheduleSlotViewSet, ScheduleViewSet


def register(router: DefaultRouter) -> None:
    """Register this app's resources on the project's REST router."""
    router.register("scheduling/schedules", ScheduleViewSet, basename="scheduling-schedule")
    router.register("scheduling/slots", ScheduleSlotViewSet, basename="scheduling-slot")
