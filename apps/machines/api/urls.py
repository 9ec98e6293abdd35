from rest_framework.routers import DefaultRouter

from .views import (
    CalendarExceptionViewSet,
    DepartmentViewSet,
    ShiftCalendarViewSet,
    ShiftViewSet,
    WorkCenterTypeViewSet,
    WorkCenterViewSet,
)


def register(router: DefaultRouter) -> None:
    """Register this app's resources on the project's REST router."""
    router.register("machines/departments", DepartmentViewSet, basename="machines-department")
    router.register("machines/work-center-types", WorkCenterTypeViewSet, basename="machines-workcentertype")
    router.register("machines/work-centers", WorkCenterViewSet, basename="machines-workcenter")
    router.register("machines/shift-calendars", ShiftCalendarViewSet, basename="machines-shiftcalendar")
    router.register("machines/shifts", ShiftViewSet, basename="machines-shift")
    router.register("machines/calendar-exceptions", CalendarExceptionViewSet, basename="machines-calendarexception")
