from django.urls import URLPattern, path
from rest_framework.routers import DefaultRouter

from .issues import IssueReportViewSet
from .views import (
    AttendanceViewSet,
    ClockInView,
    ClockOutView,
    DowntimePromptViewSet,
    FloorJobView,
    FloorOperationViewSet,
    LaborEntryViewSet,
    MachinesView,
    MeView,
    ProductionEventViewSet,
    QueueView,
    ReasonsView,
    ScrapReasonViewSet,
)


def register(router: DefaultRouter) -> None:
    """Register this app's resources on the project's REST router."""
    router.register("shopfloor/issues", IssueReportViewSet, basename="shopfloor-issuereport")
    router.register("shopfloor/operations", FloorOperationViewSet, basename="shopfloor-operation")
    router.register("shopfloor/downtime-prompts", DowntimePromptViewSet, basename="shopfloor-downtimeprompt")
    router.register("shopfloor/scrap-reasons", ScrapReasonViewSet, basename="shopfloor-scrapreason")
    router.register("shopfloor/attendance", AttendanceViewSet, basename="shopfloor-attendance")
    router.register("shopfloor/labor-entries", LaborEntryViewSet, basename="shopfloor-laborentry")
    router.register("shopfloor/production-events", ProductionEventViewSet, basename="shopfloor-productionevent")


urlpatterns: list[URLPattern] = [
    path("shopfloor/me/", MeView.as_view(), name="shopfloor-me"),
    path("shopfloor/clock-in/", ClockInView.as_view(), name="shopfloor-clock-in"),
    path("shopfloor/clock-out/", ClockOutView.as_view(), name="shopfloor-clock-out"),
    path("shopfloor/machines/", MachinesView.as_view(), name="shopfloor-machines"),
    path("shopfloor/queue/", QueueView.as_view(), name="shopfloor-queue"),
    path("shopfloor/reasons/", ReasonsView.as_view(), name="shopfloor-reasons"),
    path("shopfloor/jobs/<int:pk>/", FloorJobView.as_view(), name="shopfloor-job"),
]
